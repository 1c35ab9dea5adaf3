"""`aizoomdoc ask` and `aizoomdoc chats` as a user runs them (direct answerer, SQLite, local files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aizoomdoc.cli import app
from aizoomdoc.config import reset_settings_cache
from aizoomdoc.sample import build_drawing_set, write_bundle_fixtures

runner = CliRunner()


@pytest.fixture()
def env(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.chdir(tmp_path)  # no stray .env
    reset_settings_cache()
    paths = write_bundle_fixtures(tmp_path / "set", build_drawing_set(), formats=("result",))
    yield paths["result"]
    reset_settings_cache()


def test_ask_json_then_chats_list_show_archive_delete(env: Path, data_dir: Path) -> None:
    r = runner.invoke(app, ["ask", "Какая толщина утеплителя кровли П-1?", "--doc", str(env), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out) == {"chat_id", "message_id", "answer", "citations", "images"}
    assert "150 мм" in out["answer"]
    assert out["citations"] and set(out["citations"][0]) == {"document_id", "block_id", "page_number", "coords_norm"}
    img = out["images"][0]
    assert set(img) == {"id", "image_type", "s3_path", "s3_url", "width", "height", "page_number"}
    assert (data_dir / "files" / img["s3_path"]).is_file()
    chat_id = out["chat_id"]

    # a follow-up in the same chat, documents taken from the chat
    r = runner.invoke(app, ["ask", "А какая пароизоляция?", "--chat", chat_id])
    assert r.exit_code == 0, r.output
    assert "Источники" in r.stdout and f"--chat {chat_id}" in r.stdout
    # citations name the document (by its title block's шифр), not its uuid
    assert "— 133/23-ГК-ОВ1" in r.stdout and out["citations"][0]["document_id"] not in r.stdout

    r = runner.invoke(app, ["chats", "list", "--json"])
    assert [c["id"] for c in json.loads(r.stdout)] == [chat_id]
    r = runner.invoke(app, ["chats", "show", chat_id])
    assert r.exit_code == 0 and "пароизоляция" in r.stdout and "viewport" in r.stdout

    assert runner.invoke(app, ["chats", "archive", chat_id]).exit_code == 0
    assert json.loads(runner.invoke(app, ["chats", "list", "--json"]).stdout) == []
    assert len(json.loads(runner.invoke(app, ["chats", "list", "--archived", "--json"]).stdout)) == 1

    r = runner.invoke(app, ["chats", "delete", chat_id])
    assert r.exit_code == 0, r.output
    assert not (data_dir / "files" / "chats" / chat_id).exists() or not any((data_dir / "files" / "chats" / chat_id).rglob("*.png"))
    assert runner.invoke(app, ["chats", "show", chat_id]).exit_code == 1


def test_ask_errors_are_one_clear_line(env: Path) -> None:
    r = runner.invoke(app, ["ask", "вопрос", "--doc", "/нет/такого/файла.pdf"])
    assert r.exit_code == 1 and "Ошибка" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["ask", "вопрос"])
    assert r.exit_code == 1 and "--doc" in r.output
