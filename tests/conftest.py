"""Session-wide real services and per-test settings.

Fixtures:
- ``settings``: a Settings object on a fresh temporary DATA_DIR (SQLite + local files).
- ``pg_server`` / ``pg_url``: a real PostgreSQL; ``pg_url`` is a fresh database per test module.
- ``s3_server`` / ``s3_bucket``: a real SeaweedFS; a fresh bucket per test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from aizoomdoc import texts
from tests.support.markers import complaint, missing_markers
from tests.support.services import PostgresServer, SeaweedServer, start_postgres

# A text key used in code but missing from aizoomdoc/texts (or a missing parameter) fails the test.
texts.STRICT = True

# Tests never read the developer's .env or environment.
for _name in list(os.environ):
    if _name.startswith(("SUPABASE_", "S3_", "LLM_", "DATABASE_URL", "USE_", "DATA_DIR")):
        os.environ.pop(_name)


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture()
def settings(data_dir: Path):
    from aizoomdoc.config import Settings

    return Settings(_env_file=None, data_dir=data_dir)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.close()


@pytest.fixture(scope="module")
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[SeaweedServer]:
    server = SeaweedServer()
    server.start()
    yield server
    server.destroy()


@pytest.fixture()
def s3_bucket(s3_server: SeaweedServer) -> str:
    return s3_server.create_bucket()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test that starts PostgreSQL, S3 or Chromium without its marker fails before anything
    starts (``-m "not postgres"`` must leave it out; see tests/support/markers.py)."""
    missing = missing_markers(item)
    if missing:
        pytest.fail(complaint(item, missing), pytrace=False)


@pytest.fixture(autouse=True)
def _servers_carry_their_markers(request: pytest.FixtureRequest) -> Iterator[None]:
    """The same check after the test, for servers reached through ``request.getfixturevalue``."""
    yield
    missing = missing_markers(request.node, request.fixturenames)
    if missing:
        pytest.fail(complaint(request.node, missing), pytrace=False)
