"""Documents: documents and document_blocks (the ingested drawing sets search reads) + RLS.

Revision ID: 002_documents
Revises: 001_initial_schema
Create Date: 2026-01-02

PostgreSQL: uuid ids, jsonb JSON fields; RLS on both tables — documents by ``user_id``, blocks
through their document (the same helpers as 001). SQLite: the same tables, no RLS.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from aizoomdoc.store import rls

revision: str = "002_documents"
down_revision: str | None = "001_initial_schema"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types (a migration must not change when the models do).
GUID = sa.Uuid(as_uuid=False).with_variant(sa.String(36), "sqlite")
JSONType = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TS = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", GUID, nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=True),
        sa.Column("source_format", sa.Text(), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("storage_key", sa.Text(), nullable=True),
        sa.Column("render_key", sa.Text(), nullable=True),
        sa.Column("page_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("block_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("pages", JSONType, nullable=True),
        sa.Column("sheet", JSONType, nullable=True),
        sa.Column("metadata", JSONType, nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("user_id", "sha256", name=op.f("uq_documents_user_id_sha256")),
    )
    op.create_index(op.f("ix_documents_user_id_updated_at"), "documents", ["user_id", "updated_at"])

    op.create_table(
        "document_blocks",
        sa.Column("id", GUID, nullable=False),
        sa.Column("document_id", GUID, nullable=False),
        sa.Column("block_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("page_index", sa.Integer(), nullable=False),
        sa.Column("page_number", sa.Integer(), nullable=False),
        sa.Column("block_type", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("coords_norm", JSONType, nullable=True),
        sa.Column("coords_px", JSONType, nullable=True),
        sa.Column("has_coords", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("links", JSONType, nullable=True),
        sa.Column("crop_ref", sa.Text(), nullable=True),
        sa.Column("sheet", JSONType, nullable=True),
        sa.Column("extra", JSONType, nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE",
                                name=op.f("fk_document_blocks_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_blocks")),
        # Leading column document_id: also the index on the foreign key.
        sa.UniqueConstraint("document_id", "block_id", name=op.f("uq_document_blocks_document_id_block_id")),
    )
    op.create_index(op.f("ix_document_blocks_document_id_page_index"), "document_blocks",
                    ["document_id", "page_index"])

    if op.get_bind().dialect.name == "postgresql":
        sql = [*rls.create_roles(), *rls.create_auth_uid()]
        sql += rls.grant_to_authenticated(["documents", "document_blocks"])
        sql += rls.enable_owner_rls("documents")
        sql += rls.enable_child_rls("document_blocks", parent="documents", fk_column="document_id")
        for statement in sql:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("document_blocks", "documents"):
            for statement in rls.disable_rls(table):
                op.execute(statement)
    op.drop_index(op.f("ix_document_blocks_document_id_page_index"), table_name="document_blocks")
    op.drop_table("document_blocks")
    op.drop_index(op.f("ix_documents_user_id_updated_at"), table_name="documents")
    op.drop_table("documents")
