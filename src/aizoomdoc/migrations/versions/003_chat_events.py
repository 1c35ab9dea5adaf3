"""Chat events and API tokens: the replayable live-event log of every chat, hashed API tokens (+ RLS).

Revision ID: 003_chat_events
Revises: 002_documents
Create Date: 2026-01-03

``chat_events``: one row per progress event of a question (stage, hits, token batch, image,
answer, error), numbered per chat by ``seq`` (1, 2, 3 …; the SSE event id). The primary key
(chat_id, seq) makes numbering safe across workers: two writers that pick the same number
collide, and the loser retries after the winner committed, so numbers become visible in order.
Deleted with the chat. ``api_tokens``: sha256 (or HMAC with API_TOKEN_PEPPER) of each token,
never the token itself. PostgreSQL: RLS on both (events through the chat, tokens by user_id).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from aizoomdoc.store import rls

revision: str = "003_chat_events"
down_revision: str | None = "002_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types (a migration must not change when the models do).
GUID = sa.Uuid(as_uuid=False).with_variant(sa.String(36), "sqlite")
JSONType = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TS = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "chat_events",
        sa.Column("chat_id", GUID, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("question_id", sa.Text(), nullable=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("data", JSONType, nullable=False),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], ondelete="CASCADE",
                                name=op.f("fk_chat_events_chat_id_chats")),
        # Leading column chat_id: also the index on the foreign key.
        sa.PrimaryKeyConstraint("chat_id", "seq", name=op.f("pk_chat_events")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", GUID, nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("last_used_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])

    if op.get_bind().dialect.name == "postgresql":
        sql = [*rls.create_roles(), *rls.create_auth_uid()]
        sql += rls.grant_to_authenticated(["chat_events", "api_tokens"])
        sql += rls.enable_child_rls("chat_events")
        sql += rls.enable_owner_rls("api_tokens")
        for statement in sql:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("api_tokens", "chat_events"):
            for statement in rls.disable_rls(table):
                op.execute(statement)
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("chat_events")
