"""Render regions of a sheet: from a PDF with PyMuPDF, or cropped from a PNG/JPG with Pillow.

The DPI is chosen from the height of the text inside the region so that the smallest usual text
is legible (cap height of about ``target_cap_px`` pixels), and capped so the image never exceeds
``max_pixels``. Everything here is synchronous CPU work; the ``*_async`` wrappers run it in a
thread so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import statistics
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf
from PIL import Image

from aizoomdoc.zoom.overlay import Grid, add_ruler, outline_boxes
from aizoomdoc.zoom.plan import Box, clamp_box

log = logging.getLogger(__name__)

RASTER_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}

#: Cap height of Latin/Cyrillic capitals as a fraction of the font size.
CAP_RATIO = 0.7


@dataclass(frozen=True)
class RenderOptions:
    target_cap_px: float = 24.0
    min_dpi: float = 72.0
    max_dpi: float = 600.0
    default_dpi: float = 200.0  # when the region holds no text layer (scans, images)
    max_pixels: int = 4_000_000
    #: Percentile of span font sizes that must be legible (low: small text matters on drawings).
    text_percentile: float = 0.2
    image_format: str = "png"  # png | jpeg
    jpeg_quality: int = 85
    #: Longest side of the image in pixels (0: no limit besides ``max_pixels``).
    max_side: int = 0


@dataclass
class RenderedImage:
    data: bytes
    mime: str
    width: int
    height: int
    dpi: float
    page_index: int
    bbox_norm: Box
    text_size_pt: float | None = None
    grid: Grid | None = None
    extra: dict[str, object] = field(default_factory=dict)
    #: Where the drawing lies inside the image (its own [0, 1] coordinates): inside the ruler.
    frame: Box = (0.0, 0.0, 1.0, 1.0)

    @property
    def page_number(self) -> int:
        return self.page_index + 1

    @property
    def extension(self) -> str:
        return "jpg" if self.mime == "image/jpeg" else "png"


def choose_dpi(
    region_w_pt: float,
    region_h_pt: float,
    text_size_pt: float | None,
    opts: RenderOptions,
    at_least: float | None = None,
) -> float:
    """The DPI at which text of ``text_size_pt`` has a cap height of ``target_cap_px``, raised to
    ``at_least`` if given, bounded by ``min_dpi``/``max_dpi`` and by ``max_pixels`` for a region
    of the given size (points)."""
    if text_size_pt and text_size_pt > 0:
        dpi = opts.target_cap_px * 72.0 / (CAP_RATIO * text_size_pt)
    else:
        dpi = opts.default_dpi
    if at_least:
        dpi = max(dpi, at_least)
    dpi = min(max(dpi, opts.min_dpi), opts.max_dpi)
    area_pt = max(region_w_pt, 1e-6) * max(region_h_pt, 1e-6)
    cap = 72.0 * math.sqrt(opts.max_pixels / area_pt)
    if opts.max_side > 0:
        cap = min(cap, 72.0 * opts.max_side / max(region_w_pt, region_h_pt, 1e-6))
    return max(1.0, min(dpi, cap))


def norm_to_rect(page: pymupdf.Page, box: Sequence[float]) -> pymupdf.Rect:
    """A coords_norm box as a rectangle on the page as displayed (rotation applied)."""
    r = page.rect
    return pymupdf.Rect(
        r.x0 + box[0] * r.width, r.y0 + box[1] * r.height,
        r.x0 + box[2] * r.width, r.y0 + box[3] * r.height,
    )


def text_size_in(page: pymupdf.Page, clip: pymupdf.Rect, percentile: float = 0.2) -> float | None:
    """A low percentile of the font sizes of text spans inside ``clip`` (displayed coordinates)."""
    unrotated = clip * page.derotation_matrix
    sizes: list[float] = []
    data = page.get_text("dict", clip=unrotated, flags=0)
    for block in data.get("blocks", []):
        for line in block.get("lines", []):
            for span in line.get("spans", []):
                if span.get("text", "").strip() and span.get("size", 0) > 0.5:
                    sizes.append(float(span["size"]))
    if not sizes:
        return None
    sizes.sort()
    if len(sizes) < 5:
        return statistics.median(sizes)
    return sizes[min(len(sizes) - 1, int(len(sizes) * percentile))]


def words_in(page: pymupdf.Page, clip: pymupdf.Rect) -> list[Box]:
    """Boxes (page coords_norm, displayed) of the words of the text layer inside ``clip``."""
    r = page.rect
    if r.width <= 0 or r.height <= 0:
        return []
    rot = page.rotation_matrix
    out: list[Box] = []
    for w in page.get_text("words", clip=clip * page.derotation_matrix):
        b = pymupdf.Rect(w[:4]) * rot
        out.append(((b.x0 - r.x0) / r.width, (b.y0 - r.y0) / r.height,
                    (b.x1 - r.x0) / r.width, (b.y1 - r.y0) / r.height))
    return out


def _encode(img: Image.Image, opts: RenderOptions) -> tuple[bytes, str]:
    buf = io.BytesIO()
    if opts.image_format == "jpeg":
        img.convert("RGB").save(buf, format="JPEG", quality=opts.jpeg_quality, optimize=True)
        return buf.getvalue(), "image/jpeg"
    img.save(buf, format="PNG", optimize=False, compress_level=3)
    return buf.getvalue(), "image/png"


def _to_pixels(boxes: Sequence[Box], bbox: Box, size: tuple[int, int]) -> list[Box]:
    rw, rh = bbox[2] - bbox[0], bbox[3] - bbox[1]
    if rw <= 0 or rh <= 0:
        return []
    w, h = size
    return [((b[0] - bbox[0]) / rw * w, (b[1] - bbox[1]) / rh * h, (b[2] - bbox[0]) / rw * w,
             (b[3] - bbox[1]) / rh * h) for b in boxes]


def _finish(
    raster: _Raster,
    outline: Sequence[Box],
    grid: Grid | None,
    opts: RenderOptions,
    header: _Raster | None = None,
) -> RenderedImage:
    img, bbox = raster.img, raster.bbox
    if outline:
        outline_boxes(img, bbox, outline)
    frame: Box = (0.0, 0.0, 1.0, 1.0)
    if grid is not None:
        avoid = _to_pixels([*outline, *raster.words], bbox, img.size)
        framed = add_ruler(img, grid, header=header.img if header is not None else None, avoid=avoid)
        img, frame = framed.image, framed.frame
    elif header is not None:
        both = Image.new("RGB", (img.width, header.img.height + 3 + img.height), (150, 150, 150))
        both.paste(header.img, (0, 0))
        both.paste(img, (0, header.img.height + 3))
        frame = (0.0, (header.img.height + 3) / both.height, 1.0, 1.0)
        img = both
    data, mime = _encode(img, opts)
    return RenderedImage(data=data, mime=mime, width=img.width, height=img.height, dpi=raster.dpi,
                         page_index=raster.page_index, bbox_norm=bbox, text_size_pt=raster.text_size, grid=grid,
                         frame=frame)


@dataclass
class _Raster:
    img: Image.Image
    bbox: Box
    page_index: int
    dpi: float
    text_size: float | None
    #: Boxes (page coords_norm) of the words of the text layer inside the region.
    words: list[Box] = field(default_factory=list)


class SheetRenderer:
    """Renders regions of one source file (a PDF, or a single-sheet PNG/JPG).

    Keeps the file open between renders; not thread-safe — use one renderer per thread, or the
    async wrappers which serialise access with a lock.
    """

    def __init__(self, path: str | Path, opts: RenderOptions | None = None) -> None:
        self.path = Path(path)
        self.opts = opts or RenderOptions()
        self.is_raster = self.path.suffix.lower() in RASTER_SUFFIXES
        self._pdf: pymupdf.Document | None = None
        self._img: Image.Image | None = None
        self.lock = threading.Lock()

    # -- source ----------------------------------------------------------------------------
    def _open(self) -> None:
        if self.is_raster:
            if self._img is None:
                img = Image.open(self.path)
                img.load()
                self._img = img.convert("RGB") if img.mode not in ("RGB", "L") else img
        elif self._pdf is None:
            self._pdf = pymupdf.open(self.path)

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None
        self._img = None

    def __enter__(self) -> SheetRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def page_count(self) -> int:
        self._open()
        return 1 if self.is_raster else len(self._pdf)  # type: ignore[arg-type]

    def page_size(self, page_index: int) -> tuple[float, float]:
        """Displayed size of a page: points for a PDF, pixels for a raster sheet."""
        self._open()
        if self.is_raster:
            assert self._img is not None
            return float(self._img.width), float(self._img.height)
        r = self._pdf[page_index].rect  # type: ignore[index]
        return r.width, r.height

    def pdf_page(self, page_index: int) -> pymupdf.Page | None:
        """The PDF page (for its text layer and ruling lines); None for a raster sheet. Hold
        :attr:`lock` when sharing the renderer."""
        self._open()
        if self.is_raster or self._pdf is None or not 0 <= page_index < len(self._pdf):
            return None
        return self._pdf[page_index]

    # -- rendering ---------------------------------------------------------------------------
    def render(
        self,
        page_index: int,
        bbox_norm: Sequence[float],
        *,
        outline: Sequence[Box] = (),
        grid: Grid | None = None,
        text_size_hint_pt: float | None = None,
        min_dpi: float | None = None,
        header: Sequence[float] | None = None,
    ) -> RenderedImage:
        """Render ``bbox_norm`` of a page; ``outline`` boxes (page norm coords) are drawn on it.

        ``min_dpi`` asks for at least that resolution (zooms render deeper than the viewport
        they came from), still within ``max_dpi`` and ``max_pixels``. ``header`` (page norm, as
        wide as the region: a table's header row) is rendered at the same resolution and shown
        above the region.
        """
        raster = self.rasterize(page_index, bbox_norm, text_size_hint_pt=text_size_hint_pt, min_dpi=min_dpi)
        head = self.rasterize(page_index, header, fixed_dpi=raster.dpi) if header is not None else None
        return self.finish(raster, outline=outline, grid=grid, header=head)

    def rasterize(self, page_index: int, bbox_norm: Sequence[float], *,
                  text_size_hint_pt: float | None = None, min_dpi: float | None = None,
                  fixed_dpi: float | None = None) -> _Raster:
        """The part that touches the source file (hold :attr:`lock` when sharing the renderer)."""
        self._open()
        bbox = clamp_box(bbox_norm)
        if self.is_raster:
            return self._crop_raster(page_index, bbox)
        assert self._pdf is not None
        if not 0 <= page_index < len(self._pdf):
            raise IndexError(f"page {page_index} out of range 0..{len(self._pdf) - 1}")
        page = self._pdf[page_index]
        clip = norm_to_rect(page, bbox)
        text_size = text_size_in(page, clip, self.opts.text_percentile) or text_size_hint_pt
        dpi = fixed_dpi or choose_dpi(clip.width, clip.height, text_size, self.opts, at_least=min_dpi)
        pix = page.get_pixmap(dpi=max(1, int(dpi)), clip=clip, alpha=False)
        mode = "RGB" if pix.n == 3 else "L"
        img = Image.frombuffer(mode, (pix.width, pix.height), pix.samples_mv, "raw", mode, pix.stride, 1)
        img = img.convert("RGB") if mode != "RGB" else img.copy()  # detach from the pixmap
        log.debug("rendered %s p%d %s at %.0f dpi -> %dx%d", self.path.name, page_index, bbox,
                  dpi, img.width, img.height)
        return _Raster(img, bbox, page_index, dpi, text_size, words_in(page, clip))

    def finish(self, raster: _Raster, *, outline: Sequence[Box] = (), grid: Grid | None = None,
               header: _Raster | None = None) -> RenderedImage:
        """Overlays and encoding: pure CPU on the image, safe to run in parallel (Pillow releases
        the GIL while encoding)."""
        return _finish(raster, outline, grid, self.opts, header)

    def _crop_raster(self, page_index: int, bbox: Box) -> _Raster:
        if page_index != 0:
            raise IndexError("a raster sheet has one page")
        assert self._img is not None
        W, H = self._img.size
        box_px = (int(bbox[0] * W), int(bbox[1] * H),
                  max(int(bbox[0] * W) + 1, math.ceil(bbox[2] * W)),
                  max(int(bbox[1] * H) + 1, math.ceil(bbox[3] * H)))
        img = self._img.crop(box_px)
        if img.mode != "RGB":
            img = img.convert("RGB")
        n = img.width * img.height
        if n > self.opts.max_pixels:
            k = math.sqrt(self.opts.max_pixels / n)
            img = img.resize((max(1, int(img.width * k)), max(1, int(img.height * k))),
                             Image.Resampling.LANCZOS)
        # the sheet's own resolution is unknown; report the bundle convention
        return _Raster(img, bbox, page_index, 300.0, None)

    async def render_async(
        self,
        page_index: int,
        bbox_norm: Sequence[float],
        *,
        outline: Sequence[Box] = (),
        grid: Grid | None = None,
        text_size_hint_pt: float | None = None,
        min_dpi: float | None = None,
        header: Sequence[float] | None = None,
    ) -> RenderedImage:
        """:meth:`render` in a worker thread. Only rasterizing holds the renderer's lock, so several
        renders of one file overlap their overlay and encoding work."""
        def work() -> RenderedImage:
            with self.lock:
                raster = self.rasterize(page_index, bbox_norm, text_size_hint_pt=text_size_hint_pt,
                                        min_dpi=min_dpi)
                head = self.rasterize(page_index, header, fixed_dpi=raster.dpi) if header is not None else None
            return self.finish(raster, outline=outline, grid=grid, header=head)

        return await asyncio.to_thread(work)


def render_region(path: str | Path, page_index: int, bbox_norm: Sequence[float],
                  opts: RenderOptions | None = None, **kw: object) -> RenderedImage:
    """One-shot render (opens and closes the file)."""
    with SheetRenderer(path, opts) as r:
        return r.render(page_index, bbox_norm, **kw)  # type: ignore[arg-type]


async def render_region_async(path: str | Path, page_index: int, bbox_norm: Sequence[float],
                              opts: RenderOptions | None = None, **kw: object) -> RenderedImage:
    return await asyncio.to_thread(render_region, path, page_index, bbox_norm, opts, **kw)
