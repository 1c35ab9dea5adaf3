"""Step 7½ of a question: hits in table cells become their rows; the text size of each hit.

The PDF work (ruling lines, text layer) reads untrusted uploads, so it runs in the worker
processes of :mod:`aizoomdoc.isolation`, bounded in time and memory like every render: the
``*_job`` functions below run there, one call per document, and keep their pages' ruling lines
between calls. A row replaces the cell hit with one id, the row's text and box
(:mod:`aizoomdoc.zoom.rows`); two cells of one row become one hit. Anything that goes wrong
(a limit, a broken page) leaves the hits as they were: a row is an improvement, never a reason
for a question to fail.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence

import pymupdf

from aizoomdoc.documents.model import Block, Box
from aizoomdoc.pipeline.sources import FoundBlock
from aizoomdoc.search import analyze_query
from aizoomdoc.zoom.isolated import IsolatedRenderer, open_renderer
from aizoomdoc.zoom.render import RenderOptions, norm_to_rect, text_size_in
from aizoomdoc.zoom.rows import Rules, table_row_hit
from aizoomdoc.zoom.table import page_rules

log = logging.getLogger(__name__)


# --- inside a worker process ------------------------------------------------------------------

class RulesCache:
    """Ruling lines of recently used pages (a page's drawing is read once per worker)."""

    def __init__(self, slots: int = 32) -> None:
        self.slots = slots
        self._data: OrderedDict[tuple[str, int], Rules] = OrderedDict()

    def get(self, path: str, page_index: int, page: pymupdf.Page) -> Rules:
        key = (path, page_index)
        rules = self._data.get(key)
        if rules is None:
            rules = self._data[key] = page_rules(page)
            while len(self._data) > self.slots:
                self._data.popitem(last=False)
        else:
            self._data.move_to_end(key)
        return rules


_rules = RulesCache()


def rows_job(path: str, opts: RenderOptions, items: list[tuple[Block, tuple[str, ...]]]) -> list[Block | None]:
    """For each (block, codes): the table row the block lies in (with its text size), or None."""
    renderer = open_renderer(path, opts)
    out: list[Block | None] = []
    for block, codes in items:
        row = None
        try:
            page = renderer.pdf_page(block.page_index)
            if page is not None:
                renderer.check_complexity(page)
                row = table_row_hit(block, page, _rules.get(path, block.page_index, page), codes)
                if row is not None:
                    row.extra["text_pt"] = text_size_in(page, norm_to_rect(page, row.coords_norm), 0.0)
        except Exception:  # noqa: BLE001 - PyMuPDF on an untrusted page raises many kinds; the hit stays (module doc)
            log.warning("table row of %s not found", block.id, exc_info=True)
            row = None
        out.append(row)
    return out


def text_sizes_job(path: str, opts: RenderOptions, boxes: list[tuple[int, Box]]) -> list[float | None]:
    """The smallest text size (points) inside each (page, box), from the text layer."""
    renderer = open_renderer(path, opts)
    out: list[float | None] = []
    for page_index, box in boxes:
        size = None
        try:
            page = renderer.pdf_page(page_index)
            if page is not None:
                renderer.check_complexity(page)
                size = text_size_in(page, norm_to_rect(page, box), 0.0)
        except Exception:  # noqa: BLE001 - PyMuPDF on an untrusted page raises many kinds; the layout assumes a usual size
            log.warning("text size on page %d not read", page_index + 1, exc_info=True)
        out.append(size)
    return out


# --- in the server ----------------------------------------------------------------------------

def _by_document(found: Sequence[FoundBlock]) -> dict[str, list[int]]:
    """Indexes of the renderable hits with coordinates, per render path."""
    groups: dict[str, list[int]] = {}
    for i, f in enumerate(found):
        if f.document.can_render and f.block.has_coords:
            groups.setdefault(str(f.document.render_path), []).append(i)
    return groups


async def rows_for_hits(found: Sequence[FoundBlock], question: str, renderer: IsolatedRenderer,
                        opts: RenderOptions, list_mode: bool = False) -> list[FoundBlock]:
    """``found`` with table cells replaced by their rows (best score first, one hit per row).

    A block of several lines (a whole table of an OCR bundle, a stacked column) becomes the row of
    the question's code inside it — not for list questions, which want all of its matching rows."""
    q = analyze_query(question, expand=False)
    codes: tuple[str, ...] = () if list_mode else tuple(q.codes)
    rows: dict[int, Block] = {}
    for path, idx in _by_document(found).items():
        try:
            result = await renderer.analyze(rows_job, path, opts, [(found[i].block, codes) for i in idx])
        except Exception:  # noqa: BLE001 - the worker re-raises whatever the page raised; the hits stay (module doc)
            log.warning("table rows of %s not read", path, exc_info=True)
            continue
        rows.update({i: row for i, row in zip(idx, result, strict=True) if row is not None})
    out: list[FoundBlock] = []
    seen: set[tuple[str, str]] = set()
    for i, f in enumerate(found):
        item = FoundBlock(f.document, rows[i], f.score) if i in rows else f
        key = (item.document.id, item.block.id)
        if key in seen:
            continue
        seen.add(key)
        out.append(item)
    return out


async def hit_text_sizes(found: Sequence[FoundBlock], renderer: IsolatedRenderer,
                         opts: RenderOptions) -> dict[tuple[str, str], float | None]:
    """The smallest text size (points) inside each hit's box, from the text layer (None for
    scans and raster sheets: the layout then assumes a usual drawing text size)."""
    sizes: dict[tuple[str, str], float | None] = {}
    todo: list[FoundBlock] = []
    for f in found:
        key = (f.document.id, f.block.id)
        if "text_pt" in (f.block.extra or {}):
            sizes[key] = f.block.extra["text_pt"]
        else:
            sizes[key] = None
            todo.append(f)
    for path, idx in _by_document(todo).items():
        boxes = [(todo[i].block.page_index, tuple(todo[i].block.coords_norm)) for i in idx]
        try:
            result = await renderer.analyze(text_sizes_job, path, opts, boxes)
        except Exception:  # noqa: BLE001 - the worker re-raises whatever the page raised; a usual size is assumed
            log.warning("text sizes of %s not read", path, exc_info=True)
            continue
        for i, size in zip(idx, result, strict=True):
            sizes[(todo[i].document.id, todo[i].block.id)] = size
    return sizes
