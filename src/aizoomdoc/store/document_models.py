"""Tables of ingested documents: ``documents`` and ``document_blocks`` (what search reads).

A document belongs to one user (``user_id``; RLS on PostgreSQL) and is identified by its content:
``unique(user_id, sha256)``, and the id itself is derived from (user, sha256) by the pipeline, so
ingesting the same file again is a no-op. Blocks are owned through their document (RLS via the
parent row) and deleted with it. Layout of the JSON fields:

- ``documents.pages``: ``[{page_index, width, height, unit, is_scanned, sheet}]``
- ``documents.sheet`` / ``document_blocks.sheet``: title-block fields (шифр, stage, sheet name…)
- ``document_blocks.coords_norm`` / ``coords_px``: ``[x1, y1, x2, y2]``

Processing (migration 005): ``status`` is ``queued`` (uploaded, waiting for a worker), ``processing``,
``ready`` or ``error`` (``status_error`` says why, in Russian); ``pages_done``/``pages_total`` count
the pages of the current stage (OCR). Blocks appear only with ``ready``, all in one transaction.
``ocr_pages`` caches the OCR of a page by the file's sha256 (shared by every user who has the same
bytes; RLS on, no policy: only the workers' own role reads it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from aizoomdoc.store.models import GUID, NOW, Base, JSONType


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(GUID, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(Text, nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    filename: Mapped[str] = mapped_column(Text, nullable=False)
    source_path: Mapped[str | None] = mapped_column(Text)
    source_format: Mapped[str] = mapped_column(Text, nullable=False)
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    #: Key of the source file in file storage.
    storage_key: Mapped[str | None] = mapped_column(Text)
    #: Key of the file that supplies pixels (the PDF or image; a bundle's companion PDF); None when
    #: the document cannot be rendered.
    render_key: Mapped[str | None] = mapped_column(Text)
    page_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    block_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    pages: Mapped[Any] = mapped_column(JSONType, nullable=True)
    sheet: Mapped[Any] = mapped_column(JSONType, nullable=True)
    meta: Mapped[Any] = mapped_column("metadata", JSONType, nullable=True)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="ready")
    status_error: Mapped[str | None] = mapped_column(Text)
    pages_done: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    pages_total: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=NOW)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=NOW)

    __table_args__ = (
        UniqueConstraint("user_id", "sha256"),
        Index(None, "user_id", "updated_at"),
    )


class DocumentBlockRow(Base):
    __tablename__ = "document_blocks"

    id: Mapped[str] = mapped_column(GUID, primary_key=True)
    document_id: Mapped[str] = mapped_column(
        GUID, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False
    )
    block_id: Mapped[str] = mapped_column(Text, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    page_index: Mapped[int] = mapped_column(Integer, nullable=False)
    page_number: Mapped[int] = mapped_column(Integer, nullable=False)
    block_type: Mapped[str] = mapped_column(Text, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    coords_norm: Mapped[Any] = mapped_column(JSONType, nullable=True)
    coords_px: Mapped[Any] = mapped_column(JSONType, nullable=True)
    has_coords: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    links: Mapped[Any] = mapped_column(JSONType, nullable=True)
    crop_ref: Mapped[str | None] = mapped_column(Text)
    sheet: Mapped[Any] = mapped_column(JSONType, nullable=True)
    extra: Mapped[Any] = mapped_column(JSONType, nullable=True)

    __table_args__ = (
        # Leading column document_id: also the index on the foreign key.
        UniqueConstraint("document_id", "block_id"),
        Index(None, "document_id", "page_index"),
    )


class OcrPageRow(Base):
    """The OCR of one page of a file (by content), for one set of OCR options."""

    __tablename__ = "ocr_pages"

    sha256: Mapped[str] = mapped_column(Text, primary_key=True)
    page_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    options: Mapped[str] = mapped_column(Text, primary_key=True)
    result: Mapped[Any] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=NOW)


#: Tables users own (RLS on PostgreSQL): documents by user_id, blocks through their document.
DOCUMENT_TABLES: tuple[str, ...] = ("documents", "document_blocks")
