"""The PDF itself: text blocks with boxes, page sizes, the title block, scanned pages.

One MuPDF text page per page is built once and read twice: blocks (what search indexes) and
words inside the title-block corner (шифр, stage, sheet number and name). Coordinates are in the
displayed (rotated) page, normalised to [0, 1]; ``coords_px`` are on a 300 DPI raster, like the
OCR bundles. A page with almost no text layer and an image covering most of it is a scan: it gets
one image block over the picture and ``is_scanned=True``.

Tables: each cell is its own block (a hit points at the cell), and the cells of a table row know
their row — ``extra["row_id"]`` and ``extra["row_text"]`` ("В2 | Вентилятор вытяжной канальный
L=2000 м³/ч | ВКРМ-4 | 1") — so search can score a cell with its row and show the whole row.
A table row is a baseline with two or more blocks whose columns line up (left or right edges)
with those of the next or the previous such baseline, in a run of at least three such baselines:
labels that merely share a baseline on a drawing (or two tags with their notes under them) are
not a table.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pymupdf

from aizoomdoc.documents.base import (
    Source,
    finish_document,
    most_common_sheet,
    new_document,
    norm_box,
    px_box_from_norm,
)
from aizoomdoc.documents.model import BUNDLE_DPI, Block, Document, Page, SheetInfo
from aizoomdoc.documents.read_warnings import add as add_warnings
from aizoomdoc.documents.read_warnings import warning
from aizoomdoc.documents.text_layer import assess_text
from aizoomdoc.errors import DocumentError
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)

MM = 72.0 / 25.4
#: The GOST 21.101 title block (form 3) is 185 × 55 mm in the bottom-right corner; a margin.
STAMP_WIDTH_MM = 195.0
STAMP_HEIGHT_MM = 70.0
#: Fewer characters than this on a page with a page-sized image: a scan.
SCAN_MAX_CHARS = 40
SCAN_MIN_IMAGE_AREA = 0.5

_TEXT_FLAGS = (
    pymupdf.TEXT_PRESERVE_LIGATURES | pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
)
CODE_RE = re.compile(
    # A hyphen may be followed by a space where the line broke the шифр («133/23-ГК- АР6»).
    r"(?<![\w/])\d{1,4}\s?[/_]\s?\d{1,4}\s?-\s?[A-ZА-ЯЁ0-9](?:[\wА-Яа-яЁё./]|-\s?)*[\wА-Яа-яЁё]"
)
_STAGES = {"П", "Р", "РД", "ПД", "ЭП", "И", "Ф", "ОИ", "РП"}
_LABELS = {
    "изм", "изм.", "кол.уч", "кол.уч.", "кол. уч.", "лист", "№док", "№ док.", "№док.", "№ док",
    "подп", "подп.", "подпись", "дата", "стадия", "листов", "разраб", "разраб.", "пров", "пров.",
    "проверил", "гип", "н.контр", "н.контр.", "н. контр.", "нач.отд", "нач. отд.", "утв", "утв.",
    "т.контр", "т.контр.", "разработал", "кол.", "уч.", "формат", "масштаб",
}


@dataclass
class _Line:
    """A run of words on one baseline (MuPDF's lines split at wide gaps)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    block: int = 0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)


def _lines_from_words(words: list[tuple[Any, ...]]) -> list[_Line]:
    """Words grouped by MuPDF (block, line), split where the horizontal gap is wide: labels
    on one baseline of a drawing, or the cells of one table row, become separate runs.

    ``extractWORDS`` yields the words of a line consecutively, in reading order.
    """
    lines: list[_Line] = []
    cur_key: tuple[int, int] | None = None
    text: list[str] = []
    x0 = y0 = x1 = y1 = 0.0
    block = 0
    for w in words:
        key = (w[5], w[6])
        if key == cur_key and w[0] - x1 <= 1.5 * max(y1 - y0, 1.0) and w[0] >= x0:
            text.append(w[4])
            x1 = max(x1, w[2])
            y0 = min(y0, w[1])
            y1 = max(y1, w[3])
            continue
        if text:
            lines.append(_Line(" ".join(text), x0, y0, x1, y1, block))
        cur_key, block = key, w[5]
        text = [w[4]]
        x0, y0, x1, y1 = w[0], w[1], w[2], w[3]
    if text:
        lines.append(_Line(" ".join(text), x0, y0, x1, y1, block))
    lines.sort(key=lambda ln: (ln.y0, ln.x0))
    return lines


def _cluster(lines: list[_Line]) -> list[list[_Line]]:
    """Text blocks: runs of one MuPDF block that are stacked (overlap horizontally, close
    vertically). MuPDF merges labels that share a baseline far apart on a drawing into one block;
    those become one block each, so a hit points at the label, not at half the sheet."""
    by_block: dict[int, list[_Line]] = {}
    for ln in lines:
        by_block.setdefault(ln.block, []).append(ln)
    clusters: list[list[_Line]] = []
    for block_lines in by_block.values():
        block_lines.sort(key=lambda ln: (ln.y0, ln.x0))
        open_: list[tuple[list[float], list[_Line]]] = []  # (bbox, members)
        for ln in block_lines:
            home = None
            for box, members in open_:
                tol = ln.height
                if ln.x0 <= box[2] + tol and ln.x1 >= box[0] - tol and ln.y0 - box[3] <= 1.6 * ln.height:
                    home = (box, members)
                    break
            if home is None:
                open_.append(([ln.x0, ln.y0, ln.x1, ln.y1], [ln]))
            else:
                box, members = home
                members.append(ln)
                box[0], box[1] = min(box[0], ln.x0), min(box[1], ln.y0)
                box[2], box[3] = max(box[2], ln.x1), max(box[3], ln.y1)
        clusters.extend(members for _box, members in open_)
    clusters.sort(key=lambda c: (c[0].block, c[0].y0, c[0].x0))
    return clusters


@dataclass
class _Cell:
    """A block's first line (its baseline) and its horizontal extent."""

    index: int
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)


def _table_rows(cells: list[_Cell]) -> list[list[_Cell]]:
    """Rows of tables: cells on one baseline whose columns align with a neighbouring row's.

    A table is a run of such rows; a cell belongs to its row when its column lines up with a cell
    of another row of the table, or when it lies inside the table's aligned columns — so a note
    or a title-block field far out on the same baseline is not part of the row.
    """
    if len(cells) < 4:
        return []
    baselines: list[list[_Cell]] = []
    for c in sorted(cells, key=lambda c: c.y1):
        cur = baselines[-1] if baselines else None
        if cur is not None and abs(c.y1 - cur[0].y1) <= 0.3 * min(c.height, cur[0].height):
            cur.append(c)
        else:
            baselines.append([c])
    rows = []
    for line in baselines:
        if len(line) < 2:
            continue
        line.sort(key=lambda c: c.x0)
        if all(a.x1 <= b.x0 + 0.5 for a, b in itertools.pairwise(line)):  # side by side, not overlapping
            rows.append(line)
    tables: list[list[list[_Cell]]] = []
    aligned: set[int] = set()
    linked_before = False
    for k in range(len(rows) - 1):
        upper, lower = rows[k], rows[k + 1]
        h = max(c.height for c in upper)
        pairs: list[tuple[_Cell, _Cell]] = []
        if min(c.y0 for c in lower) - max(c.y1 for c in upper) <= 4 * h:
            tol = max(2.0, 0.5 * h)
            pairs = [(c, d) for c in upper for d in lower if abs(c.x0 - d.x0) <= tol or abs(c.x1 - d.x1) <= tol]
        if len({id(c) for c, _d in pairs}) >= 2:
            if not linked_before:
                tables.append([upper])
            tables[-1].append(lower)
            aligned.update(x for c, d in pairs for x in (id(c), id(d)))
            linked_before = True
        else:
            linked_before = False
    out: list[list[_Cell]] = []
    for table in tables:
        if len(table) < 3:  # two aligned baselines are a tag and its note on a drawing, not a table
            continue
        anchors = [c for row in table for c in row if id(c) in aligned]
        left, right = min(c.x0 for c in anchors), max(c.x1 for c in anchors)
        for row in table:
            kept = [c for c in row if id(c) in aligned or left <= (c.x0 + c.x1) / 2 <= right]
            if len(kept) >= 2:
                out.append(kept)
    return out


def _mark_table_rows(blocks: list[Block], cells: list[_Cell], page_index: int) -> None:
    for k, row in enumerate(_table_rows(cells), 1):
        text = " | ".join(" ".join(blocks[c.index].text.split()) for c in row)
        row_id = f"p{page_index + 1}-r{k}"
        for c in row:
            blocks[c.index].extra.update(row_id=row_id, row_text=text)


def _is_label(text: str) -> bool:
    return text.strip().lower() in _LABELS


def _below(label: _Line, lines: list[_Line], pattern: re.Pattern[str] | None = None) -> _Line | None:
    """The nearest line under ``label`` whose centre lies within the label's column."""
    height = max(label.y1 - label.y0, 4.0)
    best: _Line | None = None
    for ln in lines:
        if ln is label or ln.y0 < label.y1 - 1 or ln.y0 > label.y1 + 4 * height:
            continue
        if not (label.x0 - 3 * height <= ln.cx <= label.x1 + 3 * height):
            continue
        if pattern is not None and not pattern.fullmatch(ln.text.strip()):
            continue
        if best is None or ln.y0 < best.y0:
            best = ln
    return best


def parse_title_block(lines: list[_Line]) -> SheetInfo | None:
    """What a GOST title block says, from the text lines of the page's bottom-right corner."""
    if not lines:
        return None
    values: dict[str, str] = {}
    code_line: _Line | None = None
    for ln in lines:
        m = CODE_RE.search(ln.text)
        if m:
            values["document_code"] = re.sub(r"\s+", "", m.group(0))
            code_line = ln
            break
    by_text = {ln.text.strip().lower(): ln for ln in lines}
    stage_label = by_text.get("стадия")
    sheet_label = by_text.get("лист")
    stage_value = None
    if stage_label is not None:
        stage_value = _below(stage_label, lines, re.compile("|".join(sorted(_STAGES, key=len, reverse=True))))
        if stage_value is not None:
            values["stage"] = stage_value.text.strip()
    if sheet_label is not None and stage_label is not None:
        # The "Лист" of the Стадия/Лист/Листов row (not the one in the signature columns).
        candidates = [ln for ln in lines if ln.text.strip().lower() == "лист" and ln.x0 >= stage_label.x0 - 1]
        sheet_label = min(candidates, key=lambda ln: abs(ln.y0 - stage_label.y0)) if candidates else None
    if sheet_label is not None:
        num = _below(sheet_label, lines, re.compile(r"\d{1,4}(?:\.\d{1,2})?[а-яa-z]?"))  # 5, 5а, 5.1
        if num is not None:
            values["sheet_number"] = num.text.strip()
    if stage_label is not None:
        row_bottom = (stage_value or stage_label).y1
        left_edge = stage_label.x0 - 75 * MM
        middle = [
            ln for ln in lines
            if ln.x1 <= stage_label.x0 + 1 and ln.x0 >= left_edge and not _is_label(ln.text)
            and ln is not code_line and len(ln.text.strip()) > 2
        ]
        name_lines = [ln for ln in middle if ln.y0 >= row_bottom - 1]
        row_lines = [ln for ln in middle if stage_label.y0 - 2 <= ln.y0 < row_bottom - 1]
        chosen = name_lines or row_lines
        if chosen:
            values["sheet_name"] = " ".join(ln.text.strip() for ln in chosen)
        org = [
            ln for ln in lines
            if ln.x0 >= stage_label.x0 - 2 and ln.y0 >= row_bottom + 1 and not _is_label(ln.text)
            and not re.fullmatch(r"[\d\s]+", ln.text)
        ]
        if org:
            values["organization"] = " ".join(ln.text.strip() for ln in org)
        if code_line is not None:
            obj = [
                ln for ln in lines
                if code_line.y1 - 1 <= ln.y0 and ln.y1 <= stage_label.y0 + 1 and ln.x0 >= left_edge
                and not _is_label(ln.text) and ln is not code_line
            ]
            if obj:
                values["object_name"] = " ".join(ln.text.strip() for ln in obj)
    info = SheetInfo(**values)
    return None if info.is_empty() else info


def _open(source: Source) -> pymupdf.Document:
    path = str(source.path)
    if not source.data:
        raise DocumentError("documents.empty", path=path)
    try:
        pdf = pymupdf.open(stream=source.data, filetype="pdf")
    except pymupdf.EmptyFileError as exc:
        raise DocumentError("documents.empty", path=path) from exc
    except (pymupdf.FileDataError, RuntimeError, ValueError) as exc:
        log.debug("PyMuPDF cannot open %s: %s", path, exc)  # its English detail stays in the log
        raise DocumentError("documents.pdf_corrupt", path=path, detail=t("documents.pdf_unreadable")) from exc
    if pdf.needs_pass:
        pdf.close()
        raise DocumentError("documents.pdf_encrypted", path=path)
    if pdf.is_repaired and b"%%EOF" not in source.data[-4096:]:
        # MuPDF rebuilds a cut file from what is left and silently drops the rest: refuse it.
        pdf.close()
        raise DocumentError("documents.pdf_corrupt", path=path, detail=t("documents.pdf_corrupt.truncated"))
    if pdf.page_count == 0:
        pdf.close()
        raise DocumentError("documents.pdf_no_pages", path=path)
    return pdf


def page_sizes(data: bytes, path: str) -> list[tuple[float, float]]:
    """The displayed size in points of every page of a PDF (for bundles read with their PDF)."""
    pdf = _open(Source(Path(path), data))
    try:
        return [(p.rect.width, p.rect.height) for p in pdf.pages()]
    finally:
        pdf.close()


def texts_in_boxes(data: bytes, path: str, boxes: dict[tuple[int, str], tuple[float, float, float, float]]
                   ) -> dict[tuple[int, str], str]:
    """The text layer inside normalised boxes, keyed like ``boxes`` ((page index, block id))."""
    pdf = _open(Source(Path(path), data))
    out: dict[tuple[int, str], str] = {}
    try:
        for (page_index, block_id), (x0, y0, x1, y1) in boxes.items():
            if not 0 <= page_index < pdf.page_count:
                continue
            page = pdf[page_index]
            r = page.rect
            clip = pymupdf.Rect(x0 * r.width, y0 * r.height, x1 * r.width, y1 * r.height) * page.derotation_matrix
            text = page.get_textbox(clip)
            if text.strip():
                out[(page_index, block_id)] = "\n".join(ln.strip() for ln in text.splitlines() if ln.strip())
    except (RuntimeError, ValueError) as exc:
        raise DocumentError("documents.pdf_corrupt", path=path, detail=t("documents.pdf_unreadable")) from exc
    finally:
        pdf.close()
    return out


class PdfReader:
    format: ClassVar[str] = "pdf"
    extensions: ClassVar[tuple[str, ...]] = (".pdf",)

    def sniff(self, source: Source, head: str) -> bool:
        return source.data[:1024].lstrip().startswith(b"%PDF-")

    def read(self, source: Source) -> Document:
        pdf = _open(source)
        try:
            meta_title = (pdf.metadata or {}).get("title") or None
            doc = new_document(source, "pdf", title=meta_title)
            doc.render_path = str(source.path)
            problems: list[dict[str, Any]] = []
            for number in range(pdf.page_count):
                try:
                    doc.pages.append(self._page(pdf[number]))
                except (RuntimeError, ValueError) as exc:
                    # A broken page costs that page: it stays, empty, and the others are read.
                    log.debug("page %d of %s is unreadable: %s", number + 1, source.path, exc)
                    problems.append(warning("page_unreadable", page=number + 1))
                    doc.pages.append(self._unreadable_page(pdf, number))
            if problems and len(problems) == pdf.page_count:
                raise DocumentError(
                    "documents.pdf_corrupt", path=str(source.path),
                    detail=t("documents.pdf_page_unreadable", page=problems[0]["page"]),
                )
            add_warnings(doc.metadata, problems)
        finally:
            pdf.close()
        doc.metadata["scanned_pages"] = sum(1 for p in doc.pages if p.is_scanned)
        doc.sheet = most_common_sheet(p.sheet for p in doc.pages)
        return finish_document(doc)

    @staticmethod
    def _unreadable_page(pdf: pymupdf.Document, number: int) -> Page:
        try:
            rect = pdf[number].rect
            width, height = rect.width, rect.height
        except (RuntimeError, ValueError):
            width = height = 0.0
        out = Page(number, width, height, unit="pt")
        out.text_layer = "none"
        return out

    def _page(self, page: pymupdf.Page) -> Page:
        rect = page.rect
        width, height = rect.width, rect.height
        out = Page(page.number, width, height, unit="pt")
        tp = page.get_textpage(flags=_TEXT_FLAGS)
        lines = _lines_from_words(tp.extractWORDS())
        if page.rotation != 0:
            rot = page.rotation_matrix
            for ln in lines:
                r = pymupdf.Rect(ln.x0, ln.y0, ln.x1, ln.y1) * rot
                ln.x0, ln.y0, ln.x1, ln.y1 = r.x0, r.y0, r.x1, r.y1
        chars = 0
        page_index = page.number
        prefix = f"p{page_index + 1}-b"
        sx, sy = 1.0 / width, 1.0 / height
        px_x, px_y = width * BUNDLE_DPI / 72.0, height * BUNDLE_DPI / 72.0
        blocks = out.blocks
        cells: list[_Cell] = []
        for k, members in enumerate(_cluster(lines), 1):
            if len(members) == 1:
                ln = members[0]
                text, x0, y0, x1, y1 = ln.text, ln.x0, ln.y0, ln.x1, ln.y1
                cells.append(_Cell(k - 1, x0, y0, x1, y1))
            else:
                members.sort(key=lambda ln: (round(ln.y0), ln.x0))
                text = "\n".join(ln.text for ln in members)
                x0, y0 = min(ln.x0 for ln in members), min(ln.y0 for ln in members)
                x1, y1 = max(ln.x1 for ln in members), max(ln.y1 for ln in members)
                cells.append(_Cell(k - 1, x0, members[0].y0, x1, members[0].y1))
            chars += len(text)
            # Clamped to the page (text may stick out of the media box).
            nx0, ny0 = min(max(x0 * sx, 0.0), 1.0), min(max(y0 * sy, 0.0), 1.0)
            nx1, ny1 = min(max(x1 * sx, 0.0), 1.0), min(max(y1 * sy, 0.0), 1.0)
            blocks.append(Block(
                f"{prefix}{k}", page_index, "text", text, (nx0, ny0, nx1, ny1),
                (nx0 * px_x, ny0 * px_y, nx1 * px_x, ny1 * px_y),
            ))
        _mark_table_rows(blocks, cells, page_index)
        out.text_layer = assess_text("\n".join(b.text for b in blocks))
        if out.text_layer == "garbage":
            # Fonts without a Unicode map: what extracts is no text. The page has no text layer
            # (OCR reads it); its glyph soup would only pollute search.
            out.blocks = []
            return out
        x_min, y_min = width - STAMP_WIDTH_MM * MM, height - STAMP_HEIGHT_MM * MM
        out.sheet = parse_title_block([ln for ln in lines if ln.x1 > x_min and ln.y1 > y_min])
        if chars < SCAN_MAX_CHARS:
            self._detect_scan(page, out, chars)
        return out

    def _detect_scan(self, page: pymupdf.Page, out: Page, chars: int) -> None:
        area = abs(page.rect)
        if area <= 0:
            return
        best = None
        for info in page.get_image_info():
            r = pymupdf.Rect(info["bbox"]) & page.rect
            if r.is_empty:
                continue
            if best is None or abs(r) > abs(best):
                best = r
        if best is None or abs(best) / area < SCAN_MIN_IMAGE_AREA:
            return
        out.is_scanned = True
        norm = norm_box(best.x0, best.y0, best.x1, best.y1, out.width, out.height)
        text = "\n".join(b.text for b in out.blocks)
        out.blocks = [
            Block(
                id=f"p{out.page_number}-scan",
                page_index=out.page_index,
                block_type="image",
                text=text,
                coords_norm=norm,
                coords_px=px_box_from_norm(norm, out.width, out.height),
                extra={"scanned": True, "text_chars": chars},
            )
        ]
