"""Usage analytics: usage_questions (one row per question) and usage_documents (one per ingest) + RLS.

Revision ID: 006_usage
Revises: 007_library
Create Date: 2026-01-06

No foreign keys to chats or documents: the figures outlive a deleted chat. No question text unless
ANALYTICS_STORE_QUESTIONS=true. PostgreSQL: RLS on both tables by ``user_id``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from aizoomdoc.store import rls

revision: str = "006_usage"
down_revision: str | None = "007_library"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types (a migration must not change when the models do).
GUID = sa.Uuid(as_uuid=False).with_variant(sa.String(36), "sqlite")
JSONType = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TS = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")
TABLES = ("usage_questions", "usage_documents")


def upgrade() -> None:
    op.create_table(
        "usage_questions",
        sa.Column("id", GUID, nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("chat_id", GUID, nullable=True),
        sa.Column("message_id", GUID, nullable=True),
        sa.Column("document_ids", JSONType, nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("offline", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("llm_calls", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tokens_in", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("tokens_out", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("images", sa.Integer(), server_default="0", nullable=False),
        sa.Column("renders", sa.Integer(), server_default="0", nullable=False),
        sa.Column("render_cache_hits", sa.Integer(), server_default="0", nullable=False),
        sa.Column("answer_seconds", sa.Float(), nullable=True),
        sa.Column("error_kind", sa.Text(), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_questions")),
    )
    op.create_index(op.f("ix_usage_questions_user_id_created_at"), "usage_questions", ["user_id", "created_at"])
    op.create_index(op.f("ix_usage_questions_created_at"), "usage_questions", ["created_at"])
    op.create_table(
        "usage_documents",
        sa.Column("id", GUID, nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("document_id", GUID, nullable=True),
        sa.Column("source_format", sa.Text(), nullable=True),
        sa.Column("pages", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ocr_pages", sa.Integer(), server_default="0", nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("ingest_seconds", sa.Float(), nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_documents")),
    )
    op.create_index(op.f("ix_usage_documents_user_id_created_at"), "usage_documents", ["user_id", "created_at"])
    op.create_index(op.f("ix_usage_documents_created_at"), "usage_documents", ["created_at"])

    if op.get_bind().dialect.name == "postgresql":
        sql = [*rls.create_roles(), *rls.create_auth_uid(), *rls.grant_to_authenticated(TABLES)]
        for table in TABLES:
            sql += rls.enable_owner_rls(table)
        for statement in sql:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            for statement in rls.disable_rls(table):
                op.execute(statement)
    for table in reversed(TABLES):
        op.drop_index(op.f(f"ix_{table}_created_at"), table_name=table)
        op.drop_index(op.f(f"ix_{table}_user_id_created_at"), table_name=table)
        op.drop_table(table)
