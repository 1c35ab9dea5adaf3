"""The text of one sheet as the comparison reads it.

Two ways, by what the versions offer:

- ``words``: the PDF text layer (the document's own PDF, or the PDF next to an OCR bundle): every
  word with its box on the displayed page, grouped into runs (words on one baseline without a
  wide gap), with the table row it belongs to (the PDF reader's ``row_id``/``row_text``) and the
  block it lies in (for citations). A text layer is exact: equal text is equal.
- ``lines``: OCR bundles without a PDF: the lines of the text and table blocks with the block's
  box (when the bundle has coordinates). OCR output is not exact (two runs read a sheet
  differently), so it is compared with :mod:`aizoomdoc.compare.linediff`. Image blocks are left
  out: their text is a model's description of the drawing, which changes with every run.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pymupdf

from aizoomdoc.compare.normalize import is_foreign_prose, tokens, word_key
from aizoomdoc.documents.model import Block, Box, Document, Page

log = logging.getLogger(__name__)

_TEXT_FLAGS = pymupdf.TEXT_PRESERVE_LIGATURES | pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
#: A gap wider than this many word heights splits a baseline into two runs (labels on a drawing).
RUN_GAP = 1.5
_OCR_FAILURE = re.compile(r"ошибка|контекст превышен|error|failed", re.IGNORECASE)
# Lines of the bundle, not of the sheet: block markers, the generation stamp, the file path title.
_ARTIFACT = re.compile(r"^(BLOCK\s*:|Linked block\s*:|Created\s*:|Сгенерировано\s*:|.+ / .+\.pdf$)", re.IGNORECASE)
# A list number or bullet opening a line («- 4. », «10) »): OCR runs number notes differently.
_ENUM = re.compile(r"^(?:[-–•*]\s*)?(?:\d{1,2}[.)]\s+)?")


@dataclass
class Word:
    text: str
    key: str
    box: Box  # coords_norm on the displayed page
    run: int  # words of one run (a line without wide gaps) share it
    order: int  # reading order on the page
    block: str | None = None
    row: str | None = None  # table row id (PDF reader)

    @property
    def cx(self) -> float:
        return (self.box[0] + self.box[2]) / 2

    @property
    def cy(self) -> float:
        return (self.box[1] + self.box[3]) / 2

    @property
    def h(self) -> float:
        return self.box[3] - self.box[1]


@dataclass
class Row:
    """A table row: its cells (box, text) left to right."""

    id: str
    cells: list[tuple[Box, str]]

    @property
    def box(self) -> Box:
        return union([b for b, _ in self.cells])  # type: ignore[return-value]

    @property
    def text(self) -> str:
        return " | ".join(" ".join(t.split()) for _, t in self.cells)


@dataclass
class Line:
    """One line of an OCR block (lines mode); a table line keeps its cells."""

    text: str
    keys: list[str]
    box: Box | None
    block: str
    cells: list[str] | None = None


@dataclass
class SheetText:
    page_index: int
    mode: Literal["words", "lines"]
    size_pt: tuple[float, float] | None = None
    words: list[Word] = field(default_factory=list)
    rows: dict[str, Row] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)
    #: Blocks with coordinates (id, box) for naming the block a change lies in.
    blocks: list[tuple[str, Box]] = field(default_factory=list)
    #: Words of the page left out of ``lines`` (image descriptions, English prose): a line's word
    #: found there was not lost, only read into another place.
    extra_keys: list[str] = field(default_factory=list)
    #: The lines of the image blocks by block id (compared only block to block, see linediff).
    image_lines: dict[str, list[Line]] = field(default_factory=dict)
    skipped_images: int = 0
    ocr_failures: int = 0


def union(boxes: list[Box]) -> Box | None:
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def pdf_path_of(doc: Document) -> str | None:
    """The PDF with the document's text layer and pixels (its own, or the one next to a bundle)."""
    path = doc.render_path
    if path and Path(path).suffix.lower() == ".pdf" and Path(path).is_file():
        return path
    return None


class PdfText:
    """Words of the pages of one PDF, and the PDF reader's table rows (opened once)."""

    def __init__(self, path: str, doc: Document) -> None:
        self.path = path
        self.doc = doc
        self.pdf = pymupdf.open(path)
        self._structure: Document | None = doc if doc.source_format == "pdf" else None
        self._sheets: dict[int, SheetText] = {}

    def close(self) -> None:
        self.pdf.close()

    @property
    def page_count(self) -> int:
        return len(self.pdf)

    def structure(self) -> Document:
        """The PDF read by the PDF reader (blocks with table rows); the document itself for a PDF."""
        if self._structure is None:
            from aizoomdoc.documents.base import Source
            from aizoomdoc.documents.pdf import PdfReader

            self._structure = PdfReader().read(Source(Path(self.path), Path(self.path).read_bytes()))
        return self._structure

    def sheet(self, page_index: int) -> SheetText:
        """The words of a page (read once)."""
        if page_index not in self._sheets:
            self._sheets[page_index] = self._read(page_index)
        return self._sheets[page_index]

    def _read(self, page_index: int) -> SheetText:
        page = self.pdf[page_index]
        rect = page.rect
        w, h = rect.width, rect.height
        rot = page.rotation_matrix if page.rotation else None
        raw = page.get_text("words", flags=_TEXT_FLAGS)
        words: list[Word] = []
        run = -1
        last: tuple[int, int] | None = None
        last_x1 = 0.0
        for n, item in enumerate(raw):
            x0, y0, x1, y1, text, bno, lno = item[0], item[1], item[2], item[3], item[4], item[5], item[6]
            key = word_key(text)
            if not key:
                continue
            height = max(y1 - y0, 1.0)
            if (bno, lno) != last or x0 - last_x1 > RUN_GAP * height or x0 < last_x1 - height:
                run += 1
            last, last_x1 = (bno, lno), x1
            if rot is not None:
                r = pymupdf.Rect(x0, y0, x1, y1) * rot
                x0, y0, x1, y1 = r.x0, r.y0, r.x1, r.y1
            box = (min(max(x0 / w, 0.0), 1.0), min(max(y0 / h, 0.0), 1.0),
                   min(max(x1 / w, 0.0), 1.0), min(max(y1 / h, 0.0), 1.0))
            words.append(Word(text, key, box, run, n))
        sheet = SheetText(page_index, "words", size_pt=(w, h), words=words)
        structure = self.structure().page(page_index)
        if structure is not None:
            sheet.rows = table_rows(structure)
        own = self.doc.page(page_index)
        sheet.blocks = block_boxes(own) if own is not None else []
        _assign(sheet)
        return sheet


def table_rows(page: Page) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for b in page.blocks:
        row_id = b.extra.get("row_id") if b.extra else None
        if row_id and b.has_coords:
            rows.setdefault(str(row_id), Row(str(row_id), [])).cells.append((b.coords_norm, b.text))
    for row in rows.values():
        row.cells.sort(key=lambda c: c[0][0])
    return rows


def block_boxes(page: Page) -> list[tuple[str, Box]]:
    return [(b.id, b.coords_norm) for b in page.blocks if b.has_coords and b.coords_norm != (0.0, 0.0, 1.0, 1.0)]


class _Grid:
    """Boxes bucketed on a coarse grid: which boxes contain a point."""

    N = 24

    def __init__(self, items: list[tuple[str, Box]]) -> None:
        self.cells: dict[tuple[int, int], list[tuple[str, Box, float]]] = {}
        n = self.N
        for ident, b in items:
            area = max(b[2] - b[0], 1e-9) * max(b[3] - b[1], 1e-9)
            for i in range(int(b[0] * n), min(n - 1, int(b[2] * n)) + 1):
                for j in range(int(b[1] * n), min(n - 1, int(b[3] * n)) + 1):
                    self.cells.setdefault((i, j), []).append((ident, b, area))

    def smallest_at(self, x: float, y: float) -> str | None:
        n = self.N
        best: tuple[float, str] | None = None
        for ident, b, area in self.cells.get((min(n - 1, int(x * n)), min(n - 1, int(y * n))), ()):
            if b[0] <= x <= b[2] and b[1] <= y <= b[3] and (best is None or area < best[0]):
                best = (area, ident)
        return best[1] if best else None


def _assign(sheet: SheetText) -> None:
    """Each word's table row and block (the smallest box holding its centre)."""
    rows = _Grid([(rid, cell) for rid, row in sheet.rows.items() for cell, _ in row.cells])
    blocks = _Grid(sheet.blocks)
    for w in sheet.words:
        w.row = rows.smallest_at(w.cx, w.cy) if sheet.rows else None
        w.block = blocks.smallest_at(w.cx, w.cy) if sheet.blocks else None


def block_at(sheet: SheetText, box: Box | None) -> str | None:
    """The block of ``sheet`` holding the centre of ``box``."""
    if box is None or not sheet.blocks:
        return None
    return _Grid(sheet.blocks).smallest_at((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


# --- lines mode -------------------------------------------------------------------------------


def is_ocr_failure(text: str) -> bool:
    """A block the OCR could not read (the pipeline wrote its error instead of the text)."""
    s = text.strip()
    return len(s) < 300 and s.startswith("[") and bool(_OCR_FAILURE.search(s))


def block_lines(block: Block, dropped: list[str] | None = None) -> list[Line]:
    """The comparable lines of a block; the words of the lines left out go to ``dropped``."""
    box = block.coords_norm if block.has_coords else None
    out = []
    for raw in block.text.splitlines():
        s = raw.strip()
        if not s or _ARTIFACT.match(s):
            continue
        if is_foreign_prose(s):
            if dropped is not None:
                dropped.extend(tokens(s, ocr=True))
            continue
        s = _ENUM.sub("", s, count=1) or s
        cells = None
        if "|" in s:
            cells = [c.strip() for c in s.strip("|").split("|")]
            cells = [c for c in cells if c]
            if len(cells) < 2:
                cells = None
            s = " | ".join(cells) if cells else s.strip("| ")
        keys = tokens(s, ocr=True)
        if keys:
            out.append(Line(s, keys, box, block.id, cells))
    return out


def ocr_sheet(doc: Document, page_index: int) -> SheetText:
    """Lines mode: the text and table blocks of a page of an OCR bundle."""
    sheet = SheetText(page_index, "lines")
    page = doc.page(page_index)
    if page is None:
        return sheet
    if page.size_known and page.unit == "pt":
        sheet.size_pt = (page.width, page.height)
    sheet.blocks = block_boxes(page)
    for b in page.blocks:
        if b.block_type == "image":
            sheet.skipped_images += 1
            sheet.extra_keys.extend(tokens(b.text, ocr=True))
            sheet.image_lines[b.id] = block_lines(b)
            continue
        if is_ocr_failure(b.text):
            sheet.ocr_failures += 1
            continue
        sheet.lines.extend(block_lines(b, sheet.extra_keys))
    return sheet


def as_lines(sheet: SheetText) -> SheetText:
    """A words-mode sheet as lines (runs), to compare it with an OCR bundle."""
    if sheet.mode == "lines":
        return sheet
    by_run: dict[int, list[Word]] = {}
    for w in sheet.words:
        by_run.setdefault(w.run, []).append(w)
    out = SheetText(sheet.page_index, "lines", size_pt=sheet.size_pt, blocks=sheet.blocks)
    for run_words in by_run.values():
        text = " ".join(w.text for w in run_words)
        out.lines.append(Line(text, tokens(text, ocr=True), union([w.box for w in run_words]),
                              run_words[0].block or f"p{sheet.page_index + 1}"))
    return out


def page_tokens(doc: Document, page: Page) -> set[str]:
    """The distinct OCR keys of a page's text (for aligning sheets by content)."""
    out: set[str] = set()
    for b in page.blocks:
        if b.block_type == "image" and b.extra.get("analysis") is not None or is_ocr_failure(b.text):
            continue
        for k in tokens(b.text, ocr=True):
            if len(k) >= 2:
                out.add(k)
    return out
