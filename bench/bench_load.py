"""Load benchmark of the HTTP API: N concurrent clients × M questions against `aizoomdoc serve`.

    .venv/bin/python bench/bench_load.py [--clients 20] [--questions 10] [--workers 2]

Setup (not timed): a fresh PostgreSQL database on 127.0.0.1:5432 (user postgres, trust auth),
migrated; SeaweedFS (S3) on free loopback ports; `aizoomdoc serve --workers W` in server mode
(one Supabase-style JWT per client, so every request runs under RLS as its own user); each client
uploads the synthetic drawing set and creates a chat. Offline answerer (no LLM_API_KEY).

Timed: every client asks its questions one after another — POST the question, follow the chat's
SSE stream until the answer — all clients at once. Reported: throughput (questions/s), latency
p50/p95/max (POST → answer event), and messages lost: user + assistant messages counted in the
database afterwards against 2 × N × M (must be 0), plus error answers. Baseline of the same run:
one question answered in process (AskService, same database and bucket, no HTTP) — the ratio
shows what the HTTP API, SSE and concurrency add. Traffic goes to 127.0.0.1 only; every loop is
bounded by a deadline.

Uploads are processed by ``--job-workers`` `aizoomdoc worker` processes (the job queue). With
``--ocr-pages 100`` the same clients then ask again while a 100-page scanned set (the synthetic
sheets as 150 dpi pictures) is being OCR'd by those workers: ``under_ocr_ingest.p95_vs_without_ocr``
is the p95 latency with the OCR running over the p95 of the first round, ``p95_vs_control_round``
over a round of the same questions right before the OCR starts (goal: <= 1.5).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aizoomdoc.config import Settings  # noqa: E402
from aizoomdoc.sample import write_drawing_set  # noqa: E402
from aizoomdoc.store import migrate  # noqa: E402
from aizoomdoc.store.database import Database  # noqa: E402
from tests.support.api_client import JWT_SECRET, LiveServer, parse_sse, sign_jwt  # noqa: E402
from tests.support.services import SeaweedServer  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
QUESTIONS = [
    "Какая толщина утеплителя кровли П-1?",
    "Найди всё вентиляционное оборудование",
    "Где установлена приточная установка П1.1?",
    "Какие перемычки над проёмами А3-13?",
    "Какая отметка низа разреза -7,650?",
    "Какой масштаб разреза 1-1?",
    "Размер воздуховода 500х300",
    "Изоляция воздуховодов",
    "Вытяжная система В21",
    "Шифр комплекта и стадия",
]
ANSWER_TIMEOUT = 120.0


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


async def create_database() -> str:
    name = f"aizoomdoc_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def one_question(http: httpx.AsyncClient, chat_id: str, question: str) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    r = await http.post(f"/api/chats/{chat_id}/messages", json={"content": question})
    r.raise_for_status()
    accepted = r.json()
    params = {"after": accepted["event_id"] - 1, "until": accepted["question_id"]}
    terminal: dict[str, Any] | None = None
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while terminal is None and time.monotonic() < deadline:
        async with http.stream("GET", f"/api/chats/{chat_id}/events", params=params) as resp:
            resp.raise_for_status()
            buf = ""
            async for chunk in resp.aiter_text():
                buf += chunk.replace("\r\n", "\n")
                while "\n\n" in buf:
                    block, buf = buf.split("\n\n", 1)
                    for ev in parse_sse(block + "\n\n"):
                        params["after"] = ev.id or params["after"]
                        if ev.event in ("answer", "error"):
                            terminal = {"type": ev.event, **ev.data}
    if terminal is None:
        raise TimeoutError(f"no answer within {ANSWER_TIMEOUT}s")
    return time.perf_counter() - t0, terminal


async def client_run(base: str, user: str, pdf: Path, questions: int, start: asyncio.Event,
                     results: list[dict[str, Any]]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {sign_jwt(user, exp_in=3600)}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=ANSWER_TIMEOUT) as http:
        r = await http.post("/api/documents", params={"wait": "true"},
                            files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")})
        r.raise_for_status()
        doc = r.json()["documents"][0]
        chat = (await http.post("/api/chats", json={"title": f"bench {user}", "document_ids": [doc["id"]]})).json()
        await start.wait()
        for i in range(questions):
            latency, terminal = await one_question(http, chat["id"], QUESTIONS[i % len(QUESTIONS)])
            results.append({"user": user, "latency": latency, "type": terminal["type"],
                            "message_id": (terminal.get("result") or {}).get("message_id") or terminal.get("message_id"),
                            "images": [im.get("url") for im in (terminal.get("result") or {}).get("images") or []]})
        return {"chat_id": chat["id"], "document_id": doc["id"]}


async def ask_phase(base: str, user: str, chat_id: str, questions: int, offset: int) -> list[float]:
    """Another round of questions in an existing chat: the latencies."""
    headers = {"Authorization": f"Bearer {sign_jwt(user, exp_in=3600)}"}
    out = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=ANSWER_TIMEOUT) as http:
        for i in range(questions):
            latency, _terminal = await one_question(http, chat_id, QUESTIONS[(i + offset) % len(QUESTIONS)])
            out.append(latency)
    return out


async def under_ocr(base: str, db_url: str, work: Path, pages: int, chats: list[tuple[str, str]],
                    questions: int) -> dict[str, Any]:
    """The same clients ask again while a ``pages``-page scanned set is being OCR'd by the workers."""
    from aizoomdoc.sample import build_drawing_set, rasterised_pdf

    scan = work / "scan.pdf"
    scan.write_bytes(rasterised_pdf(build_drawing_set(pages).pdf_bytes, dpi=150))
    # Control: the same round of questions right before, without the OCR (the machine is shared:
    # the adjacent round is the fairer "without").
    t0 = time.perf_counter()
    control = [x for r in await asyncio.gather(*(ask_phase(base, u, c, questions, 3) for u, c in chats)) for x in r]
    control_wall = time.perf_counter() - t0
    headers = {"Authorization": f"Bearer {sign_jwt('bench-ocr', exp_in=3600)}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as http:
        r = await http.post("/api/documents", files={"file": (scan.name, scan.read_bytes(), "application/pdf")})
        r.raise_for_status()
        doc_id = r.json()["documents"][0]["id"]
        # Questions start once the OCR is running on the workers.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            d = (await http.get(f"/api/documents/{doc_id}")).json()
            if d["status"] == "processing" and d["progress"]["pages_total"]:
                break
            await asyncio.sleep(0.5)
        t0 = time.perf_counter()
        lat = [x for r in await asyncio.gather(*(ask_phase(base, u, c, questions, 3) for u, c in chats)) for x in r]
        wall = time.perf_counter() - t0
        d = (await http.get(f"/api/documents/{doc_id}")).json()
    return {"ocr_pages": pages, "ocr_status_after": d["status"], "ocr_pages_done_after": d["progress"]["pages_done"],
            "questions": len(lat), "wall_s": round(wall, 2), "latency_p50_s": round(pct(lat, 50), 3),
            "latency_p95_s": round(pct(lat, 95), 3),
            "control_round_without_ocr": {"wall_s": round(control_wall, 2), "latency_p50_s": round(pct(control, 50), 3),
                                          "latency_p95_s": round(pct(control, 95), 3)},
            "p95_vs_control_round": round(pct(lat, 95) / pct(control, 95), 2) if control else None}


async def baseline(settings: Settings, pdf: Path) -> float:
    """One question in process: AskService over the same database and bucket, no HTTP."""
    from aizoomdoc.pipeline.ask import AskService
    from aizoomdoc.store.chats import ChatStore

    db = Database(settings)
    store = ChatStore(db).for_user("baseline")
    async with AskService(settings, store=store, provider=None) as service:
        await service.ask(QUESTIONS[0], [str(pdf)], user_id="baseline")  # warm up: ingest, index
        times = []
        for q in QUESTIONS[:5]:
            t0 = time.perf_counter()
            result = await service.ask(q, [str(pdf)], user_id="baseline")
            times.append(time.perf_counter() - t0)
            assert result.ok, result.error
    await db.dispose()
    return statistics.median(times)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--questions", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--job-workers", type=int, default=2, help="`aizoomdoc worker` processes (ingest + OCR jobs)")
    ap.add_argument("--ocr-pages", type=int, default=0,
                    help="then ask again while a scanned set of this many pages is OCR'd (e.g. 100)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="aizoomdoc-load-"))
    pdf = work / "133_23-GK-OV1.pdf"
    write_drawing_set(pdf)
    db_name = await create_database()
    db_url = f"postgresql://postgres@127.0.0.1:5432/{db_name}"
    s3 = SeaweedServer()
    s3.start()
    bucket = s3.create_bucket()
    env = {
        "DATA_DIR": str(work / "data"), "DATABASE_URL": db_url, "AUTH_MODE": "server",
        "SUPABASE_JWT_SECRET": JWT_SECRET, "USE_S3_STORAGE": "true", "S3_ENDPOINT_URL": s3.endpoint_url,
        "S3_REGION": s3.region, "S3_ACCESS_KEY": s3.access_key, "S3_SECRET_KEY": s3.secret_key,
        "S3_BUCKET": bucket, "S3_ADDRESSING_STYLE": "path", "LOG_LEVEL": "WARNING",
        "DB_POOL_SIZE": "10",
    }
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in env.items()})
    db = Database(settings)
    await migrate.upgrade(db)
    await db.dispose()
    server = LiveServer(env, workers=args.workers, log=work / "server.log")
    job_workers = []
    try:
        for n in range(args.job_workers):
            job_workers.append(subprocess.Popen(
                [sys.executable, "-m", "aizoomdoc", "worker"], env={**os.environ, **env, "DATA_DIR": str(work / f"w{n}")},
                stdout=open(work / f"worker{n}.log", "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
                start_new_session=True))
        base_s = await baseline(settings, pdf)
        server.start(timeout=60)
        start = asyncio.Event()
        results: list[dict[str, Any]] = []
        users = [f"bench-user-{i:02d}" for i in range(args.clients)]
        tasks = [asyncio.create_task(client_run(server.url, u, pdf, args.questions, start, results)) for u in users]
        await asyncio.sleep(0)
        # Wait until every client has its document and chat, then start them together.
        setup_deadline = time.monotonic() + 300
        while time.monotonic() < setup_deadline:
            conn = await asyncpg.connect(db_url)
            try:
                ready = await conn.fetchval("SELECT count(*) FROM chats WHERE user_id LIKE 'bench-user-%'")
            finally:
                await conn.close()
            if ready >= args.clients or any(t.done() for t in tasks):
                break
            await asyncio.sleep(0.2)
        t0 = time.perf_counter()
        start.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        wall = time.perf_counter() - t0
        failures = [o for o in outcomes if isinstance(o, BaseException)]

        conn = await asyncpg.connect(db_url)
        try:
            rows = await conn.fetch(
                "SELECT m.role, m.message_type, count(*) AS n FROM chat_messages m JOIN chats c ON c.id = m.chat_id "
                "WHERE c.user_id LIKE 'bench-user-%' GROUP BY m.role, m.message_type")
            found_ids = {str(r["id"]) for r in await conn.fetch(
                "SELECT m.id FROM chat_messages m JOIN chats c ON c.id = m.chat_id "
                "WHERE c.user_id LIKE 'bench-user-%' AND m.role = 'assistant'")}
            events = await conn.fetchval("SELECT count(*) FROM chat_events")
            images = await conn.fetchval("SELECT count(*) FROM chat_images")
        finally:
            await conn.close()
        counts = {(r["role"], r["message_type"]): r["n"] for r in rows}
        users_found = sum(n for (role, _), n in counts.items() if role == "user")
        assistants = sum(n for (role, _), n in counts.items() if role == "assistant")
        errors = sum(n for (role, mt), n in counts.items() if role == "assistant" and mt == "error")
        expected = args.clients * args.questions
        lost = (expected - users_found) + (expected - assistants)
        answered_missing = sum(1 for r in results if r["message_id"] not in found_ids)

        sample = [u for r in results[:20] for u in r["images"][:1] if u]
        async with httpx.AsyncClient(timeout=10) as http:
            statuses = [(await http.get(u)).status_code for u in sample]

        lat = [r["latency"] for r in results]
        report = {
            "clients": args.clients, "questions_per_client": args.questions, "workers": args.workers,
            "database": "PostgreSQL 127.0.0.1:5432 (fresh db, RLS per user)", "storage": "SeaweedFS S3",
            "questions_answered": len(results), "client_failures": [repr(f)[:200] for f in failures],
            "wall_s": round(wall, 2), "throughput_qps": round(len(results) / wall, 2) if wall else None,
            "latency_p50_s": round(pct(lat, 50), 3) if lat else None,
            "latency_p95_s": round(pct(lat, 95), 3) if lat else None,
            "latency_max_s": round(max(lat), 3) if lat else None,
            "baseline_in_process_s": round(base_s, 3),
            "p50_vs_baseline": round(pct(lat, 50) / base_s, 2) if lat and base_s else None,
            # Throughput against one in-process AskService answering back to back (1 / baseline).
            "throughput_vs_in_process": round(len(results) / wall * base_s, 2) if wall and base_s else None,
            "cpus": os.cpu_count(),
            "messages_expected": 2 * expected, "user_messages": users_found, "assistant_messages": assistants,
            "messages_lost": lost, "error_answers": errors, "answers_not_in_db": answered_missing,
            "events_stored": events, "images_stored": images,
            "signed_s3_links_checked": len(statuses), "signed_s3_links_ok": statuses.count(200),
        }
        if args.ocr_pages:
            chats = [(u, o["chat_id"]) for u, o in zip(users, outcomes, strict=True) if isinstance(o, dict)]
            ocr = await under_ocr(server.url, db_url, work, args.ocr_pages, chats, args.questions)
            ocr["p95_vs_without_ocr"] = round(ocr["latency_p95_s"] / report["latency_p95_s"], 2) \
                if report["latency_p95_s"] else None
            report["under_ocr_ingest"] = ocr
        print(json.dumps(report, ensure_ascii=False, indent=2))
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        (out / "load.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    finally:
        server.stop()
        for proc in job_workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        s3.destroy()
        await drop_database(db_name)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
