"""What a turn writes to the chat store besides its answer — search results, zoom records, the
error message of a failed turn — and step 14: the turn read back.

Search results and viewports are written on the user message as they are made; zoom crops the
model asks for wait in ``turn.pending`` and are written right after the assistant message (see
the package docstring for why). The result a caller gets is what the store holds, not what the
pipeline meant to write.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aizoomdoc.pipeline.ask.hits import search_result_rows
from aizoomdoc.pipeline.ask.turn import Emit, Turn
from aizoomdoc.pipeline.events import AskResult, Citation, ErrorEvent, ImageInfo
from aizoomdoc.pipeline.sources import FoundBlock
from aizoomdoc.store.protocol import ChatStoreProtocol
from aizoomdoc.texts import t

log = logging.getLogger(__name__)


def image_row(turn: Turn, info: ImageInfo, message_id: str, size: int) -> dict[str, Any]:
    """The image record of ``info`` on ``message_id`` (``size``: bytes of the stored file)."""
    return {
        "id": info.id, "chat_id": turn.chat_id, "message_id": message_id,
        "image_name": info.s3_path.rsplit("/", 1)[-1], "s3_path": info.s3_path, "s3_url": info.s3_url,
        "image_type": info.image_type, "description": info.description, "width": info.width,
        "height": info.height, "file_size": size, "page_number": info.page_number,
        "coords_norm": info.coords_norm,
    }


class TurnRecords:
    """The records of a turn in one chat store."""

    def __init__(self, store: ChatStoreProtocol) -> None:
        self.store = store

    async def store_hits(self, turn: Turn, found: Sequence[FoundBlock]) -> None:
        """Step 8 (and the model's searches): the hits as search results on the user message."""
        rows = search_result_rows(turn, found)
        if rows:
            await self.store.add_search_results_bulk(rows)

    async def record_pending(self, turn: Turn) -> None:
        """The records of the zoom crops, on the assistant message (stored just before)."""
        if turn.pending:
            await self.store.add_images_bulk([p.row for p in turn.pending])
            turn.pending.clear()

    async def save_error(self, turn: Turn, message: str, key: str | None, emit: Emit, *,
                         model: str | None) -> AskResult:
        """The assistant message of a turn that failed after its user message was stored: a clear
        Russian text, the zooms made so far, read back and reported as an :class:`ErrorEvent`."""
        content = t("ask.error.failed", detail=message)
        turn.error_kind = key or "error.unexpected"
        await self.store.add_message(
            turn.chat_id, "assistant", content, "error", model=model,
            metadata={"error": {"key": key, "stage": turn.stage}, "citations": [],
                      "document_ids": [d.id for d in turn.documents],
                      "images": {i.label: i.id for i in turn.images if i.label}},
            id=turn.assistant_message_id,
        )
        try:
            await self.record_pending(turn)
        except Exception:  # noqa: BLE001 - the error message itself is what matters
            log.warning("could not record %d zoom images of a failed turn", len(turn.pending))
        result = await self.read_back(turn)
        result.error = message
        await emit(ErrorEvent(message=content, key=key, chat_id=turn.chat_id, message_id=result.message_id))
        return result

    async def read_back(self, turn: Turn) -> AskResult:
        """Step 14: the turn as the store has it."""
        hist = await self.store.get_chat_history(turn.chat_id, limit=2)
        by_id = {m["id"]: m for m in hist["messages"]}
        user = by_id.get(turn.user_message_id, {})
        asst = by_id.get(turn.assistant_message_id)
        if asst is None:  # the turn was interleaved with another writer: read the whole chat
            hist = await self.store.get_chat_history(turn.chat_id)
            by_id = {m["id"]: m for m in hist["messages"]}
            user = by_id.get(turn.user_message_id, {})
            asst = by_id[turn.assistant_message_id]
        labels = {i.id: i for i in turn.images}
        images = []
        for row in list(user.get("images") or []) + list(asst.get("images") or []):
            mem = labels.get(row["id"])
            images.append(ImageInfo(
                id=row["id"], image_type=row["image_type"], s3_path=row["s3_path"], s3_url=row.get("s3_url"),
                width=row.get("width"), height=row.get("height"), page_number=row.get("page_number"),
                message_id=row.get("message_id"), label=mem.label if mem else None,
                document_id=mem.document_id if mem else None, coords_norm=row.get("coords_norm"),
                description=row.get("description"), dpi=mem.dpi if mem else None,
            ))
        meta = asst.get("metadata") or {}
        return AskResult(
            chat_id=turn.chat_id, user_message_id=turn.user_message_id, message_id=asst["id"],
            answer=asst["content"], message_type=asst.get("message_type") or "text", model=asst.get("model"),
            citations=[Citation(**c) for c in meta.get("citations") or []],
            images=images, usage=meta.get("usage") or {},
        )
