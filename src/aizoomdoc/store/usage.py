"""Reads and writes of the usage analytics tables (``usage_questions``, ``usage_documents``).

``UsageStore(db)`` acts as the database owner (the CLI's ``aizoomdoc stats`` sees everyone);
``for_user(id)`` acts as that user: on PostgreSQL every statement then runs under RLS, so a user
can never read another user's figures, whatever the query asks for.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection

from aizoomdoc.store.database import Database
from aizoomdoc.store.usage_models import UsageDocumentRow, UsageQuestionRow

T = TypeVar("T")

questions: Table = UsageQuestionRow.__table__  # type: ignore[assignment]  # a declarative __table__ is a Table; SQLAlchemy types it FromClause
documents: Table = UsageDocumentRow.__table__  # type: ignore[assignment]  # a declarative __table__ is a Table; SQLAlchemy types it FromClause

QUESTION_FIELDS = frozenset(c.name for c in questions.columns)
DOCUMENT_FIELDS = frozenset(c.name for c in documents.columns)

#: What the statistics read of each question (everything but ids and text).
_Q_COLUMNS = ("user_id", "model", "offline", "llm_calls", "tokens_in", "tokens_out", "images", "renders",
              "render_cache_hits", "answer_seconds", "error_kind", "document_ids", "created_at")
_D_COLUMNS = ("user_id", "document_id", "pages", "ocr_pages", "ingest_seconds", "created_at")


@dataclass(frozen=True)
class UsageFilter:
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    user_id: str | None = None


class UsageStore:
    def __init__(self, db: Database, *, user_id: str | None = None, auto_migrate: bool | None = None) -> None:
        self.db = db
        self.user_id = user_id
        self.auto_migrate = db.migrates_itself if auto_migrate is None else auto_migrate

    def for_user(self, user_id: str) -> UsageStore:
        return UsageStore(self.db, user_id=user_id, auto_migrate=self.auto_migrate)

    async def _run(self, fn: Callable[[Connection], T], *, as_user: str | None = None) -> T:
        if self.auto_migrate and not self.db.schema_ready:
            from aizoomdoc.store import migrate

            await migrate.ensure_schema(self.db)
        user = self.user_id or as_user  # a user's store writes as him, the owner's as the row's user
        return await self.db.run(fn, user_id=user if self.db.is_postgres else None)

    # --- writes -------------------------------------------------------------------------------
    async def add_question(self, row: dict[str, Any]) -> str:
        values = _values(row, QUESTION_FIELDS)
        await self._run(lambda c: c.execute(insert(questions).values(**values)), as_user=values["user_id"])
        return values["id"]

    async def add_document(self, row: dict[str, Any]) -> str:
        values = _values(row, DOCUMENT_FIELDS)
        await self._run(lambda c: c.execute(insert(documents).values(**values)), as_user=values["user_id"])
        return values["id"]

    # --- reads --------------------------------------------------------------------------------
    async def rows(self, flt: UsageFilter) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The question rows and the document rows matching ``flt`` (visible to this store's user)."""

        def read(conn: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            out = []
            for table, names in ((questions, _Q_COLUMNS), (documents, _D_COLUMNS)):
                stmt = select(*(table.c[n] for n in names))
                if flt.since is not None:
                    stmt = stmt.where(table.c.created_at >= flt.since)
                if flt.until is not None:
                    stmt = stmt.where(table.c.created_at < flt.until)
                if flt.user_id is not None:
                    stmt = stmt.where(table.c.user_id == flt.user_id)
                if self.user_id is not None:  # RLS enforces it on PostgreSQL; SQLite has one user
                    stmt = stmt.where(table.c.user_id == self.user_id)
                out.append([dict(r._mapping) for r in conn.execute(stmt.order_by(table.c.created_at))])
            return out[0], out[1]

        return await self._run(read)


def _values(row: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    values = {k: v for k, v in row.items() if k in fields}
    values.setdefault("id", str(uuid.uuid4()))
    values.setdefault("created_at", datetime.now(UTC))
    return values


__all__ = ["UsageFilter", "UsageStore"]
