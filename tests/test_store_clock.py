"""The stores' one clock and one timestamp format (store/clock.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest

from aizoomdoc.store.clock import now_iso, parse_utc, sqlite_stamps, sqlite_text, stamps, to_iso, utcnow


def test_utcnow_is_strictly_increasing_and_reserves_bulk_stamps() -> None:
    seen = [utcnow() for _ in range(2000)]  # far faster than the clock's resolution
    assert all(b > a for a, b in pairwise(seen))
    start = utcnow(100)  # 100 rows of one bulk call: start … start + 99 µs
    after = utcnow()
    assert after >= start + timedelta(microseconds=100)
    assert start.tzinfo is UTC


@pytest.mark.parametrize(("given", "expected"), [
    (datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC), "2024-05-01T10:00:00.000000+00:00"),  # no µs: still 6 digits
    (datetime(2024, 5, 1, 10, 0, 0, 5), "2024-05-01T10:00:00.000005+00:00"),  # naive = UTC
    (datetime(2024, 5, 1, 13, 0, tzinfo=timezone(timedelta(hours=3))), "2024-05-01T10:00:00.000000+00:00"),
    ("2024-05-01 10:00:00.250000", "2024-05-01T10:00:00.250000+00:00"),  # SQLite's stored text
    ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000000+00:00"),
    ("2024-05-01T10:00:00.123456+00:00", "2024-05-01T10:00:00.123456+00:00"),
    (None, None),
])
def test_to_iso_one_shape(given: datetime | str | None, expected: str | None) -> None:
    assert to_iso(given) == expected


def test_iso_text_sorts_like_time() -> None:
    times = [datetime(2024, 5, 1, 10, 0, 0, us, tzinfo=UTC) for us in (0, 1, 500_000, 999_999)]
    assert sorted(to_iso(t) for t in reversed(times)) == [to_iso(t) for t in times]
    now = now_iso()
    assert now == to_iso(now)


def test_parse_utc() -> None:
    assert parse_utc("2024-05-01T13:00:00+03:00") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert parse_utc("2024-05-01 10:00:00").tzinfo is UTC
    with pytest.raises(ValueError):
        parse_utc("вчера")
    with pytest.raises(TypeError):
        parse_utc(1714557600)  # type: ignore[arg-type]


def test_sqlite_stamps_match_one_by_one_and_cross_seconds() -> None:
    start = datetime(2024, 5, 1, 10, 0, 0, 999_998, tzinfo=UTC)
    assert sqlite_stamps(start, 4) == [sqlite_text(s) for s in stamps(start, 4)]
    assert sqlite_stamps(start, 4)[-1] == "2024-05-01 10:00:01.000001"
    assert sqlite_text(start.replace(microsecond=0)) == "2024-05-01 10:00:00.000000"
