"""Security: columns the server reads back, restricted where users can write them (PostgreSQL).

Revision ID: 004_security
Revises: 006_usage
Create Date: 2026-01-04

No schema change (SQLite: nothing to do). On PostgreSQL, for users reaching their rows directly
(Supabase's Data API) as role ``authenticated``:

* ``api_tokens``: SELECT and DELETE only (list and revoke one's tokens). Tokens are created by the
  service (``aizoomdoc token create``); a user inserting a row with a hash of his choosing would
  mint himself a token that never expires.
* ``chat_images``: WITH CHECK also requires ``s3_path`` inside the chat's own folder
  (``chats/{chat_id}/``, no ``..``), so a row cannot point at another chat's file.
* ``documents``: WITH CHECK requires ``storage_key``/``render_key`` inside the document's own folder
  (``documents/{id}/``).

The server checks the same rules in code (docs/API.md, "Security model"); these policies make the
database refuse such rows in the first place.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from aizoomdoc.store import rls

revision: str = "004_security"
down_revision: str | None = "006_usage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in rls.security_policies():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in rls.drop_security_policies():
        op.execute(statement)
