"""Benchmark: ingest of a 100-page drawing set vs raw PyMuPDF text extraction, same run.

    .venv/bin/python bench/bench_documents.py [--pages 100] [--repeat 3]

1. raw: ``pymupdf.open`` + ``page.get_text("dict")`` over every page (the baseline);
2. reader: :func:`read_document` (blocks, title blocks, scan detection) — CPU only;
3. ingest: :meth:`DocumentService.ingest` on a fresh SQLite ``DATA_DIR`` — read, parse, store the
   file, write the document and all blocks in one transaction, build and save the search index.

Prints pages/s and the ratio to the baseline (aim ≥ 0.5× for ingest). Best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import pymupdf  # noqa: E402

from aizoomdoc.config import Settings  # noqa: E402
from aizoomdoc.documents import read_document  # noqa: E402
from aizoomdoc.pipeline.ingest import DocumentService  # noqa: E402
from aizoomdoc.sample import build_drawing_set  # noqa: E402


def raw_dict(path: Path) -> int:
    pdf = pymupdf.open(path)
    spans = 0
    for page in pdf:
        d = page.get_text("dict")
        spans += sum(len(line["spans"]) for b in d["blocks"] if b["type"] == 0 for line in b["lines"])
    pdf.close()
    return spans


async def ingest_once(path: Path, data_dir: Path) -> tuple[float, int]:
    settings = Settings(_env_file=None, data_dir=data_dir)
    async with DocumentService(settings) as service:
        await service.store.count()  # create the schema outside the timed part (first use only)
        t0 = time.perf_counter()
        result = await service.ingest(path)
        elapsed = time.perf_counter() - t0
    assert result.created
    return elapsed, len(result.document.blocks)


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="aizoomdoc-bench-") as tmp:
        tmp_path = Path(tmp)
        t0 = time.perf_counter()
        s = build_drawing_set(args.pages)
        gen = time.perf_counter() - t0
        path = s.write(tmp_path / "set.pdf")
        print(f"generated {args.pages} sheets ({path.stat().st_size / 1024:.0f} KiB) in {gen:.2f}s")

        raw = best(lambda: raw_dict(path), args.repeat)
        reader = best(lambda: read_document(path), args.repeat)
        doc = read_document(path)
        ingest_times = []
        for i in range(args.repeat):
            elapsed, nblocks = asyncio.run(ingest_once(path, tmp_path / f"data{i}"))
            ingest_times.append(elapsed)
        ingest = min(ingest_times)

        n = args.pages
        print(f"blocks: {len(doc.blocks)}  ({len(doc.blocks) / n:.0f} per page)")
        print(f"{'step':<34}{'seconds':>10}{'pages/s':>10}{'ratio':>9}")
        for name, secs in (("raw PyMuPDF get_text('dict')", raw), ("reader (read_document)", reader),
                           ("ingest (parse+files+DB+index)", ingest)):
            print(f"{name:<34}{secs:>10.3f}{n / secs:>10.1f}{raw / secs:>8.2f}×")
        print(f"ingest / raw = {raw / ingest:.2f}× (aim ≥ 0.5×)")


if __name__ == "__main__":
    main()
