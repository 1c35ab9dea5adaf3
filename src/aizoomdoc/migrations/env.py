"""Alembic environment: the URL comes from AIZoomDoc's Settings, the schema from store.schema.

Works on SQLite (aiosqlite; batch mode for ALTERs) and PostgreSQL (asyncpg). When the caller hands
over a connection in ``config.attributes["connection"]`` (what ``aizoomdoc db`` and the store's
auto-migration do), it is used as is; otherwise an engine is made from Settings (or from
``sqlalchemy.url`` if a caller set one).
"""

from __future__ import annotations

import asyncio
import logging
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from aizoomdoc.config import get_settings
from aizoomdoc.store.database import Database
from aizoomdoc.store.schema import metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True) \
        and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _configure_kwargs(dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": metadata,
        "render_as_batch": dialect_name == "sqlite",
        "compare_type": True,
        "compare_server_default": True,
    }


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **_configure_kwargs(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def _database() -> Database:
    return Database(get_settings(), url=config.get_main_option("sqlalchemy.url") or None)


async def run_async_migrations() -> None:
    db = _database()
    try:
        try:
            conn = await db.engine.connect()
        except (SQLAlchemyError, OSError, ValueError) as exc:  # one clear error for every way of failing to connect
            raise db.unavailable(exc) from None
        try:
            await conn.run_sync(do_run_migrations)
            await conn.commit()
        finally:
            await conn.close()
    finally:
        await db.dispose()


def run_migrations_offline() -> None:
    db = _database()
    context.configure(url=db.url.render_as_string(hide_password=False), literal_binds=True,
                      dialect_opts={"paramstyle": "named"}, **_configure_kwargs(db.dialect))
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    do_run_migrations(connection)
elif context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
