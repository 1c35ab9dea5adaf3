"""Hits in tables become hits on their row: one id, one text, one box for the whole row.

A search hit in a table cell (a PDF cell block, a line of a stacked column, or a whole table block
of an OCR bundle) is replaced by its row, found on the page's ruling lines
(:mod:`aizoomdoc.zoom.table`) around the cell that matched — for a bundle table or a stacked block,
the word of the block that holds a code of the question. The row keeps

- one **id**, the same whatever cell matched: the reader's row id (``p3-r2``) when the reader
  made rows; else the block's id when the block is the row; else ``{block}-r{n}`` (the n-th ruled
  row of a block that spans several);
- the row's **text**, its cells joined by " | ", read from the text layer;
- the row's **box** (from the table's left border to its right one), and in ``extra``: the
  matched cell (``cell``, outlined), the table's header row (``header``), the column borders
  (``columns``) and the block it came from (``row_of``). All boxes are page coords_norm. The title block (штамп) is not made rows of.

Pure: a PyMuPDF page and blocks in, blocks out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pymupdf

from aizoomdoc.documents.model import Block
from aizoomdoc.documents.pdf import MM, STAMP_HEIGHT_MM, STAMP_WIDTH_MM
from aizoomdoc.zoom.table import Rule, TableRow, find_row, locate

Box = tuple[float, float, float, float]
Rules = tuple[list[Rule], list[Rule]]


def _to_points(box: Sequence[float], page: pymupdf.Page) -> Box:
    r = page.rect
    return (r.x0 + box[0] * r.width, r.y0 + box[1] * r.height, r.x0 + box[2] * r.width, r.y0 + box[3] * r.height)


def _to_norm(box: Sequence[float], page: pymupdf.Page) -> Box:
    r = page.rect
    return (round((box[0] - r.x0) / r.width, 6), round((box[1] - r.y0) / r.height, 6),
            round((box[2] - r.x0) / r.width, 6), round((box[3] - r.y0) / r.height, 6))


def row_text(page: pymupdf.Page, row: TableRow) -> str:
    """The cells of a ruled row, read from the text layer, joined by " | "."""
    y0, y1 = row.row[1], row.row[3]
    cells = []
    for x0, x1 in row.cells() or [(row.row[0], row.row[2])]:
        clip = pymupdf.Rect(x0, y0, x1, y1) * page.derotation_matrix
        text = " ".join(page.get_text("text", clip=clip).split())
        if text:
            cells.append(text)
    return " | ".join(cells)


def _focus(block: Block, page: pymupdf.Page, codes: Sequence[str]) -> Box | None:
    """Where in the block the question's code is: the block itself when it is one line; None
    when a block of several lines does not hold it."""
    box = _to_points(block.coords_norm, page)
    if block.text.count("\n") == 0 and "|" not in block.text:
        return box
    return locate(page, box, codes)


def _ordinal(block_box: Box, row: TableRow, hrules: Sequence[Rule]) -> int:
    """1 + the number of row borders between the block's top and the row's top."""
    cx = (row.row[0] + row.row[2]) / 2
    return 1 + sum(1 for r in hrules if r.covers(cx) and block_box[1] + 1 < r.pos < row.row[1] - 1)


def _in_title_block(row: TableRow, page: pymupdf.Page) -> bool:
    """A row of the title block (штамп) in the bottom-right corner: its "rows" mix the sheet's
    own fields (Лист 4) with the set's, and the block's text already says it all."""
    r = page.rect
    return row.row[0] >= r.x1 - STAMP_WIDTH_MM * MM and row.row[1] >= r.y1 - STAMP_HEIGHT_MM * MM


def table_row_hit(block: Block, page: pymupdf.Page, rules: Rules, codes: Sequence[str]) -> Block | None:
    """The row ``block`` (a hit) sits in, as a block of its own; None when it is not in a ruled
    table row. ``codes`` are the question's code tokens: they find the matched line inside a block
    of several lines."""
    if not block.has_coords:
        return None
    focus = _focus(block, page, codes)
    if focus is None:
        return None
    row = find_row(rules[0], rules[1], focus)
    if row is None or _in_title_block(row, page):
        return None
    block_box = _to_points(block.coords_norm, page)
    reader_row = str(block.extra.get("row_id") or "") if block.extra else ""
    inside = block_box[1] >= row.row[1] - 2 and block_box[3] <= row.row[3] + 2
    if reader_row:
        row_id = reader_row
    elif inside:
        row_id = block.id
    else:
        row_id = f"{block.id}-r{_ordinal(block_box, row, rules[0])}"
    text = row_text(page, row) or str(block.extra.get("row_text") or block.text)
    extra = {
        "row_of": block.id, "cell": _to_norm(focus, page),
        "header": _to_norm(row.header, page) if row.header else None,
        "columns": [round((x - page.rect.x0) / page.rect.width, 6) for x in row.columns],
    }
    return replace(block, id=row_id, block_type="table", text=text, coords_norm=_to_norm(row.row, page),
                   coords_px=None, extra=extra)
