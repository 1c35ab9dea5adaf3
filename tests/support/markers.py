"""Which real servers a test starts, so that it carries the marker saying so.

pyproject declares the markers ``postgres``, ``s3`` and ``browser``; ``pytest -m "not postgres"``
must leave out every test that starts PostgreSQL, and so on. A test starts a server when its own
code, or the code of a fixture it uses (directly or through other fixtures), calls one of the
starters below (``pg_server`` calls ``start_postgres``, ``s3_server`` and ``second_s3`` build a
``SeaweedServer``, browser tests open ``chromium()`` / ``sync_playwright``): the conftest fails
such a test, before anything starts, when the marker is missing. A fixture asked for at run time
(``request.getfixturevalue("s3_bucket")``) is seen after the test, by the server fixture it set
up (:data:`SERVER_FIXTURES`); a parametrized backend carries its marker on its param
(``pytest.param("s3", marks=pytest.mark.s3)``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import CodeType
from typing import Any

import pytest

#: marker -> the names whose use starts that server.
STARTERS: dict[str, frozenset[str]] = {
    "postgres": frozenset({"start_postgres"}),
    "s3": frozenset({"SeaweedServer"}),
    "browser": frozenset({"sync_playwright", "chromium"}),
}
#: The session fixtures every PostgreSQL / S3 fixture of tests/conftest.py goes through.
SERVER_FIXTURES: dict[str, str] = {"pg_server": "postgres", "s3_server": "s3"}


def _names(code: CodeType) -> Iterator[str]:
    """The global and attribute names a function's code (and the code nested in it) uses."""
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _names(const)


def _functions(item: pytest.Item) -> Iterator[Callable[..., Any]]:
    function = getattr(item, "function", None)
    if function is not None:
        yield function
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return
    for name in item.fixturenames:  # type: ignore[attr-defined]  # the closure of the fixtures used
        for definition in info.name2fixturedefs.get(name, ()):
            yield definition.func


def required_markers(item: pytest.Item) -> set[str]:
    """The markers ``item`` must carry for the servers it starts."""
    used: set[str] = set()
    for function in _functions(item):
        code = getattr(function, "__code__", None)
        if code is not None:
            used.update(_names(code))
    return {marker for marker, starters in STARTERS.items() if used & starters}


def missing_markers(item: pytest.Item, used_fixtures: Iterable[str] = ()) -> list[str]:
    """The markers ``item`` lacks (sorted); empty when it is marked right. ``used_fixtures``: the
    fixtures it set up, when known (after it ran)."""
    required = required_markers(item) | {SERVER_FIXTURES[f] for f in used_fixtures if f in SERVER_FIXTURES}
    present = {mark.name for mark in item.iter_markers()}
    return sorted(required - present)


def complaint(item: pytest.Item, missing: list[str]) -> str:
    return ("starts a server without its marker: add " + ", ".join(f"@pytest.mark.{m}" for m in missing)
            + " (or pytestmark) to " + item.nodeid)
