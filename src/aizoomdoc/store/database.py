"""Engine creation and connections: SQLite by default, PostgreSQL (asyncpg) when DATABASE_URL says so.

- ``DATABASE_URL`` may be given in the forms Supabase shows (``postgresql://…``, ``postgres://…``);
  the asyncpg driver is added here. ``sslmode=`` is translated for asyncpg; Supabase's transaction
  pooler (port 6543 or ``?pgbouncer=true``) gets prepared-statement caching switched off.
- Without ``DATABASE_URL`` the store is SQLite at ``settings.sqlite_path`` (foreign keys on, WAL).
- ``USE_DATABASE=false``: nothing is kept after the process ends. The database is a SQLite file of
  this process only (:func:`process_sqlite_path`, in a private temporary folder removed at exit);
  ``DATABASE_URL`` is not used.
- Connection failures become :class:`DatabaseUnavailableError` naming the host/port (or file) and
  what to check; the password never appears in messages or logs.
- :meth:`Database.run` runs a synchronous function over a SQLAlchemy ``Connection`` in one
  transaction: on PostgreSQL through the async engine (``run_sync``), on SQLite in a worker thread
  over the sqlite3 driver, so a whole store operation costs one hop to the thread instead of one per
  driver call (aiosqlite), measured 3-5× faster (bench/bench_store.py). With ``user_id`` on
  PostgreSQL the transaction switches to the ``authenticated`` role with that user's JWT claims so
  Row Level Security applies. :meth:`Database.session` is the same as an async context manager.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import json
import logging
import os
import shutil
import socket
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from aizoomdoc.config import Settings, get_settings
from aizoomdoc.errors import (
    AizoomdocError,
    ConfigError,
    DatabaseError,
    DatabaseUnavailableError,
    ForbiddenError,
    describe_os_error,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

_PG_DRIVERS = {"postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg2", "postgresql+psycopg",
               "postgresql+pg8000", "postgres+asyncpg"}
_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"}

#: One statement switching a PostgreSQL transaction to a user (like PostgREST / Supabase do).
_SET_USER_SQL = text(
    "SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', :claims, true)"
)


_SET_USER_PG = ("SELECT set_config('role', 'authenticated', true), "
                "set_config('request.jwt.claims', $1, true)")


_process_db: Path | None = None
_process_db_lock = threading.Lock()


def process_sqlite_path() -> Path:
    """``USE_DATABASE=false``: the SQLite file of this process — every :class:`Database` of the
    process shares it (a question's chat, documents and events stay consistent while it runs) —
    in a private (0700) temporary folder that is removed when the process exits."""
    global _process_db
    with _process_db_lock:
        if _process_db is None:
            folder = Path(tempfile.mkdtemp(prefix="aizoomdoc-nodb-"))
            owner = os.getpid()

            def remove() -> None:
                if os.getpid() == owner:  # not from a forked child that inherited the handler
                    shutil.rmtree(folder, ignore_errors=True)

            atexit.register(remove)
            _process_db = folder / "aizoomdoc.db"
        return _process_db


def normalize_url(raw: str) -> URL:
    """A SQLAlchemy async URL for ``raw`` (``postgresql://`` → ``postgresql+asyncpg://`` etc.)."""
    raw = raw.strip()
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise ConfigError("db.url_invalid", detail=_scheme_of(raw)) from None
    driver = url.drivername.lower()
    if driver in _PG_DRIVERS:
        query = dict(url.query)
        if "sslmode" in query:  # libpq spelling; asyncpg calls it ssl
            query["ssl"] = query.pop("sslmode")
        for unsupported in ("pgbouncer", "connect_timeout", "options", "application_name"):
            query.pop(unsupported, None)
        url = url.set(drivername="postgresql+asyncpg", query=query)
        if not url.host and not query.get("host"):
            raise ConfigError("db.url_invalid", detail="не указан хост")
        if not url.database:
            raise ConfigError("db.url_invalid", detail="не указано имя базы данных")
        return url
    if driver in _SQLITE_DRIVERS:
        return url.set(drivername="sqlite+aiosqlite")
    raise ConfigError("db.url_invalid", detail=f"схема «{url.drivername}» не поддерживается")


def _scheme_of(raw: str) -> str:
    head = raw.split("://", 1)[0] if "://" in raw else "без схемы"
    return f"схема «{head}»" if "://" in raw else head


def describe_url(url: URL) -> str:
    """Where the database is, for messages: ``host:port/db`` or the SQLite file. Never the password."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    host = url.host or url.query.get("host") or "localhost"
    return f"{host}:{url.port or 5432}/{url.database}"


def _is_pooler(url: URL, raw_query: dict[str, Any]) -> bool:
    return url.port == 6543 or str(raw_query.get("pgbouncer", "")).lower() in {"true", "1", "yes"}


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
        self._pooler = False
        if raw:
            self.url = normalize_url(raw)
            self._pooler = _is_pooler(self.url, dict(make_url(raw.strip()).query))
        else:
            path = self.settings.sqlite_path if persistent else process_sqlite_path()
            self.url = URL.create("sqlite+aiosqlite", database=str(path))
        self.dialect: str = self.url.get_backend_name()
        self.target: str = describe_url(self.url)
        self._engine: AsyncEngine | None = None
        self._autocommit_engine: AsyncEngine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Set once the schema is known to be at the latest migration (SQLite auto-migration).
        self.schema_ready = False
        self._sqlite_engine: Engine | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

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
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if self._engine is not None and loop is not None and self._loop is not None and loop is not self._loop:
            # Connections of the old loop cannot be used (nor closed) from this one: forget them.
            self._engine.sync_engine.dispose(close=False)
            self._engine = None
        if self._engine is None:
            self._engine = self._create_engine()
            self._autocommit_engine = self._engine.execution_options(isolation_level="AUTOCOMMIT")
            self._loop = loop
        return self._engine

    def _create_engine(self) -> AsyncEngine:
        timeout = self.settings.db_connect_timeout
        if self.is_sqlite:
            path = self.url.database
            if path and path != ":memory:":
                self._make_sqlite_dir(path)
            engine = create_async_engine(self.url, connect_args={"timeout": max(timeout, 5.0)},
                                         json_serializer=_json_dumps)
            event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
            return engine
        connect_args: dict[str, Any] = {
            "timeout": timeout,
            "server_settings": {"application_name": "aizoomdoc"},
        }
        url = self.url
        if self._pooler:
            # Transaction-mode poolers (Supabase :6543, pgbouncer) cannot keep prepared statements.
            connect_args["statement_cache_size"] = 0
            connect_args["prepared_statement_name_func"] = lambda: f"__aizoomdoc_{uuid.uuid4().hex}__"
            url = url.update_query_dict({"prepared_statement_cache_size": "0"})
        return create_async_engine(
            url,
            connect_args=connect_args,
            pool_size=self.settings.db_pool_size,
            max_overflow=self.settings.db_pool_size,
            pool_timeout=max(timeout, 1.0) * 2,
            pool_recycle=1800,
            json_serializer=_json_dumps,
            # Autocommit single statements need no ROLLBACK when the connection goes back.
            skip_autocommit_rollback=True,
        )

    def _make_sqlite_dir(self, path: str) -> None:
        """The folder of the SQLite file (DATA_DIR); a clear error when it cannot be created."""
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailableError("db.unavailable.sqlite", target=self.target,
                                           detail=describe_os_error(exc)) from None

    @property
    def sync_engine(self) -> Engine:
        """The engine statements run on (for event listeners): sqlite3 for SQLite, else the async
        engine's sync facade."""
        if self.is_sqlite:
            return self._sqlite()[0]
        return self.engine.sync_engine

    def _sqlite(self) -> tuple[Engine, concurrent.futures.ThreadPoolExecutor]:
        if self._sqlite_engine is None or self._executor is None:
            path = self.url.database or ":memory:"
            if path != ":memory:":
                self._make_sqlite_dir(path)
            engine = create_engine(
                self.url.set(drivername="sqlite+pysqlite"),
                connect_args={"timeout": 30.0, "check_same_thread": False},
                json_serializer=_json_dumps,
                pool_size=self.settings.db_pool_size,
                max_overflow=0,
            )
            event.listen(engine, "connect", _sqlite_on_connect)
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.settings.db_pool_size, thread_name_prefix="aizoomdoc-sqlite")
            self._sqlite_engine = engine
        return self._sqlite_engine, self._executor

    async def run(self, fn: Callable[[Connection], T], *, user_id: str | None = None,
                  autocommit: bool = False) -> T:
        """``fn(connection)`` in one transaction, committed when it returns; its result.

        ``fn`` is synchronous SQLAlchemy code (``connection.execute(...)``). ``user_id``: run as that
        user under RLS (PostgreSQL). ``autocommit``: ``fn`` runs a single statement, so on
        PostgreSQL without a user BEGIN/COMMIT are skipped (one round trip instead of three).
        """
        if self.is_sqlite:
            engine, executor = self._sqlite()
            return await asyncio.get_running_loop().run_in_executor(executor, self._run_sqlite, engine, fn)
        return await self._retry_stale(lambda: self._run_pg(fn, user_id=user_id, autocommit=autocommit))

    async def _retry_stale(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run ``attempt``; if it failed on a pooled connection that died (the server restarted
        since it was opened), drop the pool and run it once more on a fresh connection.

        Safe to repeat: ids are client-generated and inserts of an existing id are no-ops. A
        server that is really down fails again at connect, quickly, and that error is raised.
        """
        try:
            return await attempt()
        except _StaleConnectionError:
            log.info("a pooled database connection was closed by the server; reconnecting")
            if self._engine is not None:
                await self._engine.dispose()
        try:
            return await attempt()
        except _StaleConnectionError as again:
            raise again.error from None

    async def _run_pg(self, fn: Callable[[Connection], T], *, user_id: str | None,
                      autocommit: bool) -> T:
        if autocommit and user_id is None:
            conn = await self._connect(autocommit=True)
            try:
                return await conn.run_sync(fn)
            except DBAPIError as exc:
                raise self._statement_error(exc) from exc
            finally:
                await self._close(conn)
        conn = await self._connect()
        try:
            async with conn.begin():
                if user_id is not None:
                    claims = json.dumps({"sub": user_id, "role": "authenticated"})
                    await conn.execute(_SET_USER_SQL, {"claims": claims})
                return await conn.run_sync(fn)
        except AizoomdocError:
            raise
        except DBAPIError as exc:
            raise self._statement_error(exc) from exc
        finally:
            await self._close(conn)

    async def run_driver(self, fn: Callable[[Any], Awaitable[T]], *, user_id: str | None = None) -> T:
        """PostgreSQL only: ``await fn(asyncpg_connection)`` on a pooled connection.

        For the hottest single-statement paths, where SQLAlchemy's per-statement work costs more
        than the round trip. Without ``user_id`` the statement autocommits; with it, it runs in a
        transaction as that user (RLS), like :meth:`run`.
        """
        return await self._retry_stale(lambda: self._run_driver_once(fn, user_id=user_id))

    async def _run_driver_once(self, fn: Callable[[Any], Awaitable[T]], *, user_id: str | None) -> T:
        conn = await self._connect(autocommit=user_id is None)
        try:
            driver = (await conn.get_raw_connection()).driver_connection
            if user_id is None:
                return await fn(driver)
            async with driver.transaction():
                claims = json.dumps({"sub": user_id, "role": "authenticated"})
                await driver.execute(_SET_USER_PG, claims)
                return await fn(driver)
        except AizoomdocError:
            raise
        except Exception as exc:  # noqa: BLE001 - asyncpg's and OS errors, translated
            if isinstance(exc, (OSError, asyncio.TimeoutError)) or type(exc).__module__.startswith("asyncpg"):
                raise self._statement_error(exc) from exc
            raise
        finally:
            await self._close(conn)

    def _run_sqlite(self, engine: Engine, fn: Callable[[Connection], T]) -> T:
        try:
            conn = engine.connect()
        except Exception as exc:  # noqa: BLE001 - every way of failing to open is translated
            raise self.unavailable(exc) from None
        try:
            with conn.begin():
                return fn(conn)
        except (DBAPIError, sqlite3.Error) as exc:  # sqlite3's own: statements run on the driver
            raise self.translate(exc) from exc
        finally:
            conn.close()

    async def dispose(self) -> None:
        if self._engine is not None:
            engine, self._engine, self._autocommit_engine = self._engine, None, None
            await engine.dispose()
        if self._sqlite_engine is not None:
            self._sqlite_engine.dispose()
            self._sqlite_engine = None
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    # --- connections ------------------------------------------------------------------------
    async def _connect(self, autocommit: bool = False) -> AsyncConnection:
        try:
            engine = self.engine
            if autocommit and self._autocommit_engine is not None:
                engine = self._autocommit_engine
            return await engine.connect()
        except AizoomdocError:
            raise
        except Exception as exc:  # noqa: BLE001 - every way of failing to connect is translated
            raise self.unavailable(exc) from None

    @asynccontextmanager
    async def session(self, user_id: str | None = None, *, autocommit: bool = False
                      ) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed on success.

        With ``user_id`` on PostgreSQL the transaction runs as role ``authenticated`` with
        ``request.jwt.claims`` = {"sub": user_id, "role": "authenticated"}, so RLS policies apply.
        On SQLite (single user, no RLS) ``user_id`` changes nothing.

        ``autocommit=True`` is a hint from callers that run a single statement: on PostgreSQL
        without a user it skips BEGIN/COMMIT (one round trip instead of three).
        """
        if autocommit and user_id is None and self.is_postgres:
            conn = await self._connect(autocommit=True)
            try:
                yield conn
            except DBAPIError as exc:
                raise self.translate(exc) from exc
            finally:
                await self._close(conn)
            return
        conn = await self._connect()
        try:
            async with conn.begin():
                if user_id is not None and self.is_postgres:
                    claims = json.dumps({"sub": user_id, "role": "authenticated"})
                    await conn.execute(_SET_USER_SQL, {"claims": claims})
                yield conn
        except AizoomdocError:
            raise
        except DBAPIError as exc:
            raise self.translate(exc) from exc
        finally:
            await self._close(conn)

    @staticmethod
    async def _close(conn: AsyncConnection) -> None:
        try:
            await conn.close()
        except Exception:  # noqa: BLE001 - the connection is gone; the pool forgets it
            log.debug("closing a broken connection failed", exc_info=True)

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
            return _sqlite_ping(self.url.database or ":memory:", timeout)
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="aizoomdoc-ping") as pool:
            future = pool.submit(asyncio.run, _pg_ping(self.url, timeout))
            try:
                return future.result(timeout=timeout + 1.0)
            except Exception:  # noqa: BLE001 - any failure means "not connected"
                log.debug("database ping failed", exc_info=True)
                return False

    # --- error translation ----------------------------------------------------------------
    def unavailable(self, exc: BaseException) -> DatabaseUnavailableError:
        """The user-facing error for a failed connection attempt (no password, no traceback)."""
        orig = _root_cause(exc)
        name = type(orig).__name__
        log.debug("connection to %s failed: %s: %s", self.target, name, orig)
        if self.is_sqlite:
            return DatabaseUnavailableError("db.unavailable.sqlite", target=self.target, detail=_first_line(orig))
        host = self.url.host or "localhost"
        if isinstance(orig, socket.gaierror):
            return DatabaseUnavailableError("db.unavailable.dns", host=host, target=self.target)
        if isinstance(orig, (asyncio.TimeoutError, TimeoutError)):
            return DatabaseUnavailableError(
                "db.unavailable.timeout", target=self.target, timeout=f"{self.settings.db_connect_timeout:g}"
            )
        if isinstance(orig, ConnectionRefusedError) or (isinstance(orig, OSError) and "refused" in str(orig).lower()):
            return DatabaseUnavailableError("db.unavailable.refused", target=self.target)
        if name in {"InvalidPasswordError", "InvalidAuthorizationSpecificationError"}:
            return DatabaseUnavailableError("db.unavailable.auth", target=self.target, user=self.url.username or "")
        if name == "InvalidCatalogNameError":
            return DatabaseUnavailableError("db.unavailable.no_database", target=self.target,
                                            database=self.url.database or "")
        return DatabaseUnavailableError("db.unavailable.other", target=self.target, detail=self._clean(orig))

    def _statement_error(self, exc: BaseException) -> Exception:
        """Like :meth:`translate`, but a lost connection under a running statement is marked
        retryable (see :meth:`_retry_stale`)."""
        error = self.translate(exc)
        if isinstance(error, DatabaseUnavailableError):
            return _StaleConnectionError(error)
        return error

    def translate(self, exc: BaseException) -> AizoomdocError:
        """A user-facing error for a failed statement (a DBAPIError or a driver's own error)."""
        orig = _root_cause(exc)
        name = type(orig).__name__
        message = str(orig)
        invalidated = getattr(exc, "connection_invalidated", False)
        if invalidated or isinstance(orig, (OSError, asyncio.TimeoutError)) or name in {
                "ConnectionDoesNotExistError", "InterfaceError"} and "connection" in message.lower():
            return self.unavailable(exc)
        if name == "UndefinedTableError" or "no such table" in message:
            return DatabaseError("db.schema_missing", target=self.target)
        if name == "InsufficientPrivilegeError" or "row-level security" in message:
            return ForbiddenError("db.forbidden")
        return DatabaseError("db.error", target=self.target, detail=self._clean(orig))

    def _clean(self, exc: BaseException) -> str:
        detail = _first_line(exc)
        password = self.url.password
        if password:
            detail = detail.replace(str(password), "***")
        return detail


class _StaleConnectionError(Exception):
    """Internal: a statement failed because its (pooled) connection was gone."""

    def __init__(self, error: DatabaseUnavailableError) -> None:
        super().__init__(str(error))
        self.error = error


def _root_cause(exc: BaseException) -> BaseException:
    """The driver's or the OS's own exception behind SQLAlchemy's wrappers (asyncpg errors are
    re-raised by SQLAlchemy's adapter as generic DBAPI classes; the original is their cause)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    best = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        module = type(current).__module__
        if module.startswith(("asyncpg", "sqlite3", "socket")) or isinstance(
                current, (OSError, asyncio.TimeoutError, TimeoutError)):
            return current
        best = current
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return best


def _json_dumps(value: Any) -> str:
    """JSON as UTF-8 text (Cyrillic readable in the database), never NaN/Infinity."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _first_line(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()
    return text_[0][:300] if text_ else type(exc).__name__


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _sqlite_ping(path: str, timeout: float) -> bool:
    """The file opens and answers, or (not created yet) its directory can be created/written."""
    import os

    if path == ":memory:":
        return True
    file = Path(path)
    if not file.exists():
        parent = file.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        return os.access(parent, os.W_OK)
    try:
        conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=rw", timeout=timeout, uri=True)
        try:
            conn.execute("SELECT 1").fetchone()
        finally:
            conn.close()
        return True
    except sqlite3.Error:
        return False


async def _pg_ping(url: URL, timeout: float) -> bool:
    import asyncpg

    kwargs: dict[str, Any] = {
        "host": url.host, "port": url.port or 5432, "user": url.username, "password": url.password,
        "database": url.database, "timeout": timeout, "statement_cache_size": 0,
    }
    if "ssl" in url.query:
        kwargs["ssl"] = url.query["ssl"]
    conn = await asyncpg.connect(**kwargs)
    try:
        await asyncio.wait_for(conn.fetchval("SELECT 1"), timeout)
        return True
    finally:
        await conn.close(timeout=timeout)


__all__ = ["Database", "describe_url", "normalize_url"]
