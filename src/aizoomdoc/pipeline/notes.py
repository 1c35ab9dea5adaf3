"""What an answer says about documents it could not fully read: pages without text that OCR did
not read (and what to install), documents still being processed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aizoomdoc.texts import t


def unreadable_reason(meta: dict[str, Any]) -> str:
    """Why a document's flagged pages have no text, and what to do (install Tesseract …)."""
    missing = meta.get("ocr_missing")
    if missing:
        return t(f"ocr.missing.{missing}", lang=meta.get("ocr_lang") or "rus")
    return t("ocr.unreadable_failed", detail=meta.get("ocr_failure") or t("ocr.failed.error"))


def document_notes(documents: Iterable[Any]) -> list[str]:
    """Notes for the answer about these :class:`~aizoomdoc.documents.model.Document` objects."""
    notes = []
    for doc in documents:
        meta = doc.metadata or {}
        status = meta.get("status")
        if status in ("queued", "processing"):
            notes.append(t("ocr.processing_note", title=doc.title, status=t(f"jobs.status.{status}")))
        pages = meta.get("unreadable_pages") or []
        if pages:
            notes.append(t("ocr.unreadable_note", title=doc.title, pages=", ".join(map(str, pages)),
                           reason=unreadable_reason(meta)))
    return notes


__all__ = ["document_notes", "unreadable_reason"]
