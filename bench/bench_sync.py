"""Offline sync figures: an outage of PostgreSQL and S3, then the time to a completed sync.

    .venv/bin/python bench/bench_sync.py [--messages 1000] [--files 200]

Starts a throwaway PostgreSQL cluster and SeaweedFS, writes a conversation through the resilient
store and file storage, stops both servers (pg_ctl stop / SIGKILL) in the middle, keeps writing,
restarts them and measures the time from their return to a completed sync (background sync off, so
the measured sync is one ``Syncer.run``). Prints: messages written during the outage, messages found
after sync, duplicates, files uploaded, records pointing at S3, and the sync time. A same-run
baseline is printed too: the same 1,000 messages and 200 files written online.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402

from aizoomdoc.config import Settings  # noqa: E402
from aizoomdoc.store import Database, migrate  # noqa: E402
from aizoomdoc.store.factory import build_chat_store, build_files, journal_for  # noqa: E402
from tests.support.services import PostgresCluster, PostgresServer, SeaweedServer  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n" + bytes(20_000)  # ~20 KB per file


def settings_for(data_dir: Path, url: str, s3: SeaweedServer, bucket: str) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, database_url=url, db_connect_timeout=2.0,
                    sync_auto=False, use_s3_storage=True, s3_endpoint_url=s3.endpoint_url, s3_region=s3.region,
                    s3_access_key=s3.access_key, s3_secret_key=s3.secret_key, s3_bucket=bucket,
                    s3_connect_timeout=1.0, s3_max_attempts=1)


async def write(store, files, chat_id: str, n_msgs: int, n_files: int, tag: str) -> list[str]:
    every = max(1, n_msgs // max(1, n_files))
    ids = []
    uploaded = 0
    for i in range(n_msgs):
        mid = await store.add_message(chat_id, "user" if i % 2 == 0 else "assistant", f"{tag} {i}")
        ids.append(mid)
        if i % every == 0 and uploaded < n_files:
            key = files.generate_s3_path(chat_id, "viewport", f"{tag}{i}.png")
            url = await files.upload_bytes(PNG, key, content_type="image/png")
            await store.add_image_to_message(chat_id, mid, f"{tag}{i}.png", key, url)
            uploaded += 1
    return ids


async def main(n_msgs: int, n_files: int) -> None:
    cluster = PostgresCluster()
    cluster.start()
    seaweed = SeaweedServer()
    seaweed.start()
    tmp = Path(tempfile.mkdtemp(prefix="aizoomdoc-bench-sync-"))
    try:
        server = PostgresServer(admin_url=cluster.admin_url)
        url = await asyncio.to_thread(server.create_database, "bench_sync")
        db = Database(Settings(_env_file=None, database_url=url))
        await migrate.upgrade(db, "head")
        await db.dispose()
        bucket = seaweed.create_bucket()
        settings = settings_for(tmp / "data", url, seaweed, bucket)
        store, files = build_chat_store(settings), build_files(settings)

        # Baseline: the same amount written online.
        base_chat = await store.create_chat("baseline", "bench")
        t0 = time.perf_counter()
        await write(store, files, base_chat, n_msgs, n_files, "online")
        online_time = time.perf_counter() - t0

        chat_id = await store.create_chat("outage", "bench")
        await write(store, files, chat_id, 10, 2, "before")
        await asyncio.to_thread(cluster.stop)
        await asyncio.to_thread(seaweed.kill)
        t0 = time.perf_counter()
        written = await write(store, files, chat_id, n_msgs, n_files, "outage")
        outage_write = time.perf_counter() - t0
        counts = journal_for(settings).counts()
        print(f"offline: {len(written)} messages + {n_files} files written in {outage_write:.2f}s "
              f"(online baseline {online_time:.2f}s); journal: {counts.db} db entries, {counts.files} uploads")

        await asyncio.to_thread(cluster.start)
        await asyncio.to_thread(seaweed.start)
        t_back = time.perf_counter()
        report = await store.sync()
        sync_time = time.perf_counter() - t_back
        print(f"sync: {report.applied} entries applied, {report.uploaded} files uploaded, "
              f"complete={report.complete}, {sync_time:.2f}s from the servers' return "
              f"({report.elapsed:.2f}s in Syncer.run)")

        conn = await asyncpg.connect(url, timeout=5)
        try:
            rows = await conn.fetch("SELECT id::text, content FROM chat_messages WHERE chat_id = $1 "
                                    "ORDER BY created_at, id", uuid.UUID(chat_id))
            outage_rows = [r for r in rows if r["content"].startswith("outage ")]
            found = {r["id"] for r in outage_rows}
            dups = len(outage_rows) - len({r["content"] for r in outage_rows})
            in_order = [r["id"] for r in outage_rows] == written
            imgs = await conn.fetch("SELECT s3_url, sync_state FROM chat_images WHERE chat_id = $1",
                                    uuid.UUID(chat_id))
        finally:
            await conn.close()
        on_s3 = sum(1 for r in imgs if r["s3_url"].startswith(seaweed.endpoint_url) and r["sync_state"] == "synced")
        print(f"messages written during the outage: {len(written)}; found after sync: "
              f"{len(found & set(written))}; duplicates: {dups}; in order: {in_order}")
        print(f"image records: {len(imgs)}, pointing at S3: {on_s3}")
        print(f"time from the servers' return to a completed sync ({n_msgs} messages, {n_files} files): "
              f"{sync_time:.2f}s")
        await store.close()
        await files.aclose()
    finally:
        cluster.destroy()
        seaweed.destroy()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--files", type=int, default=200)
    a = ap.parse_args()
    asyncio.run(main(a.messages, a.files))
