"""The engines of one database, created lazily: the async engine and, on SQLite, a sqlite3 one.

- The async engine (asyncpg on PostgreSQL, aiosqlite on SQLite) is re-created when used from a
  different event loop (its connections belong to the loop that opened them), so ``asyncio.run``
  may be called more than once in a process; an autocommit twin serves single statements.
  PostgreSQL behind a transaction-mode pooler gets prepared-statement caching switched off.
- On SQLite, store operations run on a synchronous sqlite3 engine in a pool of worker threads
  (one hop to a thread per operation instead of one per driver call; see
  :mod:`aizoomdoc.store.db_run`). Both SQLite engines switch foreign keys on and use WAL.
- :func:`sqlite_ping` and :func:`pg_ping` check reachability outside the pools.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from aizoomdoc.config import Settings
from aizoomdoc.errors import DatabaseUnavailableError, describe_os_error


class Engines:
    """The engines of the database at ``url`` (created on first use, disposed together)."""

    def __init__(self, url: URL, settings: Settings, target: str, *, pooler: bool) -> None:
        self.url = url
        self.settings = settings
        self.target = target
        self.pooler = pooler
        self.is_sqlite = url.get_backend_name() == "sqlite"
        self._engine: AsyncEngine | None = None
        self._autocommit_engine: AsyncEngine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sqlite_engine: Engine | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    @property
    def engine(self) -> AsyncEngine:
        """The async engine of the running event loop."""
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

    def connecting_engine(self, autocommit: bool) -> AsyncEngine:
        """The engine a new connection comes from (the autocommit twin when asked and known)."""
        engine = self.engine
        if autocommit and self._autocommit_engine is not None:
            engine = self._autocommit_engine
        return engine

    def _create_engine(self) -> AsyncEngine:
        timeout = self.settings.db_connect_timeout
        if self.is_sqlite:
            path = self.url.database
            if path and path != ":memory:":
                self.make_sqlite_dir(path)
            engine = create_async_engine(self.url, connect_args={"timeout": max(timeout, 5.0)},
                                         json_serializer=json_dumps)
            event.listen(engine.sync_engine, "connect", sqlite_on_connect)
            return engine
        connect_args: dict[str, Any] = {
            "timeout": timeout,
            "server_settings": {"application_name": "aizoomdoc"},
        }
        url = self.url
        if self.pooler:
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
            json_serializer=json_dumps,
            # Autocommit single statements need no ROLLBACK when the connection goes back.
            skip_autocommit_rollback=True,
        )

    def make_sqlite_dir(self, path: str) -> None:
        """The folder of the SQLite file (DATA_DIR); a clear error when it cannot be created."""
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailableError("db.unavailable.sqlite", target=self.target,
                                           detail=describe_os_error(exc)) from None

    def sqlite(self) -> tuple[Engine, concurrent.futures.ThreadPoolExecutor]:
        """The sqlite3 engine and the worker threads store operations run in."""
        if self._sqlite_engine is None or self._executor is None:
            path = self.url.database or ":memory:"
            if path != ":memory:":
                self.make_sqlite_dir(path)
            engine = create_engine(
                self.url.set(drivername="sqlite+pysqlite"),
                connect_args={"timeout": 30.0, "check_same_thread": False},
                json_serializer=json_dumps,
                pool_size=self.settings.db_pool_size,
                max_overflow=0,
            )
            event.listen(engine, "connect", sqlite_on_connect)
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.settings.db_pool_size, thread_name_prefix="aizoomdoc-sqlite")
            self._sqlite_engine = engine
        return self._sqlite_engine, self._executor

    async def drop_pool(self) -> None:
        """Close the async engine's pooled connections (they died with the server)."""
        if self._engine is not None:
            await self._engine.dispose()

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


def json_dumps(value: Any) -> str:
    """JSON as UTF-8 text (Cyrillic readable in the database), never NaN/Infinity."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def sqlite_ping(path: str, timeout: float) -> bool:
    """The file opens and answers, or (not created yet) its directory can be created/written."""
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


async def pg_ping(url: URL, timeout: float) -> bool:
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
