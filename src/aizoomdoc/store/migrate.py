"""Alembic, driven from the application: upgrade, downgrade, current, history, autogenerate.

Every command runs on a connection of :class:`Database` (``config.attributes["connection"]``), so
it works inside a running event loop, on SQLite and on PostgreSQL, and connection failures become
one clear :class:`DatabaseUnavailableError`. The migrations ship inside the package
(``aizoomdoc/migrations``, package data), so an installed wheel migrates from any folder;
``AIZOOMDOC_MIGRATIONS_DIR`` overrides the location.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection

from aizoomdoc.errors import ConfigError, DatabaseError
from aizoomdoc.store.database import Database

log = logging.getLogger(__name__)
T = TypeVar("T")


def migrations_dir() -> Path:
    override = os.environ.get("AIZOOMDOC_MIGRATIONS_DIR")
    candidates = [Path(override)] if override else []
    candidates.append(Path(__file__).resolve().parents[1] / "migrations")
    for path in candidates:
        if (path / "env.py").is_file():
            return path
    raise ConfigError("db.migrations_missing", path=candidates[0])


def alembic_config() -> Config:
    path = migrations_dir()
    cfg = Config(str(path / "alembic.ini")) if (path / "alembic.ini").is_file() else Config()
    cfg.set_main_option("script_location", str(path))
    cfg.attributes["configure_logging"] = False
    return cfg


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str | None:
    return script_directory().get_current_head()


async def _run(db: Database, fn: Callable[[Connection, Config], T]) -> T:
    """Run ``fn(sync_connection, config)`` in one committed transaction."""
    cfg = alembic_config()

    def call(sync_conn: Connection) -> T:
        cfg.attributes["connection"] = sync_conn
        try:
            return fn(sync_conn, cfg)
        except CommandError as exc:
            raise DatabaseError("db.migration_error", detail=str(exc)) from None

    return await db.run(call)


def _current(conn: Connection, _cfg: Config | None = None) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


async def current_revision(db: Database) -> str | None:
    """The revision the database is at (None: not initialised)."""
    return await _run(db, _current)


async def upgrade(db: Database, revision: str = "head") -> str | None:
    def fn(conn: Connection, cfg: Config) -> str | None:
        command.upgrade(cfg, revision)
        return _current(conn)

    result = await _run(db, fn)
    db.schema_ready = result == head_revision()
    return result


async def downgrade(db: Database, revision: str = "-1") -> str | None:
    def fn(conn: Connection, cfg: Config) -> str | None:
        command.downgrade(cfg, revision)
        return _current(conn)

    db.schema_ready = False
    return await _run(db, fn)


def history() -> list[dict[str, Any]]:
    """Migrations, newest first: revision, down_revision, message, is_head."""
    script = script_directory()
    heads = set(script.get_heads())
    return [
        {"revision": rev.revision, "down_revision": rev.down_revision, "message": rev.doc,
         "is_head": rev.revision in heads}
        for rev in script.walk_revisions()
    ]


def _next_revision_id(message: str) -> str:
    numbers = [int(m.group(1)) for r in script_directory().walk_revisions()
               if (m := re.match(r"(\d+)_", r.revision))]
    slug = re.sub(r"[^0-9a-zA-Z]+", "_", message.lower()).strip("_")[:40] or "migration"
    return f"{max(numbers, default=0) + 1:03d}_{slug}"


async def autogenerate(db: Database, message: str) -> Path | None:
    """Write a new revision with the differences between the models and the database.

    Returns the new file, or None when there is nothing to do (no empty revision is written).
    """
    rev_id = _next_revision_id(message)

    def fn(conn: Connection, cfg: Config) -> Path | None:
        from alembic.autogenerate import compare_metadata

        from aizoomdoc.store.schema import metadata

        mc = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        if not compare_metadata(mc, metadata):
            return None
        script = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
        scripts = script if isinstance(script, list) else [script]
        return Path(scripts[0].path) if scripts and scripts[0] is not None else None

    return await _run(db, fn)


async def ensure_schema(db: Database) -> None:
    """Bring a database to the latest migration (used for SQLite on first use)."""
    if db.schema_ready:
        return
    lock = db.__dict__.setdefault("_schema_lock", asyncio.Lock())
    async with lock:
        if db.schema_ready:
            return
        head = head_revision()
        if await current_revision(db) != head:
            log.info("upgrading database %s to %s", db.target, head)
            await upgrade(db, "head")
        db.schema_ready = True


__all__ = [
    "alembic_config", "autogenerate", "current_revision", "downgrade",
    "ensure_schema", "head_revision", "history", "migrations_dir", "upgrade",
]
