"""``aizoomdoc library …`` as a user runs it: SQLite and the local folder in a fresh DATA_DIR."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aizoomdoc.cli import app
from aizoomdoc.config import get_settings, reset_settings_cache
from aizoomdoc.sample import build_drawing_set
from aizoomdoc.store import ChatStore

runner = CliRunner()


@pytest.fixture()
def env(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    reset_settings_cache()
    yield work
    reset_settings_cache()


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def ok(*args: str) -> str:
    r = invoke(*args)
    assert r.exit_code == 0, (args, r.output)
    return r.output


def test_library_commands(env: Path) -> None:
    pdf = build_drawing_set().write(env / "ОВ1.pdf")
    csv = env / "спецификация.csv"
    csv.write_text("Позиция;Кол.\n1;2\n", encoding="utf-8")

    assert "Папок пока нет" in ok("library", "folders")
    assert "Папка «Проект 133/23» создана" in ok("library", "mkdir", "Проект 133/23")
    out = ok("library", "mkdir", "Раздел ОВ", "--parent", "проект 133/23")
    assert "«Проект 133/23 / Раздел ОВ» создана" in out

    r = invoke("library", "add", "Проект 133/23/Раздел ОВ", str(pdf), str(csv), "нет-такого")
    assert r.exit_code == 1
    assert "«ОВ1.pdf» в папке «Проект 133/23 / Раздел ОВ»" in r.output
    assert "«спецификация.csv» в папке" in r.output
    assert "✘ «нет-такого» не добавлен" in r.output and "Traceback" not in r.output

    tree = json.loads(ok("library", "folders", "--json"))
    assert [(f["path"], f["file_count"]) for f in tree] == [("Проект 133/23", 0), ("Проект 133/23 / Раздел ОВ", 2)]
    files = json.loads(ok("library", "ls", "Проект 133/23 / Раздел ОВ", "--json"))
    doc_file = next(f for f in files if f["document_id"])
    csv_file = next(f for f in files if not f["document_id"])
    table = ok("library", "ls", tree[1]["id"])
    assert "документ" in table and "файл" in table

    # A document already ingested is filed by its id.
    docs = json.loads(ok("documents", "--json"))
    ok("library", "mkdir", "Архив")
    assert "«ОВ1.pdf» в папке «Архив»" in ok("library", "add", "Архив", docs[0]["id"])

    chat_id = asyncio.run(_new_chat())
    assert f"прикреплён к чату {chat_id}" in ok("library", "attach", doc_file["id"], "--chat", chat_id)
    chat = json.loads(ok("chats", "show", chat_id, "--json"))["chat"]
    assert chat["metadata"]["document_ids"] == [doc_file["document_id"]]
    r = invoke("library", "attach", csv_file["id"], "--chat", chat_id)
    assert r.exit_code == 1 and "не документ" in r.output
    r = invoke("library", "attach", doc_file["id"])
    assert r.exit_code == 1 and "--chat ID или --message ID" in r.output

    out = ok("library", "rmdir", "Проект 133/23")
    assert "Удалено папок: 2; файлов удалено: 1, оставлено (нужны другим папкам или чатам): 1" in out
    assert "удалён файл «спецификация.csv»" in out
    assert [d["id"] for d in json.loads(ok("documents", "--json"))] == [docs[0]["id"]]
    assert "Архив" in ok("library", "folders")

    ok("library", "rename", "Архив", "Архив 2025")
    assert "Файл убран из папки «Архив 2025»" in ok("library", "remove", "Архив 2025", doc_file["id"])
    assert "В папке «Архив 2025» нет файлов" in ok("library", "ls", "Архив 2025")

    r = invoke("library", "ls", "Нет такой")
    assert r.exit_code == 1
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Папка «Нет такой» не найдена" in lines[0] and "aizoomdoc library folders" in lines[0]


async def _new_chat() -> str:
    store = ChatStore.from_settings(get_settings())
    try:
        return await store.create_chat("Вопросы по ОВ", get_settings().default_user_id)
    finally:
        await store.close()
