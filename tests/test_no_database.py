"""USE_DATABASE=false: questions are answered, and nothing of them outlives the process.

The chats, messages and documents live in a SQLite database of the running process only (every
part of the process shares it); it is removed when the process exits, and DATABASE_URL is not
touched. Files still go to the file storage.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from aizoomdoc.config import Settings
from aizoomdoc.pipeline.ask import AskService
from aizoomdoc.sample import build_drawing_set, write_bundle_fixtures
from aizoomdoc.store.database import Database

QUESTION = "Какая толщина утеплителя кровли П-1?"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bundle_fixtures(tmp_path_factory.mktemp("set"), build_drawing_set(), formats=("result",))["result"]


async def test_one_process_keeps_its_chat_while_it_runs(tmp_path: Path, bundle: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", use_database=False)
    async with AskService(settings) as service:
        first = await service.ask(QUESTION, [str(bundle)])
        assert first.ok and "150 мм" in first.answer
        second = await service.ask("А какая пароизоляция?", chat_id=first.chat_id)  # documents from the chat
        assert second.ok
        history = await service.store.get_chat_history(first.chat_id)
        assert [m["role"] for m in history["messages"]] == ["user", "assistant", "user", "assistant"]
        path = Path(service.store.db.target)  # type: ignore[attr-defined]
    assert Database(settings).target == str(path)  # one database for the whole process
    assert tmp_path / "data" not in path.parents
    assert not (tmp_path / "data" / "aizoomdoc.db").exists()


@pytest.mark.postgres
def test_nothing_is_kept_after_the_process_exits(tmp_path: Path, bundle: Path, pg_url: str) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SUPABASE_", "S3_", "LLM_", "DATABASE_URL", "USE_", "DATA_DIR"))}
    env.update(DATA_DIR=str(tmp_path / "data"), USE_DATABASE="false", DATABASE_URL=pg_url, TMPDIR=str(temp),
               PYTHONIOENCODING="utf-8")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "aizoomdoc", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=180)

    r = cli("ask", QUESTION, "--doc", str(bundle), "--json")
    assert r.returncode == 0, r.stderr
    assert "150 мм" in json.loads(r.stdout)["answer"]
    assert list(temp.iterdir()) == []  # the process's database was removed when it exited
    assert not (tmp_path / "data" / "aizoomdoc.db").exists()

    r = cli("chats", "list", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []  # the next process starts empty

    r = cli("doctor")
    assert "USE_DATABASE=false" in r.stdout and "удаляются при выходе" in r.stdout, r.stdout

    async def public_tables() -> int:
        conn = await asyncpg.connect(pg_url.replace("postgresql+asyncpg", "postgresql"), timeout=5)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))
        finally:
            await conn.close()

    assert asyncio.run(public_tables()) == 0  # DATABASE_URL was not touched
