"""The OCR of pages, kept by the file's content: ``(sha256, page_index, options) -> result``.

OCR is the slowest step of an ingest (seconds per sheet), so every recognised page is stored the
moment it is done: a retried job, a worker that took over from a killed one, or the same file
uploaded by another user skips the pages already read. The result is the JSON of
:class:`~aizoomdoc.documents.ocr.PageOcr`; storage knows nothing of its shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from aizoomdoc.store.database import Database
from aizoomdoc.store.document_models import OcrPageRow

ocr_pages: Table = OcrPageRow.__table__  # type: ignore[assignment]


class OcrCache:
    """Pages' OCR results in the database (never scoped to a user: the key is the content)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = postgresql.insert if db.is_postgres else sqlite.insert

    async def _run(self, fn: Any) -> Any:
        if self.db.migrates_itself and not self.db.schema_ready:
            from aizoomdoc.store import migrate

            await migrate.ensure_schema(self.db)
        return await self.db.run(fn)

    async def get(self, sha256: str, options: str, pages: Iterable[int]) -> dict[int, dict[str, Any]]:
        """The cached results of these pages (those not cached are absent)."""
        wanted = sorted(set(pages))
        stmt = select(ocr_pages.c.page_index, ocr_pages.c.result).where(
            ocr_pages.c.sha256 == sha256, ocr_pages.c.options == options, ocr_pages.c.page_index.in_(wanted))

        def fn(conn: Connection) -> dict[int, dict[str, Any]]:
            return {int(r.page_index): r.result for r in conn.execute(stmt)} if wanted else {}

        return await self._run(fn)

    async def count(self, sha256: str, options: str, pages: Iterable[int]) -> int:
        wanted = sorted(set(pages))
        stmt = select(func.count()).select_from(ocr_pages).where(
            ocr_pages.c.sha256 == sha256, ocr_pages.c.options == options, ocr_pages.c.page_index.in_(wanted))
        return await self._run(lambda conn: int(conn.execute(stmt).scalar_one()) if wanted else 0)

    async def put(self, sha256: str, options: str, page_index: int, result: dict[str, Any]) -> None:
        """Store a page's result; a page stored already (by another worker) is left as it is."""
        stmt = self._insert(ocr_pages).values(sha256=sha256, page_index=page_index, options=options,
                                              result=result).on_conflict_do_nothing()
        await self._run(lambda conn: conn.execute(stmt))


__all__ = ["OcrCache"]
