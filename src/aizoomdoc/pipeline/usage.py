"""Recording usage: one row per question and one per ingested document (``store/usage.py``).

Called from the ask pipeline and the ingest service with what they already know; recording never
fails or slows the work it describes beyond one insert (a failure is logged and forgotten:
analytics are not user data). Nothing is recorded with ``ANALYTICS_ENABLED=false``; the question
text only with ``ANALYTICS_STORE_QUESTIONS=true``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aizoomdoc.config import Settings
from aizoomdoc.documents.model import Document
from aizoomdoc.pipeline.render_cache import RenderCounters
from aizoomdoc.store.database import Database
from aizoomdoc.store.usage import UsageStore

log = logging.getLogger(__name__)

#: Formats whose text comes from OCR as a whole (the OCR bundles of FORMATS.md).
OCR_FORMATS = frozenset({"result_json", "annotation_json", "ocr_html", "markdown"})


def ocr_pages(doc: Document) -> int:
    """Pages whose text came from OCR: every page of an OCR bundle; in other documents the pages
    with a block marked ``extra["source"] == "ocr"`` (what the reader's OCR fallback writes)."""
    if doc.source_format in OCR_FORMATS:
        return len(doc.pages)
    return sum(1 for p in doc.pages if any((b.extra or {}).get("source") == "ocr" for b in p.blocks))


class UsageRecorder:
    """Writes usage rows for one settings object; ``db=None`` (or analytics off) records nothing."""

    def __init__(self, settings: Settings, db: Database | None) -> None:
        self.settings = settings
        self.store = UsageStore(db) if db is not None and settings.analytics_enabled else None

    async def question(self, *, user_id: str, chat_id: str | None, message_id: str | None,
                       document_ids: Sequence[str], model: str | None, direct: bool, llm_calls: int,
                       usage: dict[str, Any] | None, images: int, renders: RenderCounters | None,
                       seconds: float, error_kind: str | None, question: str) -> None:
        """One ``usage_questions`` row; ``direct``: answered without a language model (stored in the
        ``offline`` column, whose name is kept)."""
        if self.store is None:
            return
        usage = usage or {}
        row = {
            "user_id": user_id, "chat_id": chat_id or None, "message_id": message_id or None,
            "document_ids": list(document_ids), "model": model, "offline": direct, "llm_calls": int(llm_calls),
            "tokens_in": int(usage.get("prompt_tokens") or 0), "tokens_out": int(usage.get("completion_tokens") or 0),
            "images": int(images), "renders": renders.rendered if renders else 0,
            "render_cache_hits": renders.cached if renders else 0, "answer_seconds": round(float(seconds), 4),
            "error_kind": error_kind, "question": question if self.settings.analytics_store_questions else None,
        }
        await self._write(self.store.add_question, row)

    async def document(self, *, user_id: str, doc: Document, file_size: int | None, seconds: float) -> None:
        if self.store is None:
            return
        row = {"user_id": user_id, "document_id": doc.id, "source_format": doc.source_format,
               "pages": len(doc.pages), "ocr_pages": ocr_pages(doc), "file_size": file_size,
               "ingest_seconds": round(float(seconds), 4)}
        await self._write(self.store.add_document, row)

    @staticmethod
    async def _write(fn: Any, row: dict[str, Any]) -> None:
        try:
            await fn(row)
        except Exception as exc:  # noqa: BLE001 - analytics never break the work they describe
            log.warning("could not record usage (%s)", getattr(exc, "key", type(exc).__name__))


__all__ = ["OCR_FORMATS", "UsageRecorder", "ocr_pages"]
