"""OCR of one page: Tesseract (through tesserocr) into blocks with boxes, like the PDF reader's.

    engine = OcrEngine(OcrOptions(lang="rus", dpi=300))   # one per process: the model loads once
    result = engine.recognise_page("set.pdf", page_index=2, source_format="pdf")
    result.blocks                                          # Block(..., extra={"source": "ocr", ...})

Why tesserocr: it calls the Tesseract C++ API in-process, so the language model is loaded once per
process instead of once per page, and the page goes in as pixels in memory (no PNG written, no
process started, no TSV parsed). Measured on KS_AR6 (bench/bench_ocr.py) it runs at or above the
speed of the bare ``tesseract`` command on the same pages, where pytesseract (a subprocess per
page, the image written as PNG) measured 0.89x on an A4 page. Being in-process, a runaway page is
bounded by running the engine in a child process with a timeout and a memory limit
(:mod:`aizoomdoc.pipeline.ocr_process`). The wheel ships its own Tesseract library; the language
data comes from Debian's ``tesseract-ocr-rus`` (or ``TESSDATA_PREFIX``/``OCR_TESSDATA_DIR``).

Reading: the page as sparse text (:data:`SPARSE_TEXT`), then once more turned a quarter for the
text written bottom to top (vertical dimensions, labels along walls), whose words are kept where
the first reading found nothing (:meth:`OcrEngine.words`); then the regions around small or
unsure words (5-pt dimension numbers and marks) enlarged twice, put together on one picture and
read again, a surer word replacing the ones it overlaps (:meth:`OcrEngine._zoom_pass`).

Blocks: words (with their confidence) become lines split at wide gaps, lines are clustered into
blocks and table rows are marked exactly as for a PDF text layer (:mod:`aizoomdoc.documents.pdf`),
on the page's own coordinates (points for a PDF, pixels for an image). Every block carries
``extra = {"source": "ocr", "ocr_confidence": 0..1}``; the title block (штамп) is parsed from the
OCR lines too.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aizoomdoc.documents.model import BUNDLE_DPI, Block, SheetInfo
from aizoomdoc.documents.pdf import (
    MM,
    STAMP_HEIGHT_MM,
    STAMP_WIDTH_MM,
    _Cell,
    _cluster,
    _lines_from_words,
    _mark_table_rows,
    parse_title_block,
)

log = logging.getLogger(__name__)

#: A word of a reading: ``(x0, y0, x1, y1, text, block, line, word, confidence)``, pixels.
Word = tuple[float, float, float, float, str, int, int, int, float]

#: Where Debian, Homebrew and source builds put the language data.
TESSDATA_GLOBS = ("/usr/share/tesseract-ocr/*/tessdata", "/usr/share/tessdata", "/usr/local/share/tessdata",
                  "/opt/homebrew/share/tessdata")
#: Words Tesseract is less sure of than this (0-100) are hatching and line art read as letters.
MIN_WORD_CONFIDENCE = 30.0
#: A scan of lower resolution is read at this one (Tesseract wants capitals of 20+ pixels).
MIN_SCAN_DPI = 200.0
#: Tesseract's page segmentation: 11 = sparse text, "as much text as possible in no particular
#: order". A drawing is labels scattered over line art, not columns of paragraphs: the automatic
#: layout analysis (3) dropped whole label groups as "image" regions (bench_ocr on KS_AR6 at 300
#: dpi: 67.9 % of the text layer's words found with 3, 73.1 % with 11, in 0.4 of the time).
SPARSE_TEXT = 11
#: Dark runs at least this long (inches: 12 mm) are ruling lines (table borders, dimension and
#: leader lines), not letters. Removing them before OCR (``OcrOptions.remove_rulings``) measured
#: neutral on KS_AR6 (73.1 % with and without at 300 dpi: numbers on dimension lines gained what
#: table text lost), for 10-15 % more time: off by default.
RULING_MIN_INCHES = 0.5
#: Enlarged second reading (``OcrOptions.zoom``): words lower than this (inches; 2.3 mm, i.e.
#: 5-pt and smaller text) or less sure than :data:`ZOOM_UNSURE` are read again, enlarged, in a
#: region reaching :data:`ZOOM_PAD_INCHES` around them.
ZOOM_SMALL_INCHES = 0.09
ZOOM_UNSURE = 70.0
ZOOM_PAD_INCHES = 0.15
#: White between the enlarged regions put together on one picture (inches of the page).
ZOOM_GAP_INCHES = 0.1


@dataclass(frozen=True)
class OcrOptions:
    lang: str = "rus"
    dpi: float = 300.0
    #: Pages larger than this many pixels at ``dpi`` are rasterised at a lower resolution.
    max_pixels: int = 80_000_000
    tessdata: str | None = None
    min_confidence: float = MIN_WORD_CONFIDENCE
    #: Tesseract page segmentation mode (see :data:`SPARSE_TEXT`).
    psm: int = SPARSE_TEXT
    #: Remove long horizontal and vertical ruling lines before OCR (see :data:`RULING_MIN_INCHES`).
    remove_rulings: bool = False
    #: Also read the page turned a quarter (vertical text reading bottom to top: dimensions,
    #: labels along walls, the side columns of a title block); words found only there are kept.
    vertical: bool = True
    #: Read again, enlarged this many times, the regions around small or unsure words (see
    #: :meth:`OcrEngine._zoom_pass`); 0 = no such pass.
    zoom: float = 2.0
    #: Remove ruling lines from the enlarged regions before reading them (see :data:`RULING_MIN_INCHES`;
    #: measured neutral: 79.6 % against 79.9 % at 200 dpi, 79.1 % both at 300): off.
    zoom_rulings: bool = False

    def cache_key(self) -> str:
        """What makes two OCR results of one page differ (part of the cache key)."""
        key = f"tesseract:{self.lang}:{self.dpi:g}:{self.min_confidence:g}"
        if (self.psm, self.remove_rulings, self.vertical) != (3, False, False):
            key += f":psm{self.psm}{':rulings' if self.remove_rulings else ''}{':vertical' if self.vertical else ''}"
        if self.zoom:
            key += f":zoom{self.zoom:g}{':rulings' if self.zoom_rulings else ''}"
        return key


@dataclass
class PageOcr:
    """The OCR of one page, as stored in the cache (``to_dict``/``from_dict``)."""

    page_index: int
    blocks: list[Block] = field(default_factory=list)
    sheet: SheetInfo | None = None
    confidence: float = 0.0  # mean word confidence 0..1
    dpi: float = 0.0
    words: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "page_index": self.page_index, "confidence": self.confidence, "dpi": self.dpi, "words": self.words,
            "seconds": self.seconds, "sheet": self.sheet.to_dict() if self.sheet else None,
            "blocks": [{"id": b.id, "type": b.block_type, "text": b.text, "coords_norm": list(b.coords_norm),
                        "coords_px": list(b.coords_px) if b.coords_px else None, "extra": b.extra}
                       for b in self.blocks],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PageOcr:
        page_index = int(data["page_index"])
        blocks = [Block(b["id"], page_index, b.get("type", "text"), b["text"],
                        tuple(b["coords_norm"]),
                        tuple(b["coords_px"]) if b.get("coords_px") else None,
                        extra=dict(b.get("extra") or {}))
                  for b in data.get("blocks") or []]
        return cls(page_index, blocks, SheetInfo.from_dict(data.get("sheet")), float(data.get("confidence") or 0),
                   float(data.get("dpi") or 0), int(data.get("words") or 0), float(data.get("seconds") or 0))


def find_tessdata(lang: str, configured: str | None = None) -> str | None:
    """The folder holding ``{lang}.traineddata``, or None."""
    candidates = [configured] if configured else []
    if os.environ.get("TESSDATA_PREFIX"):
        candidates.append(os.environ["TESSDATA_PREFIX"])
    for pattern in TESSDATA_GLOBS:
        candidates.extend(sorted(glob.glob(pattern), reverse=True))
    for folder in candidates:
        if folder and all((Path(folder) / f"{part}.traineddata").is_file() for part in lang.split("+")):
            return str(folder)
    return None


def ocr_unavailable(options: OcrOptions) -> str | None:
    """None when OCR can run; otherwise what is missing (``engine`` or ``language``)."""
    import importlib.util

    if importlib.util.find_spec("tesserocr") is None:  # not imported here: the engine runs in children
        return "engine"
    if find_tessdata(options.lang, options.tessdata) is None:
        return "language"
    return None


def _page_pixels(path: str, page_index: int, source_format: str, options: OcrOptions) -> tuple[Any, float, float]:
    """The page as a grayscale PIL image, and the scale from page units to its pixels (x, y)."""
    from PIL import Image

    if source_format == "image":
        with Image.open(path) as img:
            gray = img.convert("L")
        return gray, 1.0, 1.0
    import pymupdf

    with pymupdf.open(path) as pdf:
        page = pdf[page_index]
        area_pt = max(page.rect.width * page.rect.height, 1.0)
        dpi = min(options.dpi, scan_dpi(page) or options.dpi)
        dpi = max(int(min(dpi, 72.0 * (options.max_pixels / area_pt) ** 0.5)), 1)
        pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
        image = Image.frombytes("L", (pix.width, pix.height), pix.samples)
        return image, pix.width / page.rect.width, pix.height / page.rect.height


def scan_dpi(page: Any) -> float | None:
    """The resolution of the picture of a scanned page (one image over most of it), raised to
    :data:`MIN_SCAN_DPI`; None for other pages. Reading a 200 dpi scan at 300 dpi invents no
    detail, costs twice the pixels (measured: a 200 dpi A1 sheet several times slower at 300 dpi)."""
    area = abs(page.rect)
    best = None
    for info in page.get_image_info():
        box = page.rect & info["bbox"]
        if not box.is_empty and abs(box) >= 0.5 * area and (best is None or abs(box) > abs(best[0])):
            best = (box, info)
    if best is None:
        return None
    box, info = best
    native = min(info["width"] / max(box.width / 72.0, 1e-6), info["height"] / max(box.height / 72.0, 1e-6))
    return max(native, MIN_SCAN_DPI)


class OcrEngine:
    """One Tesseract instance (the model loaded once); not thread-safe, one per process."""

    def __init__(self, options: OcrOptions | None = None) -> None:
        self.options = options or OcrOptions()
        self._api: Any = None

    def _tesseract(self) -> Any:
        if self._api is None:
            from tesserocr import PyTessBaseAPI

            path = find_tessdata(self.options.lang, self.options.tessdata)
            if path is None:
                raise RuntimeError(f"no {self.options.lang}.traineddata")
            self._api = PyTessBaseAPI(path=path, lang=self.options.lang, psm=self.options.psm)
        return self._api

    def close(self) -> None:
        if self._api is not None:
            self._api.End()
            self._api = None

    def words(self, image: Any, dpi: float) -> list[tuple[float, float, float, float, str, int, int, int, float]]:
        """Words of an image: ``(x0, y0, x1, y1, text, block, line, word, confidence)`` in pixels.

        With the options' defaults: the page read as sparse text, then read again turned a
        quarter clockwise; a word of that second reading that is upright there
        (vertical on the page) and not over a word of the first is added; then the regions of
        small or unsure words are read again enlarged (:meth:`_zoom_pass`)."""
        if self.options.remove_rulings:
            image = without_rulings(image, max(int(dpi * RULING_MIN_INCHES), 20))
        words = self._read(image, dpi, block_base=0)
        upright_count = len(words)
        if self.options.vertical:
            self._turned(image, dpi, words)
        if self.options.zoom > 1:
            return self._zoom_pass(image, dpi, words, upright_count)
        return words

    def _turned(self, image: Any, dpi: float, words: list[Word]) -> None:
        """Add to ``words`` those of the page read turned a quarter clockwise that are upright
        there (vertical on the page) and not over a word of the first reading."""
        from PIL import Image

        height = image.height
        turned = self._read(image.transpose(Image.Transpose.ROTATE_270), dpi,
                            block_base=max((w[5] for w in words), default=0))
        upright = [w[:4] for w in words if w[8] >= self.options.min_confidence]
        for x0, y0, x1, y1, text, block, line, word, conf in turned:
            if x1 - x0 < y1 - y0:  # not a horizontal word in the turned picture
                continue
            # Back to the page: the turned picture's (x, y) is the page's (y, height - x).
            box = (y0, height - x1, y1, height - x0)
            if any(_overlap(box, u) > 0.3 for u in upright):
                continue
            words.append((*box, text, block, line, word, conf))

    def _zoom_pass(self, image: Any, dpi: float, words: list[Word], upright_count: int) -> list[Word]:
        """``words`` improved by a second reading, enlarged ``options.zoom`` times, of the regions
        around their small or unsure words (:func:`zoom_regions`): 5-pt dimension numbers and
        marks are under the ~20 pixels Tesseract wants at 300 dpi, and enlarging the whole page
        loses more on the larger text of tables than it gains (measured, docs/JOBS.md). A word of
        the enlarged reading replaces the words it overlaps when it is surer than all of them and
        is added where there were none; words cut by a region's edge are left out.
        ``words[:upright_count]`` are upright on the page, the rest vertical (the turned reading)."""
        import numpy as np
        from PIL import Image

        zoom, edge = self.options.zoom, 1.0
        block_base = max((w[5] for w in words), default=0) + 1
        out: list[Word | None] = list(words)
        boxes = np.array([w[:4] for w in words], dtype=float).reshape(-1, 4)
        added: list[int] = []  # indices in `out` of words this pass added
        tiles: list[tuple[tuple[int, int, int, int], bool, Any]] = []
        for rect, vertical in zoom_regions(words, upright_count, image.width, image.height, dpi):
            crop = image.crop(rect)
            if vertical:
                crop = crop.transpose(Image.Transpose.ROTATE_270)
            big = crop.resize((round(crop.width * zoom), round(crop.height * zoom)), Image.Resampling.LANCZOS)
            if self.options.zoom_rulings:
                big = without_rulings(big, max(int(dpi * zoom * RULING_MIN_INCHES), 20))
            tiles.append((rect, vertical, big))
        if not tiles:
            return words
        # All regions on one sheet, white between them, read at once: one reading of many small
        # pictures costs several times their pixels (Tesseract's fixed cost per picture).
        gap = max(int(ZOOM_GAP_INCHES * dpi * zoom), 8)
        origins, size = _shelf_pack([t[2].size for t in tiles], gap)
        sheet = Image.new("L", size, 255)
        for (ox, oy), (_rect, _vertical, big) in zip(origins, tiles, strict=True):
            sheet.paste(big, (ox, oy))
        read: list[list[Word]] = [[] for _ in tiles]
        for w in self._read(sheet, dpi * zoom, block_base=block_base):
            cx, cy = (w[0] + w[2]) / 2, (w[1] + w[3]) / 2
            for k, ((ox, oy), (_rect, _vertical, big)) in enumerate(zip(origins, tiles, strict=True)):
                if ox <= cx < ox + big.width and oy <= cy < oy + big.height:
                    read[k].append((w[0] - ox, w[1] - oy, w[2] - ox, w[3] - oy, *w[4:]))
                    break
        for region, ((rect, vertical, _big), tile_words) in enumerate(zip(tiles, read, strict=True)):
            crop_height = rect[3] - rect[1]
            near = np.nonzero((boxes[:, 0] < rect[2]) & (boxes[:, 2] > rect[0])
                              & (boxes[:, 1] < rect[3]) & (boxes[:, 3] > rect[1]))[0].tolist()
            for x0, y0, x1, y1, text, _block, line, word, conf in tile_words:
                if not any(ch.isalnum() for ch in text) or (vertical and x1 - x0 < y1 - y0):
                    continue
                x0, y0, x1, y1 = x0 / zoom, y0 / zoom, x1 / zoom, y1 / zoom
                if vertical:  # the turned crop's (x, y) is the crop's (y, crop height - x)
                    box = (rect[0] + y0, rect[1] + crop_height - x1, rect[0] + y1, rect[1] + crop_height - x0)
                else:
                    box = (rect[0] + x0, rect[1] + y0, rect[0] + x1, rect[1] + y1)
                if ((box[0] <= rect[0] + edge and rect[0] > 0) or (box[1] <= rect[1] + edge and rect[1] > 0)
                        or (box[2] >= rect[2] - edge and rect[2] < image.width)
                        or (box[3] >= rect[3] - edge and rect[3] < image.height)):
                    continue  # cut by the region's edge
                under = [i for i in (*near, *added)
                         if (o := out[i]) is not None and (_overlap(box, o[:4]) > 0.3 or _overlap(o[:4], box) > 0.3)]
                if not under:
                    added.append(len(out))
                    out.append((*box, text, block_base, region * 100_000 + line, word, conf))
                elif conf > max(o[8] for i in under if (o := out[i]) is not None):
                    first = out[under[0]]
                    assert first is not None
                    out[under[0]] = (*box, text, first[5], first[6], first[7], conf)
                    for i in under[1:]:
                        out[i] = None
        return [w for w in out if w is not None]

    def _read(self, image: Any, dpi: float, *, block_base: int
              ) -> list[tuple[float, float, float, float, str, int, int, int, float]]:
        """One Tesseract reading of ``image``; block numbers start after ``block_base``. In sparse
        mode Tesseract's blocks say nothing of the layout: all words of a reading are one block
        and :func:`page_from_words` groups their lines by position."""
        from tesserocr import RIL, iterate_level

        api = self._tesseract()
        api.SetImage(image)
        api.SetSourceResolution(max(int(round(dpi)), 70))
        api.Recognize()
        out: list[tuple[float, float, float, float, str, int, int, int, float]] = []
        sparse = self.options.psm in (11, 12)
        block, line, word = block_base, 0, 0
        iterator = api.GetIterator()
        if iterator is None:
            api.Clear()
            return out
        for w in iterate_level(iterator, RIL.WORD):
            if w.IsAtBeginningOf(RIL.BLOCK) and (not sparse or block == block_base):
                block += 1
            if w.IsAtBeginningOf(RIL.TEXTLINE):
                line, word = line + 1, 0
            try:
                text = _fix_word((w.GetUTF8Text(RIL.WORD) or "").strip())
            except RuntimeError:  # "No text returned": a word of no characters (seen on small crops)
                continue
            box = w.BoundingBox(RIL.WORD)
            if not text or box is None:
                continue
            word += 1
            out.append((float(box[0]), float(box[1]), float(box[2]), float(box[3]), text, block, line, word,
                        float(w.Confidence(RIL.WORD))))
        api.Clear()
        return out

    def recognise_page(self, path: str, page_index: int, source_format: str, width: float, height: float) -> PageOcr:
        """OCR one page of the file at ``path`` (a PDF, or an image) of ``width`` × ``height`` page units."""
        import time

        started = time.perf_counter()
        image, sx, sy = _page_pixels(path, page_index, source_format, self.options)
        dpi = 72.0 * sx if source_format != "image" else float(self.options.dpi)
        words = self.words(image, dpi)
        result = page_from_words(words, page_index, width, height, sx, sy, unit="px" if source_format == "image" else "pt",
                                 min_confidence=self.options.min_confidence)
        result.dpi = round(dpi, 1)
        result.seconds = round(time.perf_counter() - started, 3)
        return result


def zoom_regions(words: list[Word], upright_count: int, width: int, height: int, dpi: float) -> list[tuple[tuple[int, int, int, int], bool]]:
    """Regions (pixel boxes, and whether their text is vertical) to read again enlarged: around
    each small or unsure word (:data:`ZOOM_SMALL_INCHES`, :data:`ZOOM_UNSURE`; a dropped one
    too: it is often a small number read badly), overlapping regions merged."""
    small, pad = ZOOM_SMALL_INCHES * dpi, ZOOM_PAD_INCHES * dpi
    boxes: dict[bool, list[list[float]]] = {False: [], True: []}
    for k, (x0, y0, x1, y1, text, *_rest, conf) in enumerate(words):
        vertical = k >= upright_count
        size = (x1 - x0) if vertical else (y1 - y0)
        if not any(ch.isalnum() for ch in text) or (size >= small and conf >= ZOOM_UNSURE):
            continue
        boxes[vertical].append([max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, width), min(y1 + pad, height)])
    out: list[tuple[tuple[int, int, int, int], bool]] = []
    for vertical, rects in boxes.items():
        merged: list[list[float]] = []
        for r in sorted(rects):
            for m in merged:
                if r[0] <= m[2] and m[0] <= r[2] and r[1] <= m[3] and m[1] <= r[3]:
                    m[:] = [min(m[0], r[0]), min(m[1], r[1]), max(m[2], r[2]), max(m[3], r[3])]
                    break
            else:
                merged.append(r)
        changed = True
        while changed:  # a grown region may now touch another
            changed = False
            for i in range(len(merged)):
                for j in range(len(merged) - 1, i, -1):
                    m, r = merged[i], merged[j]
                    if r[0] <= m[2] and m[0] <= r[2] and r[1] <= m[3] and m[1] <= r[3]:
                        m[:] = [min(m[0], r[0]), min(m[1], r[1]), max(m[2], r[2]), max(m[3], r[3])]
                        del merged[j]
                        changed = True
        out.extend(((int(m[0]), int(m[1]), int(m[2] + 0.999), int(m[3] + 0.999)), vertical) for m in merged)
    return out


def _shelf_pack(sizes: list[tuple[int, int]], gap: int) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """Places for pictures of ``sizes`` on one sheet, ``gap`` apart, in rows (tallest first) of
    about the width of a square of their area; their top-left corners, and the sheet's size."""
    area = sum((w + gap) * (h + gap) for w, h in sizes)
    limit = max(max(w for w, _h in sizes) + 2 * gap, int(area ** 0.5))
    origins: list[tuple[int, int]] = [(0, 0)] * len(sizes)
    x, y, row, width = gap, gap, 0, 0
    for k in sorted(range(len(sizes)), key=lambda i: -sizes[i][1]):
        w, h = sizes[k]
        if x > gap and x + w + gap > limit:
            x, y, row = gap, y + row + gap, 0
        origins[k] = (x, y)
        x += w + gap
        row = max(row, h)
        width = max(width, x)
    return origins, (width, y + row + gap)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """The share of box ``a`` covered by box ``b``."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / max((a[2] - a[0]) * (a[3] - a[1]), 1e-6)


#: A zero before Cyrillic capitals and after no digit: «0Г-14» is the mark «ОГ-14» (a zero after
#: letters stays: «АР0.2» is a real code).
_ZERO_IN_LETTERS = re.compile(r"(?<![0-9])0(?=[А-ЯЁ])")


def _fix_word(text: str) -> str:
    """Undo confusions of the GOST drawing type (ISOCPEUR): its «С» reads as «(» — «(тремянка»
    is «Стремянка» (an opening parenthesis with no closing one, before a lowercase Cyrillic
    letter); its «О» reads as the digit «0» in marks — «0Г-14» is «ОГ-14»."""
    if len(text) > 2 and text[0] == "(" and ")" not in text and "а" <= text[1] <= "я":
        text = "С" + text[1:]
    if "0" in text:
        text = _ZERO_IN_LETTERS.sub("О", text)
    return text


def without_rulings(image: Any, min_length: int) -> Any:
    """``image`` (grayscale PIL) with its horizontal and vertical dark runs of ``min_length``
    pixels or more painted white: ruling lines, not letters (a stroke of a letter is far
    shorter). Done in bands of rows so that an A0 sheet at 300 dpi needs little memory."""
    import numpy as np
    from PIL import Image

    pixels = np.array(image, dtype=np.uint8)
    dark = pixels < 160
    band = 256
    for rows in (dark, dark.T):
        target = pixels if rows is dark else pixels.T
        for top in range(0, rows.shape[0], band):
            target[top:top + band][_long_runs(rows[top:top + band], min_length)] = 255
    return Image.fromarray(pixels)


def _long_runs(dark: Any, length: int) -> Any:
    """Which pixels of ``dark`` (2-D bool) lie in a run of ``length``+ True along axis 1."""
    import numpy as np

    rows, width = dark.shape
    if width < length:
        return np.zeros_like(dark)
    sums = np.zeros((rows, width + 1), np.int32)
    np.cumsum(dark, axis=1, dtype=np.int32, out=sums[:, 1:])
    full = (sums[:, length:] - sums[:, :-length]) == length  # the run of `length` starting at each x is dark
    starts = np.zeros((rows, full.shape[1] + 1), np.int32)
    np.cumsum(full, axis=1, dtype=np.int32, out=starts[:, 1:])
    x = np.arange(width)
    # x is covered when a full run starts in [x - length + 1, x].
    return (starts[:, np.minimum(x, width - length) + 1] - starts[:, np.maximum(x - length + 1, 0)]) > 0


def page_from_words(words: list[tuple[float, float, float, float, str, int, int, int, float]], page_index: int,
                    width: float, height: float, sx: float, sy: float, *, unit: str = "pt",
                    min_confidence: float = MIN_WORD_CONFIDENCE) -> PageOcr:
    """Blocks of a page from its OCR words (pixel boxes; ``sx``/``sy`` pixels per page unit)."""
    kept = [w for w in words if w[8] >= min_confidence and any(ch.isalnum() for ch in w[4])]
    # In page units, in the shape of MuPDF's words: (x0, y0, x1, y1, text, block, line, word).
    as_page = [(w[0] / sx, w[1] / sy, w[2] / sx, w[3] / sy, w[4], w[5], w[6], w[7]) for w in kept]
    by_block: dict[int, list[tuple[float, float, float]]] = {}
    for w, p in zip(kept, as_page, strict=True):
        by_block.setdefault(w[5], []).append(((p[0] + p[2]) / 2, (p[1] + p[3]) / 2, w[8]))
    lines = _lines_from_words(as_page)
    blocks: list[Block] = []
    cells: list[_Cell] = []
    to_px = BUNDLE_DPI / 72.0 if unit == "pt" else 1.0
    for k, members in enumerate(_cluster(lines), 1):
        members.sort(key=lambda ln: (round(ln.y0), ln.x0))
        x0, y0 = min(ln.x0 for ln in members), min(ln.y0 for ln in members)
        x1, y1 = max(ln.x1 for ln in members), max(ln.y1 for ln in members)
        cells.append(_Cell(k - 1, x0, members[0].y0, x1, members[0].y1))
        norm = (min(max(x0 / width, 0.0), 1.0), min(max(y0 / height, 0.0), 1.0),
                min(max(x1 / width, 0.0), 1.0), min(max(y1 / height, 0.0), 1.0))
        px = (norm[0] * width * to_px, norm[1] * height * to_px, norm[2] * width * to_px, norm[3] * height * to_px)
        confs = [c for cx, cy, c in by_block.get(members[0].block, ())
                 if x0 - 0.5 <= cx <= x1 + 0.5 and y0 - 0.5 <= cy <= y1 + 0.5]
        extra = {"source": "ocr", "ocr_confidence": round(sum(confs) / len(confs) / 100.0, 3) if confs else 0.0}
        blocks.append(Block(f"p{page_index + 1}-ocr{k}", page_index, "text", "\n".join(ln.text for ln in members),
                            norm, px, extra=extra))
    _mark_table_rows(blocks, cells, page_index)
    sheet = None
    if unit == "pt":
        x_min, y_min = width - STAMP_WIDTH_MM * MM, height - STAMP_HEIGHT_MM * MM
        sheet = parse_title_block([ln for ln in lines if ln.x1 > x_min and ln.y1 > y_min])
    mean = sum(w[8] for w in kept) / len(kept) / 100.0 if kept else 0.0
    return PageOcr(page_index, blocks, sheet, round(mean, 3), words=len(kept))


__all__ = ["OcrEngine", "OcrOptions", "PageOcr", "find_tessdata", "ocr_unavailable", "page_from_words"]
