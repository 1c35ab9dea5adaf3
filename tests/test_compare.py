"""Revision compare (the domain: aizoomdoc.compare) on a real excerpt and on synthetic sets.

The real excerpt (tests/data/KS_AR6_register_sheet1.pdf: the register of changes and sheet 1
«Общие данные» of АР6) is edited the way an engineer edits a PDF (aizoomdoc.compare.revise:
redaction + new text, a line drawn or moved), so every test knows the answer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pymupdf
import pytest

from aizoomdoc.compare import CompareOptions, compare_documents
from aizoomdoc.compare.linediff import diff_lines
from aizoomdoc.compare.model import Comparison
from aizoomdoc.compare.normalize import close_enough, word_key
from aizoomdoc.compare.register import parse_sheets
from aizoomdoc.compare.revise import (
    AddLine,
    Erase,
    MoveLine,
    MoveText,
    Retype,
    Write,
    make_revision,
    resave,
    straight_lines,
)
from aizoomdoc.documents import read_document
from aizoomdoc.sample import build_drawing_set

DATA = Path(__file__).parent / "data"
EXCERPT = DATA / "KS_AR6_register_sheet1.pdf"
SHEET1 = 1  # page index of sheet 1 in the excerpt


def overlaps(a, b, margin: float = 0.002) -> bool:
    return a is not None and b is not None and a[0] - margin <= b[2] and b[0] - margin <= a[2] \
        and a[1] - margin <= b[3] and b[1] - margin <= a[3]


def revision(tmp_path: Path, edits: list, name: str = "new.pdf", src: Path = EXCERPT):
    new = tmp_path / name
    answers = make_revision(src, new, edits)
    return compare_documents(read_document(src), read_document(new)), answers


def sheet(c: Comparison, page: int):
    return next(s for s in c.sheets if s.new_page == page or s.old_page == page)


# --- the held-out shape: two text edits on the last sheet ---------------------------------------


def test_two_text_edits_reported_at_their_place_other_sheets_same(tmp_path: Path) -> None:
    c, answers = revision(tmp_path, [Retype(SHEET1, "А500С", "А400С"), Retype(SHEET1, "59.13330.2020", "59.13330.2024")])
    first, last = sheet(c, 1), sheet(c, 2)
    assert first.status == "same" and not first.changes
    assert last.status == "changed" and last.sheet == "1"
    assert 2 <= len(last.changes) <= 10, [ch.to_dict() for ch in last.changes]
    for a in answers:
        hits = [ch for ch in last.changes if overlaps(ch.bbox_norm_old, a.box_old) and overlaps(ch.bbox_norm_new, a.box_new)]
        assert hits, (a, [ch.to_dict() for ch in last.changes])
    texts = {(ch.old_text, ch.new_text) for ch in last.changes}
    assert ("А500С", "А400С") in texts and ("59.13330.2020", "59.13330.2024") in texts
    d = c.to_dict()
    assert set(d["sheets"][1]) >= {"old_page", "new_page", "sheet", "title", "status", "changes"}
    change = d["sheets"][1]["changes"][0]
    assert set(change) >= {"kind", "old_text", "new_text", "bbox_norm_old", "bbox_norm_new"}
    assert all(0.0 <= v <= 1.0 for v in change["bbox_norm_new"]) and len(change["bbox_norm_new"]) == 4
    assert d["summary"]["changed"] == 1 and d["summary"]["same"] == 1 and d["summary"]["changed_sheets"] == ["1"]
    json.dumps(d, ensure_ascii=False)  # plain JSON


def test_erased_written_and_moved_text(tmp_path: Path) -> None:
    c, answers = revision(tmp_path, [Erase(SHEET1, "35-01-2001"), Write(SHEET1, (0.7, 0.6), "Прим. 12", 9.0),
                                     MoveText(SHEET1, "В500С", 0.0, 0.03)])
    changes = sheet(c, 2).changes
    kinds = sorted(ch.kind for ch in changes)
    assert kinds == ["text_added", "text_moved", "text_removed"], [ch.to_dict() for ch in changes]
    removed = next(ch for ch in changes if ch.kind == "text_removed")
    assert removed.old_text == "35-01-2001" and overlaps(removed.bbox_norm_old, answers[0].box_old)
    added = next(ch for ch in changes if ch.kind == "text_added")
    assert added.new_text == "Прим. 12" and overlaps(added.bbox_norm_new, answers[1].box_new)
    moved = next(ch for ch in changes if ch.kind == "text_moved")
    assert moved.old_text == moved.new_text == "В500С"
    assert overlaps(moved.bbox_norm_old, answers[2].box_old) and overlaps(moved.bbox_norm_new, answers[2].box_new)


def test_table_row_change_cell_by_cell(tmp_path: Path) -> None:
    c, _answers = revision(tmp_path, [Retype(SHEET1, "8509-93", "8509-2023")])
    changes = sheet(c, 2).changes
    assert [ch.kind for ch in changes] == ["table_row_changed"], [ch.to_dict() for ch in changes]
    row = changes[0]
    assert "Уголки стальные горячекатаные равнополочные" in row.old_text and "8509-93" in row.old_text
    assert "8509-2023" in row.new_text and "Уголки стальные" in row.new_text
    assert [(x.column, x.old_text, x.new_text) for x in row.cells] == [(1, "ГОСТ 8509-93", "ГОСТ 8509-2023")]


def test_drawing_only_change_is_found_where_the_line_is(tmp_path: Path) -> None:
    line = (0.70, 0.60, 0.80, 0.60)
    c, answers = revision(tmp_path, [AddLine(SHEET1, line, width=1.5)])
    changes = sheet(c, 2).changes
    assert [ch.kind for ch in changes] == ["drawing_changed"], [ch.to_dict() for ch in changes]
    assert overlaps(changes[0].bbox_norm_new, answers[0].box_new, 0.004)
    assert changes[0].old_text is None and changes[0].new_text is None
    assert sheet(c, 1).status == "same"


def test_moved_line_of_the_drawing(tmp_path: Path) -> None:
    pdf = pymupdf.open(EXCERPT)
    line = next(b for b in straight_lines(pdf[SHEET1], 60) if 0.2 < b[1] < 0.8 and 0.2 < b[0] < 0.8)
    pdf.close()
    c, answers = revision(tmp_path, [MoveLine(SHEET1, line, 0.0, 0.02)])
    changes = sheet(c, 2).changes
    assert changes and all(ch.kind == "drawing_changed" for ch in changes)
    a = answers[0]
    assert any(overlaps(ch.bbox_norm_old, a.box_old, 0.004) for ch in changes)
    assert any(overlaps(ch.bbox_norm_new, a.box_new, 0.004) for ch in changes)


def test_same_drawings_written_again_are_no_change(tmp_path: Path) -> None:
    again = tmp_path / "again.pdf"
    resave(EXCERPT, again)
    assert again.read_bytes() != EXCERPT.read_bytes()
    c = compare_documents(read_document(EXCERPT), read_document(again))
    assert [s.status for s in c.sheets] == ["same", "same"]


def test_real_three_sheet_bundle_two_edits_on_the_third_sheet(tmp_path: Path) -> None:
    """The real 3-sheet set ЭС as an OCR bundle (Markdown with its annotation JSON for the block
    boxes), no PDF: a note retyped in a text block and two dimensions retyped in the drawing text
    of an image block, both on sheet 3."""
    for version in ("old", "new"):
        (tmp_path / version).mkdir()
        shutil.copy(DATA / "KS_ES_annotation.json", tmp_path / version)
    md = (DATA / "KS_ES_document.md").read_text(encoding="utf-8")
    (tmp_path / "old" / "KS_ES_document.md").write_text(md, encoding="utf-8")
    edited = md.replace("выполнить электросваркой внасxлест", "выполнить болтовым соединением внахлест")
    edited = edited.replace("Соединение проводников магистрали заземления. 40 40", "Соединение проводников магистрали заземления. 50 50")
    assert edited.count("болтовым соединением внахлест") == 1 and "50 50" in edited
    (tmp_path / "new" / "KS_ES_document.md").write_text(edited, encoding="utf-8")
    old, new = (read_document(tmp_path / v / "KS_ES_document.md") for v in ("old", "new"))
    assert old.metadata.get("coords_from")  # the boxes come from the annotation JSON
    c = compare_documents(old, new)
    assert [s.status for s in c.sheets] == ["same", "same", "changed"]
    changes = c.sheets[2].changes
    assert 2 <= len(changes) <= 10, [ch.to_dict() for ch in changes]
    boxes = {b.id: b.coords_norm for b in new.blocks}
    for block_id, old_text, new_text in (("74Y7-R3EP-XHH", "электросваркой", "болтовым соединением"),
                                         ("66YD-997X-RLX", "40 40", "50 50")):
        hit = [ch for ch in changes if ch.block_new == block_id and old_text in ch.old_text and new_text in ch.new_text]
        assert hit and overlaps(hit[0].bbox_norm_new, boxes[block_id]), [ch.to_dict() for ch in changes]


# --- sheets: added, removed, split ------------------------------------------------------------


def _set_with_sheet_numbers(tmp_path: Path) -> tuple[Path, Path]:
    """Old: synthetic sheets 1..7. New: sheet 3 removed, sheet 5 split into 5.1 and 5.2, sheet 8
    added at the end (the stamp's sheet number retyped)."""
    old = tmp_path / "old.pdf"
    build_drawing_set(7).write(old)
    work = pymupdf.open(old)
    work.fullcopy_page(4, 5)  # a second copy of sheet 5 right after it
    work.fullcopy_page(7)  # a copy of sheet 7 at the end
    work.delete_page(2)  # sheet 3 gone
    mid = tmp_path / "mid.pdf"
    work.save(mid)
    work.close()
    new = tmp_path / "new.pdf"
    make_revision(mid, new, [Retype(3, "5", "5.1", near=_stamp_number(3)), Retype(4, "5", "5.2", near=_stamp_number(4)),
                             Retype(7, "7", "8", near=_stamp_number(7))])
    return old, new


def _stamp_number(page: int) -> tuple[float, float]:
    """Where the synthetic title block writes the sheet number (coords_norm of an A2 sheet)."""
    mm = 72 / 25.4
    w, h = 594 * mm, 420 * mm
    return ((w - 5 * mm - 185 * mm + 157.5 * mm) / w, (h - 5 * mm - 55 * mm + 35 * mm) / h)


def test_added_removed_and_split_sheets(tmp_path: Path) -> None:
    old, new = _set_with_sheet_numbers(tmp_path)
    c = compare_documents(read_document(old), read_document(new), CompareOptions(visual=False))
    got = [(s.old_page, s.new_page, s.sheet, s.status, s.split_from) for s in c.sheets]
    assert got[:2] == [(1, 1, "1", "same", None), (2, 2, "2", "same", None)]
    assert (3, None, "3", "removed", None) in got
    split = [g for g in got if g[4] == "5"]
    assert {g[2] for g in split} == {"5.1", "5.2"}, got
    assert ("8", "added") in {(g[2], g[3]) for g in got}
    assert (7, 7, "7", "same", None) in got  # sheet 7 paired by number and content, not by page
    s = c.summary()
    assert s["removed"] == 1 and s["added"] >= 2


# --- OCR bundles: noise is not a change, a real edit is -----------------------------------------


def _markdown(pages: list[tuple[str, str, list[str]]]) -> str:
    out = ["# Комплект", "**Штамп:** Шифр: 133/23-ГК-АР9 | Стадия: РД", ""]
    for n, (number, name, blocks) in enumerate(pages, 1):
        out += [f"## СТРАНИЦА {n}", f"**Лист:** {number}", f"**Наименование листа:** {name}", ""]
        for k, body in enumerate(blocks, 1):
            out += [f"### BLOCK [TEXT]: P{n}B{k}-AAAA-AAA", body, ""]
    return "\n".join(out)


REGISTER_OLD = """| Изм. | Лист | Содержание изменения | Код |
|---|---|---|---|
| 1 | 2 | Изменена ширина двери Д-3 | 1 |"""
REGISTER_NEW = REGISTER_OLD + """
| 2 | 2 | Изменена отметка площадки | 1 |
| 2 | 3 | Уточнена спецификация | 1 |"""
SPEC = """| Поз. | Обозначение | Наименование | Кол. |
|---|---|---|---|
| 1 | ГОСТ 8509-93 | Уголок 50х5 | 12 |
| 2 | ГОСТ 103-2006 | Полоса 40х4 | 8 |"""


def test_bundles_register_checked_against_changes(tmp_path: Path) -> None:
    old = _markdown([("1", "Общие данные", [REGISTER_OLD, "Отметка площадки +3,300. Двери Д-3 шириной 900 мм."]),
                     ("2", "План", ["Площадка на отм. +3,300", "Колясочная 12,5 м2"]),
                     ("3", "Спецификация", [SPEC]),
                     ("4", "Разрез", ["Отметка кровли +45,600"])])
    new = _markdown([("1", "Общие данные", [REGISTER_NEW, "Отметка площадки +3,300. Двери Д-3 шириной 900 мм."]),
                     ("2", "План", ["Площадка на отм. +3,450", "Колясачная 12.5 м2"]),  # OCR slip + decimal point
                     ("3", "Спецификация", [SPEC]),
                     ("4", "Разрез", ["Отметка кровли +45,900"])])
    (tmp_path / "old_document.md").write_text(old, encoding="utf-8")
    (tmp_path / "new_document.md").write_text(new, encoding="utf-8")
    c = compare_documents(read_document(tmp_path / "old_document.md"), read_document(tmp_path / "new_document.md"))
    by_sheet = {s.sheet: s for s in c.sheets}
    plan = by_sheet["2"]
    assert [(ch.kind, ch.old_text, ch.new_text) for ch in plan.changes] == \
        [("text_changed", "Площадка на отм. +3,300", "Площадка на отм. +3,450")]
    assert by_sheet["3"].status == "same" and by_sheet["4"].status == "changed"
    reg = c.register
    assert reg is not None
    assert [(e.revision, e.sheets) for e in reg.entries] == [("2", ["2"]), ("2", ["3"])]
    assert reg.updated and reg.pages == [1]
    assert reg.named_unchanged == ["3"]  # named in the register, nothing changed
    assert "4" in reg.changed_unnamed  # changed, not named
    assert "2" not in reg.changed_unnamed
    assert by_sheet["1"].status == "changed"  # the register itself grew; its page is not reported


def test_register_of_a_real_pdf() -> None:
    from aizoomdoc.compare.content import PdfText
    from aizoomdoc.compare.register import read_register

    doc = read_document(EXCERPT)
    pdf = PdfText(str(EXCERPT), doc)
    try:
        entries = read_register(doc, pdf)
    finally:
        pdf.close()
    assert [(e.revision, e.sheets, e.page) for e in entries] == \
        [("1.1", ["1"], 1), ("Зам", ["2"], 1), ("Зам", ["3"], 1), ("Зам", ["4"], 1)]
    assert entries[1].text.startswith("Изменена конфигурация наружной лестницы строения №1")
    assert entries[2].text.endswith("+51.150 - +55.350")


def test_sheet_lists_and_ocr_keys() -> None:
    assert parse_sheets("1-3") == ["1", "2", "3"]
    assert parse_sheets("2, 8.2") == ["2", "8.2"]
    assert parse_sheets("все") == ["все"]
    assert word_key("АРЗ-1", ocr=True) == word_key("АР3-1", ocr=True)
    assert word_key("159,8", ocr=True) == word_key("159.8", ocr=True)
    assert close_enough("колясочная", "классочная") is False  # two letters in ten: a real difference
    assert close_enough("строение", "стройение") and close_enough("т/f", "т/ф")
    assert not close_enough("300", "350")


def test_second_ocr_run_with_the_pdf_is_no_change() -> None:
    """Two real OCR runs of the same sheets (two pipelines' result JSON of АР6, cut to the
    excerpt's pages) next to their PDF: the PDF's text layer and drawing are compared, so what the
    two OCR runs read differently is no change."""
    a = read_document(DATA / "KS_AR6_run1_result.json")
    b = read_document(DATA / "KS_AR6_run2_result.json")
    assert a.render_path and b.render_path and a.source_format == b.source_format == "result_json"
    assert [x.text for x in a.blocks] != [x.text for x in b.blocks]  # the two runs did read differently
    c = compare_documents(a, b)
    assert [s.status for s in c.sheets] == ["same", "same"]


def _ocr_bundles(jobs: list[tuple[pymupdf.Page, int, Path]]) -> list[Path]:
    """Tesseract over renders of pages (``(page, dpi, bundle path)``), run side by side."""
    procs = []
    for page, dpi, out in jobs:
        png = out.with_suffix(".png")
        page.get_pixmap(dpi=dpi).save(png)
        procs.append(subprocess.Popen(["tesseract", str(png), "-", "-l", "rus", "--psm", "11", "tsv"],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                      env={**os.environ, "OMP_THREAD_LIMIT": "1"}))
    outs = [p.communicate(timeout=240)[0] for p in procs]
    return [_bundle_from_tsv(tsv, dpi, page.rect, page.rect, out)
            for tsv, (page, dpi, out) in zip(outs, jobs, strict=True)]


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is installed by scripts/test.sh")
def test_second_ocr_run_without_pdf_is_no_change_but_an_edit_is(tmp_path: Path) -> None:
    """Tesseract reads a sheet twice (renders at 200 and 250 dpi) — two OCR bundles without a PDF
    that differ in what the OCR got wrong (letters, separators, line breaks), not in the sheet. A
    third reading of the sheet with a value retyped shows that one change."""
    src = tmp_path / "set.pdf"
    build_drawing_set(1).write(src)
    edited = tmp_path / "edited.pdf"
    make_revision(src, edited, [Retype(0, "14918-2020.", "14918-2024.")])
    with pymupdf.open(src) as pdf, pymupdf.open(edited) as pdf_edited:
        paths = _ocr_bundles([(pdf[0], 200, tmp_path / "run200_result.json"), (pdf[0], 250, tmp_path / "run250_result.json"),
                              (pdf_edited[0], 200, tmp_path / "edited_result.json")])
    a, b, e = (read_document(p, companions=False) for p in paths)
    assert len(a.blocks) > 20 and sorted(x.text for x in a.blocks) != sorted(x.text for x in b.blocks)
    same = compare_documents(a, b)
    assert [s.status for s in same.sheets] == ["same"], [ch.to_dict() for ch in same.sheets[0].changes]
    edit = compare_documents(b, e).sheets[0]
    assert [ch.kind for ch in edit.changes] == ["text_changed"], [ch.to_dict() for ch in edit.changes]
    assert "14918-2020" in edit.changes[0].old_text and "14918-2024" in edit.changes[0].new_text


def _bundle_from_tsv(tsv: str, dpi: int, clip: pymupdf.Rect, page: pymupdf.Rect, out: Path) -> Path:
    """A result JSON bundle (format B) with one text block per Tesseract line."""
    lines: dict[tuple[str, str, str], list[tuple[float, float, float, float, str]]] = {}
    for row in tsv.splitlines()[1:]:
        f = row.split("\t")
        if len(f) < 12 or not f[11].strip() or float(f[10]) < 0:
            continue
        x, y, w, h = (float(v) * 72 / dpi for v in f[6:10])
        lines.setdefault((f[2], f[3], f[4]), []).append((clip.x0 + x, clip.y0 + y, clip.x0 + x + w, clip.y0 + y + h, f[11]))
    px = 300 / 72
    blocks = []
    for k, words in enumerate(lines.values()):
        box = [min(w[0] for w in words), min(w[1] for w in words), max(w[2] for w in words), max(w[3] for w in words)]
        blocks.append({"id": f"L{k:04d}-AAAA-AAA", "page_index": 0, "block_type": "text",
                       "coords_px": [v * px for v in box],
                       "coords_norm": [box[0] / page.width, box[1] / page.height, box[2] / page.width, box[3] / page.height],
                       "ocr_text": " ".join(w[4] for w in words)})
    data = {"pdf_path": "sheet.pdf", "pages": [{"page_number": 0, "width": page.width * px, "height": page.height * px,
                                                "blocks": blocks}]}
    out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return out


def test_lines_mode_ignores_ocr_failures_and_model_prose() -> None:
    from aizoomdoc.compare.content import Line, SheetText
    from aizoomdoc.compare.normalize import tokens

    def sheet(lines: list[str], failures: int = 0) -> SheetText:
        return SheetText(0, "lines", lines=[Line(s, tokens(s, ocr=True), None, "b") for s in lines], ocr_failures=failures)

    assert diff_lines(sheet(["Полы выполнять после прокладки коммуникаций.", "Т/F: +7495 135 8005"]),
                      sheet(["Пола выполнять после прокладки коммуникаций.", "T/Ф: +7495 135 8005"])) == []
    # A block the OCR failed on: its lines are not "removed".
    assert diff_lines(sheet(["Главный инженер проекта Вакулюк А.В."]), sheet([], failures=1)) == []
    changed = diff_lines(sheet(["Толщина утеплителя 150 мм"]), sheet(["Толщина утеплителя 200 мм"]))
    assert [(c.kind, c.old_text, c.new_text) for c in changed] == \
        [("text_changed", "Толщина утеплителя 150 мм", "Толщина утеплителя 200 мм")]
