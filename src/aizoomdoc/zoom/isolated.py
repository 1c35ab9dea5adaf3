"""Renders of uploaded (untrusted) files in worker processes, bounded in time and memory.

    renderer = IsolatedRenderer(settings)
    image = await renderer.render(path, page_index, box, opts, outline=[...], grid=grid)
    png = await renderer.page_view(path, page_index, cited_boxes, hit_boxes, max_pixels)
    sizes = await renderer.sheet(path)          # [(width, height)] per page

Every call runs in :func:`aizoomdoc.isolation.worker_pool` (``WORKER_PROCESSES`` processes): the
event loop never waits on PyMuPDF or Pillow, a render slower than ``RENDER_TIMEOUT`` is killed,
one that needs more than ``WORKER_MEMORY_MB`` fails, and both answer 422 «страница слишком
сложная для отрисовки». A refused render is remembered (per file version, page and box), so asking
again fails at once instead of occupying a worker for the whole time limit again.

The functions ending in ``_job`` run inside the worker; each worker keeps its last
:data:`OPEN_SLOTS` files open between jobs (a question renders several regions of one sheet).
"""

from __future__ import annotations

import io
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from aizoomdoc.errors import AizoomdocError, NotFoundError
from aizoomdoc.isolation import Limits, Reason, worker_pool
from aizoomdoc.texts import t
from aizoomdoc.zoom.render import RenderedImage, RenderLimitError, RenderOptions, SheetRenderer

Box = tuple[float, float, float, float]
FULL_PAGE: Box = (0.0, 0.0, 1.0, 1.0)
CITED = (220, 20, 20)
HIT = (240, 120, 0)

# --- inside the worker ------------------------------------------------------------------------

OPEN_SLOTS = 2
_open: OrderedDict[tuple[Any, ...], SheetRenderer] = OrderedDict()


def open_renderer(path: str, opts: RenderOptions) -> SheetRenderer:
    """The worker's renderer of ``path`` (kept open for the next jobs on the same file)."""
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns, opts)
    renderer = _open.get(key)
    if renderer is None:
        renderer = _open[key] = SheetRenderer(path, opts)
        while len(_open) > OPEN_SLOTS:
            _open.popitem(last=False)[1].close()
    else:
        _open.move_to_end(key)
    return renderer


def render_job(path: str, page_index: int, bbox: Sequence[float], opts: RenderOptions,
               kw: dict[str, Any]) -> RenderedImage:
    return open_renderer(path, opts).render(page_index, bbox, **kw)


def sheet_job(path: str, opts: RenderOptions) -> list[tuple[float, float]]:
    renderer = open_renderer(path, opts)
    return [renderer.page_size(i) for i in range(renderer.page_count)]


def page_view_job(path: str, page_index: int, cited: list[Box], hits: list[Box], opts: RenderOptions) -> bytes:
    renderer = open_renderer(path, opts)
    count = renderer.page_count
    if not 0 <= page_index < count:
        raise NotFoundError("api.page_not_found", page=page_index + 1, count=count)
    page = renderer.render(page_index, FULL_PAGE)
    return highlight(page.data, cited, hits)


def highlight(png: bytes, cited: list[Box], hits: list[Box]) -> bytes:
    """Mark boxes on a page image: a translucent fill and a thin outline around each, a little
    larger than the box so the text inside stays readable (cited boxes red, other hits orange)."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = img.size
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    pad = max(3, round(min(w, h) * 0.004))
    line = max(2, round(min(w, h) / 700))
    for boxes, color in ((hits, HIT), (cited, CITED)):
        for b in boxes:
            rect = (b[0] * w - pad, b[1] * h - pad, b[2] * w + pad, b[3] * h + pad)
            draw.rectangle(rect, fill=color + (40,), outline=color + (255,), width=line)
    img = Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=3)
    return out.getvalue()


# --- in the server ----------------------------------------------------------------------------

#: Refused renders remembered per process (file version, page, box, options).
REFUSED_SLOTS = 512
_refused: OrderedDict[tuple[Any, ...], AizoomdocError] = OrderedDict()
_sheets: OrderedDict[tuple[Any, ...], list[tuple[float, float]]] = OrderedDict()


def _version(path: str) -> tuple[str, int, int]:
    st = os.stat(path)
    return (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


class IsolatedRenderer:
    """Renders for one settings object (its limits) through the process's worker pool."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.pool = worker_pool(settings)
        self.limits = Limits(seconds=settings.render_timeout, memory_mb=settings.worker_memory_mb)

    def options(self, **kw: Any) -> RenderOptions:
        """:class:`RenderOptions` carrying this server's complexity and pixel limits."""
        return RenderOptions(max_operations=self.settings.render_max_operations,
                             max_source_pixels=self.settings.max_image_pixels, **kw)

    def _on_limit(self, page_index: int) -> Callable[[Reason], AizoomdocError]:
        def build(reason: Reason) -> AizoomdocError:
            detail = t(f"limit.reason.{reason}", seconds=f"{self.limits.seconds:g}",
                       memory_mb=self.limits.memory_mb)
            err = RenderLimitError("zoom.too_complex", page=page_index + 1, reason=detail)
            err.transient = reason == "crash"  # type: ignore[attr-defined]  # not remembered
            return err
        return build

    async def _run(self, key: tuple[Any, ...], page_index: int, fn: Callable[..., Any], *args: Any) -> Any:
        refused = _refused.get(key)
        if refused is not None:
            raise refused
        try:
            return await self.pool.run(fn, *args, limits=self.limits, on_limit=self._on_limit(page_index))
        except RenderLimitError as exc:
            if getattr(exc, "transient", False):
                raise
            _refused[key] = exc
            while len(_refused) > REFUSED_SLOTS:
                _refused.popitem(last=False)
            raise

    async def render(self, path: str, page_index: int, bbox: Sequence[float], opts: RenderOptions,
                     **kw: Any) -> RenderedImage:
        """:meth:`SheetRenderer.render` of ``path`` in a worker."""
        box = tuple(round(float(v), 4) for v in bbox)
        key = (_version(path), page_index, box, opts, kw.get("min_dpi"), kw.get("text_size_hint_pt"))
        return await self._run(key, page_index, render_job, str(path), page_index, tuple(bbox), opts, kw)

    async def page_view(self, path: str, page_index: int, cited: list[Box], hits: list[Box],
                        opts: RenderOptions) -> bytes:
        """The whole page as PNG with ``cited`` boxes red and ``hits`` orange."""
        key = (_version(path), page_index, FULL_PAGE, opts, "page")
        return await self._run(key, page_index, page_view_job, str(path), page_index, cited, hits, opts)

    async def analyze(self, fn: Callable[..., Any], path: str, *args: Any) -> Any:
        """``fn(path, *args)`` in a worker, within the render limits: reading a file's pages for
        something other than pixels (ruling lines, text sizes). ``fn`` is a module-level ``*_job``
        function that opens the file with :func:`open_renderer`."""
        return await self.pool.run(fn, str(path), *args, limits=self.limits, on_limit=self._on_limit(0))

    async def sheet(self, path: str) -> list[tuple[float, float]]:
        """Displayed size of every page (points for a PDF, pixels for a picture)."""
        key = _version(path)
        sizes = _sheets.get(key)
        if sizes is None:
            sizes = await self._run((key, "sheet"), 0, sheet_job, str(path), self.options())
            _sheets[key] = sizes
            while len(_sheets) > REFUSED_SLOTS:
                _sheets.popitem(last=False)
        return sizes


__all__ = ["IsolatedRenderer", "highlight", "open_renderer", "page_view_job", "render_job", "sheet_job"]
