"""`aizoomdoc backup create|restore|list|verify` on real services: PostgreSQL + SeaweedFS (S3) and
SQLite + a local folder; an interrupted backup that resumes; a corrupted file that verify reports."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from aizoomdoc.cli import app
from aizoomdoc.config import Settings, reset_settings_cache
from aizoomdoc.errors import StorageError
from aizoomdoc.pipeline.backup import BackupService
from aizoomdoc.sample import build_drawing_set, write_bundle_fixtures
from aizoomdoc.store.database import Database
from aizoomdoc.store.files import build_file_storage
from aizoomdoc.store.schema import metadata
from tests.support.services import SeaweedServer

runner = CliRunner()
QUESTIONS = ["Какая толщина утеплителя кровли П-1?", "А какая пароизоляция?", "Найди всё вентиляционное оборудование"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bundle_fixtures(tmp_path_factory.mktemp("set"), build_drawing_set(), formats=("result",))["result"]


class Env:
    """The process environment of one "installation" (a database and a file storage)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.mp = monkeypatch
        self.names: set[str] = set()

    def use(self, **values: str) -> None:
        for name in self.names - set(values):
            self.mp.delenv(name, raising=False)
        for name, value in values.items():
            self.mp.setenv(name, value)
        self.names = set(values)
        reset_settings_cache()


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Env]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    yield Env(monkeypatch)
    reset_settings_cache()


def cli(*args: str) -> dict[str, Any]:
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def ask_three(bundle: Path) -> None:
    first = cli("ask", QUESTIONS[0], "--doc", str(bundle))
    cli("ask", QUESTIONS[1], "--chat", first["chat_id"])
    cli("ask", QUESTIONS[2], "--doc", str(bundle))


async def _snapshot(settings: Settings) -> dict[str, Any]:
    """Every row of every table (ordered by primary key) and every stored file with its bytes."""
    db = Database(settings)
    files = build_file_storage(settings)
    try:
        def read(conn: Any) -> dict[str, list[dict[str, Any]]]:
            return {t.name: [dict(r._mapping) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                    for t in metadata.sorted_tables}

        rows = await db.run(read)
        keys = await files.list_files("")
        blobs = {}
        for k in keys:
            meta = await files.get_file_metadata(k)
            blobs[k] = (await files.read_bytes(k), meta["content_type"], meta["metadata"])
    finally:
        await files.aclose()
        await db.dispose()
    return {"rows": rows, "files": blobs}


def snapshot(**values: str) -> dict[str, Any]:
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in values.items()})
    return asyncio.run(_snapshot(settings))


# --- the done-when: PostgreSQL + SeaweedFS, to a folder and to another bucket ----------------------

@pytest.mark.postgres
@pytest.mark.s3
def test_postgres_and_s3_backup_to_folder_and_bucket_restore_every_row_and_file(
        env: Env, bundle: Path, tmp_path: Path, pg_server: Any, s3_server: SeaweedServer) -> None:
    s3 = {"USE_S3_STORAGE": "true", "S3_ENDPOINT_URL": s3_server.endpoint_url, "S3_REGION": s3_server.region,
          "S3_ACCESS_KEY": s3_server.access_key, "S3_SECRET_KEY": s3_server.secret_key,
          "S3_ADDRESSING_STYLE": "path"}
    urls = [pg_server.create_database("aizoomdoc_bk") for _ in range(3)]
    try:
        source = {**s3, "DATABASE_URL": urls[0], "S3_BUCKET": s3_server.create_bucket(),
                  "DATA_DIR": str(tmp_path / "src")}
        env.use(**source)
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        ask_three(bundle)
        before = snapshot(**source)
        assert len(before["rows"]["chats"]) == 2 and len(before["rows"]["chat_messages"]) == 6
        assert before["rows"]["chat_images"] and before["rows"]["search_results"]
        assert len(before["rows"]["usage_questions"]) == 3  # tables added by migrations come along
        images = {r["s3_path"] for r in before["rows"]["chat_images"]}
        assert images <= set(before["files"])  # the viewports are in the source bucket

        folder = tmp_path / "backups"
        bucket = f"s3://{s3_server.create_bucket()}/nightly"
        made = [cli("backup", "create", "--to", str(folder)), cli("backup", "create", "--to", bucket)]
        for m in made:
            assert m["tables"]["chats"] == 2 and m["files"] == len(before["files"]) and not m["files_vanished"]
            assert set(m["tables"]) == {t.name for t in metadata.sorted_tables}
        again = cli("backup", "create", "--to", bucket)  # incremental: nothing sent again
        assert again["files_sent"] == 0 and again["files_skipped"] == again["files"]
        assert [s["complete"] for s in cli("backup", "list", bucket)] == [True, True]

        for n, where in enumerate((str(folder), bucket), start=1):
            target = {**s3, "DATABASE_URL": urls[n], "S3_BUCKET": s3_server.create_bucket(),
                      "DATA_DIR": str(tmp_path / f"restored{n}")}
            env.use(**target)
            assert cli("backup", "verify", where)["ok"] is True
            restored = cli("backup", "restore", where)
            assert restored["tables"]["chat_messages"] == 6 and restored["files"] == len(before["files"])
            after = snapshot(**target)
            for table in ("chats", "chat_messages", "chat_images", "search_results"):
                assert after["rows"][table] == before["rows"][table], table
            assert after["rows"] == before["rows"]
            assert after["files"] == before["files"]  # every file, byte for byte (and its type)
            # the restored installation works: the history reads back and a new question is answered
            r = runner.invoke(app, ["chats", "list", "--json"])
            assert len(json.loads(r.stdout)) == 2
            cli("ask", QUESTIONS[0], "--doc", before["rows"]["documents"][0]["id"])
            # a second restore into the now non-empty installation is refused, in one line
            r = runner.invoke(app, ["backup", "restore", where])
            assert r.exit_code == 1 and "не пуста" in r.output and "--force" in r.output
    finally:
        for url in urls:
            pg_server.drop_database(url)


# --- resumable, incremental, corruption -----------------------------------------------------------

@pytest.fixture(scope="module")
def second_s3() -> Iterator[SeaweedServer]:
    """A second S3 service (another region, say) that the test can bring down."""
    server = SeaweedServer()
    server.start()
    yield server
    server.destroy()


def _local_with_files(tmp_path: Path, bundle: Path, env: Env, extra: int) -> dict[str, str]:
    values = {"DATA_DIR": str(tmp_path / "data")}
    env.use(**values)
    ask_three(bundle)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")

    async def add() -> None:
        files = build_file_storage(settings)
        for i in range(extra):
            await files.upload_bytes(os.urandom(2000 + i), f"chats/extra/other/f{i:02d}.bin",
                                     metadata={"note": f"файл {i}"})

    asyncio.run(add())
    return values


@pytest.mark.s3
def test_interrupted_backup_resumes_without_sending_again(env: Env, bundle: Path, tmp_path: Path,
                                                         second_s3: SeaweedServer) -> None:
    source = _local_with_files(tmp_path, bundle, env, extra=10)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", backup_concurrency=1,
                        s3_endpoint_url=second_s3.endpoint_url, s3_region=second_s3.region,
                        s3_access_key=second_s3.access_key, s3_secret_key=second_s3.secret_key,
                        s3_connect_timeout=1, s3_max_attempts=1)
    dest = f"s3://{second_s3.create_bucket()}/azd"

    def kill_after_three(event: dict[str, Any]) -> None:
        if event.get("sent") == 3 and second_s3.proc is not None:
            second_s3.kill()  # the backup's S3 goes down mid-backup

    async def first_run() -> None:
        async with BackupService(settings) as service:
            await service.create(dest, on_progress=kill_after_three)

    with pytest.raises(StorageError):
        asyncio.run(first_run())
    second_s3.start()

    async def second_run() -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
        async with BackupService(settings) as service:
            made = await service.create(dest)
            return made, await service.verify(dest), await service.list(dest)

    made, checked, listed = asyncio.run(second_run())
    unique = len({h for h in _hashes(tmp_path / "data")})
    assert made["files_sent"] == unique - 3  # the three sent before the failure are not sent again
    assert made["files"] == len(_hashes(tmp_path / "data"))
    assert checked["ok"] and checked["objects_checked"] == unique
    assert [s["complete"] for s in listed] == [True]

    env.use(DATA_DIR=str(tmp_path / "restored"), **{k: v for k, v in _s3_env(second_s3).items()})
    restored = cli("backup", "restore", dest)
    assert restored["files"] == made["files"]
    assert snapshot(data_dir=str(tmp_path / "restored")) == snapshot(**{k: v for k, v in source.items()})


def _s3_env(server: SeaweedServer) -> dict[str, str]:
    """Backup-bucket credentials only (the restored installation itself stays local)."""
    return {"BACKUP_S3_ENDPOINT_URL": server.endpoint_url, "BACKUP_S3_REGION": server.region,
            "BACKUP_S3_ACCESS_KEY": server.access_key, "BACKUP_S3_SECRET_KEY": server.secret_key}


def _hashes(data_dir: Path) -> list[str]:
    import hashlib

    root = data_dir / "files"
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*")
            if p.is_file() and ".meta" not in p.parts]


def test_verify_reports_a_corrupted_file_and_restore_refuses_it(env: Env, bundle: Path, tmp_path: Path) -> None:
    _local_with_files(tmp_path, bundle, env, extra=2)
    folder = tmp_path / "bk"
    made = cli("backup", "create", "--to", str(folder))
    assert cli("backup", "verify", str(folder))["ok"] is True
    # one stored file rots on the backup disk
    manifest_files = json.loads(gzip.decompress(
        (folder / "snapshots" / made["snapshot"] / "files.jsonl.gz").read_bytes()).decode().splitlines()[0])
    victim = folder / "objects" / manifest_files["sha256"][:2] / manifest_files["sha256"]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))

    r = runner.invoke(app, ["backup", "verify", str(folder)])
    assert r.exit_code == 1 and "повреждён" in r.output and manifest_files["key"] in r.output
    report = json.loads(runner.invoke(app, ["backup", "verify", str(folder), "--json"]).stdout)
    assert not report["ok"] and {p["kind"] for p in report["problems"]} == {"file_corrupt"}

    env.use(DATA_DIR=str(tmp_path / "fresh"))
    r = runner.invoke(app, ["backup", "restore", str(folder)])
    assert r.exit_code == 1 and "повреждён" in r.output and "Traceback" not in r.output
    empty = snapshot(data_dir=str(tmp_path / "fresh"))
    assert not empty["files"] and not any(empty["rows"].values())  # nothing half-restored

    # a damaged table part is reported too
    part = folder / "snapshots" / made["snapshot"] / "tables" / "chats.jsonl.gz"
    part.write_bytes(part.read_bytes()[:-5])
    report = json.loads(runner.invoke(app, ["backup", "verify", str(folder), "--json"]).stdout)
    assert {p["kind"] for p in report["problems"]} == {"file_corrupt", "part_corrupt"}


def test_sqlite_round_trip_force_and_a_newer_format(env: Env, bundle: Path, tmp_path: Path) -> None:
    source = _local_with_files(tmp_path, bundle, env, extra=0)
    folder = tmp_path / "bk"
    made = cli("backup", "create", "--to", str(folder))
    before = snapshot(data_dir=source["DATA_DIR"])

    env.use(DATA_DIR=str(tmp_path / "other"))
    cli("ask", QUESTIONS[0], "--doc", str(bundle))  # not empty any more
    r = runner.invoke(app, ["backup", "restore", str(folder)])
    assert r.exit_code == 1 and "--force" in r.output
    cli("backup", "restore", str(folder), "--force")
    assert snapshot(data_dir=str(tmp_path / "other"))["rows"] == before["rows"]

    # a snapshot written by a newer version (format 2) is refused with what to do
    manifest = folder / "snapshots" / made["snapshot"] / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "format_version": 2}))
    env.use(DATA_DIR=str(tmp_path / "third"))
    r = runner.invoke(app, ["backup", "restore", str(folder)])
    assert r.exit_code == 1 and "обновите AIZoomDoc" in r.output
    r = runner.invoke(app, ["backup", "list", str(tmp_path / "nothing-here")])
    assert r.exit_code == 0 and "нет снимков" in r.output
    r = runner.invoke(app, ["backup", "create", "--to", "ftp://host/x"])
    assert r.exit_code == 1 and "s3://" in r.output
