"""Tests that start PostgreSQL, S3 (SeaweedFS) or Chromium carry the marker saying so.

``pytest -m "not postgres"`` (or ``s3``, ``browser``) must leave out every test that needs the
server; tests/conftest.py fails a test that starts one without its marker (tests/support/markers.py).
Checked here on a throwaway test module run with this suite's conftest as a plugin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MODULE = '''
import pytest


@pytest.fixture()
def s3_server():  # stands in for the real one: nothing starts
    return None


def test_pg_without_marker(pg_url):
    pass


def test_s3_at_run_time_without_marker(request):
    request.getfixturevalue("s3_server")


@pytest.mark.s3
def test_s3_at_run_time_with_marker(request):
    request.getfixturevalue("s3_server")


def test_browser_without_marker():
    from tests.test_web_browser import chromium
    assert chromium


def test_no_server():
    pass
'''


def test_a_server_without_its_marker_fails_the_test(tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(MODULE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
         "--rootdir", str(tmp_path), "-c", "/dev/null", "-rA", "test_probe.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    # Fails before PostgreSQL starts (at setup), and after the test for a server asked at run time.
    for name, marker in (("test_pg_without_marker", "postgres"), ("test_s3_at_run_time_without_marker", "s3"),
                         ("test_browser_without_marker", "browser")):
        assert f"add @pytest.mark.{marker} (or pytestmark) to test_probe.py::{name}" in out, out
        assert f"ERROR test_probe.py::{name}" in out, out
    for name in ("test_s3_at_run_time_with_marker", "test_no_server"):
        assert f"PASSED test_probe.py::{name}" in out and f"ERROR test_probe.py::{name}" not in out, out
    assert "3 errors" in out, out
