"""Background jobs on the team deployment: PostgreSQL (the job queue) + SeaweedFS (S3), real
processes. A scanned 3-sheet set is uploaded to ``aizoomdoc serve``; two ``aizoomdoc worker``
processes start recognising it and are both SIGKILLed mid-OCR; a third worker, started later on
its own data folder, takes the stalled jobs over and finishes: the document is ``ready`` with its 3
pages, no block is stored twice, and its text is found through ``GET /api/search``."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from aizoomdoc.config import Settings
from aizoomdoc.sample import build_drawing_set, rasterised_pdf
from aizoomdoc.store import migrate
from aizoomdoc.store.database import Database
from tests.support.api_client import JWT_SECRET, LiveServer, bearer, sign_jwt
from tests.support.services import SeaweedServer

pytestmark = [pytest.mark.postgres, pytest.mark.s3]


class Worker:
    """``aizoomdoc worker`` in its own process group (its OCR children die with it)."""

    def __init__(self, env: dict[str, str], data_dir: Path, log: Path) -> None:
        full = {k: v for k, v in os.environ.items()
                if not k.startswith(("SUPABASE_", "S3_", "LLM_", "DATABASE_URL", "USE_", "DATA_DIR", "AUTH_"))}
        full.update(env, DATA_DIR=str(data_dir))
        self.proc = subprocess.Popen([sys.executable, "-m", "aizoomdoc", "worker"], env=full,
                                     stdout=open(log, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
                                     start_new_session=True)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


async def _fetch(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def fetch(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    return asyncio.run(_fetch(url, sql, *args))


def wait_for(check, timeout: float, what: str, step: float = 0.2):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture()
def migrated(pg_url: str, settings: Settings) -> str:
    async def up() -> None:
        db = Database(Settings(_env_file=None, data_dir=settings.data_dir, database_url=pg_url))
        try:
            await migrate.upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(up())
    return pg_url


def test_killed_workers_jobs_are_finished_by_another(migrated: str, s3_server: SeaweedServer, s3_bucket: str,
                                                     tmp_path: Path) -> None:
    pg_url = migrated
    scan = tmp_path / "скан-ОВ.pdf"
    scan.write_bytes(rasterised_pdf(build_drawing_set(3).pdf_bytes, dpi=150))
    env = {"DATABASE_URL": pg_url, "AUTH_MODE": "server", "SUPABASE_JWT_SECRET": JWT_SECRET,
           "USE_S3_STORAGE": "true", "S3_ENDPOINT_URL": s3_server.endpoint_url, "S3_BUCKET": s3_bucket,
           "S3_ACCESS_KEY": s3_server.access_key, "S3_SECRET_KEY": s3_server.secret_key,
           "S3_REGION": s3_server.region, "OFFLINE_MODE": "false", "LOG_LEVEL": "INFO",
           "OCR_DPI": "150", "JOBS_HEARTBEAT_SECONDS": "0.5", "JOBS_STALLED_SECONDS": "3"}
    auth = bearer(sign_jwt("alice-jobs"))
    workers: list[Worker] = []
    with LiveServer({**env, "DATA_DIR": str(tmp_path / "api")}, log=tmp_path / "api.log") as api, \
            httpx.Client(base_url=api.url, headers=auth, timeout=30) as http:
        try:
            workers = [Worker(env, tmp_path / f"w{n}", tmp_path / f"w{n}.log") for n in (1, 2)]
            r = http.post("/api/documents", files={"file": (scan.name, scan.read_bytes(), "application/pdf")})
            assert r.status_code == 201, r.text
            doc = r.json()["documents"][0]
            assert doc["status"] == "queued" and doc["page_count"] == 3 and doc["block_count"] == 0

            # Both workers busy recognising pages: kill them (a machine gone, no goodbye).
            doing = "SELECT count(*) AS n FROM procrastinate.procrastinate_jobs " \
                    "WHERE task_name = 'aizoomdoc.ocr_page' AND status = 'doing'"
            wait_for(lambda: fetch(pg_url, doing)[0]["n"] >= 2, 120, "two pages being recognised")
            for w in workers:
                w.kill()
            mid = http.get(f"/api/documents/{doc['id']}").json()
            assert mid["status"] == "processing" and mid["block_count"] == 0, mid
            assert mid["progress"]["pages_total"] == 3 and mid["progress"]["pages_done"] < 3, mid
            assert fetch(pg_url, "SELECT count(*) AS n FROM document_blocks")[0]["n"] == 0  # no half document
            assert fetch(pg_url, doing)[0]["n"] >= 2  # their jobs look alive, until the heartbeats are missed

            workers.append(Worker(env, tmp_path / "w3", tmp_path / "w3.log"))
            ready = wait_for(lambda: (d := http.get(f"/api/documents/{doc['id']}").json())["status"]
                             in ("ready", "error") and d, 240, "the third worker to finish", step=0.5)
            assert ready["status"] == "ready", ready
            assert ready["page_count"] == 3 and ready["block_count"] > 20, ready
            assert ready["progress"] == {"pages_done": 3, "pages_total": 3}
            assert ready["ocr_pages"] == 3 and ready["unreadable_pages"] == []
            pages = http.get(f"/api/documents/{doc['id']}").json()["pages"]
            assert [p["ocr"] for p in pages] == ["done"] * 3

            rows = fetch(pg_url, "SELECT block_id, page_number, text, coords_norm::text AS box FROM document_blocks "
                                 "WHERE document_id = $1", doc["id"])
            assert len(rows) == ready["block_count"]
            assert len({r["block_id"] for r in rows}) == len(rows)
            assert len({(r["page_number"], r["text"], r["box"]) for r in rows}) == len(rows)  # nothing twice
            assert {r["page_number"] for r in rows} == {1, 2, 3}

            hits = http.get("/api/search", params={"q": "вентилятор вытяжной", "limit": 3}).json()["hits"]
            assert hits and hits[0]["document_id"] == doc["id"], hits
            assert "вентилятор" in hits[0]["text"].lower() and hits[0]["block_id"].startswith(f"p{hits[0]['page_number']}-ocr")
            other = bearer(sign_jwt("bob-jobs"))
            assert http.get("/api/search", params={"q": "вентилятор"}, headers=other).json()["hits"] == []
            assert http.get("/api/search", params={"q": "вентилятор", "document_id": doc["id"]},
                            headers=other).status_code == 404
            # The job queue's tables live apart from ours, and the killed workers' jobs were taken over.
            left = fetch(pg_url, "SELECT status::text AS s, count(*) AS n FROM procrastinate.procrastinate_jobs "
                                 "GROUP BY 1")
            assert {r["s"] for r in left} <= {"succeeded"}, left
        finally:
            for w in workers:
                w.stop()
    log = (tmp_path / "w3.log").read_text(errors="replace")
    assert "queued again" in log, log[-3000:]
