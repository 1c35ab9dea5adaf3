"""Relevance of search on real drawing sets: recall@1/5/10 and MRR, next to a naive baseline.

    .venv/bin/python bench/bench_relevance.py [--split dev|held|all] [--failures] [--json OUT]

Queries: ``bench/relevance/queries.json`` — written as an engineer would type them, each with its
document (a file of ../shared/realdocs), a kind (code, number, sheet, spec, topic), the gold block
ids (any of them is a hit: one table can be two blocks, a mark can be drawn and listed) and a
``must_contain`` string every gold block contains (checked here, so a reader change that renumbers
blocks shows up as a stale query, not as a silent miss). ``split``: ``dev`` queries were used to
tune the ranking, ``held`` ones only to measure it (their documents were never looked at while
tuning). ``fresh`` queries were written after the tuning, on documents never looked at before,
to check what carries over.

Every document is ingested the way a user does it (``DocumentService.ingest`` into a temporary
SQLite DATA_DIR) and every query is searched the way ``aizoomdoc search --doc FILE --json`` does it
(the index built from the stored rows). Also measured in the same run, on the same stored blocks:
**overlap**, a naive ranking by the number of distinct query words a block contains (ties: the
shorter block first) — the baseline to beat — and ``all documents``: our search over every
document of the set at once (no ``--doc``), a harder setting the figures also report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from aizoomdoc.config import Settings  # noqa: E402
from aizoomdoc.pipeline.ingest import DocumentService  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "realdocs"
QUERIES = ROOT / "bench" / "relevance" / "queries.json"
KINDS = ("code", "number", "sheet", "spec", "topic")
SPLITS = ("dev", "held", "fresh")
DEPTH = 50
_WORD = re.compile(r"\w+")


def norm(s: str) -> str:
    return " ".join(s.split()).lower()


def overlap_ranking(blocks: list[dict], query: str) -> list[str]:
    """The naive baseline: distinct query words found in the block, shorter block first on ties."""
    words = set(_WORD.findall(query.lower()))
    scored = []
    for k, b in enumerate(blocks):
        text = b["text"] or ""
        found = len(words & set(_WORD.findall(text.lower())))
        if found:
            scored.append((-found, len(text), k, b["block_id"]))
    scored.sort()
    return [s[3] for s in scored[:DEPTH]]


def rank_of(ranked: list[str], gold: Iterable[str]) -> int | None:
    gold = set(gold)
    return next((i for i, bid in enumerate(ranked, 1) if bid in gold), None)


class Metrics:
    def __init__(self) -> None:
        self.ranks: list[int | None] = []

    def add(self, rank: int | None) -> None:
        self.ranks.append(rank)

    def recall(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / len(self.ranks) if self.ranks else 0.0

    def mrr(self) -> float:
        return sum(1.0 / r for r in self.ranks if r is not None and r <= 10) / len(self.ranks) if self.ranks else 0.0

    def row(self) -> str:
        return f"{self.recall(1):5.2f} {self.recall(5):5.2f} {self.recall(10):5.2f} {self.mrr():5.2f}"


async def run(args: argparse.Namespace) -> int:
    spec = json.loads(QUERIES.read_text(encoding="utf-8"))
    queries = [q for q in spec["queries"] if args.split == "all" or q["split"] == args.split]
    documents = sorted({q["document"] for q in queries})
    missing = [d for d in documents if not (CORPUS / d).is_file()]
    if missing:
        print(f"Корпус реальных документов не найден ({CORPUS}: нет {missing[0]}); бенчмарк пропущен.")
        return 0
    with tempfile.TemporaryDirectory(prefix="aizoomdoc-relevance-") as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "data")
        async with DocumentService(settings) as service:
            ids: dict[str, str] = {}
            blocks: dict[str, list[dict]] = {}
            started = time.perf_counter()
            for name in documents:
                result = await service.ingest(CORPUS / name)
                ids[name] = result.document.id
                blocks[name] = await service.store.blocks([result.document.id])
            ingest_s = time.perf_counter() - started
            stale = []
            for q in queries:
                by_id = {b["block_id"]: b for b in blocks[q["document"]]}
                for g in q["gold"]:
                    b = by_id.get(g)
                    if b is None or norm(q["must_contain"]) not in norm(b["text"] or ""):
                        stale.append((q["id"], g))
            ours: dict[str, Metrics] = defaultdict(Metrics)
            base: dict[str, Metrics] = defaultdict(Metrics)
            every: dict[str, Metrics] = defaultdict(Metrics)
            failures = []
            timings = []
            all_ids = list(ids.values())
            for q in queries:
                doc_id = ids[q["document"]]
                t0 = time.perf_counter()
                hits = await service.search(q["query"], [doc_id], top_k=DEPTH)
                timings.append(time.perf_counter() - t0)
                ranked = [h.block_id for h in hits]
                r_ours = rank_of(ranked, q["gold"])
                r_base = rank_of(overlap_ranking(blocks[q["document"]], q["query"]), q["gold"])
                hits_all = await service.search(q["query"], all_ids, top_k=DEPTH)
                r_all = rank_of([f"{h.document_id}/{h.block_id}" for h in hits_all],
                                [f"{doc_id}/{g}" for g in q["gold"]])
                keys = ("all", f"split:{q['split']}", f"kind:{q['kind']}", f"doc:{q['document']}",
                        f"{q['split']}:{q['kind']}")
                for key in keys:
                    ours[key].add(r_ours)
                    base[key].add(r_base)
                    every[key].add(r_all)
                if r_ours is None or r_ours > 1:
                    failures.append((q, r_ours, r_base, hits[:3]))
    print(f"Запросов: {len(queries)} (split={args.split}), документов: {len(documents)}; "
          f"загрузка {ingest_s:.1f} с, поиск p50 {sorted(timings)[len(timings) // 2] * 1000:.1f} мс "
          "(машина общая, замеры ориентировочные).")
    if stale:
        print(f"УСТАРЕВШИЕ эталоны ({len(stale)}): " + ", ".join(f"{a}:{b}" for a, b in stale[:10]))
    head = f"{'':34} {'ours: R@1   R@5  R@10   MRR':>27} | {'overlap: R@1   R@5  R@10   MRR':>30} | {'all docs: R@1  R@10':>20}"
    print(head)

    def line(label: str, key: str) -> None:
        if key not in ours:
            return
        n = len(ours[key].ranks)
        print(f"{label[:30]:30} {n:3d} {ours[key].row():>27} | {base[key].row():>30} | "
              f"{every[key].recall(1):13.2f} {every[key].recall(10):5.2f}")

    line("ALL", "all")
    for split in SPLITS:
        line(f"split {split}", f"split:{split}")
    for kind in KINDS:
        line(f"kind {kind}", f"kind:{kind}")
    for split in SPLITS:
        for kind in KINDS:
            line(f"  {split} {kind}", f"{split}:{kind}")
    for name in documents:
        line(name, f"doc:{name}")
    if args.failures:
        print("\nПромахи на 1-м месте (запрос, ранг ours / overlap, первые три найденных):")
        for q, r, rb, top in failures:
            print(f"- [{q['id']} {q['kind']}] «{q['query']}» gold={q['gold'][0]} ours={r} overlap={rb}")
            for h in top:
                print(f"      {h.block_id} {h.score:.2f} {' '.join(h.text.split())[:100]}")
    if args.json:
        out = {key: {"n": len(m.ranks), "r1": m.recall(1), "r5": m.recall(5), "r10": m.recall(10), "mrr": m.mrr(),
                     "overlap": {"r1": base[key].recall(1), "r10": base[key].recall(10), "mrr": base[key].mrr()}}
               for key, m in ours.items()}
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--split", choices=("dev", "held", "fresh", "all"), default="all")
    p.add_argument("--failures", action="store_true", help="list the queries whose gold is not first")
    p.add_argument("--json", help="write the figures to this file")
    args = p.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
