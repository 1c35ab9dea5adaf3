"""Readers on real drawing sets (excerpts in tests/data, see SOURCES.md): every format of one real
document agrees, and a broken part costs that part — a cut JSON object, a key without quotes, a
stray code fence, a lost page heading, a repeated block id, an empty page, a file cut off, a PDF
whose fonts lost their Unicode map. Files that are no documents get one clear line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pymupdf
import pytest

from aizoomdoc.documents import Document, read_document
from aizoomdoc.documents.read_warnings import ingest_notes, summarize
from aizoomdoc.documents.text_layer import assess_text
from aizoomdoc.errors import DocumentError

DATA = Path(__file__).parent / "data"
STEM = "KS_AR6_p4"
#: The blocks of sheet 4 of АР6 that every format has (the stamp image is only in the JSON).
AR6_IDS = {"6TV7-UHAV-6JJ", "4VAX-TCA6-DRY", "6GNH-DRUR-4Q3", "9M9E-U3YY-XEG", "6RUG-MY9R-HXC",
           "QPHL-MPMQ-UH7", "LYEQ-EEDQ-67D"}


def copy(tmp_path: Path, *names: str) -> Path:
    for name in names:
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path / names[0]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def kinds(doc: Document) -> list[str]:
    return [w["kind"] for w in doc.metadata.get("warnings", [])]


def garbled_pdf() -> bytes:
    """The real sheet with its fonts' ToUnicode maps removed — as PDFs made by some CAD exports."""
    pdf = pymupdf.open(DATA / f"{STEM}.pdf")
    for xref in range(1, pdf.xref_length()):
        if "ToUnicode" in pdf.xref_get_keys(xref):
            pdf.xref_set_key(xref, "ToUnicode", "null")
    return pdf.tobytes()


# --- one real document in every format ----------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["_annotation.json", "_result.json", "_ocr.html", "_document.md"])
def test_every_format_of_a_real_sheet_agrees_with_its_pdf(tmp_path: Path, suffix: str) -> None:
    copy(tmp_path, f"{STEM}.pdf")
    if suffix in ("_ocr.html", "_document.md"):
        copy(tmp_path, f"{STEM}_result.json")  # the coordinates come from the JSON, by block id
    doc = read_document(copy(tmp_path, STEM + suffix))
    assert AR6_IDS <= {b.id for b in doc.blocks}
    assert doc.render_path == str(tmp_path / f"{STEM}.pdf") and [p.page_number for p in doc.pages] == [1]
    assert doc.pages[0].unit == "pt" and doc.pages[0].text_layer == "ok"
    ar6 = [b for b in doc.blocks if b.id in AR6_IDS]
    assert all(b.page_index == 0 and b.has_coords for b in ar6)
    toc = doc.block("6GNH-DRUR-4Q3")
    assert toc is not None and "Ведомость рабочих чертежей основного комплекса" in toc.text
    assert doc.sheet is not None and doc.sheet.document_code == "133/23-ГК-АР6"
    assert not doc.metadata.get("warnings")


def test_result_json_counting_pages_from_one_is_read_so_alone_and_with_its_pdf(tmp_path: Path) -> None:
    # This pipeline writes page_number 1..N (its annotation.json counts from 0): page 1 is page 1.
    alone = read_document(copy(tmp_path, f"{STEM}_result.json"))
    assert [p.page_number for p in alone.pages] == [1] and alone.metadata["page_base"] == 1
    annotation = read_document(DATA / f"{STEM}_annotation.json", companions=False)
    assert annotation.metadata["page_base"] == 0
    assert {(b.id, b.page_index) for b in alone.blocks} == {(b.id, b.page_index) for b in annotation.blocks}


def test_pdf_text_layer_of_a_real_sheet_is_ok_and_without_unicode_maps_is_garbage(tmp_path: Path) -> None:
    good = read_document(DATA / f"{STEM}.pdf")
    assert good.pages[0].text_layer == "ok" and len(good.blocks) > 100
    assert "text_layer" not in good.metadata and ingest_notes(good.metadata) == []
    bad_path = tmp_path / "garbled.pdf"
    bad_path.write_bytes(garbled_pdf())
    text = pymupdf.open(bad_path)[0].get_text()
    assert len(text) > 1000 and assess_text(text) == "garbage"  # thousands of glyphs, no language
    bad = read_document(bad_path)
    assert bad.pages[0].text_layer == "garbage" and bad.blocks == []  # nothing to pollute search
    assert bad.metadata["text_layer"] == {"garbage": [1]}
    [note] = ingest_notes(bad.metadata)
    assert note.startswith("стр. 1 — текстовый слой нечитаем")


# --- files that are no documents ----------------------------------------------------------------------


def test_crop_index_and_layout_only_markup_are_refused_with_one_line() -> None:
    with pytest.raises(DocumentError) as crop:
        read_document(DATA / "KS_GP1_blocks.json")
    assert "индекс кропов" in str(crop.value) and "KS_GP1_document.md" in str(crop.value)
    with pytest.raises(DocumentError) as layout:
        read_document(DATA / "OV_specs_112p_annotation_layout.json")
    assert "разметка без текста" in str(layout.value) and "PDF этого документа" in str(layout.value)
    assert crop.value.status_code == layout.value.status_code == 422
    assert "\n" not in str(crop.value) and "\n" not in str(layout.value)


def test_markup_without_text_read_with_its_pdf_takes_the_pdf_text(tmp_path: Path) -> None:
    data = json.loads((DATA / f"{STEM}_annotation.json").read_text(encoding="utf-8"))
    geometry = ("id", "page_index", "coords_px", "coords_norm", "block_type", "source", "shape_type")
    for page in data["pages"]:
        page["blocks"] = [{k: v for k, v in block.items() if k in geometry} for block in page["blocks"]]
    write(tmp_path, f"{STEM}_annotation.json", json.dumps(data, ensure_ascii=False))
    with pytest.raises(DocumentError, match="разметка без текста"):
        read_document(tmp_path / f"{STEM}_annotation.json")
    copy(tmp_path, f"{STEM}.pdf")
    doc = read_document(tmp_path / f"{STEM}_annotation.json")
    toc = doc.block("6GNH-DRUR-4Q3")
    assert toc is not None and toc.extra["text_from"] == "pdf" and "Ведомость рабочих чертежей" in toc.text


# --- Markdown: a broken part costs that part ----------------------------------------------------------


def ar6_md() -> str:
    return (DATA / f"{STEM}_document.md").read_text(encoding="utf-8")


ANALYSIS = {"location": {"zone_name": "Лестница Л-7", "grid_lines": "5-6/Г-Д"},
            "content_summary": "План лестницы Л-7 на отм. +3,900 с ограждением ОГ-19",
            "detailed_description": "Марш из 12 ступеней, площадка 1500 мм, ограждение стальное"}


def test_markdown_json_object_cut_off_by_the_ocr_model_keeps_the_rest(tmp_path: Path) -> None:
    whole = json.dumps(ANALYSIS, ensure_ascii=False)
    cut = whole[: whole.index("ограждением") + 5]  # «…с огра» — then the next image
    text = ("# Комплект\n\nТекст листа\n\n*Изображение:*\n\n" + cut + "\n\n"
            "![Изображение](s3/crops/image_11111111-2222-3333-4444-555555555555.pdf)\n\n"
            "Утеплитель кровли П-1 — минераловатные плиты\n\n*Изображение:*\n\n"
            + json.dumps({"content_summary": "Разрез 1-1"}, ensure_ascii=False) + "\n\n"
            "![Изображение](s3/crops/image_aaaaaaaa-2222-3333-4444-555555555555.pdf)\n")
    doc = read_document(write(tmp_path, "early_result.md", text))
    broken = doc.block("11111111-2222-3333-4444-555555555555")
    assert broken is not None and broken.extra["warnings"] == ["json_broken"]
    assert "План лестницы Л-7" in broken.text and "Лестница Л-7" in broken.text  # what was written before the cut
    assert doc.block("aaaaaaaa-2222-3333-4444-555555555555") is not None  # the next image is intact
    assert any("Утеплитель кровли П-1" in b.text for b in doc.blocks)
    assert summarize(doc.metadata["warnings"]) == "1 блок с повреждённым JSON (строка 7)"


def test_markdown_fenced_json_with_an_unquoted_key_or_cut_off(tmp_path: Path) -> None:
    unquoted = '{content_summary: "План кровли с воронками ВР-1", key_entities: ["ВР-1"]}'
    cut = json.dumps(ANALYSIS, ensure_ascii=False)[:60]
    text = ar6_md().replace(
        "### BLOCK [TEXT]: 6RUG-MY9R-HXC",
        "### BLOCK [IMAGE]: AAAA-BBBB-CCC\n```json\n" + unquoted + "\n```\n\n"
        "### BLOCK [IMAGE]: DDDD-EEEE-FFF\n```json\n" + cut + "\n```\n\n### BLOCK [TEXT]: 6RUG-MY9R-HXC")
    doc = read_document(write(tmp_path, "x_document.md", text))
    quoted, truncated = doc.block("AAAA-BBBB-CCC"), doc.block("DDDD-EEEE-FFF")
    assert quoted is not None and "План кровли с воронками ВР-1" in quoted.text and "ВР-1" in quoted.extra["entities"]
    assert truncated is not None and "Лестница Л-7" in truncated.text
    assert AR6_IDS <= {b.id for b in doc.blocks}  # every other block of the sheet survives
    assert kinds(doc) == ["json_broken", "json_broken"]


def test_markdown_stray_code_fence_costs_nothing_but_a_warning(tmp_path: Path) -> None:
    text = ar6_md().replace("### BLOCK [TEXT]: 6RUG-MY9R-HXC\n", "### BLOCK [TEXT]: 6RUG-MY9R-HXC\n```\n", 1)
    line = text.splitlines().index("```") + 1
    doc = read_document(write(tmp_path, "x_document.md", text))
    assert AR6_IDS <= {b.id for b in doc.blocks}
    block = doc.block("6RUG-MY9R-HXC")
    assert block is not None and "Общие характеристики проектируемого объекта" in block.text
    assert summarize(doc.metadata["warnings"]) == f"1 блок с незакрытым ``` (строка {line})"


def test_markdown_lost_page_heading_repeated_id_and_empty_page(tmp_path: Path) -> None:
    text = (DATA / "KS_AR3_excerpt_document.md").read_text(encoding="utf-8")
    lost = text.replace("## СТРАНИЦА 24\n", "", 1)  # page 24 starts with its «**Лист:** 18» line
    doc = read_document(write(tmp_path, "lost_document.md", lost))
    finishes = doc.block("9LCH-7MJH-X77")
    plan = doc.block("9CXL-7AED-R4M")
    assert finishes is not None and plan is not None and finishes.page_index != plan.page_index
    assert doc.page(finishes.page_index).sheet.sheet_name.endswith("Ведомость отделки помещений")  # type: ignore[union-attr]
    assert kinds(doc) == ["page_missing"]

    dup = ar6_md() + "\n### BLOCK [TEXT]: 6TV7-UHAV-6JJ\nВедомость ссылочных документов (повтор)\n\n## СТРАНИЦА 2\n"
    doc = read_document(write(tmp_path, "dup_document.md", dup))
    assert [b.id for b in doc.blocks if b.id.startswith("6TV7-UHAV-6JJ")][1].startswith("6TV7-UHAV-6JJ#")
    assert kinds(doc) == ["duplicate_id"] and "с повторяющимся id" in summarize(doc.metadata["warnings"])
    assert [p.page_number for p in doc.pages] == [1, 2]  # the empty page is kept …
    assert doc.pages[1].text_layer == "none" and doc.metadata["text_layer"] == {"none": [2]}  # … as unread


def test_markdown_blocks_before_any_page_heading(tmp_path: Path) -> None:
    text = "### BLOCK [TEXT]: AAAA-BBBB-CCC\nОбщие указания\n\n" + ar6_md().split("---", 1)[1]
    doc = read_document(write(tmp_path, "x_document.md", text))
    block = doc.block("AAAA-BBBB-CCC")
    assert block is not None and block.page_number == 1 and kinds(doc) == ["page_missing"]


def test_a_file_cut_in_the_middle_of_its_last_character_keeps_the_rest(tmp_path: Path) -> None:
    data = ar6_md().encode("utf-8")
    cut = data[: data.rindex("проекта".encode()) + 3]  # inside «р» (2 bytes)
    (tmp_path / "cut_document.md").write_bytes(cut)
    doc = read_document(tmp_path / "cut_document.md")
    assert AR6_IDS <= {b.id for b in doc.blocks} and "truncated" in kinds(doc)
    (tmp_path / "cp1251_document.md").write_bytes(ar6_md().encode("cp1251", errors="replace"))
    with pytest.raises(DocumentError, match="не в UTF-8"):  # another encoding: refused, not guessed
        read_document(tmp_path / "cp1251_document.md")


# --- JSON: cut off, broken parts, the flat list variant ---------------------------------------------


def test_result_json_cut_off_keeps_the_blocks_before_the_cut(tmp_path: Path) -> None:
    text = (DATA / f"{STEM}_result.json").read_text(encoding="utf-8")
    cut = text[: text.index('"id": "6RUG-MY9R-HXC"') + 30]
    doc = read_document(write(tmp_path, "cut_result.json", cut))
    ids = {b.id for b in doc.blocks}
    assert {"6TV7-UHAV-6JJ", "4VAX-TCA6-DRY", "6GNH-DRUR-4Q3", "9M9E-U3YY-XEG"} <= ids
    assert "QPHL-MPMQ-UH7" not in ids and kinds(doc) == ["truncated"]
    with pytest.raises(DocumentError, match="неполный или повреждённый JSON"):  # nothing readable before the cut
        read_document(write(tmp_path, "early_result.json", text[:400]))


def test_result_json_blocks_that_are_not_objects_are_skipped(tmp_path: Path) -> None:
    data = json.loads((DATA / f"{STEM}_result.json").read_text(encoding="utf-8"))
    data["pages"][0]["blocks"][2] = "обрыв выгрузки"
    data["pages"].append("не страница")
    doc = read_document(write(tmp_path, "x_result.json", json.dumps(data, ensure_ascii=False)))
    assert len(doc.blocks) == 7 and kinds(doc) == ["bad_block", "bad_block"]


def test_flat_list_result_json_is_read(tmp_path: Path) -> None:
    data = json.loads((DATA / f"{STEM}_result.json").read_text(encoding="utf-8"))
    flat = [{"block_id": b["id"], "text": b.get("ocr_text") or "", "type": b["block_type"],
             "page_index": b["page_index"] - 1, "category": b.get("category_code") or "text"}
            for p in data["pages"] for b in p["blocks"]]
    path = write(tmp_path, f"{STEM}_result.json", json.dumps(flat, ensure_ascii=False))
    doc = read_document(path)
    assert doc.metadata["variant"] == "flat_list" and AR6_IDS <= {b.id for b in doc.blocks}
    toc = doc.block("6GNH-DRUR-4Q3")
    assert toc is not None and toc.page_number == 1 and "Ведомость рабочих чертежей" in toc.text
    copy(tmp_path, f"{STEM}.pdf")
    assert read_document(path).render_path == str(tmp_path / f"{STEM}.pdf")  # its PDF still attaches


# --- OCR HTML -----------------------------------------------------------------------------------------


def test_ocr_html_cut_inside_its_last_block_or_without_a_page_keeps_every_block(tmp_path: Path) -> None:
    html = (DATA / f"{STEM}_ocr.html").read_text(encoding="utf-8")
    cut = html[: html.index("Технические решения, принятые") + 40]
    doc = read_document(write(tmp_path, "cut_ocr.html", cut))
    assert AR6_IDS <= {b.id for b in doc.blocks} and kinds(doc) == ["truncated"]
    last = doc.block("LYEQ-EEDQ-67D")
    assert last is not None and last.extra["warnings"] == ["truncated"] and "Технические решения" in last.text
    no_page = html.replace("(стр. 1)", "", 2)  # the first two headers lose their page number
    doc = read_document(write(tmp_path, "nopage_ocr.html", no_page))
    assert AR6_IDS <= {b.id for b in doc.blocks} and kinds(doc) == ["page_missing", "page_missing"]
