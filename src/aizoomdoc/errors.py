"""Exceptions a user can act on.

Every error carries a key into :mod:`aizoomdoc.texts`; ``str(error)`` is the Russian message shown
to the user (what is wrong and what to do). Library code raises these instead of returning None.
"""

from __future__ import annotations

import errno
from typing import Any

from aizoomdoc.texts import t


class AizoomdocError(Exception):
    """Base class: a failure with a clear, user-facing message."""

    #: HTTP status the API answers with for this error.
    status_code: int = 400

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(t(key, **params))

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(AizoomdocError):
    status_code = 500


class InvalidInputError(AizoomdocError):
    status_code = 422


class NotFoundError(AizoomdocError):
    status_code = 404


class DatabaseError(AizoomdocError):
    status_code = 503


class DatabaseUnavailableError(DatabaseError):
    """The database cannot be reached (connection refused, DNS, timeout)."""


class StorageError(AizoomdocError):
    status_code = 503


class StorageUnavailableError(StorageError):
    """The file storage endpoint cannot be reached."""


class FileTooLargeError(InvalidInputError):
    status_code = 413


class DocumentError(InvalidInputError):
    """A document could not be read (corrupt, encrypted, empty, wrong format)."""


class LLMError(AizoomdocError):
    status_code = 502


class AuthError(AizoomdocError):
    status_code = 401


class ForbiddenError(AuthError):
    """Row Level Security (or another rule) refused the operation for this user."""

    status_code = 403


_ERRNO_KEYS = {
    errno.ENOENT: "os.enoent", errno.EACCES: "os.eacces", errno.EPERM: "os.eacces",
    errno.ENOSPC: "os.enospc", errno.EROFS: "os.erofs", errno.ENOTDIR: "os.enotdir",
    errno.EISDIR: "os.eisdir", errno.EDQUOT: "os.enospc",
}


def describe_os_error(exc: OSError) -> str:
    """A short Russian description of a file system error (for the ``detail`` of a message)."""
    key = _ERRNO_KEYS.get(exc.errno or 0)
    return t(key) if key else (exc.strerror or type(exc).__name__)
