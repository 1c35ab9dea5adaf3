"""Tables of the usage analytics: ``usage_questions`` and ``usage_documents``.

One row per question answered (or failed after it was stored) and one per document ingested. They
carry numbers, ids and kinds only: no question text unless ``ANALYTICS_STORE_QUESTIONS=true``
(column ``question``). Rows are not tied to their chat or document by a foreign key: the figures of
last month stay true after a chat is deleted. PostgreSQL: RLS by ``user_id`` (migration 006).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Index, Integer, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from aizoomdoc.store.models import GUID, NOW, Base, JSONType


class UsageQuestionRow(Base):
    __tablename__ = "usage_questions"

    id: Mapped[str] = mapped_column(GUID, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text, nullable=False)
    chat_id: Mapped[str | None] = mapped_column(GUID)
    message_id: Mapped[str | None] = mapped_column(GUID)
    document_ids: Mapped[Any] = mapped_column(JSONType, nullable=True)
    model: Mapped[str | None] = mapped_column(Text)
    offline: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    llm_calls: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    tokens_in: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    tokens_out: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    #: Images made for the question (viewports and the model's zooms).
    images: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    #: Of those, rendered here / taken from the render cache.
    renders: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    render_cache_hits: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    answer_seconds: Mapped[float | None] = mapped_column(Float)
    #: The error's text key (``llm.error.timeout`` …); NULL for an answer.
    error_kind: Mapped[str | None] = mapped_column(Text)
    question: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=NOW)

    __table_args__ = (Index(None, "user_id", "created_at"), Index(None, "created_at"))


class UsageDocumentRow(Base):
    __tablename__ = "usage_documents"

    id: Mapped[str] = mapped_column(GUID, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text, nullable=False)
    document_id: Mapped[str | None] = mapped_column(GUID)
    source_format: Mapped[str | None] = mapped_column(Text)
    pages: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    ocr_pages: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    ingest_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=NOW)

    __table_args__ = (Index(None, "user_id", "created_at"), Index(None, "created_at"))


#: Tables users own (RLS by user_id on PostgreSQL).
USAGE_TABLES: tuple[str, ...] = ("usage_questions", "usage_documents")
