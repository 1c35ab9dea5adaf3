"""Legibility benchmark of viewports (not part of the test suite).

    .venv/bin/python bench/bench_viewports.py [--save DIR] [--only NAME]

Asks questions about codes and their values with the direct answerer (no LLM: search, viewports,
the extractive answer), reads every returned image with Tesseract (rus + eng) as a stand-in for a
vision model, and prints per set:

- **together**: the share of questions where ONE image shows the code and its value (the code
  as a whole token — П1 is not П1.1 — and the value, e.g. "2,2" of "N=2,2 кВт");
- **recovered**: the share of shown hit texts read back at all (≥ 60 % of their words and codes
  found in the answer's images);
- images per answer and their mean size.

``--floor`` measures the legibility floor instead: the six rows of the ventilation set's
specification rendered at cap heights of 8…28 px, read back with Tesseract — the share of the
rows' words read, and how many of the six codes are read whole.

Sets: the synthetic set (``aizoomdoc sample-set``), the independent ventilation set of
tests/support/vent_set.py (3 sheets, a plan and a wide ruled specification: the held-out kind of
issue 12) and the real ``KS_AR6.pdf`` (its A2 "Общие данные" sheet, page 4, and its tables), read
as a PDF and as its OCR bundle (``KS_AR6_annotation.json`` with the PDF beside it). The real
corpus is read in place from ../shared/realdocs; without it those sets are skipped with a note.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from aizoomdoc.config import Settings  # noqa: E402
from aizoomdoc.llm.direct import WEAK_SHARE  # noqa: E402
from aizoomdoc.pipeline.ask import AskService  # noqa: E402
from aizoomdoc.sample import build_drawing_set  # noqa: E402
from tests.support.ocr_check import has_code, has_value, ocr, recall  # noqa: E402
from tests.support.vent_set import QUESTIONS as VENT_QUESTIONS  # noqa: E402
from tests.support.vent_set import build_vent_set  # noqa: E402

REALDOCS = Path(__file__).resolve().parents[2] / "shared" / "realdocs"


@dataclass(frozen=True)
class Q:
    question: str
    code: str
    value: str


SYN = [
    Q("Какой расход у П1?", "П1", "3500"),
    Q("Приточная установка П1.1", "П1.1", "1200"),
    Q("Вентилятор В21 — какой расход?", "В21", "300"),
    Q("Марка вентилятора В2", "В2", "ВКРМ-4"),
    Q("Перемычка А3-13* — схема сечения", "А3-13*", "2ПБ 13-1"),
    Q("Какая толщина утеплителя кровли П-1?", "П-1", "150"),
]
VENT = [Q(q.question, q.code, q.value) for q in VENT_QUESTIONS]
AR6 = [
    Q("Что за документ ГОСТ 530-2012?", "530-2012", "Кирпич"),
    Q("Комплект 133/23-ГК-АР5 — что в нём?", "133/23-ГК-АР5", "кровли"),
    Q("СП 17.13330.2017 — о чём?", "17.13330.2017", "Кровли"),
    Q("ГОСТ 8509-93", "8509-93", "Уголки"),
]
HELD_OUT = ("vent", "KS_AR6.pdf")


@dataclass
class Row:
    question: str
    together: bool
    code_seen: bool
    value_seen: bool
    images: int
    pixels: list[int]
    recovered: int
    hits: int
    seconds: float


async def run_set(path: Path, questions: list[Q], data_dir: Path, save: Path | None, name: str) -> list[Row]:
    settings = Settings(_env_file=None, data_dir=data_dir)
    rows = []
    async with AskService(settings, provider=None) as service:
        for n, q in enumerate(questions, 1):
            t0 = time.perf_counter()
            result = await service.ask(q.question, [str(path)])
            seconds = time.perf_counter() - t0
            texts = []
            sizes = []
            for k, im in enumerate(result.images):
                data = await service.files.read_bytes(im.s3_path)
                text = await asyncio.to_thread(ocr, data)
                texts.append(text)
                sizes.append((im.width or 0) * (im.height or 0))
                if save is not None:
                    save.mkdir(parents=True, exist_ok=True)
                    (save / f"{name}_q{n}_{k + 1}.png").write_bytes(data)
                    (save / f"{name}_q{n}_{k + 1}.txt").write_text(text)
            together = any(has_code(t, q.code) and has_value(t, q.value) for t in texts)
            results = await service.store.get_search_results(result.chat_id)
            best = max((float(r["score"] or 0) for r in results), default=0.0)
            shown = [r for r in results if float(r["score"] or 0) >= best * WEAK_SHARE]
            read = "\n".join(texts)
            recovered = sum(1 for r in shown if recall(r["block_text"] or "", read) >= 0.6) if texts else 0
            rows.append(Row(q.question, together, any(has_code(t, q.code) for t in texts),
                            any(has_value(t, q.value) for t in texts), len(texts), sizes, recovered,
                            len(shown), seconds))
            if save is not None:
                (save / f"{name}_q{n}_answer.md").write_text(result.answer)
    return rows


def report(name: str, rows: list[Row]) -> tuple[int, int, int, int]:
    print(f"\n== {name}")
    for r in rows:
        mark = "✓" if r.together else "✗"
        mp = statistics.mean(r.pixels) / 1e6 if r.pixels else 0.0
        print(f"  {mark} {r.question[:48]:<48} code {'+' if r.code_seen else '-'} value "
              f"{'+' if r.value_seen else '-'}  images {r.images} ({mp:.2f} MP avg)  "
              f"hits read {r.recovered}/{r.hits}  {r.seconds:.1f} s")
    together = sum(r.together for r in rows)
    recovered = sum(r.recovered for r in rows)
    hits = sum(r.hits for r in rows)
    print(f"  together: {together}/{len(rows)} ({together / max(1, len(rows)):.0%})   "
          f"recovered hit texts: {recovered}/{hits} ({recovered / max(1, hits):.0%})")
    return together, len(rows), recovered, hits


def measure_floor() -> None:
    import pymupdf

    from aizoomdoc.zoom.table import find_row, page_rules
    from tests.support.ocr_check import recall
    from tests.support.vent_set import SPEC

    pdf = pymupdf.open(stream=build_vent_set(), filetype="pdf")
    page = pdf[2]
    hs, vs = page_rules(page)
    rows = []
    for code, *_ in SPEC:
        hit = next(r for r in page.search_for(code) if r.x0 < 120)
        row = find_row(hs, vs, tuple(hit))
        assert row is not None
        rect = pymupdf.Rect(row.row[0] - 10, row.row[1] - 6, row.row[2] + 10, row.row[3] + 6)
        rows.append((code, rect, page.get_text("text", clip=rect)))
    print("cap px | words read | codes read whole (of 6)")
    for cap in (8, 10, 12, 14, 16, 18, 20, 24, 28):
        dpi = int(cap * 72 / (0.7 * 7.1))
        words, codes = [], 0
        for code, rect, text in rows:
            read = ocr(page.get_pixmap(dpi=dpi, clip=rect).tobytes("png"))
            words.append(recall(text, read))
            codes += has_code(read, code)
        print(f"{cap:6} | {statistics.mean(words):10.0%} | {codes}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--save", type=Path, help="write every image, its OCR text and the answers here")
    ap.add_argument("--only", help="run only the set with this name")
    ap.add_argument("--floor", action="store_true", help="measure the legibility floor instead")
    args = ap.parse_args()
    if args.floor:
        await asyncio.to_thread(measure_floor)
        return
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        syn = base / "synthetic-set.pdf"
        syn.write_bytes(build_drawing_set(4).pdf_bytes)
        vent = base / "vent-ov2.pdf"
        vent.write_bytes(build_vent_set())
        sets: list[tuple[str, Path, list[Q]]] = [("synthetic", syn, SYN), ("vent", vent, VENT)]
        if (REALDOCS / "KS_AR6.pdf").is_file():
            sets.append(("KS_AR6.pdf", REALDOCS / "KS_AR6.pdf", AR6))
            if (REALDOCS / "KS_AR6_annotation.json").is_file():
                sets.append(("KS_AR6 bundle", REALDOCS / "KS_AR6_annotation.json", AR6))
        else:
            print(f"Реальный корпус не найден ({REALDOCS}): наборы KS_AR6 пропущены.")
        totals: dict[str, tuple[int, int, int, int]] = {}
        for name, path, questions in sets:
            if args.only and args.only != name:
                continue
            rows = await run_set(path, questions, base / f"data-{len(totals)}", args.save, name.replace(" ", "_"))
            totals[name] = report(name, rows)
        print("\n== summary (the machine is shared with other work: timings are indicative)")
        for label, names in (("all", list(totals)), ("held-out kind (vent + KS_AR6.pdf)", list(HELD_OUT))):
            picked = [totals[n] for n in names if n in totals]
            if not picked:
                continue
            t, n, rec, hits = (sum(x[i] for x in picked) for i in range(4))
            print(f"  {label}: one image shows code + value for {t}/{n} questions ({t / max(1, n):.0%}); "
                  f"hit texts recovered {rec}/{hits} ({rec / max(1, hits):.0%})")


if __name__ == "__main__":
    asyncio.run(main())
