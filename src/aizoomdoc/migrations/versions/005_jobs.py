"""Background jobs: document status and progress, the OCR page cache, the job queue (PostgreSQL).

Revision ID: 005_jobs
Revises: 004_security
Create Date: 2026-01-05

``documents`` gains ``status`` (queued | processing | ready | error; existing rows are ready),
``status_error``, ``pages_done``, ``pages_total``. ``ocr_pages`` caches the OCR of a page by the
file's sha256 (+ page, + OCR options). PostgreSQL only: RLS on ``ocr_pages`` with no policy (the
``authenticated`` role sees nothing; workers run as the table owner), and procrastinate's own
schema (the job queue) in a PostgreSQL schema of its own, ``procrastinate``, so it never mixes
with ours (nor with Alembic's comparison of our models). The SQL is the one the installed
procrastinate ships (``procrastinate>=3.10,<3.11`` is pinned: a newer procrastinate comes with a
new revision that applies its migration scripts).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "005_jobs"
down_revision: str | None = "004_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONType = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TS = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")

#: The PostgreSQL schema of the job queue's tables, types and functions.
QUEUE_SCHEMA = "procrastinate"


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("status", sa.Text(), server_default="ready", nullable=False))
        batch.add_column(sa.Column("status_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("pages_done", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("pages_total", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "ocr_pages",
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("page_index", sa.Integer(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("result", JSONType, nullable=False),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("sha256", "page_index", "options", name=op.f("pk_ocr_pages")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ocr_pages ENABLE ROW LEVEL SECURITY")
        _create_queue_schema()


def _create_queue_schema() -> None:
    from procrastinate.schema import SchemaManager
    from sqlalchemy.util import await_only

    op.execute(f"CREATE SCHEMA IF NOT EXISTS {QUEUE_SCHEMA}")
    # Many statements with $$-quoted bodies: through the driver's simple query protocol, with the
    # queue's schema first on the search path of this transaction only.
    driver = op.get_bind().connection.driver_connection
    assert driver is not None, "a connection in a migration is open"
    await_only(driver.execute(f"SET LOCAL search_path TO {QUEUE_SCHEMA}, public"))
    await_only(driver.execute(SchemaManager.get_schema()))
    await_only(driver.execute("SET LOCAL search_path TO DEFAULT"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SCHEMA IF EXISTS {QUEUE_SCHEMA} CASCADE")
    op.drop_table("ocr_pages")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("pages_total")
        batch.drop_column("pages_done")
        batch.drop_column("status_error")
        batch.drop_column("status")
