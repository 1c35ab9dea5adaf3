"""The built wheel works away from the checkout: it answers the sample question on SQLite and
migrates a PostgreSQL database (migrations, prompts, texts and the web UI are package data).

The wheel is built from this checkout and installed without its dependencies into a new virtual
environment that borrows the test environment's site-packages for them (a ``.pth`` line; the
checkout's own editable install is not on that path), so no file of the checkout can be found.
Every command runs from an empty folder outside the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with only the wheel of this checkout installed; its bin folder."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                   check=True, cwd=base)
    wheel = next(dist.glob("aizoomdoc-*.whl"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    str(wheel)], check=True, cwd=base)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # The dependencies: the test environment's site-packages, after the wheel's own.
    Path(site, "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def _run(bin_dir: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIZOOMDOC_", "DATABASE_URL", "LLM_"))}
    clean.update(env)
    return subprocess.run([str(bin_dir / "aizoomdoc"), *args], cwd=cwd, env=clean, capture_output=True,
                          text=True, timeout=600)


def test_the_wheel_is_what_runs(installed: Path, tmp_path: Path) -> None:
    out = subprocess.run([str(installed / "python"), "-c", "import aizoomdoc; print(aizoomdoc.__file__)"],
                         cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(ROOT) not in out and str(installed.parent) in out


def test_wheel_answers_the_sample_question_on_sqlite(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    data = tmp_path / "data"
    made = _run(installed, work, "sample-set", "out", DATA_DIR=str(data))
    assert made.returncode == 0, made.stderr
    asked = _run(installed, work, "ask", "Какая толщина утеплителя кровли П-1?", "--doc",
                 str(work / "out" / "synthetic-set.pdf"), "--json", DATA_DIR=str(data))
    assert asked.returncode == 0, asked.stderr
    answer: dict[str, Any] = json.loads(asked.stdout)
    assert "150 мм" in answer["answer"]
    assert any(c["block_id"] == "p4-b11" and c["page_number"] == 4 for c in answer["citations"])
    assert (data / "aizoomdoc.db").is_file()  # migrated by the package's own migrations


def test_wheel_upgrades_postgresql(installed: Path, tmp_path: Path, pg_url: str) -> None:
    upgraded = _run(installed, tmp_path, "db", "upgrade", DATABASE_URL=pg_url, DATA_DIR=str(tmp_path / "d"))
    assert upgraded.returncode == 0, upgraded.stderr + upgraded.stdout
    current = _run(installed, tmp_path, "db", "current", DATABASE_URL=pg_url, DATA_DIR=str(tmp_path / "d"))
    assert current.returncode == 0, current.stderr
    head = subprocess.run([str(installed / "python"), "-c",
                           "from aizoomdoc.store.migrate import head_revision; print(head_revision())"],
                          cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    assert head and head in current.stdout
