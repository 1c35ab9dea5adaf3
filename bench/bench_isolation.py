"""Benchmark: renders and parsing in worker processes vs in a thread of the server, same run.

    .venv/bin/python bench/bench_isolation.py [--renders 12] [--strokes 20000]

0. **Round trip**: an empty job through a warm worker (the fixed cost of isolation).
1. **Overhead per render**: the same viewport-sized regions of a real sheet (``KS_AR6.pdf`` of the
   corpus; the synthetic set when the corpus is absent) rendered by :class:`SheetRenderer` in a
   thread (the baseline: what the server did before) and by :class:`IsolatedRenderer` (a warm worker
   process; the result crosses a socket). Prints ms per render and the ratio.
2. **Overhead per parse**: ``read_source`` in a thread vs in a worker, over the corpus files.
3. **Event-loop stall during a vector-bomb render**: a timer ticks every 10 ms on the event loop
   while the 20,000-stroke page renders in a thread (PyMuPDF holds the GIL) and then in a worker
   (killed at ``RENDER_TIMEOUT``); prints the longest gap between ticks — what ``/api/status``
   would wait.

The machine is shared: read the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from aizoomdoc.config import Settings  # noqa: E402
from aizoomdoc.documents import Source, read_source  # noqa: E402
from aizoomdoc.documents.isolated import read_source_isolated  # noqa: E402
from aizoomdoc.isolation import Limits, worker_pool  # noqa: E402
from aizoomdoc.sample import write_drawing_set  # noqa: E402
from aizoomdoc.zoom.isolated import IsolatedRenderer  # noqa: E402
from aizoomdoc.zoom.render import RenderLimitError, SheetRenderer  # noqa: E402
from tests.support.hostile import vector_bomb_pdf  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "realdocs"
BOXES = [(0.0, 0.0, 0.5, 0.5), (0.5, 0.0, 1.0, 0.5), (0.0, 0.5, 0.5, 1.0), (0.5, 0.5, 1.0, 1.0),
         (0.2, 0.2, 0.6, 0.6), (0.1, 0.6, 0.4, 0.9)]


async def round_trip(settings: Settings, calls: int = 200) -> None:
    """The fixed cost of one job: send, run nothing, reply."""
    from aizoomdoc.errors import DocumentError
    from tests.support.jobs import spin

    pool = worker_pool(settings)
    limits = Limits(seconds=10, memory_mb=settings.worker_memory_mb)

    def refuse(reason: str) -> DocumentError:
        return DocumentError("documents.too_complex", path="bench", reason=reason)

    await pool.run(spin, 0.0, limits=limits, on_limit=refuse)
    t0 = time.perf_counter()
    for _ in range(calls):
        await pool.run(spin, 0.0, limits=limits, on_limit=refuse)
    print(f"round trip of an empty job: {(time.perf_counter() - t0) / calls * 1000:.2f} ms")


async def render_overhead(path: Path, pages: list[int], renders: int, settings: Settings) -> None:
    renderer = IsolatedRenderer(settings)
    opts = renderer.options(target_cap_px=24.0, max_dpi=600.0, max_pixels=4_000_000)
    jobs = [(pages[i % len(pages)], BOXES[i % len(BOXES)]) for i in range(renders)]
    worker_pool(settings).warm()
    await renderer.render(str(path), jobs[0][0], jobs[0][1], opts)  # the worker opens the file once

    local = SheetRenderer(path, opts)
    local.render(jobs[0][0], jobs[0][1])
    thread_ms, worker_ms = [], []
    for page, box in jobs:
        t0 = time.perf_counter()
        a = await asyncio.to_thread(local.render, page, box)
        thread_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        b = await renderer.render(str(path), page, box, opts)
        worker_ms.append((time.perf_counter() - t0) * 1000)
        assert (a.width, a.height) == (b.width, b.height)
    local.close()
    t, w = statistics.median(thread_ms), statistics.median(worker_ms)
    print(f"render ({path.name}, {renders} regions, ≤4 MP each): thread {t:.0f} ms, worker {w:.0f} ms "
          f"per render (median) -> {w / t:.2f}x, overhead {w - t:+.0f} ms")


async def parse_overhead(files: list[Path], settings: Settings) -> None:
    thread_s = worker_s = 0.0
    for f in files:
        source = Source(f, f.read_bytes())
        t0 = time.perf_counter()
        a = await asyncio.to_thread(read_source, source)
        thread_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        b = await read_source_isolated(settings, source)
        worker_s += time.perf_counter() - t0
        assert len(a.blocks) == len(b.blocks), f
    print(f"parse ({len(files)} files): thread {thread_s * 1000:.0f} ms, worker {worker_s * 1000:.0f} ms "
          f"-> {worker_s / thread_s:.2f}x")


async def longest_stall(work) -> tuple[float, float]:  # noqa: ANN001 - a coroutine function
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    t0 = time.perf_counter()
    try:
        await work()
    except RenderLimitError:
        pass
    took = time.perf_counter() - t0
    stop.set()
    await task
    return max(gaps), took


async def bomb_stall(strokes: int, settings: Settings) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bomb = vector_bomb_pdf(Path(tmp) / "bomb.pdf", strokes)
        size = bomb.stat().st_size
        renderer = IsolatedRenderer(settings)
        opts = renderer.options(target_cap_px=14.0, max_dpi=200.0, max_pixels=4_000_000, default_dpi=150.0)
        local = SheetRenderer(bomb, opts)
        gap_t, took_t = await longest_stall(lambda: asyncio.to_thread(local.render, 0, (0.0, 0.0, 1.0, 1.0)))
        local.close()
        gap_w, took_w = await longest_stall(lambda: renderer.render(str(bomb), 0, (0.0, 0.0, 1.0, 1.0), opts))
    print(f"vector bomb ({strokes} strokes, {size} B): "
          f"thread: render {took_t:.1f} s, event loop stalled up to {gap_t * 1000:.0f} ms; "
          f"worker: stopped after {took_w:.1f} s (RENDER_TIMEOUT={settings.render_timeout:g}), "
          f"longest stall {gap_w * 1000:.0f} ms")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--renders", type=int, default=12)
    ap.add_argument("--strokes", type=int, default=20_000)
    ap.add_argument("--render-timeout", type=float, default=5.0)
    args = ap.parse_args()
    settings = Settings(_env_file=None, render_timeout=args.render_timeout, worker_processes=2)
    with tempfile.TemporaryDirectory() as tmp:
        if (CORPUS / "KS_AR6.pdf").is_file():
            sheet, pages = CORPUS / "KS_AR6.pdf", [3, 4, 5, 6]
            files = sorted(p for p in CORPUS.iterdir() if p.suffix in (".md", ".html", ".json", ".pdf")
                           and "_blocks" not in p.name and "layout" not in p.name)
        else:
            print(f"corpus not found at {CORPUS}: using the synthetic drawing set")
            sheet, pages = Path(tmp) / "set.pdf", [0, 1, 2, 3]
            write_drawing_set(sheet)
            files = [sheet]
        await round_trip(settings)
        await render_overhead(sheet, pages, args.renders, settings)
        await parse_overhead(files, settings)
        await bomb_stall(args.strokes, settings)
    print("(shared, busy 2-core machine: compare ratios within this run)")


if __name__ == "__main__":
    asyncio.run(main())
