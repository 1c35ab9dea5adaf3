"""Offline-first: PostgreSQL or S3 down mid-work, nothing lost, synced exactly once when they return.

Real faults: our own throwaway PostgreSQL cluster is stopped and started (pg_ctl), our own
SeaweedFS is SIGKILLed and restarted, a sync process is SIGKILLed mid-way, and a store is pointed
at a closed port.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import boto3
import pytest

from aizoomdoc.config import Settings
from aizoomdoc.store import ChatStore, Database, migrate
from aizoomdoc.store.factory import build_chat_store, build_files, journal_for
from aizoomdoc.store.files.resilient import ResilientFileStorage
from aizoomdoc.store.resilient import ResilientChatStore
from tests.support.services import PostgresCluster, PostgresServer, SeaweedServer, free_port

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n" + b"offline-test-image-"


# --- servers of our own (we stop and kill them) ------------------------------------------------
@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    c = PostgresCluster()
    c.start()
    yield c
    c.destroy()


@pytest.fixture()
def pg(cluster: PostgresCluster) -> Iterator[str]:
    """A fresh, migrated database on our cluster (which is running at the start of every test)."""
    if not _port_open(cluster.port):
        cluster.start()
    server = PostgresServer(admin_url=cluster.admin_url)
    url = server.create_database("aizoomdoc_offline")

    async def up() -> None:
        db = Database(Settings(_env_file=None, database_url=url))
        try:
            await migrate.upgrade(db, "head")
        finally:
            await db.dispose()

    asyncio.run(up())
    yield url
    if not _port_open(cluster.port):
        cluster.start()
    server.drop_database(url)


@pytest.fixture(scope="module")
def seaweed() -> Iterator[SeaweedServer]:
    s = SeaweedServer()
    s.start()
    yield s
    s.destroy()


def _port_open(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def make_settings(data_dir: Path, db_url: str | None, seaweed: SeaweedServer | None = None,
                  bucket: str | None = None, **kw: Any) -> Settings:
    values: dict[str, Any] = dict(
        data_dir=data_dir, db_connect_timeout=2.0, sync_probe_initial=0.2, sync_probe_max=1.0,
        sync_interval=0.5,
    )
    if db_url:
        values["database_url"] = db_url
    if seaweed is not None:
        values.update(use_s3_storage=True, s3_endpoint_url=seaweed.endpoint_url, s3_region=seaweed.region,
                      s3_access_key=seaweed.access_key, s3_secret_key=seaweed.secret_key, s3_bucket=bucket,
                      s3_connect_timeout=1.0, s3_read_timeout=5.0, s3_max_attempts=1)
    values.update(kw)
    return Settings(_env_file=None, **values)


async def pg_rows(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"), timeout=5)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def bucket_keys(seaweed: SeaweedServer, bucket: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=seaweed.endpoint_url, aws_access_key_id=seaweed.access_key,
                          aws_secret_access_key=seaweed.secret_key, region_name=seaweed.region)
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


# --- PostgreSQL stopped in the middle of a conversation ---------------------------------------
@pytest.mark.s3
async def test_postgres_stopped_mid_conversation_nothing_lost_nothing_duplicated(
        tmp_path: Path, cluster: PostgresCluster, pg: str, seaweed: SeaweedServer) -> None:
    bucket = seaweed.create_bucket()
    settings = make_settings(tmp_path / "data", pg, seaweed, bucket)
    store = build_chat_store(settings)
    files = build_files(settings)
    assert isinstance(store, ResilientChatStore) and isinstance(files, ResilientFileStorage)

    chat_id = await store.create_chat("Разговор со сбоем", "user-1")
    ids: list[str] = []
    image_ids: list[str] = []
    offline_write_times: list[float] = []
    for i in range(100):
        if i == 40:
            await asyncio.to_thread(cluster.stop)  # the server goes away mid-conversation
        t0 = time.perf_counter()
        role = "user" if i % 2 == 0 else "assistant"
        mid = await store.add_message(chat_id, role, f"сообщение {i:03d}", metadata={"i": i})
        ids.append(mid)
        if i % 5 == 0:
            key = files.generate_s3_path(chat_id, "viewport", f"v{i}.png")
            url = await files.upload_bytes(PNG + str(i).encode(), key, content_type="image/png")
            image_ids.append(await store.add_image_to_message(chat_id, mid, f"v{i}.png", key, url,
                                                              width=10, height=10, page_number=1))
            await store.add_search_result(chat_id, mid, f"b{i}", 1, "текст блока", [0, 0, 1, 1], None)
        if i >= 40:
            offline_write_times.append(time.perf_counter() - t0)
        if i == 60:
            # Offline: reads are the union of what the cloud had (cache) and the journal, in order.
            state = store.offline_state()
            assert state["database"] == "offline" and state["pending"] > 0
            hist = await store.get_chat_history(chat_id)
            assert [m["id"] for m in hist["messages"]] == ids
            assert (await store.get_chat(chat_id))["title"] == "Разговор со сбоем"
            assert [c["id"] for c in await store.get_chats("user-1")] == [chat_id]
    # A dead server costs milliseconds per write, not connect timeouts (no retry storm either).
    assert max(offline_write_times) < 1.0, max(offline_write_times)
    assert store.link.probes <= 20

    await asyncio.to_thread(cluster.start)
    assert await store.wait_synced(30), store.offline_state()

    msgs = await pg_rows(pg, "SELECT id::text, content FROM chat_messages WHERE chat_id = $1 "
                             "ORDER BY created_at, id", uuid.UUID(chat_id))
    assert [r["id"] for r in msgs] == ids  # every message exactly once, in order
    assert [r["content"] for r in msgs] == [f"сообщение {i:03d}" for i in range(100)]
    imgs = await pg_rows(pg, "SELECT id::text, s3_url, sync_state FROM chat_images WHERE chat_id = $1 "
                             "ORDER BY uploaded_at", uuid.UUID(chat_id))
    assert [r["id"] for r in imgs] == image_ids
    assert all(r["s3_url"].startswith(seaweed.endpoint_url) and r["sync_state"] == "synced" for r in imgs)
    res = await pg_rows(pg, "SELECT count(*) AS n, count(DISTINCT id) AS d FROM search_results")
    assert res[0]["n"] == res[0]["d"] == 20
    updated = await pg_rows(pg, "SELECT updated_at FROM chats WHERE id = $1", uuid.UUID(chat_id))
    last = await pg_rows(pg, "SELECT max(created_at) AS m FROM chat_messages")
    assert updated[0]["updated_at"] >= last[0]["m"]
    assert journal_for(settings).counts().pending == 0
    # After the sync the store is online again and writes go straight to PostgreSQL.
    assert store.online
    await store.add_message(chat_id, "user", "после восстановления")
    assert len(await pg_rows(pg, "SELECT 1 FROM chat_messages")) == 101
    await store.close()
    await files.aclose()


# --- SeaweedFS killed and restarted -------------------------------------------------------------
@pytest.mark.s3
async def test_s3_killed_files_kept_locally_then_uploaded_once(tmp_path: Path, pg: str,
                                                               seaweed: SeaweedServer) -> None:
    bucket = seaweed.create_bucket()
    settings = make_settings(tmp_path / "data", pg, seaweed, bucket)
    store = build_chat_store(settings)
    files = build_files(settings)
    assert isinstance(files, ResilientFileStorage)
    chat_id = await store.create_chat("S3 падает", "user-1")
    mid = await store.add_message(chat_id, "assistant", "ответ с картинками")
    keys: list[str] = []
    try:
        for i in range(30):
            if i == 10:
                await asyncio.to_thread(seaweed.kill)
            key = files.generate_s3_path(chat_id, "zoom_crop", f"z{i}.png")
            t0 = time.perf_counter()
            url = await files.upload_bytes(PNG + bytes([i]), key, content_type="image/png")
            if i >= 10:
                assert time.perf_counter() - t0 < 3.0
                assert url.startswith(settings.public_base_url)  # points at the local copy
                assert (settings.files_dir / key).read_bytes() == PNG + bytes([i])
                assert await files.read_bytes(key) == PNG + bytes([i])  # readable while S3 is dead
            await store.add_image_to_message(chat_id, mid, f"z{i}.png", key, url, image_type="zoom_crop")
            keys.append(key)
        assert files.is_offline and files.offline_state()["pending_files"] == 20
        rows = await store.get_chat_images(chat_id)
        assert sum(r["sync_state"] == "pending" for r in rows) == 20
        hist = await pg_rows(pg, "SELECT count(*) AS n FROM chat_images WHERE sync_state = 'pending'")
        assert hist[0]["n"] == 20  # the records are in PostgreSQL already, marked pending
    finally:
        if seaweed.proc is None:
            await asyncio.to_thread(seaweed.start)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (files.is_offline or journal_for(settings).counts().pending):
        await asyncio.sleep(0.1)
    assert not files.is_offline and journal_for(settings).counts().pending == 0

    assert sorted(bucket_keys(seaweed, bucket)) == sorted(keys)  # every file once
    for i, key in enumerate(keys):
        assert await files.read_bytes(key) == PNG + bytes([i])
        assert not (settings.files_dir / key).exists()  # the local copy is gone after upload
    rows = await pg_rows(pg, "SELECT s3_path, s3_url, sync_state FROM chat_images WHERE chat_id = $1",
                         uuid.UUID(chat_id))
    assert len(rows) == 30
    for r in rows:
        assert r["s3_url"] == files.s3.url_for(r["s3_path"]) and r["sync_state"] == "synced"
    await store.close()
    await files.aclose()


# --- SIGKILL in the middle of a sync -----------------------------------------------------------
def _sync_cmd(settings: Settings) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ, DATA_DIR=str(settings.data_dir), DATABASE_URL=settings.secret("database_url") or "",
               SYNC_BATCH_SIZE="100", PYTHONPATH=str(ROOT / "src"), LOG_LEVEL="WARNING")
    return [sys.executable, "-m", "aizoomdoc", "sync"], env


async def test_sync_killed_midway_then_rerun_completes_exactly_once(tmp_path: Path, cluster: PostgresCluster,
                                                                    pg: str) -> None:
    settings = make_settings(tmp_path / "data", pg, sync_auto=False)
    store = build_chat_store(settings)
    chats = [await store.create_chat(f"чат {c}", "user-1") for c in range(3)]
    await asyncio.to_thread(cluster.stop)
    total = 6000
    for c, chat_id in enumerate(chats):
        await store.add_messages_bulk(chat_id, [{"role": "user", "content": f"{c}:{i}"} for i in range(total // 3)])
    assert store.is_offline and journal_for(settings).counts().db == total
    await store.close()
    await asyncio.to_thread(cluster.start)

    cmd, env = _sync_cmd(settings)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        applied = 0
        while time.monotonic() < deadline and proc.poll() is None:
            applied = (await pg_rows(pg, "SELECT count(*) AS n FROM chat_messages"))[0]["n"]
            if applied >= 500:
                break
            await asyncio.sleep(0.01)
        assert proc.poll() is None, "the sync finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)  # a real crash mid-sync
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = journal_for(settings).counts().db
    assert 0 < applied and 0 < left < total + 0

    rerun = await asyncio.to_thread(subprocess.run, cmd, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    rows = await pg_rows(pg, "SELECT content FROM chat_messages ORDER BY created_at, id")
    contents = [r["content"] for r in rows]
    assert len(contents) == len(set(contents)) == total  # no duplicates, nothing missing
    for c in range(3):  # and in the original order within each chat
        assert [x for x in contents if x.startswith(f"{c}:")] == [f"{c}:{i}" for i in range(total // 3)]
    assert journal_for(settings).counts().pending == 0


# --- PostgreSQL unreachable from the start: the first question still gets its answer ---------
async def test_first_question_answered_and_persisted_with_postgres_unreachable(tmp_path: Path) -> None:
    from aizoomdoc.pipeline.ask import AskService
    from aizoomdoc.sample import build_drawing_set, write_bundle_fixtures

    paths = write_bundle_fixtures(tmp_path / "set", build_drawing_set(2), formats=("result",))
    pdf = next(p for p in (tmp_path / "set").rglob("*.pdf"))
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/aizoomdoc"  # nothing listens there
    settings = make_settings(tmp_path / "data", dead)
    t0 = time.perf_counter()
    async with AskService(settings, provider=None) as service:
        assert isinstance(service.store, ResilientChatStore)
        result = await service.ask("Какая толщина утеплителя кровли П-1?", [str(pdf)])
        elapsed = time.perf_counter() - t0
        assert result.ok and result.answer and not result.error
        assert service.store.is_offline
        assert elapsed < 10.0, elapsed
        hist = await service.store.get_chat_history(result.chat_id)
        assert [m["role"] for m in hist["messages"]] == ["user", "assistant"]
        assert hist["messages"][0]["search_results"]
    assert paths
    # Persisted locally: a new process (new store on the same DATA_DIR) reads the chat from the journal.
    store = ResilientChatStore.from_settings(settings)
    hist = await store.get_chat_history(result.chat_id)
    assert hist["chat"]["title"].startswith("Какая толщина")
    assert [m["content"] for m in hist["messages"]][1] == result.answer
    assert [c["id"] for c in await store.get_chats(settings.default_user_id)] == [result.chat_id]
    await store.close()


# --- conflicts ------------------------------------------------------------------------------------
async def test_chat_deleted_in_cloud_while_offline_deletion_wins_writes_kept(
        tmp_path: Path, cluster: PostgresCluster, pg: str) -> None:
    from typer.testing import CliRunner

    settings = make_settings(tmp_path / "data", pg, sync_auto=False)
    store = build_chat_store(settings)
    doomed = await store.create_chat("удалят на другом устройстве", "user-1")
    kept = await store.create_chat("останется", "user-1")
    await asyncio.to_thread(cluster.stop)
    m1 = await store.add_message(doomed, "user", "написано без связи")
    await store.add_search_result(doomed, m1, "b1", 1, "блок", None, None)
    await store.add_message(kept, "user", "и сюда тоже")
    await asyncio.to_thread(cluster.start)
    other = ChatStore(Database(Settings(_env_file=None, database_url=pg)))  # another device
    await other.delete_chat(doomed)
    await other.close()

    report = await store.sync()
    assert report.complete and report.conflicts == 2 and report.applied == 1
    assert await store.get_chat(doomed) is None  # the deletion wins
    assert len(await pg_rows(pg, "SELECT 1 FROM chat_messages WHERE chat_id = $1", uuid.UUID(kept))) == 1
    assert not await pg_rows(pg, "SELECT 1 FROM chat_messages WHERE chat_id = $1", uuid.UUID(doomed))
    conflicts = journal_for(settings).conflicts()
    assert [(c.op, c.kind, c.chat_id) for c in conflicts] == [("add_message", "chat_deleted", doomed),
                                                            ("add_result", "chat_deleted", doomed)]
    assert conflicts[0].payload["content"] == "написано без связи"  # nothing silently dropped
    await store.close()

    from aizoomdoc.cli import app
    from aizoomdoc.config import reset_settings_cache

    env = {"DATA_DIR": str(settings.data_dir), "DATABASE_URL": pg}
    reset_settings_cache()
    try:
        out = CliRunner().invoke(app, ["status"], env=env)
    finally:
        reset_settings_cache()
    assert out.exit_code == 0, out.output
    assert "Конфликты (не применены, сохранены в журнале): 2" in out.output
    assert "написано без связи" in out.output and "удалён в облаке" in out.output


async def test_message_to_chat_archived_elsewhere_is_stored_and_chat_stays_archived(
        tmp_path: Path, cluster: PostgresCluster, pg: str) -> None:
    settings = make_settings(tmp_path / "data", pg, sync_auto=False)
    store = build_chat_store(settings)
    chat_id = await store.create_chat("архивируют на другом устройстве", "user-1")
    await asyncio.to_thread(cluster.stop)
    mid = await store.add_message(chat_id, "user", "вопрос без связи")
    await asyncio.to_thread(cluster.start)
    other = ChatStore(Database(Settings(_env_file=None, database_url=pg)))
    await other.archive_chat(chat_id)
    await other.close()

    report = await store.sync()
    assert report.complete and report.conflicts == 0 and report.notices == 1
    chat = await store.get_chat(chat_id)
    assert chat is not None and chat["is_archived"] is True
    assert [m["id"] for m in await store.get_chat_messages(chat_id)] == [mid]
    notice = journal_for(settings).conflicts(resolution="applied")
    assert [(n.kind, n.entity_id) for n in notice] == [("chat_archived", mid)]
    await store.close()


async def test_sync_command_reports_and_fails_while_database_is_down(tmp_path: Path, cluster: PostgresCluster,
                                                                    pg: str) -> None:
    settings = make_settings(tmp_path / "data", pg, sync_auto=False)
    store = build_chat_store(settings)
    chat_id = await store.create_chat("ручная синхронизация", "user-1")
    await asyncio.to_thread(cluster.stop)
    for i in range(5):
        await store.add_message(chat_id, "user", f"m{i}")
    await store.close()
    cmd, env = _sync_cmd(settings)
    down = await asyncio.to_thread(subprocess.run, cmd, env=env, capture_output=True, text=True, timeout=60)
    assert down.returncode == 1 and "Осталось в журнале: записей — 5" in down.stderr
    assert "password" not in down.stderr.lower()
    await asyncio.to_thread(cluster.start)
    up = await asyncio.to_thread(subprocess.run, cmd, env=env, capture_output=True, text=True, timeout=60)
    assert up.returncode == 0, up.stderr
    assert "записей отправлено — 5" in up.stdout
    assert len(await pg_rows(pg, "SELECT 1 FROM chat_messages")) == 5
