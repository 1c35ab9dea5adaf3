"""Initial schema: chats, chat_messages, chat_images, search_results (+ RLS on PostgreSQL).

Revision ID: 001_initial_schema
Revises:
Create Date: 2026-01-01

PostgreSQL: uuid ids, jsonb JSON fields, Row Level Security on every table (policies by
auth.uid() through the chat), schema ``auth`` with ``auth.uid()`` and roles ``anon`` /
``authenticated`` created where absent (Supabase already has them). SQLite: the same tables with
text ids and JSON text; the PostgreSQL-only parts are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from aizoomdoc.store import rls

revision: str = "001_initial_schema"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types (a migration must not change when models.py does).
GUID = sa.Uuid(as_uuid=False).with_variant(sa.String(36), "sqlite")
JSONType = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TS = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")


def _fk(column: str, table: str, ref: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{ref}.id"], ondelete="CASCADE",
                                   name=op.f(f"fk_{table}_{column}_{ref}"))


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("id", GUID, nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("document_path", sa.Text(), nullable=True),
        sa.Column("is_archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("metadata", JSONType, nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats")),
    )
    op.create_index(op.f("ix_chats_user_id_updated_at"), "chats", ["user_id", "updated_at"])

    op.create_table(
        "chat_messages",
        sa.Column("id", GUID, nullable=False),
        sa.Column("chat_id", GUID, nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("message_type", sa.Text(), server_default="text", nullable=False),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("metadata", JSONType, nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.CheckConstraint("role IN ('user', 'assistant', 'system', 'tool')", name=op.f("ck_chat_messages_role")),
        _fk("chat_id", "chat_messages", "chats"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
    )
    op.create_index(op.f("ix_chat_messages_chat_id_created_at"), "chat_messages", ["chat_id", "created_at"])

    op.create_table(
        "chat_images",
        sa.Column("id", GUID, nullable=False),
        sa.Column("chat_id", GUID, nullable=False),
        sa.Column("message_id", GUID, nullable=False),
        sa.Column("image_name", sa.Text(), nullable=False),
        sa.Column("s3_path", sa.Text(), nullable=False),
        sa.Column("s3_url", sa.Text(), nullable=True),
        sa.Column("image_type", sa.Text(), server_default="viewport", nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("page_number", sa.Integer(), nullable=True),
        sa.Column("coords_norm", JSONType, nullable=True),
        sa.Column("uploaded_at", TS, server_default=NOW, nullable=False),
        sa.Column("sync_state", sa.Text(), server_default="synced", nullable=False),
        _fk("chat_id", "chat_images", "chats"),
        _fk("message_id", "chat_images", "chat_messages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_images")),
    )
    op.create_index(op.f("ix_chat_images_chat_id_uploaded_at"), "chat_images", ["chat_id", "uploaded_at"])
    op.create_index(op.f("ix_chat_images_message_id"), "chat_images", ["message_id"])

    op.create_table(
        "search_results",
        sa.Column("id", GUID, nullable=False),
        sa.Column("chat_id", GUID, nullable=False),
        sa.Column("message_id", GUID, nullable=False),
        sa.Column("document_id", sa.Text(), nullable=True),
        sa.Column("block_id", sa.Text(), nullable=False),
        sa.Column("page_number", sa.Integer(), nullable=True),
        sa.Column("block_text", sa.Text(), nullable=False),
        sa.Column("coords_norm", JSONType, nullable=True),
        sa.Column("coords_px", JSONType, nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        _fk("chat_id", "search_results", "chats"),
        _fk("message_id", "search_results", "chat_messages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_results")),
    )
    op.create_index(op.f("ix_search_results_chat_id_created_at"), "search_results", ["chat_id", "created_at"])
    op.create_index(op.f("ix_search_results_message_id"), "search_results", ["message_id"])

    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.chat_tables_rls():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.drop_chat_tables_rls():
            op.execute(statement)
    op.drop_index(op.f("ix_search_results_message_id"), table_name="search_results")
    op.drop_index(op.f("ix_search_results_chat_id_created_at"), table_name="search_results")
    op.drop_table("search_results")
    op.drop_index(op.f("ix_chat_images_message_id"), table_name="chat_images")
    op.drop_index(op.f("ix_chat_images_chat_id_uploaded_at"), table_name="chat_images")
    op.drop_table("chat_images")
    op.drop_index(op.f("ix_chat_messages_chat_id_created_at"), table_name="chat_messages")
    op.drop_table("chat_messages")
    op.drop_index(op.f("ix_chats_user_id_updated_at"), table_name="chats")
    op.drop_table("chats")
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.drop_auth_uid():
            op.execute(statement)
