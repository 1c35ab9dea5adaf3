"""Benchmark of the ask pipeline (not part of the test suite).

    .venv/bin/python bench/bench_ask.py [--kr3 /work/shared/samples/133_23-GK-KR3_result.json]
                                        [--sheets 12] [--repeat 5]

1. Payload per LLM call vs sending every block of the document (the original's approach), on the
   КР3 sample (read in place, never copied) and on the synthetic set: characters and images of the
   first call of each question (recorded by the scripted OpenAI-compatible server), the ratio to
   all blocks' text (aim ≤ 5 %), and a check that every hit's text is in the payload.
2. Time of ``ask`` without the LLM (direct answerer: search + viewports + persistence on SQLite and
   the local folder) vs the sum of the raw work it performs: PyMuPDF renders of the same regions at
   the same DPI and raw sqlite3 inserts of the same rows, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import pymupdf  # noqa: E402

from aizoomdoc.config import Settings  # noqa: E402
from aizoomdoc.documents.detect import read_document  # noqa: E402
from aizoomdoc.llm.context import clean_text  # noqa: E402
from aizoomdoc.pipeline.ask import AskService  # noqa: E402
from aizoomdoc.sample import build_drawing_set, write_bundle_fixtures  # noqa: E402
from tests.support.llm_server import ScriptedLLM, text  # noqa: E402

KR3 = Path("/work/shared/samples/133_23-GK-KR3_result.json")

QUESTIONS_KR3 = [
    "Какой класс бетона фундаментной плиты?",
    "Найди все перемычки",
    "Какая арматура используется в плите перекрытия?",
    "Кладочный план 3-го этажа",
    "отметка -7,650",
    "Спецификация элементов",
]
QUESTIONS_SYN = [
    "Какая толщина утеплителя кровли П-1?",
    "Найди всё вентиляционное оборудование",
    "Приточная установка П1.1",
    "спецификация перемычек А3-13*",
    "отметка -7,650",
    "Воздуховод 500х300",
]


def settings_for(data_dir: Path, **kw: Any) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, **kw)


async def payloads(doc_path: Path, questions: list[str], data_dir: Path) -> dict[str, Any]:
    """First-call payload of each question with a scripted model, vs all blocks of the document."""
    doc = read_document(doc_path)
    all_chars = sum(len(b.text) for b in doc.blocks)
    all_clean = sum(len(clean_text(b.text)) for b in doc.blocks)
    image_blocks = sum(1 for b in doc.blocks if b.block_type == "image")
    rows = []
    with ScriptedLLM(default=text("Ответ.")) as llm:
        s = settings_for(data_dir, llm_base_url=llm.base_url, llm_api_key="bench", llm_stream=False)
        async with AskService(s) as service:
            for q in questions:
                before = len(llm.requests)
                result = await service.ask(q, [str(doc_path)])
                req = llm.requests[before]
                hits = await service.store.get_search_results(result.chat_id)
                sent = req.all_text()
                included = sum(1 for h in hits if f"блок {h['block_id']}" in sent
                               and clean_text(h["block_text"])[:30] in sent)
                rows.append({"question": q, "chars": req.chars, "images": len(req.image_urls),
                             "hits": len(hits), "hits_included": included,
                             "image_bytes": sum(len(u) for u in req.image_urls) * 3 // 4})
    return {"document": doc_path.name, "blocks": len(doc.blocks), "all_chars": all_chars,
            "all_chars_clean": all_clean, "image_blocks": image_blocks, "can_render": doc.can_render,
            "rows": rows}


def raw_renders(pdf: Path, images: list[dict[str, Any]], dpis: list[float], png: bool = False) -> float:
    """Plain PyMuPDF renders of the same regions at the same DPI: the pixmap only, or with
    PyMuPDF's own PNG encoding (``png``) — the least any uploader of the crops must do."""
    doc = pymupdf.open(pdf)
    t0 = time.perf_counter()
    for im, dpi in zip(images, dpis, strict=True):
        page = doc[im["page_number"] - 1]
        r = page.rect
        x1, y1, x2, y2 = im["coords_norm"]
        clip = pymupdf.Rect(r.x0 + x1 * r.width, r.y0 + y1 * r.height, r.x0 + x2 * r.width, r.y0 + y2 * r.height)
        pix = page.get_pixmap(dpi=max(1, int(dpi)), clip=clip, alpha=False)
        if png:
            pix.tobytes("png")
    elapsed = time.perf_counter() - t0
    doc.close()
    return elapsed


def raw_inserts(db: Path, n_results: int, n_images: int, image_blobs: list[int]) -> float:
    """The same rows as one ask writes, inserted with plain sqlite3 (one transaction per step, like
    the pipeline: chat, user message, results, images, assistant message), plus writing the image
    files of the same sizes."""
    con = sqlite3.connect(db)
    con.executescript("""
        create table chats(id text primary key, user_id text, title text, metadata text, created_at text, updated_at text);
        create table msgs(id text primary key, chat_id text, role text, content text, message_type text, model text, metadata text, created_at text);
        create table res(id text primary key, chat_id text, message_id text, document_id text, block_id text, page_number int, block_text text, coords_norm text, coords_px text, score real, created_at text);
        create table imgs(id text primary key, chat_id text, message_id text, image_name text, s3_path text, s3_url text, image_type text, description text, width int, height int, file_size int, page_number int, coords_norm text, uploaded_at text);
    """)
    folder = db.parent / "rawfiles"
    folder.mkdir(exist_ok=True)
    now = "2025-01-01T00:00:00"
    t0 = time.perf_counter()
    cid, mid = str(uuid.uuid4()), str(uuid.uuid4())
    with con:
        con.execute("insert into chats values(?,?,?,?,?,?)", (cid, "local", "q", "{}", now, now))
    with con:
        con.execute("insert into msgs values(?,?,?,?,?,?,?,?)", (mid, cid, "user", "q", "text", None, "{}", now))
        con.execute("update chats set updated_at=? where id=?", (now, cid))
    with con:
        con.executemany("insert into res values(?,?,?,?,?,?,?,?,?,?,?)",
                        [(str(uuid.uuid4()), cid, mid, "d", "b", 1, "x" * 300, "[0,0,1,1]", None, 1.0, now)
                         for _ in range(n_results)])
    for i, size in enumerate(image_blobs):
        (folder / f"{i}.png").write_bytes(b"\0" * size)
    with con:
        con.executemany("insert into imgs values(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        [(str(uuid.uuid4()), cid, mid, "v.png", "k", "u", "viewport", "d", 1, 1, 1, 1, "[0,0,1,1]", now)
                         for _ in range(n_images)])
    with con:
        con.execute("insert into msgs values(?,?,?,?,?,?,?,?)",
                    (str(uuid.uuid4()), cid, "assistant", "a" * 2000, "text", "m", "{}", now))
        con.execute("update chats set updated_at=? where id=?", (now, cid))
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed


async def timings(doc_path: Path, pdf: Path, questions: list[str], data_dir: Path, repeat: int) -> dict[str, Any]:
    s = settings_for(data_dir)
    out: list[dict[str, float]] = []
    async with AskService(s, provider=None) as service:
        await service.ask(questions[0], [str(doc_path)])  # warm-up: read document, build index, schema
        for i in range(repeat):
            q = questions[i % len(questions)]
            t0 = time.perf_counter()
            result = await service.ask(q, [str(doc_path)])
            ask_s = time.perf_counter() - t0
            hist = await service.store.get_chat_history(result.chat_id)
            user = hist["messages"][0]
            images = user["images"]
            by_id = {i.id: i for i in result.images}
            dpis = [by_id[im["id"]].dpi or 150.0 for im in images]
            sizes = [im["file_size"] or 0 for im in images]
            render_raw = raw_renders(pdf, images, dpis)
            render_png = raw_renders(pdf, images, dpis, png=True)
            with tempfile.TemporaryDirectory() as tmp:
                insert_raw = raw_inserts(Path(tmp) / "raw.db", len(user["search_results"]), len(images), sizes)
            out.append({"ask": ask_s, "raw_render": render_raw, "raw_render_png": render_png, "raw_insert": insert_raw,
                        "images": len(images), "results": len(user["search_results"]),
                        **{f"t_{k}": v for k, v in result.timings.items()}})
    return {"runs": out}


def med(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rows if key in r) if any(key in r for r in rows) else 0.0


def report_payload(p: dict[str, Any]) -> None:
    print(f"\n== Payload per LLM call: {p['document']} ({p['blocks']} blocks, "
          f"{'PDF' if p['can_render'] else 'no PDF: text only'}) ==")
    print(f"all blocks: {p['all_chars']:,} chars ({p['all_chars_clean']:,} cleaned), "
          f"{p['image_blocks']} image blocks")
    print(f"{'question':45} {'chars':>7} {'%all':>6} {'images':>6} {'hits incl.':>10}")
    for r in p["rows"]:
        pct = 100 * r["chars"] / max(1, p["all_chars"])
        print(f"{r['question'][:45]:45} {r['chars']:>7,} {pct:>5.1f}% {r['images']:>6} "
              f"{r['hits_included']:>4}/{r['hits']:<5}")
    chars = [r["chars"] for r in p["rows"]]
    print(f"median {statistics.median(chars):,.0f} chars = {100 * statistics.median(chars) / p['all_chars']:.2f}% "
          f"of all blocks; max {max(chars):,} = {100 * max(chars) / p['all_chars']:.2f}%; "
          f"images per call ≤ {max(r['images'] for r in p['rows'])} (vs {p['image_blocks']} image blocks)")


def report_timing(name: str, t: dict[str, Any]) -> None:
    rows = t["runs"]
    ask_s, rr, ri = med(rows, "ask"), med(rows, "raw_render"), med(rows, "raw_insert")
    rp = med(rows, "raw_render_png")
    print(f"\n== ask without LLM: {name} (median of {len(rows)}) ==")
    print(f"ask total {ask_s * 1000:.0f} ms for {med(rows, 'images'):.0f} viewports, {med(rows, 'results'):.0f} hits")
    print(f"raw PyMuPDF renders {rr * 1000:.0f} ms + raw sqlite3 inserts/file writes {ri * 1000:.0f} ms "
          f"= {(rr + ri) * 1000:.0f} ms  → ask / raw = {ask_s / max(1e-9, rr + ri):.1f}×")
    print(f"with PNG encoding in the raw renders (pix.tobytes('png')): {rp * 1000:.0f} ms + {ri * 1000:.0f} ms "
          f"= {(rp + ri) * 1000:.0f} ms  → ask / raw = {ask_s / max(1e-9, rp + ri):.2f}×")
    parts = ["search", "store_hits", "render", "upload", "store_images", "chat", "llm", "save"]
    print("breakdown: " + ", ".join(f"{k} {med(rows, 't_' + k) * 1000:.0f} ms" for k in parts))


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kr3", type=Path, default=KR3)
    ap.add_argument("--sheets", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=6)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        syn = build_drawing_set(args.sheets)
        paths = write_bundle_fixtures(root / "set", syn, formats=("result",))
        results = []
        if args.kr3.exists():
            results.append(await payloads(args.kr3, QUESTIONS_KR3, root / "d1"))
        else:
            print(f"(КР3 sample not found at {args.kr3}; skipped)")
        results.append(await payloads(paths["result"], QUESTIONS_SYN, root / "d2"))
        for p in results:
            report_payload(p)
        t = await timings(paths["result"], paths["pdf"], QUESTIONS_SYN, root / "d3", args.repeat)
        report_timing(f"synthetic set, {args.sheets} sheets", t)


if __name__ == "__main__":
    asyncio.run(main())
