"""Step 7½ of a question: hits in table cells become their rows; the text size of each hit.

Runs in a worker thread (PyMuPDF work on the documents' PDFs, under each renderer's lock). A row
replaces the cell hit with one id, the row's text and box (:mod:`aizoomdoc.zoom.rows`); two cells
of one row become one hit. Anything that goes wrong on a page leaves its hits as they were: a row
is an improvement, never a reason for a question to fail.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence

import pymupdf

from aizoomdoc.documents.model import Document
from aizoomdoc.pipeline.sources import FoundBlock
from aizoomdoc.search import analyze_query
from aizoomdoc.zoom import SheetRenderer
from aizoomdoc.zoom.render import norm_to_rect, text_size_in
from aizoomdoc.zoom.rows import Rules, table_row_hit
from aizoomdoc.zoom.table import page_rules

log = logging.getLogger(__name__)

RendererFor = Callable[[Document], SheetRenderer]


class RulesCache:
    """Ruling lines of recently used pages (a page's drawing is read once per process)."""

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


def rows_for_hits(found: Sequence[FoundBlock], question: str, renderer_for: RendererFor,
                  cache: RulesCache, list_mode: bool = False) -> list[FoundBlock]:
    """``found`` with table cells replaced by their rows (best score first, one hit per row).

    A block of several lines (a whole table of an OCR bundle, a stacked column) becomes the row of
    the question's code inside it — not for list questions, which want all of its matching rows."""
    q = analyze_query(question, expand=False)
    codes = () if list_mode else q.codes
    out: list[FoundBlock] = []
    seen: set[tuple[str, str]] = set()
    for f in found:
        item = f
        doc, block = f.document, f.block
        if doc.can_render and block.has_coords:
            try:
                renderer = renderer_for(doc)
                with renderer.lock:
                    page = renderer.pdf_page(block.page_index)
                    if page is not None:
                        rules = cache.get(str(doc.render_path), block.page_index, page)
                        row = table_row_hit(block, page, rules, codes)
                        if row is not None:
                            clip = norm_to_rect(page, row.coords_norm)
                            row.extra["text_pt"] = text_size_in(page, clip, 0.0)
                            item = FoundBlock(doc, row, f.score)
            except Exception:  # noqa: BLE001 - see the module doc
                log.warning("table row of %s in %s not found", block.id, doc.id, exc_info=True)
        key = (item.document.id, item.block.id)
        if key in seen:
            continue
        seen.add(key)
        out.append(item)
    return out


def hit_text_sizes(found: Sequence[FoundBlock], renderer_for: RendererFor) -> dict[tuple[str, str], float | None]:
    """The smallest text size (points) inside each hit's box, from the text layer (None for
    scans and raster sheets: the layout then assumes a usual drawing text size)."""
    sizes: dict[tuple[str, str], float | None] = {}
    for f in found:
        doc, block = f.document, f.block
        key = (doc.id, block.id)
        if "text_pt" in (block.extra or {}):
            sizes[key] = block.extra["text_pt"]
            continue
        sizes[key] = None
        if not (doc.can_render and block.has_coords):
            continue
        try:
            renderer = renderer_for(doc)
            with renderer.lock:
                page = renderer.pdf_page(block.page_index)
                if page is not None:
                    sizes[key] = text_size_in(page, norm_to_rect(page, block.coords_norm), 0.0)
        except Exception:  # noqa: BLE001 - the layout assumes a usual size
            log.warning("text size of %s in %s not read", block.id, doc.id, exc_info=True)
    return sizes
