"""How a found block is shown: to the user (the ``hits`` event), to the model (a hit context),
in the store (a search-result row) and in a citation. One place, so the four agree on the text
(a table cell shows its whole row) and on the coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aizoomdoc.documents.model import Block, Document
from aizoomdoc.llm.context import HitContext, clean_text, shorten
from aizoomdoc.pipeline.ask.turn import Turn
from aizoomdoc.pipeline.sources import FoundBlock

#: Characters of a block's text stored with a search result.
RESULT_TEXT_CHARS = 4000


def coords(box: Any) -> list[float] | None:
    """A box as stored: rounded floats, or None."""
    if box is None:
        return None
    return [round(float(v), 6) for v in box]


def display_text(block: Block) -> str:
    """What a hit shows: the whole table row for a cell of one (PDF tables), else the block."""
    return str(block.extra.get("row_text") or block.text) if block.extra else block.text


def block_sheet_name(doc: Document, block: Block) -> str | None:
    """The name of the sheet a block is on (its own, else its page's)."""
    if block.sheet is not None and block.sheet.sheet_name:
        return block.sheet.sheet_name
    page = doc.page(block.page_index)
    if page is not None and page.sheet is not None and page.sheet.sheet_name:
        return page.sheet.sheet_name
    return None


def hit_dict(f: FoundBlock) -> dict[str, Any]:
    """A hit as the ``hits`` event carries it."""
    return {"document_id": f.document.id, "block_id": f.block.id, "page_number": f.block.page_number,
            "coords_norm": coords(f.block.coords_norm) if f.block.has_coords else None,
            "score": round(float(f.score), 4), "text": shorten(clean_text(display_text(f.block)), 300)}


def hit_context(f: FoundBlock, label: str | None) -> HitContext:
    """A hit as the provider sees it; ``label`` is the viewport that shows it, if any."""
    return HitContext(
        document_id=f.document.id, block_id=f.block.id, page_number=f.block.page_number,
        text=display_text(f.block), block_type=f.block.block_type, score=f.score,
        document_title=f.document.title, sheet_name=block_sheet_name(f.document, f.block),
        coords_norm=f.block.coords_norm, image_label=label,
    )


def search_result_rows(turn: Turn, found: Sequence[FoundBlock]) -> list[dict[str, Any]]:
    """The search-result records of ``found``, on the user message of ``turn``."""
    return [{
        "chat_id": turn.chat_id, "message_id": turn.user_message_id,
        "document_id": f.document.id, "block_id": f.block.id, "page_number": f.block.page_number,
        "block_text": display_text(f.block)[:RESULT_TEXT_CHARS],
        "coords_norm": coords(f.block.coords_norm) if f.block.has_coords else None,
        "coords_px": coords(f.block.coords_px) if f.block.coords_px and f.block.has_coords else None,
        "score": float(f.score),
    } for f in found]
