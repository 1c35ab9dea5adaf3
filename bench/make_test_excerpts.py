"""Write the small real excerpts the test suite reads (tests/data/) from ../shared/realdocs.

    .venv/bin/python bench/make_test_excerpts.py [--check]

The tests never read the corpus; they read these excerpts, each named in tests/data/SOURCES.md with
the repository, path and commit of its origin (from realdocs/SOURCES.tsv). Excerpts keep a few
pages of a document exactly as they are (the bundles of KS_AR6 are renumbered to the pages of the
PDF excerpt, keeping each format's own numbering: 0-based annotation, 1-based result JSON of this
pipeline, 1-based HTML and Markdown). ``--check``: compare with what is in tests/data (exit 1 on a
difference) instead of writing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import pymupdf

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "realdocs"
OUT = ROOT / "tests" / "data"

AR6_PAGES = (4,)  # 1-based pages of KS_AR6 kept (Общие данные: the sheet list, notes, tables)
MD_PAGES = {
    "KS_AR3_document.md": (5, 8, 10, 24),  # the sheet list and registers; plans of floors 3 and 5; finishes
    "KS_AR2_izm10_document.md": (7,),  # lintels of floor -1 (А3-13*, В4-14*, Latin look-alikes)
    "AL_AR1.1-K4_izm2_document.md": (7,),  # lintels typed ПР-1.13 and read PR-1.13
}
WHOLE = ("KS_GP1_blocks.json", "OV_specs_112p_annotation_layout.json")


def pdf_excerpt() -> bytes:
    doc = pymupdf.open(CORPUS / "KS_AR6.pdf")
    doc.select([p - 1 for p in AR6_PAGES])
    data = doc.tobytes(garbage=4, deflate=True, clean=True)
    doc.close()
    return data


def json_excerpt(name: str, base: int) -> str:
    """Pages AR6_PAGES of a KS_AR6 bundle, renumbered from ``base`` (the file's own numbering)."""
    data = json.loads((CORPUS / name).read_text(encoding="utf-8"))
    wanted = {p - 1 + base: k for k, p in enumerate(AR6_PAGES)}  # file's number -> new 0-based
    pages = []
    for page in data["pages"]:
        if page.get("page_number") in wanted:
            k = wanted[page["page_number"]]
            page = dict(page, page_number=k + base)
            page["blocks"] = [dict(b, page_index=k + base) for b in page.get("blocks") or []]
            pages.append(page)
    data["pages"] = pages
    return json.dumps(data, ensure_ascii=False, indent=1)


def html_excerpt(name: str) -> str:
    text = (CORPUS / name).read_text(encoding="utf-8")
    opens = [m.start() for m in re.finditer(r'<div class="block block-type-', text)]
    head, tail = text[: opens[0]], "</body>\n</html>\n"
    keep = []
    for i, start in enumerate(opens):
        end = opens[i + 1] if i + 1 < len(opens) else text.rindex("</body>")
        chunk = text[start:end]
        m = re.search(r"\(стр\. (\d+)\)", chunk)
        if m and int(m.group(1)) in AR6_PAGES:
            new = AR6_PAGES.index(int(m.group(1))) + 1
            keep.append(chunk.replace(f"(стр. {m.group(1)})", f"(стр. {new})", 1))
    return head + "".join(keep) + tail


def md_pages(name: str, pages: tuple[int, ...], renumber: bool) -> str:
    text = (CORPUS / name).read_text(encoding="utf-8")
    parts = re.split(r"(?m)^(?=## СТРАНИЦА \d+\s*$)", text)
    out = [parts[0]]
    for part in parts[1:]:
        n = int(re.match(r"## СТРАНИЦА (\d+)", part).group(1))  # type: ignore[union-attr]
        if n in pages:
            if renumber:
                part = part.replace(f"## СТРАНИЦА {n}", f"## СТРАНИЦА {pages.index(n) + 1}", 1)
            out.append(part)
    return "".join(out)


def excerpts() -> dict[str, bytes]:
    out: dict[str, bytes] = {
        "KS_AR6_p4.pdf": pdf_excerpt(),
        "KS_AR6_p4_annotation.json": json_excerpt("KS_AR6_annotation.json", 0).encode(),
        "KS_AR6_p4_result.json": json_excerpt("KS_AR6_result.json", 1).encode(),
        "KS_AR6_p4_ocr.html": html_excerpt("KS_AR6_ocr.html").encode(),
        "KS_AR6_p4_document.md": md_pages("KS_AR6_document.md", AR6_PAGES, renumber=True).encode(),
    }
    for name, pages in MD_PAGES.items():
        stem = name.removesuffix("_document.md")
        out[f"{stem}_excerpt_document.md"] = md_pages(name, pages, renumber=False).encode()
    for name in WHOLE:
        out[name] = (CORPUS / name).read_bytes()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    if not (CORPUS / "KS_AR6.pdf").is_file():
        print(f"Корпус реальных документов не найден ({CORPUS}); выдержки не созданы.")
        return 0
    made = excerpts()
    if args.check:
        # The PDF is rewritten by MuPDF (ids and timestamps differ): compare its text per page.
        differ = [n for n, data in made.items() if not n.endswith(".pdf") and (OUT / n).read_bytes() != data]
        print("выдержки совпадают" if not differ else f"отличаются: {', '.join(differ)}")
        return 1 if differ else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in made.items():
        (OUT / name).write_bytes(data)
        print(f"{name}: {len(data) / 1024:.0f} КБ")
    print(f"всего {sum(len(d) for d in made.values()) / 1024:.0f} КБ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
