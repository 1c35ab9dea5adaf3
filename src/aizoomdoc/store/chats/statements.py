"""The SQL of the chat store, built once per store (SQLAlchemy Core) and run with parameters.

- Reads select the columns of :class:`~aizoomdoc.store.chats.shape.RowShape` (ISO timestamps and
  text uuids formatted by the database). On SQLite :meth:`Statements.rows` compiles a SELECT once
  and runs it on the sqlite3 connection of the transaction (SQLAlchemy's result machinery costs
  more than the query).
- Single inserts of images and search results are ``INSERT … SELECT FROM chat_messages WHERE id =
  :message_id AND chat_id = :chat_id``: the row lands only under an existing (and, under RLS,
  visible) message of that chat, in one statement.
- On PostgreSQL ``add_message`` is one statement: a data-modifying CTE bumps ``chats.updated_at``
  and the message is inserted only if the chat exists (compiled once for asyncpg, :meth:`pg_sql`).
- Bulk inserts (:class:`BulkInsert`) are ``INSERT … ON CONFLICT (id) DO NOTHING`` run with one
  ``executemany`` on driver-level tuples (the rows of :mod:`aizoomdoc.store.rows` with JSON as
  text and timestamps in the driver's form): SQLAlchemy's per-row parameter processing would cost
  about as much as the insert itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    DateTime,
    Table,
    Text,
    bindparam,
    case,
    delete,
    desc,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect

from aizoomdoc.store.chats.shape import RowShape
from aizoomdoc.store.models import GUID, Chat, ChatImage, ChatMessage, JSONType, SearchResult
from aizoomdoc.store.rows import IMAGE_COLUMNS, MESSAGE_COLUMNS, RESULT_COLUMNS

chats: Table = Chat.__table__  # type: ignore[assignment]
messages: Table = ChatMessage.__table__  # type: ignore[assignment]
images: Table = ChatImage.__table__  # type: ignore[assignment]
results: Table = SearchResult.__table__  # type: ignore[assignment]

_TS = DateTime(timezone=True)

#: SQLite: bump a chat's updated_at (never backwards), on the sqlite3 connection itself.
SQLITE_BUMP = "UPDATE chats SET updated_at = CASE WHEN updated_at < ? THEN ? ELSE updated_at END WHERE id = ?"


class BulkInsert:
    """``INSERT … ON CONFLICT (id) DO NOTHING`` run with ``executemany`` on driver-level values."""

    def __init__(self, table: Table, columns: Sequence[str], dialect: str) -> None:
        self.columns = list(columns)
        if dialect == "sqlite":
            marks = ", ".join("?" for _ in columns)
        else:
            marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        self.sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks}) "
                    f"ON CONFLICT (id) DO NOTHING")

    def run(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        conn.exec_driver_sql(self.sql, rows)


class Statements:
    """Every statement of the chat store for one dialect (``sqlite`` or ``postgresql``)."""

    def __init__(self, dialect: str) -> None:
        pg = self.pg = dialect == "postgresql"
        ins = postgresql.insert if pg else sqlite.insert
        self.chat = RowShape(chats, dialect)
        self.message = RowShape(messages, dialect)
        self.image = RowShape(images, dialect)
        self.result = RowShape(results, dialect)
        self._sqlite_compiled: dict[int, Any] = {}
        self._pg_compiled: dict[int, tuple[str, tuple[str, ...]]] = {}

        # --- writes ---------------------------------------------------------------------------
        ts = bindparam("ts", type_=_TS)
        bump = case((chats.c.updated_at < ts, ts), else_=chats.c.updated_at)
        self.bump_chat = (
            update(chats).where(chats.c.id == bindparam("chat_id", type_=GUID)).values(updated_at=bump)
        )
        self.insert_chat = ins(chats).on_conflict_do_nothing(index_elements=["id"])
        self.add_message_pg: Any = None
        if pg:
            # One round trip: bump the chat and insert the message only if the chat exists (and,
            # under RLS, is visible to the user). Parameters are prefixed "m_": a key naming a
            # column of chats would be SET by the UPDATE as well.
            bumped = self.bump_chat.returning(chats.c.id).cte("bumped")
            source = select(
                bindparam("m_id", type_=GUID), bumped.c.id, bindparam("m_role", type_=Text),
                bindparam("m_content", type_=Text), bindparam("m_message_type", type_=Text),
                bindparam("m_model", type_=Text), bindparam("m_metadata", type_=JSONType), ts,
            ).select_from(bumped)
            self.add_message_pg = (
                ins(messages).from_select(list(MESSAGE_COLUMNS), source)
                .on_conflict_do_nothing(index_elements=["id"]).add_cte(bumped)
            )

        def insert_under_message(table: Table, fields: Sequence[str]) -> Any:
            """INSERT … SELECT FROM chat_messages WHERE id = :message_id AND chat_id = :chat_id."""
            cols = [
                messages.c.chat_id if f == "chat_id" else messages.c.id if f == "message_id"
                else bindparam(f, type_=table.c[f].type)
                for f in fields
            ]
            source = select(*cols).where(
                messages.c.id == bindparam("message_id", type_=GUID),
                messages.c.chat_id == bindparam("chat_id", type_=GUID),
            )
            return ins(table).from_select(list(fields), source).on_conflict_do_nothing(index_elements=["id"])

        self.add_image = insert_under_message(images, IMAGE_COLUMNS)
        self.add_result = insert_under_message(results, RESULT_COLUMNS)
        self.bulk_messages = BulkInsert(messages, MESSAGE_COLUMNS, dialect)
        self.bulk_images = BulkInsert(images, IMAGE_COLUMNS, dialect)
        self.bulk_results = BulkInsert(results, RESULT_COLUMNS, dialect)
        self.delete_chat = delete(chats).where(chats.c.id == bindparam("chat_id", type_=GUID))

        # --- reads ----------------------------------------------------------------------------
        by_chat = bindparam("chat_id", type_=GUID)
        by_msg = bindparam("message_id", type_=GUID)
        C, M, I, R = self.chat.columns, self.message.columns, self.image.columns, self.result.columns
        self.get_chat = select(*C).where(chats.c.id == by_chat)
        self.chat_exists = select(chats.c.id).where(chats.c.id == by_chat)
        self.msgs_all = select(*M).where(messages.c.chat_id == by_chat).order_by(
            messages.c.created_at, messages.c.id)
        self.msgs_newest = select(*M).where(messages.c.chat_id == by_chat).order_by(
            desc(messages.c.created_at), desc(messages.c.id)).limit(bindparam("limit"))
        self.imgs_by_chat = select(*I).where(images.c.chat_id == by_chat).order_by(
            images.c.uploaded_at, images.c.id)
        self.imgs_by_msg = select(*I).where(images.c.message_id == by_msg).order_by(
            images.c.uploaded_at, images.c.id)
        self.res_by_chat = select(*R).where(results.c.chat_id == by_chat).order_by(
            results.c.created_at, results.c.id)
        self.res_by_msg = select(*R).where(results.c.chat_id == by_chat, results.c.message_id == by_msg).order_by(
            results.c.created_at, results.c.id)
        self.msgs_chats = select(messages.c.id, messages.c.chat_id).where(
            messages.c.id.in_(bindparam("ids", expanding=True)))
        # Only the newest N messages (history with a limit).
        newest = select(messages.c.id).where(messages.c.chat_id == by_chat).order_by(
            desc(messages.c.created_at), desc(messages.c.id)).limit(bindparam("limit")).scalar_subquery()
        self.imgs_of_newest = select(*I).where(images.c.chat_id == by_chat, images.c.message_id.in_(newest)).order_by(
            images.c.uploaded_at, images.c.id)
        self.res_of_newest = select(*R).where(results.c.chat_id == by_chat, results.c.message_id.in_(newest)).order_by(
            results.c.created_at, results.c.id)
        by_user = bindparam("user_id", type_=Text)
        self.get_chats = select(*C).where(chats.c.user_id == by_user).order_by(
            desc(chats.c.updated_at), desc(chats.c.id)).limit(bindparam("limit"))
        self.get_chats_active = select(*C).where(chats.c.user_id == by_user, chats.c.is_archived.is_(False)).order_by(
            desc(chats.c.updated_at), desc(chats.c.id)).limit(bindparam("limit"))
        self.row_exists: dict[str, Any] = {
            t.name: select(literal_column("1")).select_from(t).where(t.c.id == bindparam("id", type_=GUID))
            for t in (chats, messages, images, results)
        }

    # --- running -------------------------------------------------------------------------------
    def rows(self, conn: Connection, stmt: Any, params: Mapping[str, Any]) -> list[Any]:
        """All rows of a SELECT; on SQLite straight from the sqlite3 connection of the transaction."""
        if self.pg:
            return conn.execute(stmt, params).all()  # type: ignore[return-value]
        compiled = self._sqlite_compiled.get(id(stmt))
        if compiled is None:
            compiled = self._sqlite_compiled[id(stmt)] = stmt.compile(dialect=conn.dialect)
        values = compiled.construct_params(params)
        args = tuple(values[n] for n in compiled.positiontup or ())
        return conn.connection.driver_connection.execute(compiled.string, args).fetchall()  # type: ignore[union-attr]

    def pg_sql(self, stmt: Any, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
        """A statement compiled once for asyncpg: its SQL ($n placeholders with casts) and the
        parameter names in placeholder order. For paths run on the driver connection."""
        cached = self._pg_compiled.get(id(stmt))
        if cached is None:
            compiled = stmt.compile(dialect=dialect)
            cached = self._pg_compiled[id(stmt)] = (compiled.string, tuple(compiled.positiontup or ()))
        return cached


__all__ = ["SQLITE_BUMP", "BulkInsert", "Statements", "chats", "images", "messages", "results"]
