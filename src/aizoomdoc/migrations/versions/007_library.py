"""Document library: folders, storage_files, folder_items, message_attachments (+ RLS).

Revision ID: 007_library
Revises: 003_chat_events
Create Date: 2026-01-07

The original integration's file library (its table and column names), with what a shared
database needs on top: ``storage_files`` registers a file once per user (``unique(user_id,
sha256)``, ``unique(user_id, storage_path)``) and may name the document it is (deleted with it)
and the chat whose storage folder holds it (deleted with it); ``message_attachments`` carries the
message's chat. PostgreSQL: RLS on all four tables — folders and files by ``user_id``, items
through their folder, attachments through their chat — and every reference (parent folder,
file, document, chat, message) must be the same user's.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from aizoomdoc.store import rls

revision: str = "007_library"
down_revision: str | None = "003_chat_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types (a migration must not change when the models do).
GUID = sa.Uuid(as_uuid=False).with_variant(sa.String(36), "sqlite")
JSONType = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TS = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")

TABLES = ("folders", "storage_files", "folder_items", "message_attachments")
OWNS_FOLDER = "aizoomdoc_owns_folder"


def _fk(table: str, column: str, ref: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{ref}.id"], ondelete="CASCADE",
                                   name=op.f(f"fk_{table}_{column}_{ref}"))


def _owned(table: str, alias: str, column: str) -> str:
    """``column`` is NULL or names a row of ``table`` owned by the current user."""
    return (f"({column} IS NULL OR EXISTS (SELECT 1 FROM {table} {alias} "
            f"WHERE {alias}.id = {column} AND {alias}.user_id = {rls.UID}))")


def _rls_sql() -> list[str]:
    uid = rls.UID
    own_file = ("EXISTS (SELECT 1 FROM storage_files f WHERE f.id = {t}.file_id "
                f"AND f.user_id = {uid})")
    sql = [*rls.create_roles(), *rls.create_auth_uid(), *rls.grant_to_authenticated(TABLES)]
    # folders: the owner's rows; a subfolder only under the owner's folder. A policy on folders
    # cannot query folders itself (PostgreSQL reports infinite recursion), so the parent is
    # checked by a SECURITY DEFINER function that answers only "is it mine" (leaks nothing).
    folder_rule = f"user_id = {uid}"
    sql += [
        f"CREATE FUNCTION public.{OWNS_FOLDER}(folder uuid) RETURNS boolean LANGUAGE sql STABLE "
        "SECURITY DEFINER SET search_path = public, pg_temp AS $f$ "
        f"SELECT EXISTS (SELECT 1 FROM public.folders WHERE id = folder AND user_id = {uid}) $f$",
        f"REVOKE ALL ON FUNCTION public.{OWNS_FOLDER}(uuid) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION public.{OWNS_FOLDER}(uuid) TO authenticated",
        "ALTER TABLE folders ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY folders_owner ON folders FOR ALL TO authenticated USING ({folder_rule}) "
        f"WITH CHECK ({folder_rule} AND (parent_id IS NULL OR public.{OWNS_FOLDER}(parent_id)))",
    ]
    # storage_files: the owner's rows; the document and the chat named must be the owner's too.
    file_check = (f"user_id = {uid} AND {_owned('documents', 'd', 'storage_files.document_id')} "
                  f"AND {_owned('chats', 'c', 'storage_files.chat_id')}")
    sql += [
        "ALTER TABLE storage_files ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY storage_files_owner ON storage_files FOR ALL TO authenticated "
        f"USING (user_id = {uid}) WITH CHECK ({file_check})",
    ]
    sql += rls.enable_child_rls("folder_items", parent="folders", fk_column="folder_id",
                                extra_check=own_file.format(t="folder_items"))
    sql += rls.enable_child_rls("message_attachments",
                                extra_check=rls.message_in_same_chat("message_attachments") + " AND "
                                + own_file.format(t="message_attachments"))
    return sql


def upgrade() -> None:
    op.create_table(
        "folders",
        sa.Column("id", GUID, nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("parent_id", GUID, nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        _fk("folders", "parent_id", "folders"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_folders")),
    )
    op.create_index(op.f("ix_folders_user_id_parent_id"), "folders", ["user_id", "parent_id"])
    op.create_index(op.f("ix_folders_parent_id"), "folders", ["parent_id"])

    op.create_table(
        "storage_files",
        sa.Column("id", GUID, nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("source_type", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("storage_path", sa.Text(), nullable=True),
        sa.Column("external_url", sa.Text(), nullable=True),
        sa.Column("mime_type", sa.Text(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.Text(), nullable=True),
        sa.Column("document_id", GUID, nullable=True),
        sa.Column("chat_id", GUID, nullable=True),
        sa.Column("metadata", JSONType, nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.CheckConstraint("source_type IN ('user_upload', 'llm_generated', 'external_link')",
                           name=op.f("ck_storage_files_source_type")),
        sa.CheckConstraint("(storage_path IS NOT NULL) OR (external_url IS NOT NULL)",
                           name=op.f("ck_storage_files_location")),
        _fk("storage_files", "document_id", "documents"),
        _fk("storage_files", "chat_id", "chats"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_files")),
        sa.UniqueConstraint("user_id", "sha256", name=op.f("uq_storage_files_user_id_sha256")),
        sa.UniqueConstraint("user_id", "storage_path", name=op.f("uq_storage_files_user_id_storage_path")),
    )
    op.create_index(op.f("ix_storage_files_document_id"), "storage_files", ["document_id"])
    op.create_index(op.f("ix_storage_files_chat_id"), "storage_files", ["chat_id"])

    op.create_table(
        "folder_items",
        sa.Column("id", GUID, nullable=False),
        sa.Column("folder_id", GUID, nullable=False),
        sa.Column("file_id", GUID, nullable=False),
        sa.Column("added_at", TS, server_default=NOW, nullable=False),
        _fk("folder_items", "folder_id", "folders"),
        _fk("folder_items", "file_id", "storage_files"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_folder_items")),
        sa.UniqueConstraint("folder_id", "file_id", name=op.f("uq_folder_items_folder_id_file_id")),
    )
    op.create_index(op.f("ix_folder_items_file_id"), "folder_items", ["file_id"])

    op.create_table(
        "message_attachments",
        sa.Column("id", GUID, nullable=False),
        sa.Column("chat_id", GUID, nullable=False),
        sa.Column("message_id", GUID, nullable=False),
        sa.Column("file_id", GUID, nullable=False),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        _fk("message_attachments", "chat_id", "chats"),
        _fk("message_attachments", "message_id", "chat_messages"),
        _fk("message_attachments", "file_id", "storage_files"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_attachments")),
        sa.UniqueConstraint("message_id", "file_id", name=op.f("uq_message_attachments_message_id_file_id")),
    )
    op.create_index(op.f("ix_message_attachments_chat_id"), "message_attachments", ["chat_id"])
    op.create_index(op.f("ix_message_attachments_file_id"), "message_attachments", ["file_id"])

    if op.get_bind().dialect.name == "postgresql":
        for statement in _rls_sql():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in reversed(TABLES):
            for statement in rls.disable_rls(table):
                op.execute(statement)
        op.execute(f"DROP FUNCTION IF EXISTS public.{OWNS_FOLDER}(uuid)")
    op.drop_index(op.f("ix_message_attachments_file_id"), table_name="message_attachments")
    op.drop_index(op.f("ix_message_attachments_chat_id"), table_name="message_attachments")
    op.drop_table("message_attachments")
    op.drop_index(op.f("ix_folder_items_file_id"), table_name="folder_items")
    op.drop_table("folder_items")
    op.drop_index(op.f("ix_storage_files_chat_id"), table_name="storage_files")
    op.drop_index(op.f("ix_storage_files_document_id"), table_name="storage_files")
    op.drop_table("storage_files")
    op.drop_index(op.f("ix_folders_parent_id"), table_name="folders")
    op.drop_index(op.f("ix_folders_user_id_parent_id"), table_name="folders")
    op.drop_table("folders")
