"""Rendered crops cached by content, in front of every render the ask pipeline makes.

The key is everything that decides the pixels: the document's sha256, the page, the box, the
requested resolution (``min_dpi`` and the render options that choose the DPI), the overlays asked
for (hit outlines, the grid) and :data:`~aizoomdoc.zoom.overlay.OVERLAY_VERSION`. The same crop of
the same file is therefore rendered once, whichever user, chat or worker asks for it (two users
share an entry only when they hold the very same file).

Values are the encoded image plus what the pipeline reads from a :class:`RenderedImage`
(size, DPI, box, grid), packed as a JSON header and the image bytes. A damaged entry is a miss.

Per question, :class:`RenderCounters` (a context variable set by the pipeline) counts renders and
hits; the usage analytics store them, so ``aizoomdoc stats`` shows the hit rate of all workers.
"""

from __future__ import annotations

import contextvars
import dataclasses
import hashlib
import json
import logging
import struct
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aizoomdoc.store.cache import SharedCache
from aizoomdoc.zoom import Grid, RenderedImage, RenderOptions
from aizoomdoc.zoom.overlay import OVERLAY_VERSION

log = logging.getLogger(__name__)

#: Bump when the packed format or the meaning of a key changes.
RENDER_CACHE_VERSION = 2
NAMESPACE = "render"
_HEADER = struct.Struct(">I")


@dataclass
class RenderCounters:
    """Renders of one question: ``rendered`` made here, ``cached`` taken from the cache."""

    rendered: int = 0
    cached: int = 0


#: The counters of the question being answered (set by the ask pipeline for each question).
current_counters: contextvars.ContextVar[RenderCounters | None] = contextvars.ContextVar(
    "aizoomdoc_render_counters", default=None)


def _r(v: Any) -> float:
    return round(float(v), 6)


def _boxes(boxes: Sequence[Sequence[float]] | None) -> list[list[float]]:
    return [[_r(v) for v in b] for b in boxes or ()]


def render_key(sha256: str, page_index: int, box: Sequence[float], opts: RenderOptions, *,
               outline: Sequence[Sequence[float]] = (), grid: Grid | None = None,
               min_dpi: float | None = None, text_size_hint_pt: float | None = None,
               header: Sequence[float] | None = None) -> str:
    """The cache key of one render (hex sha256 of its inputs: every argument of the render)."""
    parts = [RENDER_CACHE_VERSION, OVERLAY_VERSION, sha256, int(page_index), [_r(v) for v in box],
             _boxes(outline), [grid.cols, grid.rows] if grid is not None else None,
             _r(min_dpi) if min_dpi else None, _r(text_size_hint_pt) if text_size_hint_pt else None,
             [_r(v) for v in header] if header else None, dataclasses.asdict(opts)]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def pack(img: RenderedImage) -> bytes:
    head = json.dumps({
        "mime": img.mime, "width": img.width, "height": img.height, "dpi": img.dpi,
        "page_index": img.page_index, "bbox_norm": list(img.bbox_norm), "text_size_pt": img.text_size_pt,
        "grid": [img.grid.cols, img.grid.rows] if img.grid is not None else None,
        "frame": list(img.frame), "extra": img.extra,
    }, separators=(",", ":")).encode()
    return _HEADER.pack(len(head)) + head + img.data


def unpack(blob: bytes) -> RenderedImage:
    (n,) = _HEADER.unpack_from(blob)
    head = json.loads(blob[_HEADER.size:_HEADER.size + n])
    data = blob[_HEADER.size + n:]
    grid = Grid(*head["grid"]) if head.get("grid") else None
    return RenderedImage(data=data, mime=head["mime"], width=int(head["width"]), height=int(head["height"]),
                         dpi=float(head["dpi"]), page_index=int(head["page_index"]),
                         bbox_norm=tuple(head["bbox_norm"]), text_size_pt=head.get("text_size_pt"),
                         grid=grid, frame=tuple(head.get("frame") or (0.0, 0.0, 1.0, 1.0)),
                         extra=head.get("extra") or {})


class RenderCache:
    """``get_or_render``: a cached crop, or the render (then cached). Never fails a render."""

    def __init__(self, cache: SharedCache | None) -> None:
        self.cache = cache

    async def get_or_render(self, sha256: str | None, page_index: int, box: Sequence[float], opts: RenderOptions,
                            render: Callable[[], Awaitable[RenderedImage]], **kw: Any) -> RenderedImage:
        counters = current_counters.get()
        key = None
        if self.cache is not None and sha256:
            key = render_key(sha256, page_index, box, opts, **kw)
            blob = await self.cache.get(NAMESPACE, key)
            if blob is not None:
                try:
                    img = unpack(blob)
                except (struct.error, ValueError, KeyError, TypeError, IndexError):  # a damaged entry is a miss
                    log.warning("ignoring a damaged cached render %s", key[:12])
                else:
                    if counters is not None:
                        counters.cached += 1
                    return img
        img = await render()
        if counters is not None:
            counters.rendered += 1
        if key is not None:
            await self.cache.put(NAMESPACE, key, pack(img))  # type: ignore[union-attr]
        return img


__all__ = ["NAMESPACE", "RENDER_CACHE_VERSION", "RenderCache", "RenderCounters", "current_counters", "pack",
           "render_key", "unpack"]
