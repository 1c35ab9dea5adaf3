"""Building an index's corpus: blocks from documents, their tokens per field, sheet groups, main blocks.

Each block is indexed in three fields — its body, its title and the name of its sheet (one row
per sheet, shared by the blocks on it: ``groups`` maps a block to its sheet's row) — and the
blocks standing for their sheet are marked ``MAIN`` (:func:`mark_main_blocks`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from aizoomdoc.documents.model import Document
from aizoomdoc.search.analyzer import analyze
from aizoomdoc.search.blocks import IndexedBlock
from aizoomdoc.search.fields import DRAWING, INDEX_LIKE, MAIN, STAMP
from aizoomdoc.search.postings import Postings


def collect_blocks(items: Iterable[Document | IndexedBlock]) -> list[IndexedBlock]:
    """The indexed blocks of documents (all their blocks) and single blocks, in order."""
    blocks: list[IndexedBlock] = []
    for item in items:
        if isinstance(item, Document):
            sheets = {p.page_index: p.sheet for p in item.pages}
            blocks.extend(IndexedBlock.from_block(item.id, b, sheets.get(b.page_index)) for b in item.blocks)
        else:
            blocks.append(item)
    return blocks


def build_fields(blocks: list[IndexedBlock], tokens: Sequence[list[str]] | None = None,
                 ) -> tuple[list[IndexedBlock], dict[str, Postings], np.ndarray]:
    """(blocks with ``MAIN`` set, the body/title/sheet postings, each block's sheet row) of a
    non-empty list of blocks. ``tokens``: the analysed tokens of each block's body, when already
    known (same order)."""
    corpus = list(tokens) if tokens is not None else [analyze(b.text) for b in blocks]
    if len(corpus) != len(blocks):
        raise ValueError("tokens must have one list per block")
    titles = [analyze(b.title) if b.title else [] for b in blocks]
    blocks = mark_main_blocks(blocks, titles)
    keys: dict[tuple[str, str], int] = {}
    sheet_texts: list[str] = []
    for b in blocks:
        if b.sheet and (b.document_id, b.sheet) not in keys:
            keys[(b.document_id, b.sheet)] = len(sheet_texts)
            sheet_texts.append(b.sheet)
    sheet_field = Postings.build([analyze(t) for t in sheet_texts])
    none = sheet_field.n
    groups = np.fromiter((keys.get((b.document_id, b.sheet), none) if b.sheet else none for b in blocks),
                         dtype=np.int32, count=len(blocks))
    if sheet_field.retriever is None:
        groups[:] = 0
    fields = {"body": Postings.build(corpus), "title": Postings.build(titles), "sheet": sheet_field}
    return blocks, fields, groups


def mark_main_blocks(blocks: list[IndexedBlock], titles: Sequence[list[str]]) -> list[IndexedBlock]:
    """Set ``MAIN`` on the blocks standing for their sheet: its drawings; on a sheet without
    drawings, the block whose title shares two words or more with the sheet's name (the most),
    else its longest block."""
    pages: dict[tuple[str, int], list[int]] = {}
    for k, b in enumerate(blocks):
        if b.sheet:
            pages.setdefault((b.document_id, b.page_index), []).append(k)
    out = list(blocks)
    for members in pages.values():
        main = [k for k in members if blocks[k].flags & DRAWING]
        if not main:
            plain = [k for k in members if not blocks[k].flags & (INDEX_LIKE | STAMP)]
            if plain:
                sheet = set(analyze(blocks[plain[0]].sheet))
                shared = {k: len(sheet.intersection(titles[k])) for k in plain}
                best = max(plain, key=lambda k: (shared[k], len(blocks[k].text)))
                main = [best if shared[best] >= 2 else max(plain, key=lambda k: len(blocks[k].text))]
        for k in main:
            out[k] = replace(blocks[k], flags=blocks[k].flags | MAIN)
    return out
