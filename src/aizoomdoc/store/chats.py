"""ChatStore: chats, messages, images and search results on SQLite or PostgreSQL.

The method names and signatures are those of the original Supabase integration (its users call
them through :mod:`aizoomdoc.supabase_client`). Differences from the original, on purpose:

- rows come back as plain dicts with ISO-8601 timestamps (UTC) and JSON fields decoded;
- failures raise :class:`~aizoomdoc.errors.AizoomdocError` subclasses (unknown chat or message:
  :class:`NotFoundError`; bad id, role, type or empty content: :class:`InvalidInputError`; database
  down: :class:`DatabaseUnavailableError`) instead of returning ``None``;
- every ``add_*``/``create_*`` method accepts a keyword-only ``id=`` (uuid4 string). Writing the
  same id twice is a no-op that returns the id, so offline writes can be replayed idempotently.

How it is fast (see bench/bench_store.py):

- every operation is one synchronous function run by :meth:`Database.run` in one transaction (on
  SQLite one hop to a worker thread per operation, not one per driver call);
- statements are SQLAlchemy Core, built once per store and executed with parameters (no ORM unit
  of work); a single-statement operation runs in autocommit on PostgreSQL (one round trip), and
  ``add_message`` bumps ``chats.updated_at`` in the same statement there (a data-modifying CTE);
- bulk paths hand driver-level tuples to one ``executemany``;
- a chat's history is four queries whatever its size.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    DateTime,
    Table,
    Text,
    bindparam,
    case,
    delete,
    desc,
    func,
    Uuid,
    cast,
    literal_column,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from aizoomdoc.config import Settings
from aizoomdoc.errors import InvalidInputError, NotFoundError
from aizoomdoc.store.database import Database
from aizoomdoc.store.models import GUID, IMAGE_TYPES, JSONType, MESSAGE_ROLES, SYNC_STATES, Chat, ChatImage, \
    ChatMessage, SearchResult

log = logging.getLogger(__name__)
T = TypeVar("T")

chats: Table = Chat.__table__  # type: ignore[assignment]
messages: Table = ChatMessage.__table__  # type: ignore[assignment]
images: Table = ChatImage.__table__  # type: ignore[assignment]
results: Table = SearchResult.__table__  # type: ignore[assignment]

MAX_LIMIT = 10_000
_IN_CHUNK = 500
_UPDATABLE_CHAT_FIELDS = ("title", "description", "document_path", "is_archived", "metadata")
_TS = DateTime(timezone=True)


# ----------------------------------------------------------------------------------------------
# Time: client-side UTC timestamps, strictly increasing within the process so that rows written
# one after another (or in one bulk call) keep their order.
# ----------------------------------------------------------------------------------------------
_clock_lock = threading.Lock()
_last_ts = datetime(1970, 1, 1, tzinfo=UTC)


def utcnow(count: int = 1) -> datetime:
    """A UTC timestamp later than any returned before; reserves ``count`` consecutive microseconds."""
    global _last_ts
    with _clock_lock:
        now = datetime.now(UTC)
        if now <= _last_ts:
            now = _last_ts + timedelta(microseconds=1)
        _last_ts = now + timedelta(microseconds=count - 1)
        return now


# ----------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def _uuid(value: Any, field: str) -> str:
    """``value`` as a canonical (lower-case, hyphenated) uuid string, or InvalidInputError."""
    if isinstance(value, str):
        if _CANONICAL_UUID.match(value):
            return value
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    elif isinstance(value, uuid.UUID):
        return str(value)
    raise InvalidInputError("store.bad_id", field=field, value=_short(value))


class _UuidMemo:
    """:func:`_uuid` remembering its answers: bulk rows repeat the same chat and message ids."""

    def __init__(self) -> None:
        self._seen: dict[Any, str] = {}

    def __call__(self, value: Any, field: str) -> str:
        try:
            return self._seen[value]
        except KeyError:
            result = self._seen[value] = _uuid(value, field)
            return result
        except TypeError:  # unhashable: certainly not an id
            return _uuid(value, field)


def new_ids(count: int) -> list[str]:
    """``count`` random uuid4 strings (one urandom call; several times faster than uuid.uuid4())."""
    raw = bytearray(os.urandom(16 * count))
    out = []
    for i in range(0, 16 * count, 16):
        raw[i + 6] = (raw[i + 6] & 0x0F) | 0x40  # version 4
        raw[i + 8] = (raw[i + 8] & 0x3F) | 0x80  # RFC 4122 variant
        h = raw[i:i + 16].hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def _new_or_given_id(value: Any) -> str:
    return new_ids(1)[0] if value is None else _uuid(value, "id")


def _short(value: Any) -> str:
    text_ = str(value)
    return text_ if len(text_) <= 60 else text_[:57] + "..."


def _text(value: Any, field: str, *, required: bool = True, allow_empty: bool = False) -> str | None:
    if value is None:
        if required:
            raise InvalidInputError("store.empty", field=field)
        return None
    if not isinstance(value, str):
        raise InvalidInputError("store.bad_type", field=field, expected="строкой", got=type(value).__name__)
    if not allow_empty and not value.strip():
        raise InvalidInputError("store.empty", field=field)
    return value


def _choice(value: Any, allowed: tuple[str, ...], key: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInputError(key, value=_short(value), allowed=", ".join(allowed))
    return value


def _json(value: Any, field: str) -> Any:
    if value is None:
        return None
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("store.not_json", field=field, detail=str(exc)) from None
    return value


def _int(value: Any, field: str, minimum: int = 0) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError("store.bad_number", field=field, minimum=minimum, value=_short(value))
    return value


def _score(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInputError("store.bad_type", field="score", expected="числом", got=_short(value))
    return float(value)


def _limit(value: Any, *, optional: bool) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise InvalidInputError("store.bad_limit", maximum=MAX_LIMIT, value=_short(value))
    return value


def _rows_list(rows: Any) -> list[Mapping[str, Any]]:
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
        raise InvalidInputError("store.bulk_not_list", got=type(rows).__name__)
    out = list(rows)
    for row in out:
        if not isinstance(row, Mapping):
            raise InvalidInputError("store.bulk_not_list", got=type(row).__name__)
    return out


def _required(row: Mapping[str, Any], index: int, field: str) -> Any:
    if field not in row:
        raise InvalidInputError("store.missing_field", index=index, field=field)
    return row[field]


# ----------------------------------------------------------------------------------------------
# Rows -> dicts, per dialect. SQLite keeps timestamps as text ("YYYY-MM-DD HH:MM:SS.ffffff", UTC):
# they are selected as text and turned into ISO 8601 by string operations (parsing them into
# datetimes only to print them again costs more than the query). PostgreSQL returns datetimes.
# ----------------------------------------------------------------------------------------------
#: ISO 8601 in UTC, formatted by the database (cheaper than converting datetimes in Python).
_PG_ISO_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'


class _RowShape:
    """The columns to select from a table on one dialect and a fast rows -> dicts conversion.

    Timestamps come as ISO 8601 text and uuids as text, formatted by the database. JSON columns
    come as text and are decoded per column in one ``json.loads`` call over all rows (the
    per-call overhead of ``json.loads`` is most of its cost for small values like coordinates).
    """

    def __init__(self, table: Table, dialect: str) -> None:
        sqlite_ = dialect == "sqlite"
        self.names = [c.name for c in table.c]
        self.json_names: list[str] = []
        self.columns: list[Any] = []
        for c in table.c:
            if isinstance(c.type, DateTime):
                if sqlite_:
                    # Stored as "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC).
                    expr: Any = func.replace(type_coerce(c, Text), literal_column("' '"),
                                             literal_column("'T'")).concat(literal_column("'+00:00'"))
                else:
                    expr = func.to_char(func.timezone(literal_column("'UTC'"), c),
                                        literal_column(f"'{_PG_ISO_FORMAT}'"))
                self.columns.append(type_coerce(expr, Text).label(c.name))
            elif c.type._type_affinity is JSON:
                self.json_names.append(c.name)
                expr = type_coerce(c, Text) if sqlite_ else cast(c, Text)
                self.columns.append(type_coerce(expr, Text).label(c.name))
            elif not sqlite_ and c.type._type_affinity is Uuid:
                self.columns.append(cast(c, Text).label(c.name))
            else:
                self.columns.append(c)

    def convert(self, row: Any) -> dict[str, Any]:
        return self.convert_all([row])[0]

    def convert_all(self, rows: Iterable[Any]) -> list[dict[str, Any]]:
        names = self.names
        out = [dict(zip(names, row)) for row in rows]
        for name in self.json_names:
            present = [d for d in out if d[name] is not None]
            if present:
                for d, value in zip(present, _loads_many([d[name] for d in present])):
                    d[name] = value
        return out


def _loads_many(texts: list[str]) -> list[Any]:
    """Decode many JSON texts with one parser call; value by value if that does not add up."""
    if len(texts) > 1:
        try:
            values = json.loads("[" + ",".join(texts) + "]")
            if len(values) == len(texts):
                return values
        except ValueError:
            pass
    out = []
    for text_ in texts:
        try:
            out.append(json.loads(text_))
        except ValueError:
            log.warning("a JSON field in the database is not valid JSON; returned as text")
            out.append(text_)
    return out


class _BulkInsert:
    """``INSERT … ON CONFLICT (id) DO NOTHING`` run with ``executemany`` on driver-level values.

    SQLAlchemy's per-row parameter processing costs about as much as the insert itself, so bulk
    paths build the driver's values directly: text uuids, JSON serialised once, timestamps in the
    dialect's storage form.
    """

    def __init__(self, table: Table, columns: list[str], dialect: str) -> None:
        self.columns = columns
        if dialect == "sqlite":
            marks = ", ".join("?" for _ in columns)
        else:
            marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        self.sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks}) "
                    f"ON CONFLICT (id) DO NOTHING")

    def run(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        conn.exec_driver_sql(self.sql, rows)


_SQLITE_BUMP = "UPDATE chats SET updated_at = CASE WHEN updated_at < ? THEN ? ELSE updated_at END WHERE id = ?"

_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def _json_text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    try:
        return _JSON.encode(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("store.not_json", field=field, detail=str(exc)) from None


def _sqlite_ts(value: datetime) -> str:
    # The storage format of SQLAlchemy's SQLite DateTime (UTC; sorts as text).
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _timestamps(start: datetime, count: int, sqlite_: bool) -> list[Any]:
    """``count`` timestamps 1 µs apart from ``start``, as the driver stores them."""
    if not sqlite_:
        return [start + timedelta(microseconds=i) for i in range(count)]
    prefix = _sqlite_ts(start)[:-7]
    micro0 = start.microsecond
    if micro0 + count <= 1_000_000:  # the common case: all within the same second
        return [f"{prefix}.{micro0 + i:06d}" for i in range(count)]
    return [_sqlite_ts(start + timedelta(microseconds=i)) for i in range(count)]


def validate_chat_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an ``update_chat`` call, checked and normalised (InvalidInputError if not)."""
    if not fields:
        raise InvalidInputError("store.no_fields")
    unknown = sorted(set(fields) - set(_UPDATABLE_CHAT_FIELDS))
    if unknown:
        raise InvalidInputError("store.unknown_fields", fields=", ".join(unknown),
                                allowed=", ".join(_UPDATABLE_CHAT_FIELDS))
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "title":
            value = _text(value, "title")
        elif name == "is_archived":
            if not isinstance(value, bool):
                raise InvalidInputError("store.bad_type", field=name, expected="true/false",
                                        got=type(value).__name__)
        elif name == "metadata":
            value = _json(value, "metadata")
        else:
            value = _text(value, name, required=False, allow_empty=True)
        values[name] = value
    return values


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
        self._insert = postgresql.insert if self._pg else sqlite.insert
        self._sqlite_sql: dict[int, Any] = {}
        self._pg_compiled: dict[int, tuple[str, tuple[str, ...]]] = {}
        self._build_statements()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ChatStore:
        return cls(Database(settings))

    def for_user(self, user_id: str) -> ChatStore:
        """The same store acting as ``user_id`` (RLS on PostgreSQL)."""
        view = object.__new__(ChatStore)
        view.__dict__.update(self.__dict__)
        view.user_id = _text(user_id, "user_id")
        return view

    async def close(self) -> None:
        await self.db.dispose()

    def is_connected(self) -> bool:
        """Whether the database answers right now (synchronous; a real connection attempt)."""
        return self.db.ping()

    # --- statements, built once per store -----------------------------------------------------
    def _build_statements(self) -> None:
        dialect = self.db.dialect
        ins = self._insert
        self._chat = _RowShape(chats, dialect)
        self._msg = _RowShape(messages, dialect)
        self._img = _RowShape(images, dialect)
        self._res = _RowShape(results, dialect)

        ts = bindparam("ts", type_=_TS)
        bump = case((chats.c.updated_at < ts, ts), else_=chats.c.updated_at)
        self._bump_chat = (
            update(chats).where(chats.c.id == bindparam("chat_id", type_=GUID)).values(updated_at=bump)
        )
        self._insert_chat = ins(chats).on_conflict_do_nothing(index_elements=["id"])
        self._insert_message = ins(messages).on_conflict_do_nothing(index_elements=["id"])
        msg_cols = ["id", "chat_id", "role", "content", "message_type", "model", "metadata", "created_at"]
        if self._pg:
            # One round trip: bump the chat and insert the message only if the chat exists (and,
            # under RLS, is visible to the user). Parameters are prefixed "m_": a key naming a
            # column of chats would be SET by the UPDATE as well.
            bumped = self._bump_chat.returning(chats.c.id).cte("bumped")
            source = select(
                bindparam("m_id", type_=GUID), bumped.c.id, bindparam("m_role", type_=Text),
                bindparam("m_content", type_=Text), bindparam("m_message_type", type_=Text),
                bindparam("m_model", type_=Text), bindparam("m_metadata", type_=JSONType), ts,
            ).select_from(bumped)
            self._add_message_pg = (
                ins(messages).from_select(msg_cols, source)
                .on_conflict_do_nothing(index_elements=["id"]).add_cte(bumped)
            )

        def insert_under_message(table: Table, fields: list[str]) -> Any:
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
            return ins(table).from_select(fields, source).on_conflict_do_nothing(index_elements=["id"])

        self._img_fields = ["id", "chat_id", "message_id", "image_name", "s3_path", "s3_url", "image_type",
                            "description", "width", "height", "file_size", "page_number", "coords_norm",
                            "uploaded_at", "sync_state"]
        self._res_fields = ["id", "chat_id", "message_id", "document_id", "block_id", "page_number",
                            "block_text", "coords_norm", "coords_px", "score", "created_at"]
        self._add_image = insert_under_message(images, self._img_fields)
        self._add_result = insert_under_message(results, self._res_fields)
        self._bulk_messages = _BulkInsert(messages, msg_cols, dialect)
        self._bulk_images = _BulkInsert(images, self._img_fields, dialect)
        self._bulk_results = _BulkInsert(results, self._res_fields, dialect)

        by_chat = bindparam("chat_id", type_=GUID)
        by_msg = bindparam("message_id", type_=GUID)
        C, M, I, R = self._chat.columns, self._msg.columns, self._img.columns, self._res.columns
        self._get_chat = select(*C).where(chats.c.id == by_chat)
        self._chat_exists = select(chats.c.id).where(chats.c.id == by_chat)
        self._msgs_all = select(*M).where(messages.c.chat_id == by_chat).order_by(
            messages.c.created_at, messages.c.id)
        self._msgs_newest = select(*M).where(messages.c.chat_id == by_chat).order_by(
            desc(messages.c.created_at), desc(messages.c.id)).limit(bindparam("limit"))
        self._imgs_by_chat = select(*I).where(images.c.chat_id == by_chat).order_by(
            images.c.uploaded_at, images.c.id)
        self._imgs_by_msg = select(*I).where(images.c.message_id == by_msg).order_by(
            images.c.uploaded_at, images.c.id)
        self._res_by_chat = select(*R).where(results.c.chat_id == by_chat).order_by(
            results.c.created_at, results.c.id)
        self._res_by_msg = select(*R).where(results.c.chat_id == by_chat, results.c.message_id == by_msg).order_by(
            results.c.created_at, results.c.id)
        self._msgs_chats = select(messages.c.id, messages.c.chat_id).where(
            messages.c.id.in_(bindparam("ids", expanding=True)))
        # Only the newest N messages (history with a limit).
        newest = select(messages.c.id).where(messages.c.chat_id == by_chat).order_by(
            desc(messages.c.created_at), desc(messages.c.id)).limit(bindparam("limit")).scalar_subquery()
        self._imgs_of_newest = select(*I).where(images.c.chat_id == by_chat, images.c.message_id.in_(newest)).order_by(
            images.c.uploaded_at, images.c.id)
        self._res_of_newest = select(*R).where(results.c.chat_id == by_chat, results.c.message_id.in_(newest)).order_by(
            results.c.created_at, results.c.id)
        by_user = bindparam("user_id", type_=Text)
        self._get_chats = select(*C).where(chats.c.user_id == by_user).order_by(
            desc(chats.c.updated_at), desc(chats.c.id)).limit(bindparam("limit"))
        self._get_chats_active = select(*C).where(chats.c.user_id == by_user, chats.c.is_archived.is_(False)).order_by(
            desc(chats.c.updated_at), desc(chats.c.id)).limit(bindparam("limit"))
        self._delete_chat = delete(chats).where(chats.c.id == by_chat)
        self._row_exists = {
            t.name: select(literal_column("1")).select_from(t).where(t.c.id == bindparam("id", type_=GUID))
            for t in (chats, messages, images, results)
        }

    # --- plumbing -------------------------------------------------------------------------
    def _pg_sql(self, stmt: Any) -> tuple[str, tuple[str, ...]]:
        """A statement compiled once for asyncpg: its SQL ($n placeholders with casts) and the
        parameter names in placeholder order. For paths run on the driver connection."""
        cached = self._pg_compiled.get(id(stmt))
        if cached is None:
            compiled = stmt.compile(dialect=self.db.engine.dialect)
            cached = self._pg_compiled[id(stmt)] = (compiled.string, tuple(compiled.positiontup or ()))
        return cached

    async def _ready(self) -> None:
        if self.auto_migrate and not self.db.schema_ready:
            from aizoomdoc.store import migrate

            await migrate.ensure_schema(self.db)

    async def _run(self, fn: Callable[[Connection], T], *, single: bool = False) -> T:
        """``fn(connection)`` in one transaction as the store's user; ``single``: one statement."""
        await self._ready()
        return await self.db.run(fn, user_id=self.user_id, autocommit=single)

    def _rows(self, conn: Connection, stmt: Any, params: Mapping[str, Any]) -> list[Any]:
        """All rows of a SELECT. On SQLite the statement is compiled once and run on the sqlite3
        connection of the transaction (SQLAlchemy's result machinery costs more than the query)."""
        if self._pg:
            return conn.execute(stmt, params).all()
        compiled = self._sqlite_sql.get(id(stmt))
        if compiled is None:
            compiled = self._sqlite_sql[id(stmt)] = stmt.compile(dialect=conn.dialect)
        values = compiled.construct_params(params)
        args = tuple(values[n] for n in compiled.positiontup or ())
        return conn.connection.driver_connection.execute(compiled.string, args).fetchall()

    def _exists(self, conn: Connection, table: Table, id_: str) -> bool:
        return conn.execute(self._row_exists[table.name], {"id": id_}).first() is not None

    def _require_chat(self, conn: Connection, chat_id: str) -> None:
        if conn.execute(self._chat_exists, {"chat_id": chat_id}).first() is None:
            raise NotFoundError("store.chat_not_found", chat_id=chat_id)

    def _missing_message(self, conn: Connection, chat_id: str, message_id: str) -> NotFoundError:
        if conn.execute(self._chat_exists, {"chat_id": chat_id}).first() is None:
            return NotFoundError("store.chat_not_found", chat_id=chat_id)
        return NotFoundError("store.message_not_found", chat_id=chat_id, message_id=message_id)

    def _check_messages(self, conn: Connection, pairs: dict[str, str]) -> None:
        """Every message_id -> chat_id of ``pairs`` names an existing (visible) message of that chat."""
        found: dict[str, str] = {}
        ids = list(pairs)
        for i in range(0, len(ids), _IN_CHUNK):
            for mid, cid in conn.execute(self._msgs_chats, {"ids": ids[i:i + _IN_CHUNK]}).all():
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
        now = utcnow()
        params = {
            "id": _new_or_given_id(id),
            "user_id": _text(user_id, "user_id"),
            "title": _text(title, "title"),
            "description": _text(description, "description", required=False, allow_empty=True),
            "document_path": _text(document_path, "document_path", required=False, allow_empty=True),
            "is_archived": False,
            "metadata": _json(metadata, "metadata"),
            "created_at": now,
            "updated_at": now,
        }
        await self._run(lambda conn: conn.execute(self._insert_chat, params), single=True)
        return params["id"]

    async def get_chat(self, chat_id: str) -> dict[str, Any] | None:
        """The chat as a dict, or None when there is no such chat (or it is not the user's)."""
        p = {"chat_id": _uuid(chat_id, "chat_id")}
        row = await self._run(lambda conn: conn.execute(self._get_chat, p).first(), single=True)
        return self._chat.convert(row) if row is not None else None

    async def get_chats(self, user_id: str, limit: int = 50, include_archived: bool = False) -> list[dict[str, Any]]:
        """The user's chats, most recently updated first (archived ones only if asked)."""
        p = {"user_id": _text(user_id, "user_id"), "limit": _limit(limit, optional=False)}
        stmt = self._get_chats if include_archived else self._get_chats_active
        rows = await self._run(lambda conn: conn.execute(stmt, p).all(), single=True)
        return self._chat.convert_all(rows)

    async def update_chat(self, chat_id: str, **fields: Any) -> dict[str, Any]:
        """Change title, description, document_path, is_archived and/or metadata; returns the chat."""
        chat_id = _uuid(chat_id, "chat_id")
        values: dict[str, Any] = validate_chat_fields(fields)
        values["updated_at"] = utcnow()
        stmt = update(chats).where(chats.c.id == chat_id).values(**values).returning(*self._chat.columns)
        row = await self._run(lambda conn: conn.execute(stmt).first(), single=True)
        if row is None:
            raise NotFoundError("store.chat_not_found", chat_id=chat_id)
        return self._chat.convert(row)

    async def archive_chat(self, chat_id: str) -> bool:
        """Mark the chat archived (hidden from :meth:`get_chats` by default). Returns True."""
        await self.update_chat(chat_id, is_archived=True)
        return True

    async def delete_chat(self, chat_id: str) -> bool:
        """Delete the chat with its messages, images and search results. Returns True."""
        p = {"chat_id": _uuid(chat_id, "chat_id")}
        count = await self._run(lambda conn: conn.execute(self._delete_chat, p).rowcount, single=True)
        if count == 0:
            raise NotFoundError("store.chat_not_found", chat_id=p["chat_id"])
        return True

    # ==========================================================================================
    # Messages
    # ==========================================================================================
    @staticmethod
    def _message_params(chat_id: str, role: Any, content: Any, message_type: Any, model: Any,
                        metadata: Any, id_: Any, created_at: datetime) -> dict[str, Any]:
        return {
            "id": _new_or_given_id(id_),
            "chat_id": chat_id,
            "role": _choice(role, MESSAGE_ROLES, "store.bad_role"),
            "content": _text(content, "content"),
            "message_type": _text(message_type, "message_type"),
            "model": _text(model, "model", required=False, allow_empty=True),
            "metadata": _json(metadata, "metadata"),
            "created_at": created_at,
        }

    async def add_message(self, chat_id: str, role: str, content: str, message_type: str = "text",
                          model: str | None = None, metadata: Any = None, *, id: str | None = None) -> str:
        """Add a message (role user|assistant|system|tool) and bump the chat's ``updated_at``."""
        chat_id = _uuid(chat_id, "chat_id")
        params = self._message_params(chat_id, role, content, message_type, model, metadata, id, utcnow())
        message_id = params["id"]

        if self._pg:
            # One statement on the asyncpg connection itself (see _pg_sql).
            pg_params = {f"m_{k}": v for k, v in params.items()}
            pg_params["m_metadata"] = _json_text(metadata, "metadata")
            pg_params["chat_id"] = chat_id
            pg_params["ts"] = params["created_at"]
            sql, names = self._pg_sql(self._add_message_pg)
            args = [pg_params[n] for n in names]

            async def work_pg(driver: Any) -> None:
                if (await driver.execute(sql, *args)).endswith(" 0"):
                    exists = await driver.fetchval(self._pg_sql(self._row_exists["chat_messages"])[0], message_id)
                    if exists is None:
                        raise NotFoundError("store.chat_not_found", chat_id=chat_id)

            await self._ready()
            await self.db.run_driver(work_pg, user_id=self.user_id)
            return message_id

        # SQLite: the two statements go straight to the sqlite3 connection of the transaction
        # (SQLAlchemy's per-statement bookkeeping costs more than SQLite's work here).
        ts = _sqlite_ts(params["created_at"])
        row = (message_id, chat_id, params["role"], params["content"], params["message_type"], params["model"],
               _json_text(metadata, "metadata"), ts)

        def work_sqlite(conn: Connection) -> None:
            driver = conn.connection.driver_connection
            if driver.execute(_SQLITE_BUMP, (ts, ts, chat_id)).rowcount == 0:
                raise NotFoundError("store.chat_not_found", chat_id=chat_id)
            driver.execute(self._bulk_messages.sql, row)

        await self._run(work_sqlite)
        return message_id

    async def add_messages_bulk(self, chat_id: str, messages_: Sequence[Mapping[str, Any]]) -> list[str]:
        """Add many messages to one chat in one transaction (one executemany). Returns their ids.

        Each item has ``role`` and ``content`` and optionally ``message_type``, ``model``,
        ``metadata``, ``id``; they are stored in the given order.
        """
        chat_id = _uuid(chat_id, "chat_id")
        items = _rows_list(messages_)
        if not items:
            return []
        start = utcnow(len(items))
        last = start + timedelta(microseconds=len(items) - 1)
        stamps = _timestamps(start, len(items), not self._pg)
        ids = new_ids(len(items))
        rows = []
        for i, m in enumerate(items):
            given = m.get("id")
            rows.append((
                ids[i] if given is None else _uuid(given, "id"), chat_id,
                _choice(_required(m, i, "role"), MESSAGE_ROLES, "store.bad_role"),
                _text(_required(m, i, "content"), "content"),
                _text(m.get("message_type", "text"), "message_type"),
                _text(m.get("model"), "model", required=False, allow_empty=True),
                _json_text(m.get("metadata"), "metadata"),
                stamps[i],
            ))

        def work(conn: Connection) -> None:
            if conn.execute(self._bump_chat, {"chat_id": chat_id, "ts": last}).rowcount == 0:
                raise NotFoundError("store.chat_not_found", chat_id=chat_id)
            self._bulk_messages.run(conn, rows)

        await self._run(work)
        return [r[0] for r in rows]

    async def get_chat_messages(self, chat_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The chat's messages, oldest first; with ``limit``, only the newest ``limit`` of them."""
        p = {"chat_id": _uuid(chat_id, "chat_id"), "limit": _limit(limit, optional=True)}

        def work(conn: Connection) -> list[Any]:
            if p["limit"] is None:
                rows = self._rows(conn, self._msgs_all, p)
            else:
                rows = self._rows(conn, self._msgs_newest, p)
                rows.reverse()
            if not rows:
                self._require_chat(conn, p["chat_id"])
            return rows

        return self._msg.convert_all(await self._run(work))

    # ==========================================================================================
    # Images
    # ==========================================================================================
    @staticmethod
    def _image_values(row: Mapping[str, Any], new_id: str | None = None) -> dict[str, Any]:
        """Validated image fields (without timestamps and JSON encoding)."""
        given = row.get("id")
        return {
            "id": _new_or_given_id(given) if new_id is None or given is not None else new_id,
            "chat_id": _uuid(row.get("chat_id"), "chat_id"),
            "message_id": _uuid(row.get("message_id"), "message_id"),
            "image_name": _text(row.get("image_name"), "image_name"),
            "s3_path": _text(row.get("s3_path"), "s3_path"),
            "s3_url": _text(row.get("s3_url"), "s3_url", required=False, allow_empty=True),
            "image_type": _choice(row.get("image_type", "viewport"), IMAGE_TYPES, "store.bad_image_type"),
            "description": _text(row.get("description"), "description", required=False, allow_empty=True),
            "width": _int(row.get("width"), "width"),
            "height": _int(row.get("height"), "height"),
            "file_size": _int(row.get("file_size"), "file_size"),
            "page_number": _int(row.get("page_number"), "page_number"),
            "coords_norm": row.get("coords_norm"),
            "sync_state": _choice(row.get("sync_state", "synced"), SYNC_STATES, "store.bad_sync_state"),
        }

    async def add_image_to_message(self, chat_id: str, message_id: str, image_name: str, s3_path: str,
                                   s3_url: str | None, image_type: str = "viewport",
                                   description: str | None = None, width: int | None = None,
                                   height: int | None = None, file_size: int | None = None,
                                   page_number: int | None = None, coords_norm: Any = None, *,
                                   id: str | None = None, sync_state: str = "synced") -> str:
        """Record an image (stored under ``s3_path``) shown with a message of the chat."""
        params = self._image_values({
            "id": id, "chat_id": chat_id, "message_id": message_id, "image_name": image_name,
            "s3_path": s3_path, "s3_url": s3_url, "image_type": image_type, "description": description,
            "width": width, "height": height, "file_size": file_size, "page_number": page_number,
            "coords_norm": coords_norm, "sync_state": sync_state,
        })
        params["coords_norm"] = _json(params["coords_norm"], "coords_norm")
        params["uploaded_at"] = utcnow()

        def work(conn: Connection) -> None:
            if conn.execute(self._add_image, params).rowcount == 0:
                if self._exists(conn, images, params["id"]):
                    return
                raise self._missing_message(conn, params["chat_id"], params["message_id"])

        await self._run(work, single=True)
        return params["id"]

    async def add_images_bulk(self, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        """Record many images in one transaction (one executemany). Keys as in
        :meth:`add_image_to_message`; every (chat_id, message_id) must exist. Returns the ids."""
        items = _rows_list(rows)
        if not items:
            return []
        stamps = _timestamps(utcnow(len(items)), len(items), not self._pg)
        ids = new_ids(len(items))
        values: list[tuple[Any, ...]] = []
        pairs: dict[str, str] = {}
        uid = _UuidMemo()
        image_types, sync_states = frozenset(IMAGE_TYPES), frozenset(SYNC_STATES)
        for i, row in enumerate(items):
            for field in ("chat_id", "message_id", "image_name", "s3_path"):
                _required(row, i, field)
            get = row.get
            # The usual row (strings, non-negative ints, known type) passes the fast checks; any
            # other goes through the full validation of add_image_to_message.
            image_name, s3_path, s3_url = get("image_name"), get("s3_path"), get("s3_url")
            description, image_type = get("description"), get("image_type", "viewport")
            sync_state = get("sync_state", "synced")
            numbers = (get("width"), get("height"), get("file_size"), get("page_number"))
            usual = (type(image_name) is str and image_name.strip() != "" and type(s3_path) is str
                     and s3_path.strip() != "" and (s3_url is None or type(s3_url) is str)
                     and (description is None or type(description) is str) and image_type in image_types
                     and sync_state in sync_states
                     and all(n is None or (type(n) is int and n >= 0) for n in numbers))
            if not usual:
                self._image_values(row, ids[i])  # raises the precise InvalidInputError
            given = get("id")
            chat_id, message_id = uid(get("chat_id"), "chat_id"), uid(get("message_id"), "message_id")
            pairs[message_id] = chat_id
            values.append((
                ids[i] if given is None else _uuid(given, "id"), chat_id, message_id, image_name, s3_path,
                s3_url, image_type, description, *numbers, _json_text(get("coords_norm"), "coords_norm"),
                stamps[i], sync_state,
            ))

        def work(conn: Connection) -> None:
            self._check_messages(conn, pairs)
            self._bulk_images.run(conn, values)

        await self._run(work)
        return [v[0] for v in values]

    async def get_message_images(self, message_id: str) -> list[dict[str, Any]]:
        """The images of one message, in the order they were added."""
        p = {"message_id": _uuid(message_id, "message_id")}

        def work(conn: Connection) -> list[Any]:
            rows = self._rows(conn, self._imgs_by_msg, p)
            if not rows and not self._exists(conn, messages, p["message_id"]):
                raise NotFoundError("store.message_not_found_any", message_id=p["message_id"])
            return rows

        return self._img.convert_all(await self._run(work))

    async def get_chat_images(self, chat_id: str) -> list[dict[str, Any]]:
        """All images of a chat, in the order they were added."""
        p = {"chat_id": _uuid(chat_id, "chat_id")}

        def work(conn: Connection) -> list[Any]:
            rows = self._rows(conn, self._imgs_by_chat, p)
            if not rows:
                self._require_chat(conn, p["chat_id"])
            return rows

        return self._img.convert_all(await self._run(work))

    # ==========================================================================================
    # Search results
    # ==========================================================================================
    @staticmethod
    def _result_values(row: Mapping[str, Any], new_id: str | None = None) -> dict[str, Any]:
        given = row.get("id")
        return {
            "id": _new_or_given_id(given) if new_id is None or given is not None else new_id,
            "chat_id": _uuid(row.get("chat_id"), "chat_id"),
            "message_id": _uuid(row.get("message_id"), "message_id"),
            "document_id": _text(_str_or_none(row.get("document_id")), "document_id", required=False),
            "block_id": _text(_str_or_none(row.get("block_id")), "block_id"),
            "page_number": _int(row.get("page_number"), "page_number"),
            "block_text": _text(row.get("block_text", ""), "block_text", allow_empty=True),
            "coords_norm": row.get("coords_norm"),
            "coords_px": row.get("coords_px"),
            "score": _score(row.get("score")),
        }

    async def add_search_result(self, chat_id: str, message_id: str, block_id: str, page_number: int | None,
                                block_text: str, coords_norm: Any, coords_px: Any,
                                document_id: str | None = None, score: float | None = None, *,
                                id: str | None = None) -> str:
        """Record one search hit (block, page, coordinates) found for a message."""
        params = self._result_values({
            "id": id, "chat_id": chat_id, "message_id": message_id, "block_id": block_id,
            "page_number": page_number, "block_text": block_text, "coords_norm": coords_norm,
            "coords_px": coords_px, "document_id": document_id, "score": score,
        })
        params["coords_norm"] = _json(params["coords_norm"], "coords_norm")
        params["coords_px"] = _json(params["coords_px"], "coords_px")
        params["created_at"] = utcnow()

        def work(conn: Connection) -> None:
            if conn.execute(self._add_result, params).rowcount == 0:
                if self._exists(conn, results, params["id"]):
                    return
                raise self._missing_message(conn, params["chat_id"], params["message_id"])

        await self._run(work, single=True)
        return params["id"]

    async def add_search_results_bulk(self, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        """Record many hits in one transaction (one executemany); keys as in
        :meth:`add_search_result`. Returns the ids in the given order."""
        items = _rows_list(rows)
        if not items:
            return []
        stamps = _timestamps(utcnow(len(items)), len(items), not self._pg)
        ids = new_ids(len(items))
        values: list[tuple[Any, ...]] = []
        pairs: dict[str, str] = {}
        uid = _UuidMemo()
        encode = _json_text
        # The same checks as add_search_result, with fast paths for the usual types: this loop is
        # the bulk path's own cost (the insert itself is one executemany).
        for i, row in enumerate(items):
            for field in ("chat_id", "message_id", "block_id"):
                _required(row, i, field)
            get = row.get
            given = get("id")
            block_id = get("block_id")
            if type(block_id) is not str or not block_id.strip():
                block_id = _text(_str_or_none(block_id), "block_id")
            document_id = get("document_id")
            if document_id is not None and type(document_id) is not str:
                document_id = _text(_str_or_none(document_id), "document_id", required=False)
            page = get("page_number")
            if page is not None and (type(page) is not int or page < 0):
                page = _int(page, "page_number")
            block_text = get("block_text", "")
            if type(block_text) is not str:
                block_text = _text(block_text, "block_text", allow_empty=True)
            score = get("score")
            if score is not None and (type(score) is not float or not math.isfinite(score)):
                score = _score(score)
            chat_id, message_id = uid(get("chat_id"), "chat_id"), uid(get("message_id"), "message_id")
            pairs[message_id] = chat_id
            values.append((
                ids[i] if given is None else _uuid(given, "id"), chat_id, message_id, document_id, block_id,
                page, block_text, encode(get("coords_norm"), "coords_norm"), encode(get("coords_px"), "coords_px"),
                score, stamps[i],
            ))

        def work(conn: Connection) -> None:
            self._check_messages(conn, pairs)
            self._bulk_results.run(conn, values)

        await self._run(work)
        return [v[0] for v in values]

    async def get_search_results(self, chat_id: str, message_id: str | None = None) -> list[dict[str, Any]]:
        """The chat's search hits (optionally of one message), in the order they were stored."""
        p = {"chat_id": _uuid(chat_id, "chat_id"),
             "message_id": None if message_id is None else _uuid(message_id, "message_id")}

        def work(conn: Connection) -> list[Any]:
            if p["message_id"] is None:
                rows = self._rows(conn, self._res_by_chat, p)
                if not rows:
                    self._require_chat(conn, p["chat_id"])
                return rows
            rows = self._rows(conn, self._res_by_msg, p)
            if not rows:  # a message of another chat (or user) is not found either, never []
                self._check_messages(conn, {p["message_id"]: p["chat_id"]})
            return rows

        return self._res.convert_all(await self._run(work))

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
        p = {"chat_id": _uuid(chat_id, "chat_id"), "limit": _limit(limit, optional=True)}

        def work(conn: Connection) -> tuple[Any, list[Any], list[Any], list[Any]]:
            chat_row = conn.execute(self._get_chat, p).first()
            if chat_row is None:
                raise NotFoundError("store.chat_not_found", chat_id=p["chat_id"])
            if p["limit"] is None:
                return (chat_row, self._rows(conn, self._msgs_all, p),
                        self._rows(conn, self._imgs_by_chat, p), self._rows(conn, self._res_by_chat, p))
            msg_rows = self._rows(conn, self._msgs_newest, p)
            msg_rows.reverse()
            return (chat_row, msg_rows, self._rows(conn, self._imgs_of_newest, p),
                    self._rows(conn, self._res_of_newest, p))

        chat_row, msg_rows, img_rows, res_rows = await self._run(work)
        out_messages = self._msg.convert_all(msg_rows)
        by_id: dict[Any, dict[str, Any]] = {}
        for m in out_messages:
            m["images"] = []
            m["search_results"] = []
            by_id[m["id"]] = m
        for img in self._img.convert_all(img_rows):
            by_id[img["message_id"]]["images"].append(img)
        for res in self._res.convert_all(res_rows):
            by_id[res["message_id"]]["search_results"].append(res)
        return {"chat": self._chat.convert(chat_row), "messages": out_messages}


def _str_or_none(value: Any) -> Any:
    """Block and document ids may come as numbers from readers; store them as text."""
    if isinstance(value, (int, uuid.UUID)) and not isinstance(value, bool):
        return str(value)
    return value


__all__ = ["ChatStore", "utcnow"]
