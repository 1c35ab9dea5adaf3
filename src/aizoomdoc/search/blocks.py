"""What the search index keeps of a block (:class:`IndexedBlock`) and what a search returns (:class:`Hit`).

An indexed block carries enough to show and locate a hit and to weigh it: its table row, the
caption or heading naming it and the name of its sheet (:mod:`aizoomdoc.search.fields`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aizoomdoc.documents.model import Block, SheetInfo
from aizoomdoc.search.fields import block_flags, block_title, sheet_title


@dataclass(frozen=True)
class IndexedBlock:
    """What the index keeps of a block (enough to show and locate a hit, and to weigh it)."""

    document_id: str
    block_id: str
    page_index: int
    block_type: str
    text: str
    coords_norm: tuple[float, float, float, float]
    has_coords: bool = True
    #: The table row the block is a cell of ("" when none; unique within its document) and the
    #: row's text ("В2 | Вентилятор вытяжной канальный L=2000 м³/ч | ВКРМ-4 | 1").
    row: str = ""
    context: str = ""
    #: The caption or heading naming the block, the name of its sheet, and INDEX_LIKE/STAMP bits
    #: (see :mod:`aizoomdoc.search.fields`).
    title: str = ""
    sheet: str = ""
    flags: int = 0

    @classmethod
    def from_block(cls, document_id: str, block: Block, sheet: SheetInfo | dict[str, Any] | None = None) -> IndexedBlock:
        return indexed_block(document_id, block.id, block.page_index, block.block_type, block.text,
                             tuple(block.coords_norm), block.has_coords, block.extra, sheet)  # type: ignore[arg-type]


def indexed_block(document_id: str, block_id: str, page_index: int, block_type: str, text: str,
                  coords_norm: tuple[float, float, float, float], has_coords: bool,
                  extra: dict[str, Any] | None, sheet: SheetInfo | dict[str, Any] | None) -> IndexedBlock:
    """An :class:`IndexedBlock` with its row, title, sheet name and flags worked out."""
    row, context = row_of(extra)
    title = block_title(text, block_type, extra)
    return IndexedBlock(document_id, block_id, page_index, block_type, text, coords_norm, has_coords, row, context,
                        title, sheet_title(sheet), block_flags(text, title, extra))


def row_of(extra: dict[str, Any] | None) -> tuple[str, str]:
    """(row id, row text) of a block's ``extra`` (readers set ``row_id`` and ``row_text``)."""
    if not extra:
        return "", ""
    row, text = extra.get("row_id"), extra.get("row_text")
    if not row or not text:
        return "", ""
    return str(row), str(text)


@dataclass
class Hit:
    document_id: str
    block_id: str
    page_index: int
    block_type: str
    text: str
    score: float
    coords_norm: tuple[float, float, float, float]
    #: How many distinct codes of the query the block contains (the first ranking key).
    code_matches: int = 0
    has_coords: bool = True
    #: The whole table row when the block is a cell of one ("" otherwise).
    context: str = ""

    @property
    def page_number(self) -> int:
        return self.page_index + 1

    @property
    def display_text(self) -> str:
        """What to show for the hit: the whole row for a table cell, else the block's text."""
        return self.context or self.text

    def to_dict(self) -> dict[str, Any]:
        extra = {"row_text": self.context} if self.context else {}
        return {
            "document_id": self.document_id,
            "block_id": self.block_id,
            "page_number": self.page_number,
            "page_index": self.page_index,
            "block_type": self.block_type,
            "text": self.text,
            "score": round(float(self.score), 4),
            "coords_norm": [round(float(c), 6) for c in self.coords_norm],
            **extra,
        }
