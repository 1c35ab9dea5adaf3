"""How a store operation runs: one transaction, on the right engine, as the right user.

- SQLite: a synchronous function over a SQLAlchemy ``Connection`` in a worker thread over the
  sqlite3 driver (:func:`run_sqlite`), so a whole store operation costs one hop to the thread
  instead of one per driver call (aiosqlite), measured 3-5× faster (bench/bench_store.py).
- PostgreSQL: the same function through the async engine's ``run_sync`` (:func:`run_pg`), or an
  ``async`` function over the raw asyncpg connection for the hottest single statements
  (:func:`run_driver_once`). With ``user_id`` the transaction switches to the ``authenticated``
  role with that user's JWT claims so Row Level Security applies; a single statement without a
  user autocommits (one round trip instead of three).
- A pooled connection that died with a restarted server is replaced once (:func:`retry_stale`).
- :func:`open_session` is the same as an async context manager yielding the connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from aizoomdoc.errors import AizoomdocError
from aizoomdoc.store.db_errors import ErrorTranslator, StaleConnectionError

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Opens a pooled connection (``autocommit``: from the autocommit engine); errors translated.
Connect = Callable[[bool], Awaitable[AsyncConnection]]

#: One statement switching a PostgreSQL transaction to a user (like PostgREST / Supabase do).
SET_USER_SQL = text(
    "SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', :claims, true)"
)
SET_USER_PG = ("SELECT set_config('role', 'authenticated', true), "
               "set_config('request.jwt.claims', $1, true)")


def claims_of(user_id: str) -> str:
    """The JWT claims a transaction of ``user_id`` runs with."""
    return json.dumps({"sub": user_id, "role": "authenticated"})


def run_sqlite(engine: Engine, fn: Callable[[Connection], T], errors: ErrorTranslator) -> T:
    """``fn(connection)`` in one transaction on the sqlite3 engine (called in a worker thread)."""
    try:
        conn = engine.connect()
    except Exception as exc:  # noqa: BLE001 - every way of failing to open is translated
        raise errors.unavailable(exc) from None
    try:
        with conn.begin():
            return fn(conn)
    except (DBAPIError, sqlite3.Error) as exc:  # sqlite3's own: statements run on the driver
        raise errors.translate(exc) from exc
    finally:
        conn.close()


async def retry_stale(attempt: Callable[[], Awaitable[T]], drop_pool: Callable[[], Awaitable[None]]) -> T:
    """Run ``attempt``; if it failed on a pooled connection that died (the server restarted
    since it was opened), drop the pool and run it once more on a fresh connection.

    Safe to repeat: ids are client-generated and inserts of an existing id are no-ops. A
    server that is really down fails again at connect, quickly, and that error is raised.
    """
    try:
        return await attempt()
    except StaleConnectionError:
        log.info("a pooled database connection was closed by the server; reconnecting")
        await drop_pool()
    try:
        return await attempt()
    except StaleConnectionError as again:
        raise again.error from None


async def run_pg(connect: Connect, fn: Callable[[Connection], T], errors: ErrorTranslator, *,
                 user_id: str | None, autocommit: bool) -> T:
    """``fn(connection)`` through the async engine: autocommitted, or in a transaction (as
    ``user_id`` under RLS when given)."""
    if autocommit and user_id is None:
        conn = await connect(True)
        try:
            return await conn.run_sync(fn)
        except DBAPIError as exc:
            raise errors.statement_error(exc) from exc
        finally:
            await close_quietly(conn)
    conn = await connect(False)
    try:
        async with conn.begin():
            if user_id is not None:
                await conn.execute(SET_USER_SQL, {"claims": claims_of(user_id)})
            return await conn.run_sync(fn)
    except AizoomdocError:
        raise
    except DBAPIError as exc:
        raise errors.statement_error(exc) from exc
    finally:
        await close_quietly(conn)


async def run_driver_once(connect: Connect, fn: Callable[[Any], Awaitable[T]], errors: ErrorTranslator, *,
                          user_id: str | None) -> T:
    """``await fn(asyncpg_connection)`` on a pooled connection: autocommitted without a user, in
    a transaction as that user (RLS) with one."""
    conn = await connect(user_id is None)
    try:
        driver = (await conn.get_raw_connection()).driver_connection
        if driver is None:  # the pool handed out a connection already closed: a database problem
            raise errors.unavailable(ConnectionError("connection closed"))
        if user_id is None:
            return await fn(driver)
        async with driver.transaction():
            await driver.execute(SET_USER_PG, claims_of(user_id))
            return await fn(driver)
    except AizoomdocError:
        raise
    except Exception as exc:  # noqa: BLE001 - asyncpg's and OS errors, translated
        if isinstance(exc, (OSError, asyncio.TimeoutError)) or type(exc).__module__.startswith("asyncpg"):
            raise errors.statement_error(exc) from exc
        raise
    finally:
        await close_quietly(conn)


@asynccontextmanager
async def open_session(connect: Connect, errors: ErrorTranslator, *, postgres: bool, user_id: str | None,
                       autocommit: bool) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction, committed on success (see :meth:`Database.session`)."""
    if autocommit and user_id is None and postgres:
        conn = await connect(True)
        try:
            yield conn
        except DBAPIError as exc:
            raise errors.translate(exc) from exc
        finally:
            await close_quietly(conn)
        return
    conn = await connect(False)
    try:
        async with conn.begin():
            if user_id is not None and postgres:
                await conn.execute(SET_USER_SQL, {"claims": claims_of(user_id)})
            yield conn
    except AizoomdocError:
        raise
    except DBAPIError as exc:
        raise errors.translate(exc) from exc
    finally:
        await close_quietly(conn)


async def close_quietly(conn: AsyncConnection) -> None:
    try:
        await conn.close()
    except Exception:  # noqa: BLE001 - the connection is gone; the pool forgets it
        log.debug("closing a broken connection failed", exc_info=True)
