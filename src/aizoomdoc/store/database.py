"""The database of a store: one object for its URL, engines, connections, runs and errors.

- Without ``DATABASE_URL`` the store is SQLite at ``settings.sqlite_path`` (foreign keys on, WAL);
  with it, PostgreSQL through asyncpg (URL forms, the pooler, ``USE_DATABASE=false``:
  :mod:`aizoomdoc.store.db_url`). Engines are created lazily (:mod:`aizoomdoc.store.db_engines`).
- Connection failures become :class:`DatabaseUnavailableError` naming the host/port (or file) and
  what to check; the password never appears in messages or logs (:mod:`aizoomdoc.store.db_errors`).
- :meth:`Database.run` runs a synchronous function over a SQLAlchemy ``Connection`` in one
  transaction: on PostgreSQL through the async engine, on SQLite in a worker thread over the
  sqlite3 driver. With ``user_id`` on PostgreSQL the transaction runs as that user so Row Level
  Security applies. :meth:`Database.session` is the same as an async context manager
  (:mod:`aizoomdoc.store.db_run`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aizoomdoc.config import Settings, get_settings
from aizoomdoc.errors import AizoomdocError, DatabaseUnavailableError
from aizoomdoc.store.db_engines import Engines, pg_ping, sqlite_ping
from aizoomdoc.store.db_errors import ErrorTranslator
from aizoomdoc.store.db_run import open_session, retry_stale, run_driver_once, run_pg, run_sqlite
from aizoomdoc.store.db_url import describe_url, is_pooler, normalize_url, process_sqlite_path

log = logging.getLogger(__name__)
T = TypeVar("T")


class Database:
    """An async engine for one database, with error translation and per-user sessions.

    The engine is created lazily and re-created when used from a different event loop (asyncpg and
    aiosqlite connections belong to the loop that opened them), so ``asyncio.run`` may be called
    more than once in a process.
    """

    def __init__(self, settings: Settings | None = None, url: str | None = None) -> None:
        self.settings = settings or get_settings()
        persistent = self.settings.use_database
        raw = url if url is not None else self.settings.secret("database_url") if persistent else None
        pooler = False
        if raw:
            self.url = normalize_url(raw)
            pooler = is_pooler(self.url, dict(make_url(raw.strip()).query))
        else:
            path = self.settings.sqlite_path if persistent else process_sqlite_path()
            self.url = URL.create("sqlite+aiosqlite", database=str(path))
        self.dialect: str = self.url.get_backend_name()
        self.target: str = describe_url(self.url)
        #: Set once the schema is known to be at the latest migration (SQLite auto-migration).
        self.schema_ready = False
        self._engines = Engines(self.url, self.settings, self.target, pooler=pooler)
        self._errors = ErrorTranslator(self.url, self.target, self.settings)

    # --- engine ---------------------------------------------------------------------------
    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def migrates_itself(self) -> bool:
        """SQLite databases are created/upgraded on first use; PostgreSQL schemas are the
        operator's job (``aizoomdoc db upgrade``), never changed behind their back."""
        return self.is_sqlite

    @property
    def engine(self) -> AsyncEngine:
        return self._engines.engine

    @property
    def sync_engine(self) -> Engine:
        """The engine statements run on (for event listeners): sqlite3 for SQLite, else the async
        engine's sync facade."""
        if self.is_sqlite:
            return self._engines.sqlite()[0]
        return self.engine.sync_engine

    async def dispose(self) -> None:
        await self._engines.dispose()

    # --- running --------------------------------------------------------------------------
    async def run(self, fn: Callable[[Connection], T], *, user_id: str | None = None,
                  autocommit: bool = False) -> T:
        """``fn(connection)`` in one transaction, committed when it returns; its result.

        ``fn`` is synchronous SQLAlchemy code (``connection.execute(...)``). ``user_id``: run as that
        user under RLS (PostgreSQL). ``autocommit``: ``fn`` runs a single statement, so on
        PostgreSQL without a user BEGIN/COMMIT are skipped (one round trip instead of three).
        """
        if self.is_sqlite:
            engine, executor = self._engines.sqlite()
            return await asyncio.get_running_loop().run_in_executor(executor, run_sqlite, engine, fn, self._errors)
        return await retry_stale(
            lambda: run_pg(self._connect, fn, self._errors, user_id=user_id, autocommit=autocommit),
            self._engines.drop_pool)

    async def run_driver(self, fn: Callable[[Any], Awaitable[T]], *, user_id: str | None = None) -> T:
        """PostgreSQL only: ``await fn(asyncpg_connection)`` on a pooled connection.

        For the hottest single-statement paths, where SQLAlchemy's per-statement work costs more
        than the round trip. Without ``user_id`` the statement autocommits; with it, it runs in a
        transaction as that user (RLS), like :meth:`run`.
        """
        return await retry_stale(lambda: run_driver_once(self._connect, fn, self._errors, user_id=user_id),
                                 self._engines.drop_pool)

    # --- connections ------------------------------------------------------------------------
    async def _connect(self, autocommit: bool = False) -> AsyncConnection:
        try:
            return await self._engines.connecting_engine(autocommit).connect()
        except AizoomdocError:
            raise
        except Exception as exc:  # noqa: BLE001 - every way of failing to connect is translated
            raise self.unavailable(exc) from None

    def session(self, user_id: str | None = None, *, autocommit: bool = False
                ) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection in a transaction, committed on success.

        With ``user_id`` on PostgreSQL the transaction runs as role ``authenticated`` with
        ``request.jwt.claims`` = {"sub": user_id, "role": "authenticated"}, so RLS policies apply.
        On SQLite (single user, no RLS) ``user_id`` changes nothing.

        ``autocommit=True`` is a hint from callers that run a single statement: on PostgreSQL
        without a user it skips BEGIN/COMMIT (one round trip instead of three).
        """
        return open_session(self._connect, self._errors, postgres=self.is_postgres, user_id=user_id,
                            autocommit=autocommit)

    async def check(self) -> None:
        """Connect and run ``SELECT 1``; raise :class:`DatabaseUnavailableError` if that fails."""
        await self.run(lambda conn: conn.execute(text("SELECT 1")).scalar(), autocommit=True)

    def ping(self, timeout: float | None = None) -> bool:
        """Synchronous reachability check; safe with or without a running event loop.

        Runs a fresh connection attempt in a worker thread with its own event loop (never the
        pooled engine, which belongs to the caller's loop).
        """
        timeout = timeout if timeout is not None else self.settings.db_connect_timeout
        if self.is_sqlite:
            return sqlite_ping(self.url.database or ":memory:", timeout)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="aizoomdoc-ping") as pool:
            future = pool.submit(asyncio.run, pg_ping(self.url, timeout))
            try:
                return future.result(timeout=timeout + 1.0)
            except Exception:  # noqa: BLE001 - any failure means "not connected"
                log.debug("database ping failed", exc_info=True)
                return False

    # --- error translation ----------------------------------------------------------------
    def unavailable(self, exc: BaseException) -> DatabaseUnavailableError:
        """The user-facing error for a failed connection attempt (no password, no traceback)."""
        return self._errors.unavailable(exc)

    def translate(self, exc: BaseException) -> AizoomdocError:
        """A user-facing error for a failed statement (a DBAPIError or a driver's own error)."""
        return self._errors.translate(exc)


__all__ = ["Database", "describe_url", "normalize_url", "process_sqlite_path"]
