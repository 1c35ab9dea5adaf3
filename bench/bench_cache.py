"""Benchmark of the shared render cache across two workers (not part of the test suite).

    .venv/bin/python bench/bench_cache.py [--questions 10] [--pdf ../shared/realdocs/KS_AR6.pdf]

Two `aizoomdoc serve` processes (the "workers") share one DATA_DIR (SQLite + local files) and one
Redis (a redis-server of the benchmark's own, on a free port); each has its own in-process cache.
The real drawing set KS_AR6.pdf (7 sheets) is uploaded once, then:

1. round 1: the same N questions, question i to worker i % 2 — viewports are rendered;
2. round 2: the same N questions, question i to the *other* worker — its in-process cache does not
   have them, so every crop must come from Redis: renders = 0 (from the usage statistics, all
   workers), and time per question vs round 1 (the baseline, measured in the same run);
3. round 3: N new questions; Redis is killed after the third — every question must still be
   answered (answer, not error).

Each question is a new chat; the time is from POST of the question to its `answer` event (direct
answerer: search + viewports + storage, no LLM). The machine is shared: compare the ratio, not the
absolute seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.support.api_client import LiveServer, parse_sse  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "realdocs"
HEADERS = {"X-AIZoomDoc": "1"}

QUESTIONS = [
    "Лестница Л-7",
    "Лестничная клетка Л-1, надземная часть",
    "Ограждения лестничных клеток",
    "Степень огнестойкости здания",
    "Наружные стены шахт из кирпича толщиной 250 мм",
    "Абсолютная отметка чистого пола первого этажа",
    "Спецификация элементов ограждений",
    "Сварные соединения и электроды",
    "Класс функциональной опасности",
    "Ведомость рабочих чертежей основного комплекса",
]
NEW_QUESTIONS = [
    "Площадь территории участка",
    "Пожарные отсеки объекта",
    "Кладка шахт после монтажа коммуникаций",
    "Окраска металлических элементов перемычек",
    "Гидроизоляция и акты скрытых работ",
    "Расчетный срок службы здания",
    "Блоки из ячеистого бетона D600",
    "Поручни ограждений",
    "Марши и площадки лестниц",
    "Ведомость ссылочных и прилагаемых документов",
]


def ask(client: httpx.Client, doc_id: str, question: str) -> tuple[float, str]:
    """Seconds from posting the question to its terminal event, and that event's type."""
    chat = client.post("/api/chats", json={"document_ids": [doc_id]}, headers=HEADERS).json()
    t0 = time.perf_counter()
    r = client.post(f"/api/chats/{chat['id']}/messages", json={"content": question}, headers=HEADERS)
    r.raise_for_status()
    acc = r.json()
    events = client.get(f"/api/chats/{chat['id']}/events",
                        params={"after": acc["event_id"] - 1, "until": acc["question_id"]}, timeout=300)
    elapsed = time.perf_counter() - t0
    last = parse_sse(events.text)[-1]
    return elapsed, last.event


def stats(client: httpx.Client) -> dict[str, Any]:
    return client.get("/api/stats", timeout=60).json()


def run_round(clients: list[httpx.Client], doc_id: str, questions: list[str], shift: int,
              on_question: Any = None) -> list[tuple[float, str]]:
    out = []
    for i, q in enumerate(questions):
        if on_question is not None:
            on_question(i)
        out.append(ask(clients[(i + shift) % len(clients)], doc_id, q))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=10)
    ap.add_argument("--pdf", type=Path, default=CORPUS / "KS_AR6.pdf")
    args = ap.parse_args()
    if not args.pdf.is_file():
        print(f"bench_cache: the real corpus is absent ({args.pdf}); nothing to measure.")
        return 0
    n = max(1, min(args.questions, len(QUESTIONS)))
    tmp = Path(tempfile.mkdtemp(prefix="aizoomdoc-bench-cache-"))
    with RedisServer() as redis:
        env = {"DATA_DIR": str(tmp / "data"), "AUTH_MODE": "local", "LOG_LEVEL": "WARNING",
               "REDIS_URL": redis.url, "CACHE_PREFIX": "bench:", "CACHE_REDIS_TIMEOUT": "0.5"}
        with LiveServer(env, log=tmp / "a.log") as a, LiveServer(env, log=tmp / "b.log") as b:
            clients = [httpx.Client(base_url=s.url, timeout=120) for s in (a, b)]
            r = clients[0].post("/api/documents", headers=HEADERS,
                                files={"file": (args.pdf.name, args.pdf.read_bytes(), "application/pdf")})
            r.raise_for_status()
            doc = r.json()["documents"][0]
            print(f"document: {args.pdf.name}, {doc['page_count']} pages, {doc['block_count']} blocks; "
                  f"{n} questions; 2 workers; Redis {redis.url}")

            s0 = stats(clients[0])
            first = run_round(clients, doc["id"], QUESTIONS[:n], shift=0)
            s1 = stats(clients[0])
            second = run_round(clients, doc["id"], QUESTIONS[:n], shift=1)
            s2 = stats(clients[0])

            def killer(i: int) -> None:
                if i == 3:
                    redis.stop()
                    print("round 3: Redis killed after question 3")

            third = run_round(clients, doc["id"], NEW_QUESTIONS[:n], shift=0, on_question=killer)
            s3 = stats(clients[0])
            for c in clients:
                c.close()

    def delta(after: dict[str, Any], before: dict[str, Any], key: str) -> int:
        return int(after[key] or 0) - int(before[key] or 0)

    rows = [("round 1 (cold)", first, s1, s0), ("round 2 (other worker)", second, s2, s1),
            ("round 3 (Redis killed)", third, s3, s2)]
    print(f"{'round':<24}{'answers':>8}{'mean s':>9}{'median s':>10}{'renders':>9}{'cache hits':>12}")
    for name, res, after, before in rows:
        times = [t for t, _ in res]
        answers = sum(1 for _, e in res if e == "answer")
        print(f"{name:<24}{answers:>5}/{len(res):<2}{statistics.mean(times):>9.3f}{statistics.median(times):>10.3f}"
              f"{delta(after, before, 'renders'):>9}{delta(after, before, 'render_cache_hits'):>12}")
    m1, m2 = statistics.mean(t for t, _ in first), statistics.mean(t for t, _ in second)
    renders2 = delta(s2, s1, "renders")
    ok3 = all(e == "answer" for _, e in third)
    ratio = m1 / m2 if m2 else float("inf")
    print(f"round 2 vs round 1 per question: {ratio:.1f}× faster (aim ≥ 3×) — {'OK' if ratio >= 3 else 'MISS'}")
    print(f"round 2 renders: {renders2} (aim 0) — {'OK' if renders2 == 0 else 'MISS'}; "
          f"hit rate over all rounds: {s3.get('render_cache_hit_rate')}")
    print(f"round 3 with Redis killed: {sum(e == 'answer' for _, e in third)}/{len(third)} answered — "
          f"{'OK' if ok3 else 'MISS'}")
    print("(timings on a shared 2-core machine; the ratio is measured within one run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
