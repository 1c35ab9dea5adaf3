"""Time for the stores: one clock and one way to write and read timestamps.

- :func:`utcnow` is the clock of every row the stores write: UTC, strictly increasing within the
  process (rows written one after another, or in one bulk call, keep their order even when the
  system clock does not move or steps back).
- :func:`to_iso` is how a timestamp leaves the stores (rows, journal payloads, reports): ISO 8601
  in UTC, always with microseconds and ``+00:00`` — the shape the databases give
  (``2024-05-01T10:00:00.000000+00:00``), so strings compare like the times they stand for.
- :func:`parse_utc` is how one comes back: a timezone-aware UTC datetime from a datetime or any
  ISO 8601 text (``T`` or space, ``Z``, ``+00:00``, other offsets, none = UTC).
- :func:`sqlite_text` / :func:`sqlite_stamps`: the text SQLite stores (SQLAlchemy's format), for
  the paths that hand values straight to the driver.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import overload

_lock = threading.Lock()
_last = datetime(1970, 1, 1, tzinfo=UTC)


def utcnow(count: int = 1) -> datetime:
    """A UTC timestamp later than any returned before; reserves ``count`` consecutive microseconds
    (the rows of one bulk call get ``start``, ``start + 1 µs``, …)."""
    global _last
    with _lock:
        now = datetime.now(UTC)
        if now <= _last:
            now = _last + timedelta(microseconds=1)
        _last = now + timedelta(microseconds=count - 1)
        return now


def parse_utc(value: datetime | str) -> datetime:
    """``value`` as an aware UTC datetime (naive values and texts without an offset are UTC).
    Raises ValueError for a text that is not ISO 8601 and TypeError for other types."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    elif not isinstance(value, datetime):
        raise TypeError(f"not a timestamp: {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@overload
def to_iso(value: datetime | str) -> str: ...


@overload
def to_iso(value: None) -> None: ...


def to_iso(value: datetime | str | None) -> str | None:
    """``value`` as ISO 8601 in UTC with microseconds (None stays None)."""
    if value is None:
        return None
    return parse_utc(value).isoformat(timespec="microseconds")


def now_iso() -> str:
    """The wall clock as :func:`to_iso` text (journal bookkeeping; not ordered like :func:`utcnow`)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def sqlite_text(value: datetime) -> str:
    """The text SQLAlchemy's SQLite ``DateTime`` stores for a UTC ``value`` (sorts as text)."""
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def sqlite_stamps(start: datetime, count: int) -> list[str]:
    """:func:`sqlite_text` of ``count`` timestamps 1 µs apart from ``start``."""
    prefix = sqlite_text(start)[:-7]
    micro0 = start.microsecond
    if micro0 + count <= 1_000_000:  # the common case: all within the same second
        return [f"{prefix}.{micro0 + i:06d}" for i in range(count)]
    return [sqlite_text(start + timedelta(microseconds=i)) for i in range(count)]


def stamps(start: datetime, count: int) -> list[datetime]:
    """``count`` datetimes 1 µs apart from ``start`` (what :func:`utcnow` reserved)."""
    if count == 1:
        return [start]
    return [start + timedelta(microseconds=i) for i in range(count)]


__all__ = ["now_iso", "parse_utc", "sqlite_stamps", "sqlite_text", "stamps", "to_iso", "utcnow"]
