"""Readers: every format from generated fixtures, bundles with their PDF, bad input (real excerpts and
damaged files: test_readers_real.py)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pymupdf
import pytest

from aizoomdoc.documents import Document, read_document
from aizoomdoc.errors import DocumentError
from aizoomdoc.sample import (
    BUNDLE_FORMATS,
    SyntheticSet,
    build_drawing_set,
    scanned_pdf_bytes,
    write_bundle_fixtures,
)


@pytest.fixture(scope="module")
def drawing_set() -> SyntheticSet:
    return build_drawing_set()


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory, drawing_set: SyntheticSet) -> dict[str, Path]:
    return write_bundle_fixtures(tmp_path_factory.mktemp("bundle"), drawing_set)


@pytest.fixture(scope="module")
def pdf_doc(bundle_dir: dict[str, Path]) -> Document:
    return read_document(bundle_dir["pdf"])


def block_with(doc: Document, text: str):
    found = [b for b in doc.blocks if b.text == text]
    assert found, f"no block {text!r}"
    return found[0]


# --- the PDF -----------------------------------------------------------------------------------


def test_synthetic_pdf_has_a_cyrillic_text_layer(drawing_set: SyntheticSet) -> None:
    pdf = pymupdf.open(stream=drawing_set.pdf_bytes, filetype="pdf")
    text = "".join(page.get_text() for page in pdf)
    for s in ("Утеплитель кровли П-1 — минераловатные плиты 150 мм", "133/23-ГК-ОВ1", "АОВ8", "1000х2000х1000",
              "План вентиляции на отм. 0.000", "Спецификация оборудования"):
        assert s in text
    assert "\ufffd" not in text
    sizes = {(round(p.rect.width), round(p.rect.height)) for p in pdf}
    assert sizes == {(1191, 842), (1684, 1191)}  # A3 and A2 landscape


def test_pdf_reader_pages_blocks_and_coordinates(pdf_doc: Document, drawing_set: SyntheticSet) -> None:
    assert pdf_doc.source_format == "pdf" and pdf_doc.can_render
    assert [p.page_number for p in pdf_doc.pages] == [1, 2, 3, 4]
    assert pdf_doc.pages[1].unit == "pt" and round(pdf_doc.pages[1].width) == 1684
    # Each equipment label is its own block, where the generator drew it.
    for code in ("П1", "П1.1", "В2", "В21", "АОВ8"):
        label = next(lb for lb in drawing_set.find(code) if lb.page_index == 1)
        block = next(b for b in pdf_doc.pages[1].blocks if b.text == code)
        for got, want in zip(block.coords_norm, label.coords_norm, strict=True):
            assert abs(got - want) < 0.01
        assert block.coords_px is not None and block.coords_px[2] > block.coords_px[0]
    assert all(0.0 <= c <= 1.0 for b in pdf_doc.blocks for c in b.coords_norm)
    assert len({b.id for b in pdf_doc.blocks}) == len(pdf_doc.blocks)


def test_pdf_title_block(pdf_doc: Document) -> None:
    names = ["Общие данные", "План вентиляции на отм. 0.000", "Спецификация оборудования", "Разрез 1-1"]
    for page, name in zip(pdf_doc.pages, names, strict=True):
        assert page.sheet is not None
        assert page.sheet.document_code == "133/23-ГК-ОВ1"
        assert page.sheet.stage == "Р"
        assert page.sheet.sheet_number == str(page.page_number)
        assert page.sheet.sheet_name == name
    assert pdf_doc.sheet is not None and pdf_doc.sheet.document_code == "133/23-ГК-ОВ1"
    assert pdf_doc.sheet.organization == "ООО «СинтезПроект»"


def test_scanned_page_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_pdf_bytes())
    doc = read_document(path)
    page = doc.pages[0]
    assert page.is_scanned
    assert [b.block_type for b in page.blocks] == ["image"]
    assert page.blocks[0].coords_norm == pytest.approx((0, 0, 1, 1), abs=0.01)
    assert doc.metadata["scanned_pages"] == 1


def test_rotated_page_coordinates_are_on_the_displayed_page(tmp_path: Path) -> None:
    pdf = pymupdf.open()
    page = pdf.new_page(width=600, height=400)
    tw = pymupdf.TextWriter(page.rect)
    tw.append((50, 50), "П1.1", font=pymupdf.Font("helv"), fontsize=12)
    tw.write_text(page)
    page.set_rotation(90)
    path = tmp_path / "rot.pdf"
    pdf.save(path)
    doc = read_document(path)
    assert (doc.pages[0].width, doc.pages[0].height) == (400, 600)
    x0, y0, x1, y1 = doc.blocks[0].coords_norm
    # Top-left text on the unrotated page ends up in the top-right of the displayed one.
    assert x0 > 0.8 and y0 < 0.15


# --- every bundle format from the generated fixtures -------------------------------------------------


@pytest.mark.parametrize("fmt", BUNDLE_FORMATS)
def test_bundle_format_reads_with_ids_pages_and_pdf(fmt: str, bundle_dir: dict[str, Path],
                                                     drawing_set: SyntheticSet) -> None:
    doc = read_document(bundle_dir[fmt])
    regions = {r.id: r for r in drawing_set.regions}
    ids = {b.id for b in doc.blocks if not b.extra.get("synthetic_id")}
    # The companion PDF next to the bundle supplies render_path, all pages and sizes in points.
    assert doc.render_path == str(bundle_dir["pdf"])
    assert [p.page_number for p in doc.pages] == [1, 2, 3, 4]
    assert all(p.unit == "pt" and p.width > 1000 for p in doc.pages)
    if fmt in ("annotation", "result", "html_c1", "html_c2", "md_d1", "md_markers"):
        assert ids == set(regions)
        for b in doc.blocks:
            if b.extra.get("synthetic_id"):  # D1: the "# шифр" heading before the pages
                continue
            assert b.page_index == regions[b.id].page_index
            assert b.has_coords
            assert b.coords_norm == pytest.approx(regions[b.id].coords_norm, abs=1e-4)
    elif fmt == "md_d2":  # image ids from image.uri; text outside fences gets synthetic ids
        assert {r.id for r in drawing_set.regions if r.block_type == "image"} == ids
    else:  # D3: image ids are the uuids of crops/image_<uuid>.pdf
        assert len(ids) == 2 and all(len(i) == 36 for i in ids)
    if fmt != "annotation":
        text = "\n".join(b.text for b in doc.blocks)
        assert "П1.1" in text and "АОВ8" in text


def test_result_json_fields(bundle_dir: dict[str, Path], drawing_set: SyntheticSet) -> None:
    doc = read_document(bundle_dir["result"])
    assert doc.source_format == "result_json"
    plan = next(b for b in doc.blocks if b.id == next(r.id for r in drawing_set.regions if r.key == "plan"))
    assert plan.block_type == "image"
    assert plan.crop_ref and plan.crop_ref.endswith(f"{plan.id}.pdf")
    assert "АОВ8" in plan.extra["entities"]
    assert plan.links  # linked to the specification
    stamp = next(b for b in doc.blocks if b.extra.get("stamp") and b.page_index == 2)
    assert stamp.sheet is not None and stamp.sheet.sheet_name == "Спецификация оборудования"
    assert doc.pages[2].sheet is not None and doc.pages[2].sheet.sheet_number == "3"
    spec = next(b for b in doc.blocks if b.block_type == "table" and "КЦКП-3,15" in b.text)
    assert "П1.1 | Приточная установка L=1200 м³/ч" in spec.text


def test_annotation_json_geometry_only(bundle_dir: dict[str, Path]) -> None:
    doc = read_document(bundle_dir["annotation"])
    assert doc.source_format == "annotation_json"
    assert Counter(b.block_type for b in doc.blocks) == {"image": 6, "table": 3, "text": 3}


def test_ocr_html_generations(bundle_dir: dict[str, Path]) -> None:
    c1 = read_document(bundle_dir["html_c1"])
    c2 = read_document(bundle_dir["html_c2"])
    assert c1.metadata["generation"] == "C1" and c2.metadata["generation"] == "C2"
    assert {b.id for b in c1.blocks} == {b.id for b in c2.blocks}
    c2_plan = next(b for b in c2.blocks if b.extra.get("kind") == "План этажа")
    assert c2_plan.extra["axes"] == "1-6/А-Д" and "АОВ8" in c2_plan.extra["entities"]
    assert c2_plan.links and c2_plan.crop_ref and c2_plan.crop_ref.endswith(".pdf")
    assert c2.pages[3].sheet is not None and c2.pages[3].sheet.sheet_name == "Разрез 1-1"
    c1_stamp = next(b for b in c1.blocks if b.extra.get("stamp") and b.page_index == 0)
    assert c1_stamp.sheet is not None and c1_stamp.sheet.document_code == "133/23-ГК-ОВ1"


def test_ocr_html_without_companions_has_no_coordinates(tmp_path: Path, bundle_dir: dict[str, Path]) -> None:
    lone = tmp_path / "lone_ocr.html"
    lone.write_bytes(bundle_dir["html_c2"].read_bytes())
    doc = read_document(lone)
    assert doc.render_path is None
    assert all(not b.has_coords and b.coords_norm == (0.0, 0.0, 1.0, 1.0) for b in doc.blocks)
    assert all(not p.size_known for p in doc.pages)


def test_markdown_d1(bundle_dir: dict[str, Path]) -> None:
    doc = read_document(bundle_dir["md_d1"])
    assert doc.metadata["dialects"] == ["D1"]
    assert doc.sheet is not None and doc.sheet.document_code == "133/23-ГК-ОВ1" and doc.sheet.stage == "Р"
    assert doc.pages[1].sheet is not None and doc.pages[1].sheet.sheet_name == "План вентиляции на отм. 0.000"
    plan = next(b for b in doc.blocks if b.extra.get("kind") == "План этажа")
    assert plan.links and plan.crop_ref and Path(plan.crop_ref).is_file()  # crops/<ID>.png
    assert Counter(b.block_type for b in doc.blocks if not b.extra.get("synthetic_id")) == \
        {"image": 6, "table": 3, "text": 3}


def test_markdown_d2_d3_and_markers(bundle_dir: dict[str, Path]) -> None:
    d2 = read_document(bundle_dir["md_d2"])
    assert d2.metadata["dialects"] == ["D2"]
    spec = next(b for b in d2.blocks if b.block_type == "table" and "АОВ8" in b.text)
    assert spec.page_number == 3 and spec.extra["page_inferred"]
    stamp = next(b for b in d2.blocks if b.sheet is not None and b.page_index == 3)
    assert stamp.sheet.sheet_name == "Разрез 1-1"
    d3 = read_document(bundle_dir["md_d3"])
    assert d3.metadata["dialects"] == ["D3"]
    images = [b for b in d3.blocks if b.block_type == "image"]
    assert len(images) == 2 and all(len(b.id) == 36 for b in images)  # ids from image_<uuid>.pdf
    assert any("Утеплитель кровли П-1" in b.text for b in d3.blocks)
    markers = read_document(bundle_dir["md_markers"])
    assert "markers" in markers.metadata["dialects"] and len(markers.blocks) == 12


def test_markdown_inline_dialect_details(tmp_path: Path) -> None:
    md = tmp_path / "x_document.md"
    md.write_text(
        "**Штамп:** Шифр: 1/24-ГК-ОВ2 | Стадия: П | Объект: Школа\n\n"
        "## СТРАНИЦА 2\n**Лист:** 1 (из 3)\n**Наименование листа:** План 1 этажа\n\n"
        "### BLOCK [IMAGE]: AAAA-BBBB-CCC\n→DDDD-EEEE-FFF\n"
        "**[ИЗОБРАЖЕНИЕ]** | Тип: План этажа | Оси: 1-5/А-Г\n"
        "**Краткое описание:** План с системой П3\n**Сущности:** П3, 600х300\n\n"
        "### BLOCK [TEXT]: DDDD-EEEE-FFF\nПримечание: утеплитель 100 мм\n\n"
        "<!-- BLOCK_ID: GGGG-HHHH-III -->\nСтарый блок\n<!-- END_BLOCK -->\n",
        encoding="utf-8",
    )
    doc = read_document(md)
    a, d, g = (doc.block(i) for i in ("AAAA-BBBB-CCC", "DDDD-EEEE-FFF", "GGGG-HHHH-III"))
    assert a is not None and d is not None and g is not None
    assert a.page_number == 2 and a.block_type == "image" and a.links == ["DDDD-EEEE-FFF"]
    assert a.extra["entities"] == ["П3", "600х300"] and "План с системой П3" in a.text
    assert d.text == "Примечание: утеплитель 100 мм" and g.text == "Старый блок" and g.page_number == 2
    assert doc.pages[0].sheet is not None and doc.pages[0].sheet.sheet_name == "План 1 этажа"
    assert doc.sheet is not None and doc.sheet.document_code == "1/24-ГК-ОВ2"


def test_plain_image_sheet(tmp_path: Path) -> None:
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 300, 200), False)
    pix.set_rect(pix.irect, (255, 255, 255))
    for name, fmt in (("План 3 этажа.png", "png"), ("scan.jpg", "jpg")):
        path = tmp_path / name
        path.write_bytes(pix.tobytes(fmt))
        doc = read_document(path)
        assert doc.source_format == "image" and doc.render_path == str(path)
        assert (doc.pages[0].width, doc.pages[0].height, doc.pages[0].unit) == (300, 200, "px")
        assert [b.block_type for b in doc.blocks] == ["image"]
        assert doc.blocks[0].coords_norm == (0.0, 0.0, 1.0, 1.0)
    assert read_document(tmp_path / "План 3 этажа.png").blocks[0].text == "План 3 этажа"


def test_bundle_with_a_pdf_of_another_document_is_not_attached(tmp_path: Path, bundle_dir: dict[str, Path]) -> None:
    (tmp_path / "set_result.json").write_bytes(bundle_dir["result"].read_bytes())
    (tmp_path / "set.pdf").write_bytes(scanned_pdf_bytes())  # one page; the bundle has four
    doc = read_document(tmp_path / "set_result.json")
    assert doc.render_path is None
    assert "стр." in doc.metadata["companion_warning"]


def test_pdf_named_inside_the_json_is_found(tmp_path: Path, bundle_dir: dict[str, Path]) -> None:
    data = json.loads(bundle_dir["annotation"].read_text(encoding="utf-8"))
    data["pdf_path"] = "D:\\Проекты\\Комплект ОВ.pdf"
    (tmp_path / "markup.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "Комплект ОВ.pdf").write_bytes(bundle_dir["pdf"].read_bytes())
    doc = read_document(tmp_path / "markup.json")
    assert doc.render_path == str(tmp_path / "Комплект ОВ.pdf")
    assert doc.title == "Комплект ОВ"


# --- bad input ---------------------------------------------------------------------------------------


def _encrypted(drawing_set: SyntheticSet) -> bytes:
    pdf = pymupdf.open(stream=drawing_set.pdf_bytes, filetype="pdf")
    return pdf.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")


BAD_CASES = {
    "empty.pdf": (lambda s: b"", "пуст"),
    "corrupt.pdf": (lambda s: b"%PDF-1.7\n" + b"\x00garbage" * 200, "не открывается как PDF"),
    "truncated.pdf": (lambda s: s.pdf_bytes[: len(s.pdf_bytes) // 3], "обрезан"),
    "encrypted.pdf": (_encrypted, "защищён паролем"),
    "truncated_result.json": (lambda s: b'{"pdf_path": "x.pdf", "pages": [{"page_number": 0, "blocks": [{"id": "A',
                              "неполный или повреждённый JSON"),
    "not_markup.json": (lambda s: b'{"hello": "world"}', "не похож на разметку OCR"),
    "no_blocks.html": (lambda s: b"<html><body><p>nothing</p></body></html>", "не найдено ни одного блока"),
    "cut_mid_char_ocr.html": (lambda s: '<div class="block-header">Блок #1 (стр. 1)</div> Утеп'.encode()[:-1],
                              "не найдено ни одного блока"),
    "cp1251.md": (lambda s: "## СТРАНИЦА 1\nУтеплитель кровли".encode("cp1251"), "не в UTF-8"),
    "only_fence.md": (lambda s: b"```json\n", "нет ни одного блока"),
    "pdf_named.json": (lambda s: s.pdf_bytes, "не соответствует содержимому"),
    "drawing.docx": (lambda s: b"PK\x03\x04 not a drawing", "не распознан"),
    "notes.txt": (lambda s: "просто текст".encode(), "не распознан"),
    "broken.png": (lambda s: b"\x89PNG\r\n\x1a\n" + b"0" * 40, "не читается"),
}


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_input_is_a_clear_error_naming_the_file(name: str, tmp_path: Path, drawing_set: SyntheticSet) -> None:
    make, expected = BAD_CASES[name]
    path = tmp_path / name
    path.write_bytes(make(drawing_set))
    with pytest.raises(DocumentError) as info:
        read_document(path)
    message = str(info.value)
    assert name in message and expected in message
    assert info.value.status_code == 422


def test_missing_and_too_large_files(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="не найден"):
        read_document(tmp_path / "nope.pdf")
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-1.7\n" + b"0" * 2048)
    with pytest.raises(DocumentError, match="слишком большой"):
        read_document(big, max_bytes=1024)


TOLERATED = {
    # name: (content, the text kept, the warning summary)
    "broken_ocr.html": ('<html><body><div class="block block-type-text">\n<div class="block-header">'
                        'Блок #1 (стр. 1) | Тип: text</div>\n<div class="block-content">\n'
                        '<p>BLOCK: AAAA-BBBB-CCC</p><p>Утеплитель кр'.encode(), "Утеплитель кр", "файл обрезан"),
    "cut_mid_char.md": ("## СТРАНИЦА 1\nУтеплитель".encode()[:-1], "Утеплител", "файл обрезан"),
    "unclosed_fence.md": ('## СТРАНИЦА 1\n```json\n{"image": {"uri": "a.png"}'.encode(), "",
                          "1 блок с повреждённым JSON (строка 3); 1 блок с незакрытым ``` (строка 2)"),
}


@pytest.mark.parametrize("name", sorted(TOLERATED))
def test_damaged_file_keeps_what_it_holds_and_says_so(name: str, tmp_path: Path) -> None:
    from aizoomdoc.documents.read_warnings import summarize

    data, kept, summary = TOLERATED[name]
    path = tmp_path / name
    path.write_bytes(data)
    doc = read_document(path)
    assert any(kept in b.text for b in doc.blocks)
    assert summary in summarize(doc.metadata["warnings"])


def test_replacement_characters_inside_valid_text_are_kept(tmp_path: Path) -> None:
    md = tmp_path / "ocr_document.md"
    md.write_text("## СТРАНИЦА 1\n### BLOCK [TEXT]: AAAA-BBBB-CCC\nУтеплит\ufffd кровли\n", encoding="utf-8")
    doc = read_document(md)  # valid UTF-8: the OCR pipeline's own U+FFFD is data, not a cut file
    assert doc.blocks[0].text == "Утеплит\ufffd кровли"
