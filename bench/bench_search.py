"""Benchmark: search over a 20,000-block corpus vs a bare bm25s retrieve on the same tokens.

    .venv/bin/python bench/bench_search.py [--blocks 20000] [--rounds 30]

Corpus: a 100-sheet synthetic drawing set, real drawing sets of ../shared/realdocs (a PDF, result
JSON, OCR HTML and Markdown) and copies of them with shifted equipment codes, spread over several
documents; every block with its title and sheet name, as ingest indexes it. For each query (codes, elevations,
topics, questions in Russian):

- ours: ``SearchIndex.search(query, top_k=10)`` — query analysis, word and code scoring,
  IDF coverage, code-first ranking, building the hits;
- ours, filtered: the same with ``document_ids=[…3 documents…]`` and ``pages=[…]``;
- bare: ``bm25s.BM25.retrieve([tokens], k=10)`` on the same index and the already analysed tokens.

Prints p50/p95 latency, the ratio ours/bare (aim ≤ 1.5×), build time, index size in memory
(tracemalloc of loading it) and on disk.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from aizoomdoc.documents import Document, Source, read_document, read_source  # noqa: E402
from aizoomdoc.sample import build_drawing_set  # noqa: E402
from aizoomdoc.search import IndexedBlock, SearchIndex, analyze_query  # noqa: E402
from aizoomdoc.search.index import directory_size  # noqa: E402

REALDOCS = Path(__file__).resolve().parents[2] / "shared" / "realdocs"
REAL = ("KS_AR6.pdf", "KS_OV2.1_result.json", "AL_AR0.2-PA_ocr.html", "KS_AR3_document.md", "KS_VK1_document.md")
QUERIES = [
    "П1.1", "АОВ8", "В21", "А3-13*", "-7,650", "1:100", "0.000", "1000х2000х1000", "133/23-ГК-ОВ1",
    "утеплитель кровли П-1", "Какая толщина утеплителя кровли П-1?", "спецификация оборудования",
    "воздуховод 500х300", "план вентиляции на отм. +6.600", "ограждение котлована", "скважина",
    "кладочный план 3-го этажа", "гидроизоляция", "приточная установка", "разрез 1-1",
    "Найди всё вентиляционное оборудование", "спецификация перемычек",
]
_CODE = re.compile(r"\b([ПВ]|АОВ)(\d+)")


def corpus(n_blocks: int) -> list[IndexedBlock]:
    base: list[tuple[str, Document]] = []
    s = build_drawing_set(100)
    base.append(("synthetic", read_source(Source(Path("set.pdf"), s.pdf_bytes), companions=False)))
    for name in REAL:
        if (REALDOCS / name).is_file():
            base.append((name, read_document(REALDOCS / name, companions=False)))
    if len(base) == 1:
        print(f"Корпус реальных документов не найден ({REALDOCS}); только синтетический комплект.")
    out: list[IndexedBlock] = []
    copy = 0
    while len(out) < n_blocks:
        for name, doc in base:
            doc_id = f"doc-{copy:02d}-{name[:12]}"
            def shift(s: str, copy: int = copy) -> str:
                return s if copy == 0 else _CODE.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + copy * 7}", s)

            sheets = {p.page_index: p.sheet for p in doc.pages}
            for b in doc.blocks:
                ib = IndexedBlock.from_block(doc_id, b, sheets.get(b.page_index))
                out.append(replace(ib, text=shift(ib.text), context=shift(ib.context), title=shift(ib.title)))
                if len(out) >= n_blocks:
                    return out
        copy += 1
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()

    blocks = corpus(args.blocks)
    t0 = time.perf_counter()
    index = SearchIndex.build(blocks)
    build = time.perf_counter() - t0
    docs = index.document_ids
    print(f"corpus: {len(blocks)} blocks in {len(docs)} documents ({sum(1 for b in blocks if b.row)} table cells); "
          f"vocabulary {len(index._body.vocab)}; build {build:.2f}s")
    bare = index._retriever
    assert bare is not None
    tokens = {q: analyze_query(q).all for q in QUERIES}
    filt_docs, filt_pages = docs[:3], list(range(1, 40))

    ours, ours_f, base = [], [], []
    rng = random.Random(7)
    for _ in range(args.rounds):
        order = QUERIES[:]
        rng.shuffle(order)
        for q in order:
            t = time.perf_counter()
            index.search(q, top_k=10)
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            index.search(q, top_k=10, document_ids=filt_docs, pages=filt_pages)
            ours_f.append(time.perf_counter() - t)
            t = time.perf_counter()
            bare.retrieve([tokens[q]], k=10, show_progress=False)
            base.append(time.perf_counter() - t)

    print(f"{'':<28}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}")
    for name, xs in (("bare bm25s retrieve", base), ("ours search", ours), ("ours search + filters", ours_f)):
        print(f"{name:<28}{pct(xs, 50) * 1e3:>9.3f}{pct(xs, 95) * 1e3:>9.3f}{statistics.mean(xs) * 1e3:>9.3f}")
    print(f"ratio ours/bare: p50 {pct(ours, 50) / pct(base, 50):.2f}×, p95 {pct(ours, 95) / pct(base, 95):.2f}× "
          f"(aim ≤ 1.5×); with filters p50 {pct(ours_f, 50) / pct(base, 50):.2f}×")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index"
        t = time.perf_counter()
        index.save(path)
        save = time.perf_counter() - t
        tracemalloc.start()
        t = time.perf_counter()
        loaded = SearchIndex.load(path)
        load = time.perf_counter() - t
        mem, _peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(loaded) == len(index)
        disk = directory_size(path)
    print(f"index in memory: {mem / 1048576:.1f} MiB (loaded, tracemalloc; estimate {index.memory_bytes() / 1048576:.1f} MiB)"
          f"; on disk: {disk / 1048576:.1f} MiB; save {save * 1e3:.0f} ms, load {load * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
