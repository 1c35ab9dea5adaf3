"""DocumentStore: ingested documents and their blocks on SQLite or PostgreSQL.

Storage knows nothing of the document model: rows go in and come out as plain dicts (the pipeline
converts :class:`~aizoomdoc.documents.model.Document` to and from them). Every query is scoped to
the store's user (``user_id`` column, and RLS on PostgreSQL on top). A document and all its blocks
are written in one transaction; the same (user, sha256) twice is a no-op.
"""

from __future__ import annotations

import builtins
import hashlib
import itertools
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Table, delete, desc, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from aizoomdoc.config import Settings
from aizoomdoc.store.clock import to_iso
from aizoomdoc.store.database import Database
from aizoomdoc.store.document_models import DocumentBlockRow, DocumentRow
from aizoomdoc.store.validate import is_uuid

log = logging.getLogger(__name__)
T = TypeVar("T")

documents: Table = DocumentRow.__table__  # type: ignore[assignment]
blocks: Table = DocumentBlockRow.__table__  # type: ignore[assignment]

#: Namespace of block row ids: uuid5(document id + block id), so re-inserting is idempotent.
_BLOCK_NS = uuid.UUID("0b6c0f7e-3c55-4d7a-9a43-5f0e8a1d2c11")
_IN_CHUNK = 500

DOCUMENT_FIELDS = tuple(c.name for c in documents.c)
BLOCK_FIELDS = tuple(c.name for c in blocks.c)
_BLOCK_INSERT_COLUMNS = ("id", "document_id", "block_id", "position", "page_index", "page_number", "block_type",
                         "text", "coords_norm", "coords_px", "has_coords", "links", "crop_ref", "sheet", "extra")
assert set(_BLOCK_INSERT_COLUMNS) == set(BLOCK_FIELDS)
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _json(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is list and len(value) == 4:  # boxes, the common case: C formatting, no encoder
        try:
            text = "[%.17g,%.17g,%.17g,%.17g]" % tuple(value)
        except TypeError:
            pass
        else:
            if "n" not in text:  # nan/inf are not JSON
                return text
    return _JSON.encode(value)


def _boxes_json(values: list[Any]) -> list[str | None]:
    """JSON of a column of ``[x1, y1, x2, y2]`` boxes (or None), as ``json.dumps`` writes them.

    Formatting floats is most of the cost of a bulk block insert, and the coordinates of a drawing
    repeat a lot (labels of a row share a y, of a column an x; clamped 0.0/1.0; the same title
    block on every sheet), so each distinct float is formatted once per column (``repr``, which is
    what json writes). Anything but finite floats goes through the JSON encoder.
    """
    if None not in values and values and set(map(len, values)) == {4} \
            and set(map(type, itertools.chain.from_iterable(values))) == {float}:
        cache: dict[float, str] = {}

        def fmt(x: float) -> str:
            if x != x or x - x != 0.0:  # nan/inf are not JSON
                raise ValueError(x)
            text = repr(x)
            if x != 0.0:  # 0.0 and -0.0 are one key but two texts
                cache[x] = text
            return text

        g = cache.get
        try:
            return ["[%s,%s,%s,%s]" % (g(a) or fmt(a), g(b) or fmt(b), g(c) or fmt(c), g(d) or fmt(d))
                    for a, b, c, d in values]
        except ValueError:
            pass
    encode = _JSON.encode
    return [None if v is None else encode(list(v) if type(v) is tuple else v) for v in values]


def _json_column(values: list[Any]) -> list[str | None]:
    """JSON of each value of a column (None stays NULL)."""
    js = _json
    return [None if v is None else js(v) for v in values]


def block_row_id(document_id: str, block_id: str) -> str:
    """A stable uuid (version 5 layout) for a block of a document; cheap to compute in bulk."""
    return block_row_ids(document_id, [block_id])[0]


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def block_row_ids(document_id: str, block_ids: Iterable[str]) -> list[str]:
    """:func:`block_row_id` of many blocks of one document (the keyed hash of the document's
    prefix is computed once and copied)."""
    copy = hashlib.blake2b(f"{document_id}\n".encode(), digest_size=16, key=_BLOCK_NS.bytes).copy
    variant = _VARIANT
    out = []
    for block_id in block_ids:
        h = copy()
        h.update(block_id.encode())
        x = h.hexdigest()
        out.append(f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{variant[x[16]]}{x[17:20]}-{x[20:32]}")
    return out


def _doc_dict(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    d["created_at"] = to_iso(d.get("created_at"))
    d["updated_at"] = to_iso(d.get("updated_at"))
    return d


class DocumentStore:
    """Documents and blocks over one :class:`Database`. ``for_user`` scopes it to a user."""

    def __init__(self, db: Database | None = None, *, settings: Settings | None = None,
                 user_id: str = "local", auto_migrate: bool | None = None) -> None:
        self.db = db if db is not None else Database(settings)
        self.user_id = user_id
        self.auto_migrate = self.db.migrates_itself if auto_migrate is None else auto_migrate
        self._insert = postgresql.insert if self.db.is_postgres else sqlite.insert

    def for_user(self, user_id: str) -> DocumentStore:
        view = object.__new__(DocumentStore)
        view.__dict__.update(self.__dict__)
        view.user_id = user_id
        return view

    async def _run(self, fn: Callable[[Connection], T]) -> T:
        if self.auto_migrate and not self.db.schema_ready:
            from aizoomdoc.store import migrate

            await migrate.ensure_schema(self.db)
        return await self.db.run(fn, user_id=self.user_id if self.db.is_postgres else None)

    # --- writes ---------------------------------------------------------------------------------
    async def add(self, document: dict[str, Any], block_rows: Sequence[dict[str, Any]]) -> bool:
        """Insert a document and its blocks in one transaction.

        ``document``: the columns of ``documents`` (``metadata`` for the JSON metadata; ``user_id``
        is the store's user). ``block_rows``: columns of ``document_blocks`` without ``id`` and
        ``document_id``. Returns False (and writes nothing) when the user already has a document
        with this id or sha256.
        """
        now = datetime.now(UTC)
        doc = {k: v for k, v in document.items() if k in DOCUMENT_FIELDS}
        doc.update(user_id=self.user_id, created_at=doc.get("created_at") or now, updated_at=now,
                   block_count=len(block_rows))
        doc_id = str(doc["id"])
        insert_doc = self._insert(documents).values(**doc).on_conflict_do_nothing()

        def fn(conn: Connection) -> bool:
            rows = self._block_values(doc_id, block_rows)  # in the worker thread (SQLite), not on the event loop
            if conn.execute(insert_doc).rowcount == 0:
                return False
            self._insert_blocks(conn, rows)
            return True

        return await self._run(fn)

    def _block_values(self, doc_id: str, br: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """The driver's row tuples of ``document_blocks`` (JSON serialised once).

        Blocks go in with the driver's executemany on ready values: the per-row parameter
        processing of SQLAlchemy costs more than the inserts themselves. Column by column (C loops
        where possible), zipped into the rows.
        """
        block_ids = [str(b["block_id"]) for b in br]
        page_index = [b["page_index"] for b in br]
        return list(zip(
            block_row_ids(doc_id, block_ids), itertools.repeat(doc_id, len(br)), block_ids,
            [b.get("position", i) for i, b in enumerate(br)], page_index,
            [b.get("page_number") or p + 1 for b, p in zip(br, page_index, strict=True)],
            [b["block_type"] for b in br], [b.get("text") or "" for b in br],
            _boxes_json([b.get("coords_norm") for b in br]), _boxes_json([b.get("coords_px") for b in br]),
            [bool(b.get("has_coords", True)) for b in br], _json_column([b.get("links") for b in br]),
            [b.get("crop_ref") for b in br], _json_column([b.get("sheet") for b in br]),
            _json_column([b.get("extra") for b in br]), strict=True,
        ))

    def _insert_blocks(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        cols = _BLOCK_INSERT_COLUMNS
        if self.db.is_postgres:
            marks = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
        else:
            marks = ", ".join("?" for _ in cols)
        sql = f"INSERT INTO document_blocks ({', '.join(cols)}) VALUES ({marks})"
        for start in range(0, len(rows), 5000):
            conn.exec_driver_sql(sql, rows[start:start + 5000])

    async def set_status(self, document_id: str, status: str, *, only_from: Iterable[str] | None = None,
                         **values: Any) -> bool:
        """Set a document's status (and other columns, e.g. ``pages_total``, ``status_error``,
        ``metadata``); with ``only_from``, only when its status is one of those. True when changed."""
        stmt = (update(documents).where(documents.c.id == document_id, documents.c.user_id == self.user_id)
                .values(status=status, updated_at=datetime.now(UTC), **values))
        if only_from is not None:
            stmt = stmt.where(documents.c.status.in_(list(only_from)))
        return await self._run(lambda conn: conn.execute(stmt).rowcount > 0)

    async def advance(self, document_id: str, pages_done: int) -> None:
        """Progress: ``pages_done`` only ever grows (workers finish pages in any order)."""
        stmt = (update(documents)
                .where(documents.c.id == document_id, documents.c.user_id == self.user_id,
                       documents.c.pages_done < pages_done)
                .values(pages_done=pages_done, updated_at=datetime.now(UTC)))
        await self._run(lambda conn: conn.execute(stmt))

    async def replace_blocks(self, document_id: str, values: dict[str, Any],
                             block_rows: Sequence[dict[str, Any]]) -> bool:
        """In one transaction: the document's columns (``values``; status ``ready``), and all its
        blocks replaced by ``block_rows``. Run twice (a retried job), the result is the same:
        the row is locked first, so two finishers take turns. False when the document is gone."""
        changes = {k: v for k, v in values.items() if k in DOCUMENT_FIELDS}
        changes.update(status="ready", status_error=None, block_count=len(block_rows), updated_at=datetime.now(UTC))
        lock = (update(documents).where(documents.c.id == document_id, documents.c.user_id == self.user_id)
                .values(**changes))
        clear = delete(blocks).where(blocks.c.document_id == document_id)

        def fn(conn: Connection) -> bool:
            rows = self._block_values(document_id, block_rows)
            if conn.execute(lock).rowcount == 0:
                return False
            conn.execute(clear)
            self._insert_blocks(conn, rows)
            return True

        return await self._run(fn)

    async def unfinished(self) -> list[dict[str, Any]]:
        """Documents of every user still ``queued`` or ``processing`` (the single-user SQLite
        server picks them up again after a restart)."""
        stmt = select(documents.c.id, documents.c.user_id).where(documents.c.status.in_(["queued", "processing"]))
        return await self._run(lambda conn: [dict(r._mapping) for r in conn.execute(stmt)])

    async def delete(self, document_id: str) -> bool:
        """Delete a document and (by cascade) its blocks; False when it is not there."""
        stmt = delete(documents).where(documents.c.id == document_id, documents.c.user_id == self.user_id)
        return await self._run(lambda conn: conn.execute(stmt).rowcount > 0)

    # --- reads ----------------------------------------------------------------------------------
    async def get(self, document_id: str) -> dict[str, Any] | None:
        if not is_uuid(document_id):
            return None
        stmt = select(documents).where(documents.c.id == document_id, documents.c.user_id == self.user_id)

        def fn(conn: Connection) -> dict[str, Any] | None:
            row = conn.execute(stmt).first()
            return _doc_dict(row) if row is not None else None

        return await self._run(fn)

    async def get_by_sha256(self, sha256: str) -> dict[str, Any] | None:
        stmt = select(documents).where(documents.c.sha256 == sha256, documents.c.user_id == self.user_id)

        def fn(conn: Connection) -> dict[str, Any] | None:
            row = conn.execute(stmt).first()
            return _doc_dict(row) if row is not None else None

        return await self._run(fn)

    async def get_many(self, document_ids: Iterable[str]) -> list[dict[str, Any]]:
        ids = [d for d in dict.fromkeys(document_ids) if is_uuid(d)]

        def fn(conn: Connection) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ids[start:start + _IN_CHUNK]
                stmt = select(documents).where(documents.c.id.in_(chunk), documents.c.user_id == self.user_id)
                out.extend(_doc_dict(r) for r in conn.execute(stmt))
            order = {d: i for i, d in enumerate(ids)}
            return sorted(out, key=lambda d: order[str(d["id"])])

        return await self._run(fn)

    async def list(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """The user's documents, newest first (without pages JSON)."""
        cols = [c for c in documents.c if c.name != "pages"]
        stmt = (select(*cols).where(documents.c.user_id == self.user_id)
                .order_by(desc(documents.c.updated_at), desc(documents.c.id)).limit(limit).offset(offset))
        return await self._run(lambda conn: [_doc_dict(r) for r in conn.execute(stmt)])

    async def count(self) -> int:
        stmt = select(func.count()).select_from(documents).where(documents.c.user_id == self.user_id)
        return await self._run(lambda conn: int(conn.execute(stmt).scalar_one()))

    async def blocks(self, document_ids: Iterable[str], pages: Iterable[int] | None = None,
                     ) -> builtins.list[dict[str, Any]]:  # (``list`` is the method above)
        """Blocks of the user's documents in reading order (document order as given, then position).

        ``pages``: only these 1-based page numbers.
        """
        ids = [d for d in dict.fromkeys(document_ids) if is_uuid(d)]
        page_list = sorted(set(pages)) if pages is not None else None

        def fn(conn: Connection) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ids[start:start + _IN_CHUNK]
                owned = select(documents.c.id).where(documents.c.id.in_(chunk),
                                                     documents.c.user_id == self.user_id)
                stmt = select(blocks).where(blocks.c.document_id.in_(owned))
                if page_list is not None:
                    stmt = stmt.where(blocks.c.page_number.in_(page_list))
                out.extend(dict(r._mapping) for r in conn.execute(stmt))
            order = {d: i for i, d in enumerate(ids)}
            out.sort(key=lambda r: (order[str(r["document_id"])], r["position"]))
            return out

        return await self._run(fn)


__all__ = ["DocumentStore", "block_row_id"]
