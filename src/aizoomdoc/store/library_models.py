"""Tables of the document library: ``folders``, ``storage_files``, ``folder_items``,
``message_attachments`` (the original integration's names and columns, plus what we need).

- ``folders``: a user's folders, nested through ``parent_id`` (project → section …); a folder's
  subfolders are deleted with it (cascade).
- ``storage_files``: every file once — an uploaded document or other file (``user_upload``), a
  render made for an answer (``llm_generated``) or a link (``external_link``). ``unique(user_id,
  sha256)`` and ``unique(user_id, storage_path)``: the same content or the same stored object is
  registered once. ``document_id``: the ingested document this file is (deleted with it);
  ``chat_id``: the chat whose folder of the storage (``chats/{id}/…``) holds the object (deleted
  with the chat, like the object itself).
- ``folder_items``: a file placed in a folder (a file may be in several folders).
- ``message_attachments``: a file attached to a message; ``chat_id`` is the message's chat (RLS
  reaches the owner through it; deleted with the chat or the message).

PostgreSQL: RLS on all four (migration 007): folders and files by ``user_id``, items through their
folder, attachments through their chat; every reference must point at the same user's rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aizoomdoc.store.models import GUID, NOW, Base, JSONType

#: ``storage_files.source_type`` values (the original's).
SOURCE_TYPES: tuple[str, ...] = ("user_upload", "llm_generated", "external_link")


class FolderRow(Base):
    __tablename__ = "folders"

    id: Mapped[str] = mapped_column(GUID, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text, nullable=False)
    parent_id: Mapped[str | None] = mapped_column(GUID, ForeignKey("folders.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text, nullable=False)
    slug: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=NOW)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=NOW)

    __table_args__ = (
        Index(None, "user_id", "parent_id"),
        # The foreign-key index (subfolders of a folder; the cascade).
        Index(None, "parent_id"),
    )


class StorageFileRow(Base):
    __tablename__ = "storage_files"

    id: Mapped[str] = mapped_column(GUID, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text, nullable=False)
    source_type: Mapped[str] = mapped_column(Text, nullable=False)
    filename: Mapped[str] = mapped_column(Text, nullable=False)
    storage_path: Mapped[str | None] = mapped_column(Text)
    external_url: Mapped[str | None] = mapped_column(Text)
    mime_type: Mapped[str | None] = mapped_column(Text)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[str | None] = mapped_column(GUID, ForeignKey("documents.id", ondelete="CASCADE"))
    chat_id: Mapped[str | None] = mapped_column(GUID, ForeignKey("chats.id", ondelete="CASCADE"))
    meta: Mapped[Any] = mapped_column("metadata", JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=NOW)

    __table_args__ = (
        UniqueConstraint("user_id", "sha256"),
        UniqueConstraint("user_id", "storage_path"),
        Index(None, "document_id"),
        Index(None, "chat_id"),
        CheckConstraint("source_type IN ('user_upload', 'llm_generated', 'external_link')", name="source_type"),
        CheckConstraint("(storage_path IS NOT NULL) OR (external_url IS NOT NULL)", name="location"),
    )


class FolderItemRow(Base):
    __tablename__ = "folder_items"

    id: Mapped[str] = mapped_column(GUID, primary_key=True)
    folder_id: Mapped[str] = mapped_column(GUID, ForeignKey("folders.id", ondelete="CASCADE"), nullable=False)
    file_id: Mapped[str] = mapped_column(GUID, ForeignKey("storage_files.id", ondelete="CASCADE"), nullable=False)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=NOW)

    __table_args__ = (
        # Leading column folder_id: also the index on that foreign key.
        UniqueConstraint("folder_id", "file_id"),
        Index(None, "file_id"),
    )


class MessageAttachmentRow(Base):
    __tablename__ = "message_attachments"

    id: Mapped[str] = mapped_column(GUID, primary_key=True)
    chat_id: Mapped[str] = mapped_column(GUID, ForeignKey("chats.id", ondelete="CASCADE"), nullable=False)
    message_id: Mapped[str] = mapped_column(
        GUID, ForeignKey("chat_messages.id", ondelete="CASCADE"), nullable=False)
    file_id: Mapped[str] = mapped_column(GUID, ForeignKey("storage_files.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=NOW)

    __table_args__ = (
        # Leading column message_id: also the index on that foreign key.
        UniqueConstraint("message_id", "file_id"),
        Index(None, "chat_id"),
        Index(None, "file_id"),
    )


#: Tables users own (RLS on PostgreSQL).
LIBRARY_TABLES: tuple[str, ...] = ("folders", "storage_files", "folder_items", "message_attachments")
