"""Per-user limits of one server worker: questions in work and open event streams (429 beyond).

One user must not fill the worker's question queue (everyone else would get 503s) or hold
hundreds of event streams open. ``API_MAX_QUEUED_QUESTIONS`` and ``API_MAX_STREAMS_PER_USER``
count per worker process (with ``--workers N`` a user can have up to N times as many).

    lease = counter.acquire(user_id)   # TooManyRequestsError (429) when at the limit
    ...
    lease.release()                    # idempotent; also released when the lease is collected
"""

from __future__ import annotations

import threading
import weakref

from aizoomdoc.errors import AizoomdocError

#: Seconds a client is told to wait (``Retry-After``) after a 429.
RETRY_AFTER_SECONDS = 10


class TooManyRequestsError(AizoomdocError):
    status_code = 429


class Lease:
    """One counted thing of one user; :meth:`release` gives it back (once)."""

    def __init__(self, counter: UserCounter, user_id: str) -> None:
        self._finalizer = weakref.finalize(self, counter._release, user_id)

    def release(self) -> None:
        self._finalizer()


class UserCounter:
    """How many of something each user has open, refused past ``limit``."""

    def __init__(self, limit: int, key: str) -> None:
        self.limit = limit
        self.key = key
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def count(self, user_id: str) -> int:
        return self._counts.get(user_id, 0)

    def acquire(self, user_id: str) -> Lease:
        with self._lock:
            current = self._counts.get(user_id, 0)
            if current >= self.limit:
                raise TooManyRequestsError(self.key, count=current, limit=self.limit)
            self._counts[user_id] = current + 1
        return Lease(self, user_id)

    def _release(self, user_id: str) -> None:
        with self._lock:
            left = self._counts.get(user_id, 0) - 1
            if left > 0:
                self._counts[user_id] = left
            else:
                self._counts.pop(user_id, None)


__all__ = ["Lease", "RETRY_AFTER_SECONDS", "TooManyRequestsError", "UserCounter"]
