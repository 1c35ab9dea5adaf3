"""The register of changes («Изм. | Лист | Содержание изменения») of a version, and how it
compares with what was found.

The register is a table on one of the first sheets: a header row with «Изм.», «Лист» and
«Содержание изменения», then one row per change — the revision («8.1», «Зам», «Нов»), the
sheets («2», «8.2», «1-5», «2, 3»), what was changed. The rows the new version adds to the old
version's register describe this revision; without the old register, the rows of the highest
revision number do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from aizoomdoc.compare.content import PdfText, SheetText, Word, ocr_sheet
from aizoomdoc.compare.model import RegisterCheck, RegisterEntry, SheetDiff
from aizoomdoc.compare.normalize import sheet_number_key, tokens
from aizoomdoc.compare.textdiff import reading_order
from aizoomdoc.documents.model import Document

_REVISION = re.compile(r"^(?:изм\.?\s*)?(\d+(?:\.\d+)*|зам\.?|нов\.?|аннул\.?)", re.IGNORECASE)
_SHEET_LIST = re.compile(r"^(?:л\.?\s*)?[\dа-я.,;\s\-–]+$", re.IGNORECASE)
_RANGE = re.compile(r"^(\d+)\s*[-–]\s*(\d+)$")
MAX_RANGE = 200


def _is_header(cells: list[str]) -> bool:
    keys = [" ".join(tokens(c)) for c in cells]
    return (any(k.startswith("изм") for k in keys) and any(k == "лист" for k in keys)
            and any("содержание" in k for k in keys))


def parse_sheets(cell: str) -> list[str]:
    """«2» → [2]; «1-3» → [1, 2, 3]; «2, 8.2» → [2, 8.2]; «все» → ["все"]."""
    s = cell.strip().lower()
    if s in ("все", "всё", "все листы"):
        return ["все"]
    s = re.sub(r"^л\.?\s*", "", s)
    out: list[str] = []
    for part in re.split(r"[,;\s]+(?![-–])", s):
        part = part.strip()
        if not part:
            continue
        m = _RANGE.match(part)
        if m and 0 <= int(m.group(2)) - int(m.group(1)) <= MAX_RANGE:
            out.extend(str(k) for k in range(int(m.group(1)), int(m.group(2)) + 1))
        elif re.fullmatch(r"\d+(?:\.\d+)?[а-я]?", part):
            out.append(sheet_number_key(part))
    return out


def entries_from_rows(rows: Iterable[tuple[int, list[str]]]) -> list[RegisterEntry]:
    """Register rows from table rows ``(page_index, cells)`` in reading order."""
    out: list[RegisterEntry] = []
    columns: tuple[int, int, int] | None = None
    for page_index, cells in rows:
        if _is_header(cells):
            keys = [" ".join(tokens(c)) for c in cells]
            columns = (next(k for k, v in enumerate(keys) if v.startswith("изм")),
                       next(k for k, v in enumerate(keys) if v == "лист"),
                       next(k for k, v in enumerate(keys) if "содержание" in v))
            continue
        if columns is None:
            continue
        rev_i, sheet_i, text_i = columns
        if len(cells) <= max(rev_i, sheet_i):
            columns = None
            continue
        m = _REVISION.match(cells[rev_i].strip())
        sheets = parse_sheets(cells[sheet_i]) if _SHEET_LIST.match(cells[sheet_i].strip()) else []
        if not m or not sheets:
            columns = None  # the table ended
            continue
        text = cells[text_i].strip() if text_i < len(cells) else ""
        if text_i >= len(cells) or (text_i == sheet_i + 1 and len(cells) > text_i and not text):
            text = " ".join(c for c in cells[sheet_i + 1:] if c)
        out.append(RegisterEntry(cells[rev_i].strip(), sheets, text, page_index + 1))
    return out


def _rows_of_lines(sheet: SheetText) -> list[list[str]]:
    return [line.cells for line in sheet.lines if line.cells]


def entries_from_words(sheet: SheetText) -> list[RegisterEntry]:
    """Register rows from the words of a PDF page: the header «Изм. | Лист | Содержание изменения»
    gives the columns; each revision mark under «Изм.» opens a row, which runs to halfway to the
    next one (the revision and sheet are centred on a content of several lines)."""
    words = sheet.words
    out: list[RegisterEntry] = []
    for head in (w for w in words if w.key.rstrip(".") == "изм"):
        same_line = [w for w in words if abs(w.cy - head.cy) < head.h * 0.6 and w.box[0] > head.box[2]]
        sheet_h = next((w for w in sorted(same_line, key=lambda w: w.box[0]) if w.key == "лист"), None)
        text_h = next((w for w in same_line if w.key.startswith("содержание")), None)
        if sheet_h is None or text_h is None or text_h.box[0] < sheet_h.box[2]:
            continue
        right = min((w.box[0] for w in same_line if w.box[0] > text_h.box[2] and w.key in ("код", "примечание")),
                    default=1.0)
        gap = (sheet_h.box[0] - head.box[2]) / 2
        rev_col = (head.box[0] - gap * 2, head.box[2] + gap)
        sheet_col = (head.box[2] + gap, sheet_h.box[2] + gap)
        text_col = (sheet_col[1], right - 0.002)
        below = sorted((w for w in words if w.box[1] > head.box[3]), key=lambda w: (w.cy, w.box[0]))
        anchors: list[Word] = []
        for w in below:
            if not rev_col[0] <= w.cx <= rev_col[1]:
                continue
            if not _REVISION.match(w.text) or w.box[1] > head.box[3] + 0.5:
                break
            if anchors and abs(w.cy - anchors[-1].cy) < w.h * 0.6:
                continue  # a second word of the same mark («Изм. 2»)
            anchors.append(w)
        for k, a in enumerate(anchors):
            top = (anchors[k - 1].cy + a.cy) / 2 if k else head.box[3]
            bottom = (a.cy + anchors[k + 1].cy) / 2 if k + 1 < len(anchors) else a.cy + (a.cy - top)
            band = [w for w in below if top <= w.cy < bottom]
            rev = " ".join(w.text for w in band if rev_col[0] <= w.cx <= rev_col[1])
            sheets = parse_sheets(" ".join(w.text for w in band if sheet_col[0] <= w.cx <= sheet_col[1]))
            text = " ".join(w.text for w in reading_order([w for w in band if text_col[0] <= w.cx <= text_col[1]]))
            if sheets:
                out.append(RegisterEntry(rev, sheets, text, sheet.page_index + 1))
        if out:
            break
    return out


def read_register(doc: Document, pdf: PdfText | None, max_pages: int = 12) -> list[RegisterEntry]:
    """The register rows of a version (searched on its first ``max_pages`` pages)."""
    out: list[RegisterEntry] = []
    rows: list[tuple[int, list[str]]] = []
    for page in doc.pages[:max_pages]:
        if pdf is not None and page.page_index < pdf.page_count and not page.is_scanned:
            words = pdf.sheet(page.page_index)
            if words.words:
                out.extend(entries_from_words(words))
                continue
        rows.extend((page.page_index, cells) for cells in _rows_of_lines(ocr_sheet(doc, page.page_index)))
    return out + entries_from_rows(rows)


def _major(revision: str) -> int | None:
    m = re.match(r"^(?:изм\.?\s*)?(\d+)", revision.strip(), re.IGNORECASE)
    return int(m.group(1)) if m else None


def current_entries(new: list[RegisterEntry], old: list[RegisterEntry]) -> tuple[list[RegisterEntry], bool]:
    """The rows of this revision — those the old register did not have — and whether there are
    any. Without an old register: the rows of the highest revision number."""
    def key(e: RegisterEntry) -> tuple[str, tuple[str, ...], str]:
        return (e.revision.lower(), tuple(e.sheets), " ".join(tokens(e.text, ocr=True)))

    seen = {key(e) for e in old}
    fresh = [e for e in new if key(e) not in seen]
    if old:
        return fresh, bool(fresh)
    majors = [m for e in new if (m := _major(e.revision)) is not None]
    if not majors:
        return new, True
    top = max(majors)
    return [e for e in new if _major(e.revision) in (top, None)], True


def check_register(entries: list[RegisterEntry], sheets: list[SheetDiff], *, pages: set[int] | None = None,
                   updated: bool = True) -> RegisterCheck:
    """Sheets named without a change found, and changed sheets the register does not name (the
    register's own pages — ``pages``, 1-based — change with every revision and are not counted)."""
    register_pages = set(pages or ()) | {e.page for e in entries}
    named: list[str] = []
    everything = False
    for e in entries:
        for s in e.sheets:
            if s == "все":
                everything = True
            elif s not in named:
                named.append(s)
    by_number: dict[str, list[SheetDiff]] = {}
    for d in sheets:
        if d.sheet:
            by_number.setdefault(sheet_number_key(d.sheet), []).append(d)
    named_unchanged = [s for s in named if s in by_number and all(d.status == "same" for d in by_number[s])]
    named_missing = [s for s in named if s not in by_number]
    changed_unnamed: list[str] = []
    if not everything:
        for d in sheets:
            if d.status == "same" or d.new_page in register_pages:
                continue
            if d.sheet and sheet_number_key(d.sheet) in named:
                continue
            if d.label not in changed_unnamed:
                changed_unnamed.append(d.label)
    return RegisterCheck(entries, named_unchanged, changed_unnamed, named_missing, updated=updated,
                         pages=sorted(register_pages))


__all__ = ["check_register", "current_entries", "entries_from_rows", "parse_sheets", "read_register"]
