"""The per-chat event log (live progress, replayable) and hashed API tokens.

``chat_events`` keeps every progress event of a chat's questions, numbered per chat (``seq`` 1,
2, 3 …). Any process sharing the database can append and read them, so a client that reconnects
to another worker with ``Last-Event-ID: n`` gets every event after ``n`` (see migration 003 for why
the numbering is safe across writers). Rows are deleted with their chat.

``api_tokens`` keeps a hash of each API token (sha256, or HMAC-SHA256 keyed by
``API_TOKEN_PEPPER``), never the token. Tokens are 256-bit random strings, so a plain hash is
enough to make a stolen table useless.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from aizoomdoc.errors import AizoomdocError, InvalidInputError, NotFoundError
from aizoomdoc.store.clock import to_iso
from aizoomdoc.store.database import Database
from aizoomdoc.store.models import GUID, NOW, Base, JSONType

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Prefix of API tokens (recognisable in configs and secret scanners).
TOKEN_PREFIX = "azd_"
_APPEND_ATTEMPTS = 8


class ChatEventRow(Base):
    __tablename__ = "chat_events"

    chat_id: Mapped[str] = mapped_column(GUID, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    question_id: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text, nullable=False)
    data: Mapped[Any] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=NOW)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(GUID, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str | None] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=NOW)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("token_hash"), Index(None, "user_id"))


events: Table = ChatEventRow.__table__  # type: ignore[assignment]  # a declarative __table__ is a Table; SQLAlchemy types it FromClause
tokens: Table = ApiTokenRow.__table__  # type: ignore[assignment]  # a declarative __table__ is a Table; SQLAlchemy types it FromClause


async def _run(db: Database, fn: Callable[[Connection], T], user_id: str | None = None) -> T:
    if db.is_sqlite and not db.schema_ready:
        from aizoomdoc.store import migrate

        await migrate.ensure_schema(db)
    return await db.run(fn, user_id=user_id)


class ChatEventLog:
    """Append and read the events of chats. ``user_id`` runs every transaction as that user (RLS)."""

    def __init__(self, db: Database, user_id: str | None = None) -> None:
        self.db = db
        self.user_id = user_id
        c = events.c
        chat = bindparam("chat_id", type_=GUID)
        next_seq = select(func.coalesce(func.max(c.seq), 0) + 1).where(c.chat_id == chat).scalar_subquery()
        self._append = (
            insert(events)
            .from_select(
                ["chat_id", "seq", "question_id", "type", "data", "created_at"],
                select(chat, next_seq, bindparam("question_id", type_=Text), bindparam("type", type_=Text),
                       bindparam("data", type_=JSONType), bindparam("created_at", type_=DateTime(timezone=True))),
            )
            .returning(c.seq)
        )
        self._after = (
            select(c.seq, c.question_id, c.type, c.data, c.created_at)
            .where(c.chat_id == chat, c.seq > bindparam("after"))
            .order_by(c.seq).limit(bindparam("limit"))
        )
        self._last = select(func.coalesce(func.max(c.seq), 0)).where(c.chat_id == chat)

    def for_user(self, user_id: str) -> ChatEventLog:
        return ChatEventLog(self.db, user_id)

    async def append(self, chat_id: str, items: Sequence[tuple[str, dict[str, Any]]],
                     question_id: str | None = None) -> list[int]:
        """Append events ``(type, data)`` to the chat in order; returns their numbers.

        Raises :class:`NotFoundError` when the chat does not exist (or is not the user's).
        """
        chat_id = str(uuid.UUID(str(chat_id)))
        rows = [{"chat_id": chat_id, "question_id": question_id, "type": typ, "data": data,
                 "created_at": datetime.now(UTC)} for typ, data in items]

        pg = self.db.is_postgres

        def work(conn: Connection) -> list[int]:
            seqs = [int(conn.execute(self._append, row).scalar_one()) for row in rows]
            if pg:  # delivered at commit to every worker listening (PgEventListener)
                conn.execute(_NOTIFY, {"channel": EVENTS_CHANNEL, "chat_id": chat_id})
            return seqs

        for attempt in range(_APPEND_ATTEMPTS):
            try:
                return await _run(self.db, work, self.user_id)
            except (AizoomdocError, SQLAlchemyError) as exc:  # a number taken by another writer: try again
                if not _is_conflict(exc):
                    raise
                if await self._chat_missing(chat_id):
                    raise NotFoundError("store.chat_not_found", chat_id=chat_id) from None
                log.debug("event number conflict on chat %s (attempt %d)", chat_id, attempt + 1)
        raise InvalidInputError("api.events.busy")

    async def _chat_missing(self, chat_id: str) -> bool:
        from aizoomdoc.store.models import Chat

        t = Chat.__table__
        row = await _run(self.db, lambda conn: conn.execute(select(t.c.id).where(t.c.id == chat_id)).first(),
                         self.user_id)
        return row is None

    async def read(self, chat_id: str, after: int = 0, limit: int = 500) -> list[dict[str, Any]]:
        """Events of the chat numbered above ``after``, oldest first."""
        p = {"chat_id": str(uuid.UUID(str(chat_id))), "after": int(after), "limit": int(limit)}
        rows = await _run(self.db, lambda conn: conn.execute(self._after, p).all(), self.user_id)
        return [{"id": int(r.seq), "question_id": r.question_id, "type": r.type, "data": r.data,
                 "created_at": to_iso(r.created_at)} for r in rows]

    async def last_id(self, chat_id: str) -> int:
        p = {"chat_id": str(uuid.UUID(str(chat_id)))}
        return int(await _run(self.db, lambda conn: conn.execute(self._last, p).scalar_one(), self.user_id))


#: PostgreSQL channel on which every append is announced (payload: the chat id).
EVENTS_CHANNEL = "aizoomdoc_chat_events"
_NOTIFY = text("SELECT pg_notify(:channel, :chat_id)")


class PgEventListener:
    """LISTENs on :data:`EVENTS_CHANNEL` over one dedicated asyncpg connection and calls
    ``on_chat(chat_id)`` for every append committed by any process. Reconnects with backoff;
    :attr:`active` says whether notifications are flowing (callers poll faster when not)."""

    HEALTH_SECONDS = 15.0

    def __init__(self, db: Database, on_chat: Callable[[str], None]) -> None:
        self.db = db
        self.on_chat = on_chat
        self.active = False
        self._task: Any = None
        self._closed = False

    def start(self) -> None:
        import asyncio

        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="aizoomdoc-event-listener")

    def _connect_kwargs(self) -> dict[str, Any]:
        url = self.db.url
        kwargs: dict[str, Any] = {
            "host": url.host or url.query.get("host"), "port": url.port or 5432, "user": url.username,
            "password": url.password, "database": url.database,
            "timeout": self.db.settings.db_connect_timeout, "statement_cache_size": 0,
        }
        if "ssl" in url.query:
            kwargs["ssl"] = url.query["ssl"]
        return kwargs

    def _callback(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            self.on_chat(payload)
        except Exception:  # noqa: BLE001 - the listener (asyncpg's callback) must never die of a handler; logged
            log.debug("event notification handler failed", exc_info=True)

    async def _loop(self) -> None:
        import asyncio

        import asyncpg

        backoff = 0.5
        while not self._closed:
            conn = None
            try:
                conn = await asyncpg.connect(**self._connect_kwargs())
                await conn.add_listener(EVENTS_CHANNEL, self._callback)
                self.active = True
                backoff = 0.5
                while not self._closed and not conn.is_closed():
                    await asyncio.sleep(self.HEALTH_SECONDS)
                    await asyncio.wait_for(conn.fetchval("SELECT 1"), self.db.settings.db_connect_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the listener loop must outlive any failure: reconnect with backoff
                log.debug("event listener connection failed: %s", type(exc).__name__)
            finally:
                self.active = False
                if conn is not None:
                    try:
                        await conn.close(timeout=2)
                    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                        pass  # closing a broken connection
            if not self._closed:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    async def aclose(self) -> None:
        import asyncio

        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None


def _is_conflict(exc: BaseException) -> bool:
    """A unique/primary-key violation, whichever layer reports it."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, IntegrityError):
            return "foreign key" not in str(cur).lower()
        name = type(cur).__name__
        message = str(cur).lower()
        if name == "UniqueViolationError" or "unique constraint" in message or "duplicate key" in message:
            return True
        if "database is locked" in message or "busy" in message:
            return True
        cur = cur.__cause__ or cur.__context__
    return False


# ----------------------------------------------------------------------------------------------
# API tokens
# ----------------------------------------------------------------------------------------------
def hash_token(token: str, pepper: str | None = None) -> str:
    data = token.encode("utf-8")
    if pepper:
        return hmac.new(pepper.encode("utf-8"), data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


class ApiTokenStore:
    """Create, look up, list and revoke API tokens (runs as the service: lookups precede auth)."""

    def __init__(self, db: Database, pepper: str | None = None) -> None:
        self.db = db
        self._pepper = pepper

    async def create(self, user_id: str, name: str | None = None) -> tuple[str, str]:
        """A new token for ``user_id``: returns ``(token_id, token)``; the token is shown once."""
        user_id = (user_id or "").strip()
        if not user_id:
            raise InvalidInputError("store.empty", field="user_id")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = str(uuid.uuid4())
        row = {"id": token_id, "user_id": user_id, "name": name,
               "token_hash": hash_token(token, self._pepper), "created_at": datetime.now(UTC)}
        await _run(self.db, lambda conn: conn.execute(insert(tokens).values(**row)))
        return token_id, token

    async def lookup(self, token: str) -> str | None:
        """The user id a token belongs to, or None. Marks the token used."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        h = hash_token(token, self._pepper)

        def work(conn: Connection) -> str | None:
            row = conn.execute(select(tokens.c.id, tokens.c.user_id).where(tokens.c.token_hash == h)).first()
            if row is None:
                return None
            conn.execute(update(tokens).where(and_(tokens.c.id == row.id)).values(last_used_at=datetime.now(UTC)))
            return str(row.user_id)

        return await _run(self.db, work)

    async def list(self, user_id: str | None = None) -> list[dict[str, Any]]:
        stmt = select(tokens.c.id, tokens.c.user_id, tokens.c.name, tokens.c.created_at, tokens.c.last_used_at)
        if user_id is not None:
            stmt = stmt.where(tokens.c.user_id == user_id)
        rows = await _run(self.db, lambda conn: conn.execute(stmt.order_by(tokens.c.created_at)).all())
        return [{"id": str(r.id), "user_id": r.user_id, "name": r.name, "created_at": to_iso(r.created_at),
                 "last_used_at": to_iso(r.last_used_at)} for r in rows]

    async def revoke(self, token_id: str) -> bool:
        try:
            token_id = str(uuid.UUID(str(token_id)))
        except ValueError:
            raise InvalidInputError("store.bad_id", field="token_id", value=str(token_id)[:60]) from None
        count = await _run(self.db, lambda conn: conn.execute(delete(tokens).where(tokens.c.id == token_id)).rowcount)
        return bool(count)


__all__ = ["ApiTokenStore", "ChatEventLog", "EVENTS_CHANNEL", "PgEventListener", "TOKEN_PREFIX", "hash_token"]
