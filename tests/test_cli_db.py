"""`aizoomdoc db …`, `python scripts/manage_db.py …` and `aizoomdoc doctor`, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAD = None


def run(args: list[str], data_dir: Path, database_url: str | None = None, script: bool = False
        ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SUPABASE_", "S3_", "LLM_", "DATABASE_URL", "USE_", "DATA_DIR"))}
    env.update(DATA_DIR=str(data_dir), COLUMNS="80", PYTHONIOENCODING="utf-8")
    if database_url:
        env["DATABASE_URL"] = database_url
    cmd = ([sys.executable, str(ROOT / "scripts" / "manage_db.py")] if script
           else [sys.executable, "-m", "aizoomdoc"]) + args
    return subprocess.run(cmd, env=env, cwd=data_dir, capture_output=True, text=True, timeout=120)


def _head() -> str:
    from aizoomdoc.store import migrate

    return migrate.head_revision()  # type: ignore[return-value]


def test_sqlite_upgrade_current_history_downgrade(data_dir: Path) -> None:
    head = _head()
    r = run(["db", "current"], data_dir)
    assert r.returncode == 0, r.stderr
    assert "не инициализирована" in r.stdout

    r = run(["db", "upgrade"], data_dir)
    assert r.returncode == 0, r.stderr
    assert "✔" in r.stdout and head in r.stdout
    assert (data_dir / "aizoomdoc.db").exists()

    r = run(["current"], data_dir, script=True)  # the original's script, same commands
    assert r.returncode == 0, r.stderr
    assert head in r.stdout and "(последняя)" in r.stdout

    r = run(["db", "history"], data_dir)
    assert r.returncode == 0, r.stderr
    assert "<base> -> 001_initial_schema" in r.stdout and f"{head} (head)" in r.stdout

    r = run(["downgrade", "-1"], data_dir, script=True)
    assert r.returncode == 0, r.stderr
    assert "✔" in r.stdout and head not in r.stdout


@pytest.mark.postgres
def test_postgres_init_and_doctor(pg_url: str, data_dir: Path) -> None:
    r = run(["db", "init"], data_dir, pg_url)
    assert r.returncode == 0, r.stderr
    assert _head() in r.stdout and "127.0.0.1" in r.stdout

    r = run(["doctor"], data_dir, pg_url)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = [line for line in r.stdout.splitlines() if line.startswith(("✔", "✘"))]
    assert len(lines) >= 3 and all(line.startswith("✔") for line in lines), r.stdout


def test_doctor_on_a_fresh_install_is_green(data_dir: Path) -> None:
    """Nothing set up yet: SQLite creates its schema on first use, so that is not a failure."""
    r = run(["doctor"], data_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "✔ Настройки прочитаны" in r.stdout
    assert "схема" in r.stdout and "будет создана автоматически" in r.stdout
    assert "✘" not in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


@pytest.mark.postgres
def test_doctor_reports_missing_migrations_on_postgres(pg_server: Any, data_dir: Path) -> None:
    """PostgreSQL is never migrated behind the operator's back: an empty database is a ✘."""
    url = pg_server.create_database()
    try:
        r = run(["doctor"], data_dir, url)
    finally:
        pg_server.drop_database(url)
    assert r.returncode == 1
    assert "✘ База не инициализирована. Выполните «aizoomdoc db upgrade»." in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


@pytest.mark.parametrize("url, expected", [
    ("postgresql://u:secretpw@127.0.0.1:1/x", "127.0.0.1:1/x недоступна: соединение отклонено"),
    ("postgres://u:secretpw@no-such-host.invalid:5432/x", "no-such-host.invalid не найден"),
    ("mysql://u:secretpw@localhost/x", "DATABASE_URL не распознана"),
])
def test_bad_database_url_is_one_clear_line(url: str, expected: str, data_dir: Path) -> None:
    r = run(["db", "upgrade"], data_dir, url)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "Traceback" not in out
    assert "secretpw" not in out
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert expected in lines[0]
    assert lines[0].startswith("✘ Ошибка:")


@pytest.mark.postgres
def test_wrong_credentials_name_the_user_not_the_password(pg_url: str, data_dir: Path) -> None:
    host = pg_url.split("@", 1)[1]
    r = run(["db", "current"], data_dir, f"postgresql://nobody_here:secretpw@{host}")
    assert r.returncode != 0
    assert "secretpw" not in r.stdout + r.stderr
    assert "nobody_here" in r.stderr and len(r.stderr.strip().splitlines()) == 1
