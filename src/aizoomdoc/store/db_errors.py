"""Database failures as user-facing errors: what failed, where, and what to check — never the password.

A failed connection becomes :class:`DatabaseUnavailableError` naming the host/port (or file) and
the cause (DNS, timeout, refused, authentication, no such database); a failed statement becomes
:class:`DatabaseError` (a missing schema says so) or :class:`ForbiddenError` (Row Level Security).
A connection lost under a running statement is marked retryable (:class:`StaleConnectionError`).
"""

from __future__ import annotations

import asyncio
import logging
import socket

from sqlalchemy.engine import URL

from aizoomdoc.config import Settings
from aizoomdoc.errors import AizoomdocError, DatabaseError, DatabaseUnavailableError, ForbiddenError

log = logging.getLogger(__name__)


class StaleConnectionError(Exception):
    """Internal: a statement failed because its (pooled) connection was gone."""

    def __init__(self, error: DatabaseUnavailableError) -> None:
        super().__init__(str(error))
        self.error = error


class ErrorTranslator:
    """Translates the driver's, SQLAlchemy's and the OS's exceptions for one database."""

    def __init__(self, url: URL, target: str, settings: Settings) -> None:
        self.url = url
        self.target = target
        self.settings = settings
        self.is_sqlite = url.get_backend_name() == "sqlite"

    def unavailable(self, exc: BaseException) -> DatabaseUnavailableError:
        """The user-facing error for a failed connection attempt (no password, no traceback)."""
        orig = root_cause(exc)
        name = type(orig).__name__
        log.debug("connection to %s failed: %s: %s", self.target, name, orig)
        if self.is_sqlite:
            return DatabaseUnavailableError("db.unavailable.sqlite", target=self.target, detail=first_line(orig))
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

    def statement_error(self, exc: BaseException) -> Exception:
        """Like :meth:`translate`, but a lost connection under a running statement is marked
        retryable (see :func:`aizoomdoc.store.db_run.retry_stale`)."""
        error = self.translate(exc)
        if isinstance(error, DatabaseUnavailableError):
            return StaleConnectionError(error)
        return error

    def translate(self, exc: BaseException) -> AizoomdocError:
        """A user-facing error for a failed statement (a DBAPIError or a driver's own error)."""
        orig = root_cause(exc)
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
        detail = first_line(exc)
        password = self.url.password
        if password:
            detail = detail.replace(str(password), "***")
        return detail


def root_cause(exc: BaseException) -> BaseException:
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


def first_line(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()
    return text_[0][:300] if text_ else type(exc).__name__
