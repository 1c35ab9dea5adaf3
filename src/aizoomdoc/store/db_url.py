"""Where the database is: ``DATABASE_URL`` → an async SQLAlchemy URL, and where it is said in messages.

- ``DATABASE_URL`` may be given in the forms Supabase shows (``postgresql://…``, ``postgres://…``);
  the asyncpg driver is added here. ``sslmode=`` is translated for asyncpg; Supabase's transaction
  pooler (port 6543 or ``?pgbouncer=true``) is recognised (:func:`is_pooler`).
- ``USE_DATABASE=false``: the database is a SQLite file of this process only
  (:func:`process_sqlite_path`, in a private temporary folder removed at exit).
- :func:`describe_url` names host/port/database (or the file), never the password.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from aizoomdoc.errors import ConfigError
from aizoomdoc.texts import t

_PG_DRIVERS = {"postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg2", "postgresql+psycopg",
               "postgresql+pg8000", "postgres+asyncpg"}
_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"}

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
            raise ConfigError("db.url_invalid", detail=t("db.url.no_host"))
        if not url.database:
            raise ConfigError("db.url_invalid", detail=t("db.url.no_database"))
        return url
    if driver in _SQLITE_DRIVERS:
        return url.set(drivername="sqlite+aiosqlite")
    raise ConfigError("db.url_invalid", detail=t("db.url.unsupported_scheme", scheme=url.drivername))


def _scheme_of(raw: str) -> str:
    return t("db.url.scheme", scheme=raw.split("://", 1)[0]) if "://" in raw else t("db.url.no_scheme")


def describe_url(url: URL) -> str:
    """Where the database is, for messages: ``host:port/db`` or the SQLite file. Never the password."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    host = url.host or url.query.get("host") or "localhost"
    return f"{host}:{url.port or 5432}/{url.database}"


def is_pooler(url: URL, raw_query: dict[str, Any]) -> bool:
    """A transaction-mode pooler (Supabase :6543, ``?pgbouncer=true``): no prepared statements."""
    return url.port == 6543 or str(raw_query.get("pgbouncer", "")).lower() in {"true", "1", "yes"}
