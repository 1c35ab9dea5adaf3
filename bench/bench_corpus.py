"""Walk every file of the real corpus: ingested (with its warnings and pages without text) or
refused with its one line — what a user sees for each file.

    .venv/bin/python bench/bench_corpus.py

Each file is ingested alone (``DocumentService.ingest`` into a temporary SQLite DATA_DIR, as
``aizoomdoc ingest FILE`` does; a bundle next to its PDF takes the PDF). Prints one line per file
and a summary; exits 0 (a benchmark, not a test). Times are wall-clock on a shared machine.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from aizoomdoc.config import Settings  # noqa: E402
from aizoomdoc.documents.read_warnings import ingest_notes  # noqa: E402
from aizoomdoc.errors import AizoomdocError  # noqa: E402
from aizoomdoc.pipeline.ingest import DocumentService  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "realdocs"
SKIP = {"README.md", "SOURCES.tsv"}


async def walk() -> int:
    files = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name not in SKIP)
    counts = {"ingested": 0, "warnings": 0, "no_text": 0, "refused": 0}
    with tempfile.TemporaryDirectory(prefix="aizoomdoc-corpus-") as tmp:
        for k, path in enumerate(files):
            settings = Settings(_env_file=None, data_dir=Path(tmp) / f"data{k}")
            async with DocumentService(settings) as service:
                started = time.perf_counter()
                try:
                    result = await service.ingest(path)
                except AizoomdocError as exc:
                    counts["refused"] += 1
                    print(f"ОТКАЗ     {path.name}: {' '.join(str(exc).split())}")
                    continue
                took = time.perf_counter() - started
                doc = result.document
                notes = ingest_notes(doc.metadata)
                counts["ingested"] += 1
                counts["warnings"] += bool(doc.metadata.get("warnings"))
                counts["no_text"] += bool(doc.metadata.get("text_layer"))
                status = "ЗАГРУЖЕН!" if notes else "ЗАГРУЖЕН "
                print(f"{status} {path.name}: {doc.source_format}, стр. {doc.page_count}, блоков {len(doc.blocks)}"
                      f"{', с PDF' if str(doc.render_path or '').lower().endswith('.pdf') else ''}, {took:.2f} с" + "".join(f"\n          {n}" for n in notes))
    print(f"\nФайлов: {len(files)}; загружено: {counts['ingested']} (с предупреждениями: {counts['warnings']}, "
          f"со страницами без текста: {counts['no_text']}); отказ: {counts['refused']}.")
    return 0


def main() -> int:
    if not CORPUS.is_dir():
        print(f"Корпус реальных документов не найден ({CORPUS}); бенчмарк пропущен.")
        return 0
    logging.disable(logging.WARNING)  # the per-file line says it all
    return asyncio.run(walk())


if __name__ == "__main__":
    sys.exit(main())
