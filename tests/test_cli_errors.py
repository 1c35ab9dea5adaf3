"""Bad input on the command line: one clear Russian line, exit code 1 — never a traceback, never a
half-written chat, never a secret. Run as a user would: the typer app (or the ``aizoomdoc`` entry
point, for what happens before a command starts) with environment variables, SQLite and a local
folder in a fresh DATA_DIR."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
import pymupdf
import pytest
import typer
from typer.testing import CliRunner, Result

from aizoomdoc.cli import app, main
from aizoomdoc.config import reset_settings_cache
from aizoomdoc.sample import build_drawing_set

runner = CliRunner()
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
SECRET = "secretpw-7c1d"


@pytest.fixture(scope="module")
def drawing_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_drawing_set().write(tmp_path_factory.mktemp("set") / "synthetic-set.pdf")


@pytest.fixture()
def env(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A scratch working directory (no stray .env) with DATA_DIR set; yields the working dir."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    reset_settings_cache()
    yield work
    reset_settings_cache()


def setenv(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def one_error_line(r: Result, *fragments: str) -> str:
    """Exit code 1, no traceback, exactly one ✘ line (with every fragment); returns it."""
    assert r.exit_code == 1, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    lines = [line for line in r.output.splitlines() if line.startswith("✘")]
    assert len(lines) == 1, r.output
    for fragment in fragments:
        assert fragment in lines[0], r.output
    return lines[0]


def chats() -> list[dict]:
    r = invoke("chats", "list", "--archived", "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


# --- documents: ask, ingest, search --------------------------------------------------------------
def _bad_files(work: Path) -> dict[str, tuple[str, str]]:
    """name -> (path given, what the line says)."""
    (work / "folder").mkdir()
    (work / "corrupt.pdf").write_bytes(bytes(range(256)) * 20)
    (work / "zero.pdf").write_bytes(b"")
    (work / "notes.txt").write_text("утеплитель 150 мм\n", encoding="utf-8")
    (work / "letter.docx").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret")
    doc.save(work / "locked.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="o", user_pw="u")
    return {
        "missing": ("нет/такого.pdf", "не найден"),
        "folder": ("folder", "folder — не файл"),
        "corrupt": ("corrupt.pdf", "не открывается как PDF (структура файла не читается)"),
        "zero": ("zero.pdf", "пуст (0 байт)"),
        "encrypted": ("locked.pdf", "защищён паролем"),
        "txt": ("notes.txt", "не распознан"),
        "docx": ("letter.docx", "не распознан"),
    }


def test_ask_and_search_refuse_bad_documents_without_a_chat(env: Path) -> None:
    for path, says in _bad_files(env).values():
        one_error_line(invoke("ask", "Какая толщина утеплителя?", "--doc", path), says)
        one_error_line(invoke("search", "утеплитель", "--doc", path), says)
    assert chats() == []  # nothing half-written


def test_ingest_says_per_file_what_is_wrong(env: Path, drawing_pdf: Path) -> None:
    files = _bad_files(env)
    for path, says in files.values():
        r = invoke("ingest", path)
        assert r.exit_code == 1 and "Traceback" not in r.output, r.output
        assert f"✘ Не загружен {Path(path).name}: " in r.output and says in r.output, r.output
        assert "с ошибками: 1" in r.output
    r = invoke("ingest", "corrupt.pdf", str(drawing_pdf), "--json")  # one bad file: the others still load
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert "не открывается как PDF" in out[0]["error"] and out[1]["created"] is True


def test_empty_question_and_query(env: Path, drawing_pdf: Path) -> None:
    one_error_line(invoke("ask", "   ", "--doc", str(drawing_pdf)), "Вопрос пуст")
    one_error_line(invoke("search", "  "), "Пустой запрос")
    assert chats() == []


def test_odd_file_names_work(env: Path, drawing_pdf: Path) -> None:
    odd = env / "Мой комплект #2 (копия)..pdf"
    odd.write_bytes(drawing_pdf.read_bytes())
    (env / "sub").mkdir()
    r = invoke("ask", "Какая толщина утеплителя кровли П-1?", "--doc", "sub/../" + odd.name, "--json")
    assert r.exit_code == 0, r.output
    assert "150 мм" in json.loads(r.stdout)["answer"]
    r = invoke("ingest", str(odd))
    assert r.exit_code == 0 and "Уже загружен" in r.output, r.output


def test_file_over_the_size_limit(env: Path, drawing_pdf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setenv(monkeypatch, MAX_FILE_SIZE_MB="0.01")
    line = one_error_line(invoke("ask", "утеплитель", "--doc", str(drawing_pdf)), "слишком большой",
                          "при пределе 0.01 МБ", "MAX_FILE_SIZE_MB")
    assert "0.0 МБ" not in line  # the size is readable, not rounded to zero
    r = invoke("ingest", str(drawing_pdf))
    assert r.exit_code == 1 and "слишком большой" in r.output


def test_search_without_documents_and_with_an_unknown_id(env: Path) -> None:
    one_error_line(invoke("search", "утеплитель"), "Нет загруженных документов", "aizoomdoc ingest")
    one_error_line(invoke("search", "утеплитель", "--doc", UNKNOWN_ID), f"«{UNKNOWN_ID}» не найден")


def test_bad_attachments(env: Path, drawing_pdf: Path) -> None:
    (env / "scan.png").write_bytes(b"not an image at all")
    (env / "dir.png").mkdir()
    for path, says in (("nope.png", "нет такого файла"), ("scan.png", "не читается как изображение"),
                       ("dir.png", "это папка")):
        line = one_error_line(invoke("ask", "утеплитель", "--doc", str(drawing_pdf), "--image", path), says)
        assert "PNG или JPG" in line and "Error" not in line
    assert chats() == []


# --- chats ----------------------------------------------------------------------------------------
def test_unknown_and_malformed_chat_ids(env: Path, drawing_pdf: Path) -> None:
    for command in (["chats", "show"], ["chats", "archive"], ["chats", "delete"], ["ask", "вопрос", "--chat"]):
        one_error_line(invoke(*command, UNKNOWN_ID), "не найден", "aizoomdoc chats list")
        one_error_line(invoke(*command, "../../etc; drop"), "Неверный идентификатор")
    one_error_line(invoke("ask", "вопрос", "--doc", str(drawing_pdf), "--chat", ""), "Неверный идентификатор --chat")
    assert chats() == []


def test_archived_chat_is_continued_and_says_so(env: Path, drawing_pdf: Path) -> None:
    r = invoke("ask", "Какая толщина утеплителя кровли П-1?", "--doc", str(drawing_pdf), "--json")
    chat_id = json.loads(r.stdout)["chat_id"]
    assert invoke("chats", "archive", chat_id).exit_code == 0
    r = invoke("ask", "А какая пароизоляция?", "--chat", chat_id)
    assert r.exit_code == 0, r.output
    assert f"⚠ Чат {chat_id} в архиве" in r.output and "--archived" in r.output
    r = invoke("chats", "show", chat_id)
    assert r.exit_code == 0 and "пароизоляция" in r.stdout


def test_chats_list_shows_whole_ids(env: Path, drawing_pdf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setenv(monkeypatch, COLUMNS="80")
    chat_id = json.loads(invoke("ask", "утеплитель", "--doc", str(drawing_pdf), "--json").stdout)["chat_id"]
    assert chat_id in invoke("chats", "list").stdout  # copyable into --chat, even at 80 columns
    doc_id = json.loads(invoke("documents", "--json").stdout)[0]["id"]
    assert doc_id in invoke("documents").stdout


# --- settings and the entry point -----------------------------------------------------------------
@pytest.fixture()
def entry(env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Runs the ``aizoomdoc`` entry point in-process: returns (exit code, stdout, stderr)."""
    logger = logging.getLogger("aizoomdoc")
    level = logger.level

    def run(*args: str) -> tuple[int, str, str]:
        reset_settings_cache()
        monkeypatch.setattr(sys, "argv", ["aizoomdoc", *args])
        with pytest.raises(SystemExit) as exit_info:
            main()
        out, err = capsys.readouterr()
        code = exit_info.value.code
        return (code if isinstance(code, int) else 1), out, err

    yield run
    logger.setLevel(level)


@pytest.mark.parametrize("name, value, says", [
    ("MAX_FILE_SIZE_MB", "abc", "MAX_FILE_SIZE_MB: ожидается число, получено «abc»"),
    ("LLM_MAX_STEPS", "0", "LLM_MAX_STEPS: должно быть не меньше 1, получено «0»"),
    ("S3_ADDRESSING_STYLE", "weird", "S3_ADDRESSING_STYLE: допустимые значения: path, virtual, auto"),
    ("USE_S3_STORAGE", "yesplease", "USE_S3_STORAGE: ожидается true или false"),
    ("LOG_LEVEL", "LOUD", "LOG_LEVEL: допустимые значения: DEBUG, INFO, WARNING, ERROR, CRITICAL"),
])
def test_invalid_settings_are_one_russian_line(entry, monkeypatch: pytest.MonkeyPatch,
                                               name: str, value: str, says: str) -> None:
    monkeypatch.setenv(name, value)
    code, out, err = entry("documents")
    assert code == 1 and "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"✘ Ошибка: Неверная настройка {says}"), err
    assert "Input should" not in err and "Проверьте .env" in err
    code, out, err = entry("doctor")  # the doctor still runs and names the setting
    assert code == 1 and f"✘ Настройки не прочитаны: {says}" in out, out + err


def test_errors_outside_a_command_runner_are_one_line(entry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "garbage")
    code, out, err = entry("status")
    lines = err.strip().splitlines()
    assert code == 1 and "Traceback" not in out + err
    assert len(lines) == 1 and lines[0].startswith("✘ Ошибка: DATABASE_URL не распознана"), err


def test_unusable_data_dir(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    setenv(monkeypatch, DATA_DIR=str(blocker / "data"))  # a folder cannot be made under a file
    for command in (["documents"], ["chats", "list"], ["status"], ["sync"]):
        one_error_line(invoke(*command), "Проверьте DATA_DIR", "часть пути — не папка")


def test_quiet_by_default(env: Path, data_dir: Path) -> None:
    """Without LOG_LEVEL the library's English log records stay out of the user's terminal (a real
    process: pytest's own log handlers would hide them in-process)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "LOG_LEVEL", "LLM_", "S3_"))}
    base.update(DATA_DIR=str(data_dir), PYTHONIOENCODING="utf-8",
                DATABASE_URL=f"postgresql://u:{SECRET}@127.0.0.1:{closed_port()}/x")
    cmd = [sys.executable, "-m", "aizoomdoc", "chats", "list"]
    r = subprocess.run(cmd, env=base, cwd=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "Чатов нет" in r.stdout, r.stdout + r.stderr
    assert r.stderr == "", r.stderr
    r = subprocess.run(cmd, env={**base, "LOG_LEVEL": "warning"}, cwd=env, capture_output=True, text=True, timeout=60)
    assert "WARNING aizoomdoc.store.link" in r.stderr and SECRET not in r.stderr, r.stderr


# --- S3 -------------------------------------------------------------------------------------------
S3_OK = {"USE_S3_STORAGE": "true", "S3_BUCKET": "drawings", "S3_ACCESS_KEY": "ak",
         "S3_SECRET_KEY": SECRET, "S3_MAX_ATTEMPTS": "1", "S3_CONNECT_TIMEOUT": "1"}


@pytest.mark.parametrize("overrides, says", [
    ({"S3_BUCKET": "", "S3_SECRET_KEY": ""}, "не заданы: S3_BUCKET, S3_SECRET_KEY"),
    ({"S3_ENDPOINT_URL": "garbage"}, "S3_ENDPOINT_URL «garbage» — не адрес сервера"),
    ({"S3_BUCKET": "Bad_Bucket!"}, "Недопустимое имя бакета S3_BUCKET «Bad_Bucket!»"),
    ({"S3_REGION": "ru central"}, "Недопустимый регион S3_REGION «ru central»"),
    ({"S3_ENDPOINT_URL": "http://127.0.0.1:{port}"}, "Хранилище S3 недоступно по адресу http://127.0.0.1:"),
])
def test_storage_commands_with_wrong_s3_settings(env: Path, monkeypatch: pytest.MonkeyPatch,
                                                 overrides: dict[str, str], says: str) -> None:
    values = {**S3_OK, **overrides}
    values = {k: v.format(port=closed_port()) for k, v in values.items()}
    setenv(monkeypatch, **values)
    for command in (["storage", "init"], ["storage", "check"]):
        line = one_error_line(invoke(*command), says)
        assert SECRET not in line
    r = invoke("doctor")
    assert r.exit_code == 1 and "Traceback" not in r.output and SECRET not in r.output
    assert any(says in line for line in r.output.splitlines() if line.startswith("✘")), r.output


# --- LLM ------------------------------------------------------------------------------------------
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_llm_on_a_closed_port_is_a_quick_clear_error_saved_in_the_chat(
        env: Path, drawing_pdf: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    setenv(monkeypatch, LLM_API_KEY=f"sk-{SECRET}", LLM_BASE_URL=f"http://user:{SECRET}@127.0.0.1:{port}/v1",
           LLM_RETRY_BACKOFF="0.05")  # the default 3 retries, short pauses
    started = time.monotonic()
    r = invoke("ask", "Какая толщина утеплителя кровли П-1?", "--doc", str(drawing_pdf))
    assert time.monotonic() - started < 20
    line = one_error_line(r, f"Не удалось связаться с моделью по адресу http://127.0.0.1:{port}/v1: "
                             "соединение не установлено. Проверьте LLM_BASE_URL")
    assert SECRET not in r.output and "WARNING" not in r.output and "All connection" not in line
    [chat] = chats()
    history = json.loads(invoke("chats", "show", chat["id"], "--json").stdout)
    roles = [(m["role"], m.get("message_type")) for m in history["messages"]]
    assert roles == [("user", "text"), ("assistant", "error")], roles
    assert "соединение не установлено" in history["messages"][1]["content"]
    stored = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    assert SECRET.encode() not in stored


# --- help -----------------------------------------------------------------------------------------
def _commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_every_command_and_option_has_russian_help() -> None:
    cyrillic = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
    root = typer.main.get_command(app)
    for path, command in _commands(root):
        assert set((command.help or "").lower()) & cyrillic, f"aizoomdoc {' '.join(path)}: no Russian help"
        for param in command.params:
            if param.name == "help":
                continue
            text = getattr(param, "help", None) or ""
            assert set(text.lower()) & cyrillic, f"aizoomdoc {' '.join(path)} {param.name}: no Russian help"
        r = runner.invoke(app, [*path, "--help"])
        assert r.exit_code == 0, r.output
