"""Render regions of a sheet: from a PDF with PyMuPDF, or cropped from a PNG/JPG with Pillow.

The DPI is chosen from the height of the text inside the region so that the smallest usual text
is legible (cap height of about ``target_cap_px`` pixels), and capped so the image never exceeds
``max_pixels``. Everything here is synchronous CPU work; the ``*_async`` wrappers run it in a
thread (trusted files only: untrusted ones render in worker processes, :mod:`aizoomdoc.zoom.isolated`).

Bounds that hold wherever a render runs: a PDF page whose drawing commands (with the forms it
draws, counted as often as it draws them) exceed ``max_operations`` tokens is refused before
rasterizing (:class:`RenderLimitError`); a picture above ``max_source_pixels`` is refused before
decoding, and a crop is shrunk strip by strip before any colour conversion, so the whole sheet is
never converted (a 13000×13000 1-bit PNG is 169 MB decoded, 507 MB as RGB).
"""

from __future__ import annotations

import io
import logging
import math
import re
import statistics
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pymupdf
from PIL import Image

from aizoomdoc.documents.image import PIXEL_BUDGET, open_bounded
from aizoomdoc.errors import InvalidInputError
from aizoomdoc.texts import t
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
    #: Drawing-command tokens of one PDF page (forms counted as often as drawn) it may take.
    max_operations: int = 5_000_000
    #: Pixels of a raster sheet that may be decoded.
    max_source_pixels: int = PIXEL_BUDGET


class RenderLimitError(InvalidInputError):
    """A page too complex to render within the limits (422, «страница слишком сложная для отрисовки»)."""


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


_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[0, 9, 10, 12, 13, 32]] = True
#: ``/Name Do`` — a form (or image) drawn; name characters stop at every delimiter (linear scan).
_DO = re.compile(rb"/([^\s/\[\]<>(){}%]+)\s*Do\b")
MAX_FORM_DEPTH = 12


def count_tokens(stream: bytes) -> int:
    """Whitespace-separated tokens of a content stream (operators and their operands)."""
    if not stream:
        return 0
    ws = _WHITESPACE[np.frombuffer(stream, dtype=np.uint8)]
    return int(np.count_nonzero(ws[:-1] & ~ws[1:])) + (0 if ws[0] else 1)


def page_operations(page: pymupdf.Page, limit: int) -> int:
    """Drawing-command tokens of a page: its content plus every form it draws, a form counted as
    often as it is drawn (a small form drawn 10,000 times is 10,000 times its work). Stops
    counting once past ``limit``."""
    doc = page.parent
    forms: dict[int, dict[bytes, int]] = {}
    for xref, name, invoker, _bbox in page.get_xobjects():
        forms.setdefault(int(invoker), {})[name.encode("latin-1", "replace")] = int(xref)
    memo: dict[int, int] = {}

    def cost(stream: bytes, owner: int, depth: int) -> int:
        total = count_tokens(stream)
        names = forms.get(owner) or forms.get(0) or {}
        if not names or total > limit:
            return total
        drawn: dict[bytes, int] = {}
        for name in _DO.findall(stream):
            drawn[name] = drawn.get(name, 0) + 1
        for name, times in drawn.items():
            xref = names.get(name)
            if xref is None or depth >= MAX_FORM_DEPTH:
                continue
            if xref not in memo:
                memo[xref] = 0  # a form drawing itself counts once
                memo[xref] = cost(doc.xref_stream(xref) or b"", xref, depth + 1)
            total += times * memo[xref]
            if total > limit:
                break
        return total

    return cost(page.read_contents(), 0, 0)


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
        self._operations: dict[int, int] = {}
        self.lock = threading.Lock()

    # -- source ----------------------------------------------------------------------------
    def _open(self) -> None:
        if self.is_raster:
            if self._img is None:  # the header only: pixels are decoded by the first crop
                self._img = open_bounded(str(self.path), self.path.name, self.opts.max_source_pixels)
        elif self._pdf is None:
            self._pdf = pymupdf.open(self.path)

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None
        if self._img is not None:
            self._img.close()
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
        self.check_complexity(page)
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

    def check_complexity(self, page: pymupdf.Page) -> None:
        """:class:`RenderLimitError` when the page has more drawing commands than allowed."""
        limit = self.opts.max_operations
        count = self._operations.get(page.number)
        if count is None:
            count = self._operations[page.number] = page_operations(page, limit)
        if count > limit:
            raise RenderLimitError("zoom.too_complex", page=page.number + 1, reason=t(
                "limit.reason.operators", count=f"{count:,}".replace(",", " "), limit=f"{limit:,}".replace(",", " ")))

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
        img = shrink_to_rgb(self._img, box_px, self.opts.max_pixels)
        # the sheet's own resolution is unknown; report the bundle convention
        return _Raster(img, bbox, page_index, 300.0, None)


#: Rows converted to RGB at a time (times the reduction factor) when shrinking a large crop.
STRIP_ROWS = 128


def shrink_to_rgb(img: Image.Image, box: tuple[int, int, int, int], max_pixels: int) -> Image.Image:
    """The ``box`` (pixels) of ``img`` (any mode) as RGB of at most ``max_pixels``. A large box is
    reduced strip by strip (each strip cropped, converted, reduced by an integer factor), so
    neither a copy of the whole box nor an RGB version of it ever exists; a final resample reaches
    the exact size."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    n = w * h
    if n <= max_pixels:
        crop = img.crop(box)
        return crop.convert("RGB") if crop.mode != "RGB" else crop
    k = math.sqrt(max_pixels / n)
    factor = int(1 / k)
    if factor >= 2:
        band = factor * STRIP_ROWS
        out = Image.new("RGB", (math.ceil(w / factor), math.ceil(h / factor)))
        for top in range(y0, y1, band):
            strip = img.crop((x0, top, x1, min(y1, top + band)))
            out.paste(strip.convert("RGB").reduce(factor), (0, (top - y0) // factor))
        scaled = out
    else:
        scaled = img.crop(box)
        scaled = scaled.convert("RGB") if scaled.mode != "RGB" else scaled
    size = (max(1, int(w * k)), max(1, int(h * k)))
    return scaled if scaled.size == size else scaled.resize(size, Image.Resampling.LANCZOS)
