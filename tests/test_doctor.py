"""`aizoomdoc doctor`: the file storage, offline journal and LLM lines, run as a user would (the CLI
with environment variables) against real SeaweedFS and a scripted OpenAI-compatible server."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aizoomdoc.cli import app
from aizoomdoc.config import reset_settings_cache
from tests.support.llm_server import ScriptedLLM
from tests.support.services import SeaweedServer

LLM_KEY = "sk-doctor-test-9f8e7d6c5b4a"


@pytest.fixture()
def doctor(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DoctorRunner]:
    monkeypatch.chdir(data_dir)  # no developer .env
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    reset_settings_cache()
    yield DoctorRunner(data_dir, monkeypatch)
    reset_settings_cache()


class DoctorRunner:
    def __init__(self, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.data_dir = data_dir
        self.monkeypatch = monkeypatch
        self.runner = CliRunner()

    def env(self, **values: str) -> None:
        for name, value in values.items():
            self.monkeypatch.setenv(name, value)
        reset_settings_cache()

    def upgrade(self) -> None:
        result = self.runner.invoke(app, ["db", "upgrade"])
        assert result.exit_code == 0, result.output

    def run(self) -> Result:
        reset_settings_cache()
        started = time.monotonic()
        result = self.runner.invoke(app, ["doctor"])
        self.elapsed = time.monotonic() - started
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert "Traceback" not in result.output
        return result


def marked(result: Result, mark: str) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith(mark)]


def closed_port() -> int:
    with socket.socket() as s:  # bound, never listening, closed: connections are refused
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def use_s3(doctor: DoctorRunner, server: SeaweedServer, bucket: str, **overrides: str) -> None:
    values = {"USE_S3_STORAGE": "true", "S3_ENDPOINT_URL": server.endpoint_url, "S3_REGION": server.region,
              "S3_ACCESS_KEY": server.access_key, "S3_SECRET_KEY": server.secret_key, "S3_BUCKET": bucket}
    values.update(overrides)
    doctor.env(**values)


# --- defaults -----------------------------------------------------------------------------------
def test_defaults_are_all_green(doctor: DoctorRunner) -> None:
    doctor.upgrade()
    result = doctor.run()
    assert result.exit_code == 0, result.output
    assert not marked(result, "✘") and not marked(result, "⚠"), result.output
    ok = marked(result, "✔")
    files = doctor.data_dir / "files"
    assert f"✔ Папка файлов доступна для записи: {files}" in result.output
    assert any("Языковая модель не используется (LLM_API_KEY не задан)" in line for line in ok), result.output
    assert len(ok) == 5, result.output  # settings, database, migrations, files, LLM
    assert "Всё в порядке." in result.output
    # the probe file was written, read and deleted: nothing left behind
    leftovers = [p for p in files.rglob("*") if p.is_file()]
    assert leftovers == [], leftovers


def test_unwritable_files_folder_is_a_red_line(doctor: DoctorRunner) -> None:
    (doctor.data_dir / "files").write_text("a file where the folder should be")
    result = doctor.run()
    assert result.exit_code == 1
    [line] = [line for line in marked(result, "✘") if "хранилище" in line]
    assert str(doctor.data_dir / "files") in line and "DATA_DIR" in line, line


# --- offline journal ----------------------------------------------------------------------------
def test_pending_journal_entries_are_a_warning_with_the_sync_command(doctor: DoctorRunner) -> None:
    from aizoomdoc.store.journal import FILES_QUEUE, Journal, NewEntry

    doctor.upgrade()
    chat_id = str(uuid.uuid4())
    journal = Journal.for_data_dir(doctor.data_dir)  # what the offline layer writes while offline
    journal.append(NewEntry("create_chat", {"id": chat_id, "title": "офлайн"}, chat_id=chat_id))
    key = f"chats/{chat_id}/images/a.png"
    journal.keep_file_locally(key, NewEntry("upload", {"key": key, "content_type": "image/png",
                                                       "metadata": {}, "size": 3}, FILES_QUEUE, entity_id=key))
    journal.close()

    result = doctor.run()
    assert result.exit_code == 0, result.output  # a warning, not a failure
    [line] = marked(result, "⚠")
    assert "ожидают синхронизации: 2" in line and "«aizoomdoc sync»" in line, line
    assert "записей — 1, файлов — 1" in line


def test_empty_journal_says_nothing(doctor: DoctorRunner) -> None:
    from aizoomdoc.store.journal import Journal

    Journal.for_data_dir(doctor.data_dir).close()
    result = doctor.run()
    assert "Офлайн-журнал" not in result.output and not marked(result, "⚠"), result.output


# --- S3 ---------------------------------------------------------------------------------------------
@pytest.mark.s3
def test_s3_bucket_reachable_is_green(doctor: DoctorRunner, s3_server: SeaweedServer, s3_bucket: str) -> None:
    doctor.upgrade()
    use_s3(doctor, s3_server, s3_bucket)
    result = doctor.run()
    assert result.exit_code == 0, result.output
    assert not marked(result, "✘"), result.output
    line = next(line for line in marked(result, "✔") if "S3" in line)
    assert f"бакет «{s3_bucket}» на {s3_server.endpoint_url}" in line, line
    assert s3_server.secret_key not in result.output


@pytest.mark.s3
def test_s3_wrong_secret_names_the_keys(doctor: DoctorRunner, s3_server: SeaweedServer, s3_bucket: str) -> None:
    secret = "wrong-secret-0a1b2c3d4e"
    use_s3(doctor, s3_server, s3_bucket, S3_SECRET_KEY=secret)
    result = doctor.run()
    assert result.exit_code == 1
    [line] = [line for line in marked(result, "✘") if "S3_" in line]
    assert "S3_SECRET_KEY" in line and "S3_ACCESS_KEY" in line, line
    assert secret not in result.output and s3_server.secret_key not in result.output
    assert doctor.elapsed < 5, doctor.elapsed


@pytest.mark.s3
def test_s3_missing_bucket_says_storage_init(doctor: DoctorRunner, s3_server: SeaweedServer) -> None:
    bucket = f"absent-{uuid.uuid4().hex[:10]}"
    use_s3(doctor, s3_server, bucket)
    result = doctor.run()
    assert result.exit_code == 1
    [line] = [line for line in marked(result, "✘") if "S3_" in line]
    assert f"«{bucket}»" in line and "aizoomdoc storage init" in line, line


@pytest.mark.s3
def test_s3_closed_port_names_the_endpoint(doctor: DoctorRunner, s3_server: SeaweedServer, s3_bucket: str) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    use_s3(doctor, s3_server, s3_bucket, S3_ENDPOINT_URL=endpoint)
    result = doctor.run()
    assert result.exit_code == 1
    [line] = [line for line in marked(result, "✘") if "S3_" in line]
    assert endpoint in line and "S3_ENDPOINT_URL" in line, line
    assert s3_server.secret_key not in result.output
    assert doctor.elapsed < 5, doctor.elapsed


# --- LLM ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("listed", [True, False])
def test_llm_reachable_with_key_is_green(doctor: DoctorRunner, listed: bool) -> None:
    doctor.upgrade()
    model = "vendor/model-x"
    models = ["other/model", model] if listed else ["other/model"]
    with ScriptedLLM(models=models, api_key=LLM_KEY) as llm:
        base_url = llm.base_url
        doctor.env(LLM_BASE_URL=base_url, LLM_API_KEY=LLM_KEY, LLM_MODEL=model)
        result = doctor.run()
        assert [r.path for r in llm.requests] == ["/v1/models"]
        assert llm.requests[0].headers.get("Authorization") == f"Bearer {LLM_KEY}"
    assert result.exit_code == 0, result.output
    line = next(line for line in marked(result, "✔") if "Модель доступна" in line)
    assert base_url in line and "ключ принят" in line, line
    if listed:
        assert f"модель «{model}» есть в списке" in line, line
    else:
        assert f"модели «{model}» нет в списке" in line and "LLM_MODEL" in line, line
    assert LLM_KEY not in result.output


def test_llm_rejected_key_names_llm_api_key(doctor: DoctorRunner) -> None:
    with ScriptedLLM(api_key="the-right-key") as llm:
        doctor.env(LLM_BASE_URL=llm.base_url, LLM_API_KEY=LLM_KEY)
        result = doctor.run()
    assert result.exit_code == 1
    [line] = [line for line in marked(result, "✘") if "LLM_" in line]
    assert "HTTP 401" in line and "LLM_API_KEY" in line, line
    assert LLM_KEY not in result.output


def test_llm_closed_port_names_llm_base_url(doctor: DoctorRunner) -> None:
    base = f"http://127.0.0.1:{closed_port()}/v1"
    doctor.env(LLM_BASE_URL=base, LLM_API_KEY=LLM_KEY)
    result = doctor.run()
    assert result.exit_code == 1
    [line] = [line for line in marked(result, "✘") if "LLM_" in line]
    assert base in line and "LLM_BASE_URL" in line and "соединение не установлено" in line, line
    assert LLM_KEY not in result.output
    assert doctor.elapsed < 5, doctor.elapsed


def test_llm_other_status_names_llm_base_url(doctor: DoctorRunner) -> None:
    with ScriptedLLM() as llm:
        doctor.env(LLM_BASE_URL=llm.base_url.removesuffix("/v1") + "/wrong", LLM_API_KEY=LLM_KEY)
        result = doctor.run()
    assert result.exit_code == 1
    [line] = [line for line in marked(result, "✘") if "LLM_" in line]
    assert "HTTP 404" in line and "LLM_BASE_URL" in line, line
    assert LLM_KEY not in result.output


def test_llm_local_server_without_key(doctor: DoctorRunner) -> None:
    with ScriptedLLM(model="llama3") as llm:  # Ollama-style: LLM_API_KEY=none, no key sent
        base_url = llm.base_url
        doctor.env(LLM_BASE_URL=base_url, LLM_API_KEY="none", LLM_MODEL="llama3")
        result = doctor.run()
        assert "Authorization" not in llm.requests[0].headers
    line = next(line for line in marked(result, "✔") if "Модель доступна" in line)
    assert "без ключа" in line and "модель «llama3» есть в списке" in line, line
