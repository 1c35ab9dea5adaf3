"""ChatStore: the API of the chat store over one :class:`~aizoomdoc.store.database.Database`.

Rows are validated and built by :mod:`aizoomdoc.store.rows`, the SQL lives in
:mod:`.statements`, the conversion of database rows to dicts in :mod:`.shape`; this module runs
them, one transaction per operation (see the package docstring for what is fast and why).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Table, update
from sqlalchemy.engine import Connection

from aizoomdoc.config import Settings
from aizoomdoc.errors import NotFoundError
from aizoomdoc.store import validate
from aizoomdoc.store.chats.statements import SQLITE_BUMP, BulkInsert, Statements, chats, images, messages, results
from aizoomdoc.store.clock import sqlite_stamps, sqlite_text, stamps, utcnow
from aizoomdoc.store.database import Database
from aizoomdoc.store.rows import (
    IMAGE_COLUMNS,
    MESSAGE_COLUMNS,
    RESULT_COLUMNS,
    chat_row,
    image_rows,
    message_rows,
    result_rows,
)
from aizoomdoc.store.validate import canonical_uuid, json_text, json_value, row_list
from aizoomdoc.store.validate import limit as check_limit

T = TypeVar("T")

#: Ids per ``IN (…)`` when checking the messages of a bulk insert.
_IN_CHUNK = 500


class ChatStore:
    """The chat store over one :class:`Database`. Cheap to create; share one per process.

    ``ChatStore(db).for_user(user_id)`` returns a view of the same store whose every transaction
    runs as that user (PostgreSQL RLS applies); on SQLite it behaves like the plain store.
    """

    def __init__(self, db: Database | None = None, *, settings: Settings | None = None,
                 user_id: str | None = None, auto_migrate: bool | None = None) -> None:
        self.db = db if db is not None else Database(settings)
        self.user_id = user_id
        self.auto_migrate = self.db.migrates_itself if auto_migrate is None else auto_migrate
        self._pg = self.db.is_postgres
        self._sql = Statements(self.db.dialect)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ChatStore:
        return cls(Database(settings))

    def for_user(self, user_id: str) -> ChatStore:
        """The same store acting as ``user_id`` (RLS on PostgreSQL)."""
        view = object.__new__(ChatStore)
        view.__dict__.update(self.__dict__)
        view.user_id = validate.text(user_id, "user_id")
        return view

    @property
    def is_offline(self) -> bool:
        """Never: this store writes to its database or fails (no offline journal)."""
        return False

    def offline_state(self) -> None:
        """None: no offline journal (see :class:`~aizoomdoc.store.resilient.ResilientChatStore`)."""
        return None

    async def close(self) -> None:
        await self.db.dispose()

    def is_connected(self) -> bool:
        """Whether the database answers right now (synchronous; a real connection attempt)."""
        return self.db.ping()

    # --- plumbing -------------------------------------------------------------------------
    async def _ready(self) -> None:
        if self.auto_migrate and not self.db.schema_ready:
            from aizoomdoc.store import migrate

            await migrate.ensure_schema(self.db)

    async def _run(self, fn: Callable[[Connection], T], *, single: bool = False) -> T:
        """``fn(connection)`` in one transaction as the store's user; ``single``: one statement."""
        await self._ready()
        return await self.db.run(fn, user_id=self.user_id, autocommit=single)

    def _stamps(self, start: datetime, count: int) -> list[Any]:
        """``count`` timestamps 1 µs apart from ``start`` in the form the bulk driver takes."""
        return stamps(start, count) if self._pg else sqlite_stamps(start, count)

    def _exists(self, conn: Connection, table: Table, id_: str) -> bool:
        return conn.execute(self._sql.row_exists[table.name], {"id": id_}).first() is not None

    def _require_chat(self, conn: Connection, chat_id: str) -> None:
        if conn.execute(self._sql.chat_exists, {"chat_id": chat_id}).first() is None:
            raise NotFoundError("store.chat_not_found", chat_id=chat_id)

    def _missing_message(self, conn: Connection, chat_id: str, message_id: str) -> NotFoundError:
        if conn.execute(self._sql.chat_exists, {"chat_id": chat_id}).first() is None:
            return NotFoundError("store.chat_not_found", chat_id=chat_id)
        return NotFoundError("store.message_not_found", chat_id=chat_id, message_id=message_id)

    async def _add_under_message(self, stmt: Any, table: Table, params: dict[str, Any]) -> str:
        """One ``INSERT … SELECT`` of a row under its message (see Statements); the row's id
        already stored is a no-op; a missing chat or message is NotFoundError. Returns the id."""

        def work(conn: Connection) -> None:
            if conn.execute(stmt, params).rowcount == 0:
                if self._exists(conn, table, params["id"]):
                    return
                raise self._missing_message(conn, params["chat_id"], params["message_id"])

        await self._run(work, single=True)
        return params["id"]

    async def _add_bulk(self, rows: Iterable[Mapping[str, Any]], build: Callable[..., list[tuple[Any, ...]]],
                        insert: BulkInsert) -> list[str]:
        """Rows under messages (images, search results) built by ``build`` and inserted with one
        executemany after checking every (chat_id, message_id) exists. Returns the ids."""
        items = row_list(rows)
        if not items:
            return []
        values = build(items, self._stamps(utcnow(len(items)), len(items)), json_text)

        def work(conn: Connection) -> None:
            self._check_messages(conn, values)
            insert.run(conn, values)

        await self._run(work)
        return [v[0] for v in values]

    def _check_messages(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        """Every row's (message_id, chat_id) — columns 2 and 1 — names an existing (visible)
        message of that chat."""
        pairs = {r[2]: r[1] for r in rows}
        found: dict[str, str] = {}
        ids = list(pairs)
        for i in range(0, len(ids), _IN_CHUNK):
            for mid, cid in conn.execute(self._sql.msgs_chats, {"ids": ids[i:i + _IN_CHUNK]}).all():
                found[str(mid)] = str(cid)
        for mid, cid in pairs.items():
            if found.get(mid) != cid:
                raise self._missing_message(conn, cid, mid)

    # ==========================================================================================
    # Chats
    # ==========================================================================================
    async def create_chat(self, title: str, user_id: str, description: str | None = None,
                          document_path: str | None = None, metadata: Any = None, *,
                          id: str | None = None) -> str:
        """Create a chat; returns its id."""
        params = chat_row(title, user_id, description, document_path, metadata, id, utcnow())
        await self._run(lambda conn: conn.execute(self._sql.insert_chat, params), single=True)
        return params["id"]

    async def get_chat(self, chat_id: str) -> dict[str, Any] | None:
        """The chat as a dict, or None when there is no such chat (or it is not the user's)."""
        p = {"chat_id": canonical_uuid(chat_id, "chat_id")}
        row = await self._run(lambda conn: conn.execute(self._sql.get_chat, p).first(), single=True)
        return self._sql.chat.convert(row) if row is not None else None

    async def get_chats(self, user_id: str, limit: int = 50, include_archived: bool = False) -> list[dict[str, Any]]:
        """The user's chats, most recently updated first (archived ones only if asked)."""
        p = {"user_id": validate.text(user_id, "user_id"), "limit": check_limit(limit, optional=False)}
        stmt = self._sql.get_chats if include_archived else self._sql.get_chats_active
        rows = await self._run(lambda conn: conn.execute(stmt, p).all(), single=True)
        return self._sql.chat.convert_all(rows)

    async def update_chat(self, chat_id: str, **fields: Any) -> dict[str, Any]:
        """Change title, description, document_path, is_archived and/or metadata; returns the chat."""
        chat_id = canonical_uuid(chat_id, "chat_id")
        values: dict[str, Any] = validate.chat_fields(fields)
        values["updated_at"] = utcnow()
        stmt = update(chats).where(chats.c.id == chat_id).values(**values).returning(*self._sql.chat.columns)
        row = await self._run(lambda conn: conn.execute(stmt).first(), single=True)
        if row is None:
            raise NotFoundError("store.chat_not_found", chat_id=chat_id)
        return self._sql.chat.convert(row)

    async def archive_chat(self, chat_id: str) -> bool:
        """Mark the chat archived (hidden from :meth:`get_chats` by default). Returns True."""
        await self.update_chat(chat_id, is_archived=True)
        return True

    async def delete_chat(self, chat_id: str) -> bool:
        """Delete the chat with its messages, images and search results. Returns True."""
        p = {"chat_id": canonical_uuid(chat_id, "chat_id")}
        count = await self._run(lambda conn: conn.execute(self._sql.delete_chat, p).rowcount, single=True)
        if count == 0:
            raise NotFoundError("store.chat_not_found", chat_id=p["chat_id"])
        return True

    # ==========================================================================================
    # Messages
    # ==========================================================================================
    async def add_message(self, chat_id: str, role: str, content: str, message_type: str = "text",
                          model: str | None = None, metadata: Any = None, *, id: str | None = None) -> str:
        """Add a message (role user|assistant|system|tool) and bump the chat's ``updated_at``."""
        chat_id = canonical_uuid(chat_id, "chat_id")
        created_at = utcnow()
        fields = {"id": id, "role": role, "content": content, "message_type": message_type, "model": model,
                  "metadata": metadata}
        sql = self._sql

        if self._pg:
            # One statement on the asyncpg connection itself (see Statements.add_message_pg).
            [row] = message_rows(chat_id, [fields], [created_at], json_text)
            message_id = row[0]
            pg_params = {f"m_{k}": v for k, v in zip(MESSAGE_COLUMNS, row, strict=True)}
            pg_params["chat_id"] = chat_id
            pg_params["ts"] = created_at
            statement, names = sql.pg_sql(sql.add_message_pg, self.db.engine.dialect)
            args = [pg_params[n] for n in names]
            exists_sql = sql.pg_sql(sql.row_exists["chat_messages"], self.db.engine.dialect)[0]

            async def work_pg(driver: Any) -> None:
                if (await driver.execute(statement, *args)).endswith(" 0"):
                    if await driver.fetchval(exists_sql, message_id) is None:
                        raise NotFoundError("store.chat_not_found", chat_id=chat_id)

            await self._ready()
            await self.db.run_driver(work_pg, user_id=self.user_id)
            return message_id

        # SQLite: the two statements go straight to the sqlite3 connection of the transaction
        # (SQLAlchemy's per-statement bookkeeping costs more than SQLite's work here).
        ts = sqlite_text(created_at)
        [row] = message_rows(chat_id, [fields], [ts], json_text)

        def work_sqlite(conn: Connection) -> None:
            driver = conn.connection.driver_connection
            if driver.execute(SQLITE_BUMP, (ts, ts, chat_id)).rowcount == 0:  # type: ignore[union-attr]
                raise NotFoundError("store.chat_not_found", chat_id=chat_id)
            driver.execute(sql.bulk_messages.sql, row)  # type: ignore[union-attr]

        await self._run(work_sqlite)
        return row[0]

    async def add_messages_bulk(self, chat_id: str, messages_: Sequence[Mapping[str, Any]]) -> list[str]:
        """Add many messages to one chat in one transaction (one executemany). Returns their ids.

        Each item has ``role`` and ``content`` and optionally ``message_type``, ``model``,
        ``metadata``, ``id``; they are stored in the given order.
        """
        chat_id = canonical_uuid(chat_id, "chat_id")
        items = row_list(messages_)
        if not items:
            return []
        start = utcnow(len(items))
        last = start + timedelta(microseconds=len(items) - 1)
        rows = message_rows(chat_id, items, self._stamps(start, len(items)), json_text)

        def work(conn: Connection) -> None:
            if conn.execute(self._sql.bump_chat, {"chat_id": chat_id, "ts": last}).rowcount == 0:
                raise NotFoundError("store.chat_not_found", chat_id=chat_id)
            self._sql.bulk_messages.run(conn, rows)

        await self._run(work)
        return [r[0] for r in rows]

    async def get_chat_messages(self, chat_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The chat's messages, oldest first; with ``limit``, only the newest ``limit`` of them."""
        chat_id = canonical_uuid(chat_id, "chat_id")
        p = {"chat_id": chat_id, "limit": check_limit(limit, optional=True)}
        sql = self._sql

        def work(conn: Connection) -> list[Any]:
            if p["limit"] is None:
                rows = sql.rows(conn, sql.msgs_all, p)
            else:
                rows = sql.rows(conn, sql.msgs_newest, p)
                rows.reverse()
            if not rows:
                self._require_chat(conn, chat_id)
            return rows

        return sql.message.convert_all(await self._run(work))

    # ==========================================================================================
    # Images
    # ==========================================================================================
    async def add_image_to_message(self, chat_id: str, message_id: str, image_name: str, s3_path: str,
                                   s3_url: str | None, image_type: str = "viewport",
                                   description: str | None = None, width: int | None = None,
                                   height: int | None = None, file_size: int | None = None,
                                   page_number: int | None = None, coords_norm: Any = None, *,
                                   id: str | None = None, sync_state: str = "synced") -> str:
        """Record an image (stored under ``s3_path``) shown with a message of the chat."""
        [row] = image_rows([{
            "id": id, "chat_id": chat_id, "message_id": message_id, "image_name": image_name,
            "s3_path": s3_path, "s3_url": s3_url, "image_type": image_type, "description": description,
            "width": width, "height": height, "file_size": file_size, "page_number": page_number,
            "coords_norm": coords_norm, "sync_state": sync_state,
        }], [utcnow()], json_value)
        return await self._add_under_message(self._sql.add_image, images, dict(zip(IMAGE_COLUMNS, row, strict=True)))

    async def add_images_bulk(self, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        """Record many images in one transaction (one executemany). Keys as in
        :meth:`add_image_to_message`; every (chat_id, message_id) must exist. Returns the ids."""
        return await self._add_bulk(rows, image_rows, self._sql.bulk_images)

    async def get_message_images(self, message_id: str) -> list[dict[str, Any]]:
        """The images of one message, in the order they were added."""
        p = {"message_id": canonical_uuid(message_id, "message_id")}
        sql = self._sql

        def work(conn: Connection) -> list[Any]:
            rows = sql.rows(conn, sql.imgs_by_msg, p)
            if not rows and not self._exists(conn, messages, p["message_id"]):
                raise NotFoundError("store.message_not_found_any", message_id=p["message_id"])
            return rows

        return sql.image.convert_all(await self._run(work))

    async def get_chat_images(self, chat_id: str) -> list[dict[str, Any]]:
        """All images of a chat, in the order they were added."""
        p = {"chat_id": canonical_uuid(chat_id, "chat_id")}
        sql = self._sql

        def work(conn: Connection) -> list[Any]:
            rows = sql.rows(conn, sql.imgs_by_chat, p)
            if not rows:
                self._require_chat(conn, p["chat_id"])
            return rows

        return sql.image.convert_all(await self._run(work))

    # ==========================================================================================
    # Search results
    # ==========================================================================================
    async def add_search_result(self, chat_id: str, message_id: str, block_id: str, page_number: int | None,
                                block_text: str, coords_norm: Any, coords_px: Any,
                                document_id: str | None = None, score: float | None = None, *,
                                id: str | None = None) -> str:
        """Record one search hit (block, page, coordinates) found for a message."""
        [row] = result_rows([{
            "id": id, "chat_id": chat_id, "message_id": message_id, "block_id": block_id,
            "page_number": page_number, "block_text": block_text, "coords_norm": coords_norm,
            "coords_px": coords_px, "document_id": document_id, "score": score,
        }], [utcnow()], json_value)
        return await self._add_under_message(self._sql.add_result, results, dict(zip(RESULT_COLUMNS, row, strict=True)))

    async def add_search_results_bulk(self, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        """Record many hits in one transaction (one executemany); keys as in
        :meth:`add_search_result`. Returns the ids in the given order."""
        return await self._add_bulk(rows, result_rows, self._sql.bulk_results)

    async def get_search_results(self, chat_id: str, message_id: str | None = None) -> list[dict[str, Any]]:
        """The chat's search hits (optionally of one message), in the order they were stored."""
        chat_id = canonical_uuid(chat_id, "chat_id")
        p = {"chat_id": chat_id,
             "message_id": None if message_id is None else canonical_uuid(message_id, "message_id")}
        sql = self._sql

        def work(conn: Connection) -> list[Any]:
            if p["message_id"] is None:
                rows = sql.rows(conn, sql.res_by_chat, p)
                if not rows:
                    self._require_chat(conn, chat_id)
                return rows
            rows = sql.rows(conn, sql.res_by_msg, p)
            if not rows:  # a message of another chat (or user) is not found either, never []
                self._check_messages(conn, [(None, chat_id, p["message_id"])])
            return rows

        return sql.result.convert_all(await self._run(work))

    # ==========================================================================================
    # A whole chat
    # ==========================================================================================
    async def get_chat_history(self, chat_id: str, limit: int | None = None) -> dict[str, Any]:
        """The chat with its messages (oldest first), each with its ``images`` and ``search_results``.

        Four queries whatever the chat's size (chat, messages, images, results), in one
        transaction. With ``limit``, only the newest ``limit`` messages (and their images and
        results). Returns ``{"chat": {...}, "messages": [{..., "images": [...],
        "search_results": [...]}, ...]}``.
        """
        p = {"chat_id": canonical_uuid(chat_id, "chat_id"), "limit": check_limit(limit, optional=True)}
        sql = self._sql

        def work(conn: Connection) -> tuple[Any, list[Any], list[Any], list[Any]]:
            chat_row_ = conn.execute(sql.get_chat, p).first()
            if chat_row_ is None:
                raise NotFoundError("store.chat_not_found", chat_id=p["chat_id"])
            if p["limit"] is None:
                return (chat_row_, sql.rows(conn, sql.msgs_all, p),
                        sql.rows(conn, sql.imgs_by_chat, p), sql.rows(conn, sql.res_by_chat, p))
            msg_rows = sql.rows(conn, sql.msgs_newest, p)
            msg_rows.reverse()
            return (chat_row_, msg_rows, sql.rows(conn, sql.imgs_of_newest, p),
                    sql.rows(conn, sql.res_of_newest, p))

        chat, msg_rows, img_rows, res_rows = await self._run(work)
        out_messages = sql.message.convert_all(msg_rows)
        by_id: dict[Any, dict[str, Any]] = {}
        for m in out_messages:
            m["images"] = []
            m["search_results"] = []
            by_id[m["id"]] = m
        for img in sql.image.convert_all(img_rows):
            by_id[img["message_id"]]["images"].append(img)
        for res in sql.result.convert_all(res_rows):
            by_id[res["message_id"]]["search_results"].append(res)
        return {"chat": sql.chat.convert(chat), "messages": out_messages}


__all__ = ["ChatStore"]
