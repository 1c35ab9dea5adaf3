"""Benchmark: revision compare on real drawings — precision, recall, time per sheet.

    .venv/bin/python bench/bench_compare.py [--revisions 12] [--edits 3] [--seed 15]

1. Edited revisions with a known answer: the real PDF ``KS_AR6.pdf`` (7 sheets) is edited with
   PyMuPDF (:mod:`aizoomdoc.compare.revise`: a value retyped, a word erased, text written, a word
   moved, a line added, a line moved) into ``--revisions`` new versions of ``--edits`` edits each.
   A reported change is right when its box (old or new) overlaps an edit's box on that sheet;
   precision = right reports / reports, recall = edits found / edits (goal ≥ 0.9 each).
2. Noise: the same PDF written again (objects renumbered, streams cleaned) must show no change.
3. Time per sheet of the comparison against a bare render of both versions of the sheet at the
   same resolution, measured in the same run (the ratio is what to watch; the machine is shared).
4. The real revision pairs and repeated OCR runs of the corpus (no answer key): sheets and changes
   found, and how many changes the OCR re-runs show (ideally none).

The corpus is ``../shared/realdocs`` next to the repository; without it the benchmark says so and
exits 0.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "realdocs"

import pymupdf  # noqa: E402

from aizoomdoc.compare import CompareOptions, compare_documents  # noqa: E402
from aizoomdoc.compare.revise import (  # noqa: E402
    AddLine,
    Answer,
    Erase,
    MoveLine,
    MoveText,
    Retype,
    Write,
    make_revision,
    resave,
    straight_lines,
)
from aizoomdoc.compare.visual import page_dpi, render_grey  # noqa: E402
from aizoomdoc.documents import read_document  # noqa: E402
from aizoomdoc.zoom.render import SheetRenderer  # noqa: E402

MARGIN = 0.004


def candidates(pdf: pymupdf.Document, page: int) -> list[str]:
    """Horizontal words that occur once on the page, three characters or more."""
    words = pdf[page].get_text("words")
    counts: dict[str, int] = {}
    for w in words:
        counts[w[4]] = counts.get(w[4], 0) + 1
    return [w[4] for w in words if counts[w[4]] == 1 and len(w[4]) >= 3 and (w[2] - w[0]) > (w[3] - w[1])
            and any(ch.isalnum() for ch in w[4])]


def random_edits(pdf: pymupdf.Document, rng: random.Random, n: int) -> list:
    edits: list = []
    used: set[tuple[int, str]] = set()
    while len(edits) < n:
        page = rng.randrange(pdf.page_count)
        kind = rng.choice(["retype", "retype", "erase", "write", "move", "line", "moveline"])
        words = [w for w in candidates(pdf, page) if (page, w) not in used]
        if kind in ("retype", "erase", "move") and not words:
            continue
        if kind == "retype":
            w = rng.choice(words)
            new = w[:-1] + ("7" if w[-1] != "7" else "8")
            edits.append(Retype(page, w, new))
            used.add((page, w))
        elif kind == "erase":
            w = rng.choice(words)
            edits.append(Erase(page, w))
            used.add((page, w))
        elif kind == "move":
            w = rng.choice(words)
            edits.append(MoveText(page, w, rng.choice([-1, 1]) * 0.03, rng.choice([-1, 1]) * 0.02))
            used.add((page, w))
        elif kind == "write":
            edits.append(Write(page, (rng.uniform(0.1, 0.7), rng.uniform(0.1, 0.8)), f"Прим. {rng.randint(10, 99)}",
                               size=8.0))
        elif kind == "line":
            x, y = rng.uniform(0.1, 0.7), rng.uniform(0.1, 0.8)
            edits.append(AddLine(page, (x, y, x + 0.1, y)))
        else:
            lines = straight_lines(pdf[page], min_length=40)
            if not lines:
                continue
            edits.append(MoveLine(page, rng.choice(lines[:20]), 0.0, 0.01))
    # one edit per place: drop edits too close to an earlier one on the same page
    return edits


def overlaps(a, b, m: float = MARGIN) -> bool:
    return a is not None and b is not None and a[0] - m <= b[2] and b[0] - m <= a[2] and a[1] - m <= b[3] \
        and b[1] - m <= a[3]


def score(comparison, answers: list[Answer]) -> tuple[int, int, int, int, list[str]]:
    """(reports right, reports, edits found, edits, problems)."""
    right = reports = 0
    found: set[int] = set()
    problems: list[str] = []
    by_page: dict[int, list[tuple[int, Answer]]] = {}
    for k, a in enumerate(answers):
        by_page.setdefault(a.page + 1, []).append((k, a))
    for sheet in comparison.sheets:
        mine = by_page.get(sheet.new_page or -1, [])
        for c in sheet.changes:
            reports += 1
            hit = [k for k, a in mine if overlaps(c.bbox_norm_old, a.box_old) or overlaps(c.bbox_norm_new, a.box_new)
                   or overlaps(c.bbox_norm_new, a.box_old) or overlaps(c.bbox_norm_old, a.box_new)]
            if hit:
                right += 1
                found.update(hit)
            else:
                problems.append(f"  лишнее: лист {sheet.label} стр.{sheet.new_page} {c.kind} "
                                f"{(c.old_text or '')[:30]!r}->{(c.new_text or '')[:30]!r} {c.box}")
    for k, a in enumerate(answers):
        if k not in found:
            problems.append(f"  пропущено: стр.{a.page + 1} {a.edit}")
    return right, reports, len(found), len(answers), problems


def bare_render(old: str, new: str, pages: int) -> float:
    """Seconds to render every page of both versions at the comparison's resolution."""
    t0 = time.perf_counter()
    opts = CompareOptions().visual_options
    with SheetRenderer(old) as ra, SheetRenderer(new) as rb:
        for p in range(pages):
            dpi = page_dpi([ra.page_size(p), rb.page_size(p)], opts)
            render_grey(ra, p, dpi, opts.max_pixels * 2)
            render_grey(rb, p, dpi, opts.max_pixels * 2)
    return time.perf_counter() - t0


def edited(args: argparse.Namespace, tmp: Path) -> None:
    src = CORPUS / "KS_AR6.pdf"
    rng = random.Random(args.seed)
    pdf = pymupdf.open(src)
    old = read_document(src)
    totals = [0, 0, 0, 0]
    t_cmp = t_base = 0.0
    sheets = 0
    all_problems: list[str] = []
    for n in range(args.revisions):
        edits = random_edits(pdf, rng, args.edits)
        path = tmp / f"rev{n}.pdf"
        answers = make_revision(src, path, edits)
        new = read_document(path)
        t0 = time.perf_counter()
        comparison = compare_documents(old, new)
        t_cmp += time.perf_counter() - t0
        t_base += bare_render(str(src), str(path), len(old.pages))
        sheets += len(comparison.sheets)
        right, reports, found, total, problems = score(comparison, answers)
        for k, v in enumerate((right, reports, found, total)):
            totals[k] += v
        unchanged = {a.page + 1 for a in answers}
        for s in comparison.sheets:
            if s.new_page not in unchanged and s.status != "same":
                problems.append(f"  лист без правок не «same»: стр.{s.new_page} {s.status}")
        if problems:
            all_problems.append(f"ревизия {n}: {[str(e) for e in edits]}")
            all_problems.extend(problems)
    pdf.close()
    precision = totals[0] / totals[1] if totals[1] else 1.0
    recall = totals[2] / totals[3] if totals[3] else 1.0
    print(f"Правленые ревизии KS_AR6.pdf: {args.revisions} × {args.edits} правок")
    print(f"  точность (precision) {precision:.3f} ({totals[0]}/{totals[1]}), "
          f"полнота (recall) {recall:.3f} ({totals[2]}/{totals[3]})  — цель ≥ 0.9 каждая")
    print(f"  время на лист: сравнение {t_cmp / sheets * 1000:.0f} мс, голая отрисовка обеих версий "
          f"{t_base / sheets * 1000:.0f} мс, отношение {t_cmp / t_base:.2f}× (машина общая, цифры шумят)")
    for line in all_problems[:40]:
        print(line)

    again = tmp / "resaved.pdf"
    resave(src, again)
    comparison = compare_documents(old, read_document(again))
    noise = sum(len(s.changes) for s in comparison.sheets)
    print(f"Тот же PDF, пересохранённый: изменений {noise} (должно быть 0)")


def corpus_pairs() -> None:
    pairs = [
        ("KS_AR3_document.md", "KS_AR3_izm8_document.md", "ревизия АР3 изм.7 → изм.8"),
        ("AL_AR1.2-K3K4_c23_result.json", "AL_AR1.2-K3K4_c24_result.json", "АР1.2-К3К4 с23 → с24 (result JSON)"),
        ("AL_AR1.2-K3K4_c23_document.md", "AL_AR1.2-K3K4_c24_document.md", "АР1.2-К3К4 с23 → с24 (Markdown)"),
        ("ST26_KZh1-2.2_izm3_document_run1.md", "ST26_KZh1-2.2_izm3_document_run3.md", "повторный OCR КЖ1-2.2"),
        ("AL_AR1.1-K4_izm2_document.md", "AL_AR1.1-K4_izm2_document_qwen-enriched.md", "повторный OCR АР1.1-К4"),
        ("KS_AR6_result.json", "KS_AR6_result_docuspec.json", "повторный OCR АР6 (result JSON)"),
    ]
    print("Реальные пары корпуса (без ключа ответов):")
    for a, b, what in pairs:
        t0 = time.perf_counter()
        c = compare_documents(read_document(CORPUS / a, companions=False), read_document(CORPUS / b, companions=False))
        s = c.summary()
        reg = c.register
        reg_text = (f"; реестр: строк {len(reg.entries)}, названы без изменений {reg.named_unchanged}, "
                    f"изменены без упоминания {reg.changed_unnamed}") if reg else ""
        print(f"  {what}: листов {s['sheets']} (same {s['same']}, changed {s['changed']}, added {s['added']}, "
              f"removed {s['removed']}), изменений {s['changes']} {s['by_kind']}{reg_text} "
              f"[{time.perf_counter() - t0:.1f} с]")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--revisions", type=int, default=12)
    ap.add_argument("--edits", type=int, default=3)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--skip-corpus", action="store_true", help="only the edited revisions")
    args = ap.parse_args()
    if not (CORPUS / "KS_AR6.pdf").is_file():
        print(f"Корпус реальных документов не найден ({CORPUS}): бенчмарк пропущен.")
        return
    with tempfile.TemporaryDirectory() as tmp:
        edited(args, Path(tmp))
    if not args.skip_corpus:
        corpus_pairs()


if __name__ == "__main__":
    main()
