"""Ranking for drawing sets, one test per class of failure seen on real sets: tables of contents
that list every title, codes read by OCR with look-alike characters, numbers as people write them,
and headings that name the thing. Real excerpts (tests/data, see SOURCES.md) and small documents
made of real lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from aizoomdoc.documents import Document, read_document
from aizoomdoc.documents.model import Block, Page, SheetInfo
from aizoomdoc.search import SearchIndex, analyze, analyze_query
from aizoomdoc.search.fields import INDEX_LIKE, block_title

DATA = Path(__file__).parent / "data"


def doc_of(doc_id: str, pages: list[tuple[str | None, list[str]]]) -> Document:
    """A document of pages (sheet name, block texts); block ids b0, b1, … in order."""
    doc = Document(id=doc_id, title=doc_id, source_path=f"{doc_id}.md", source_format="markdown", sha256=doc_id * 8)
    k = 0
    for n, (sheet, texts) in enumerate(pages):
        page = Page(n, 0.0, 0.0, unit="px", sheet=SheetInfo(sheet_name=sheet) if sheet else None)
        for text in texts:
            page.blocks.append(Block(f"b{k}", n, "text", text, (0.0, 0.0, 1.0, 1.0), has_coords=False))
            k += 1
        doc.pages.append(page)
    return doc


def top(index: SearchIndex, query: str, k: int = 5) -> list[str]:
    return [h.block_id for h in index.search(query, top_k=k)]


@pytest.fixture(scope="module")
def ar3() -> SearchIndex:
    return SearchIndex.build([read_document(DATA / "KS_AR3_excerpt_document.md")])


# --- 1. tables of contents win ---------------------------------------------------------------------


def test_the_sheet_list_does_not_beat_the_sheet_it_lists(ar3: SearchIndex) -> None:
    toc = {b.block_id for b in ar3.blocks if b.flags & INDEX_LIKE}
    assert {"7CXU-9ADX-N3X", "4ACT-YKK6-DPF", "663V-W4QL-9RF"} <= toc  # рабочих чертежей, спецификаций, комплектов
    assert top(ar3, "маркировочный план 5 этажа")[0] == "9CXL-7AED-R4M"  # the plan, not the list naming it
    assert top(ar3, "ведомость решеток 3 этажа")[0] == "W6HP-FUQR-NH4"  # the table, not «Ведомость спецификаций»
    assert top(ar3, "экспликация помещений 5 этажа")[0] == "6CX9-ANY4-A33"
    # Asked for by its own title, a list is the answer.
    assert top(ar3, "ведомость рабочих чертежей")[0] in {"7CXU-9ADX-N3X", "663V-W4QL-9RF"}


def test_index_like_blocks_are_recognised_by_their_heading() -> None:
    for title in ("Ведомость рабочих чертежей основного комплекта", "ВЕДОМОСТЬ РАБОЧИХ ЧЕРТЕЖЕЙ ОСНОВНОГО КОМПЛЕКТА ГП1",
                  "Ведомость чертежей основного комплекта", "Ведомость спецификаций комплекса 133/23-ГК-АР3",
                  "Ведомость ссылочных и прилагаемых документов", "Содержание тома", "Разрешение"):
        index = SearchIndex.build([doc_of("d", [(None, [title + "\nЛист | Наименование\n1 | Общие данные"])])])
        assert index.blocks[0].flags & INDEX_LIKE, title
    index = SearchIndex.build([doc_of("d", [(None, ["Ведомость решеток 3-го этажа\nМарка | Описание"])])])
    assert not index.blocks[0].flags & INDEX_LIKE


# --- 2. codes in OCR noise -------------------------------------------------------------------------


LINTELS = doc_of("lintels", [
    ("Кладочный план 2-го этажа", [
        "Спецификация перемычек 2 этажа\nМарка | Эскиз | Длина\nБ2-13* | 1300 | 6,763",        # b0 typed
        "Перемычка Б2-13 над проёмом 1300",                                                  # b1 no star
        "Спецификация перемычек 3 этажа\nБ2-12* | 1200 | 6,279",                              # b2 another mark
    ]),
    ("Кладочный план 4-го этажа", [
        "Таблица перемычек (OCR): Б2-1З* | 13ОО | 6,763",                                     # b3 read with З, О
        "Перемычки PR-1.13 и ПР15-19 L=1380 мм",                                              # b4 Latin PR
    ]),
])


def test_a_code_read_with_look_alikes_is_found_below_the_exact_code_and_the_star_still_counts() -> None:
    index = SearchIndex.build([LINTELS])
    hits = index.search("перемычка Б2-13*", top_k=10)
    ranked = [h.block_id for h in hits]
    assert ranked[0] == "b0" and hits[0].code_matches == 1
    assert "b3" in ranked and hits[ranked.index("b3")].code_matches == 0  # Б2-1З*: a look-alike, ranked next
    assert ranked.index("b3") < ranked.index("b1") if "b1" in ranked else True
    assert all(h.code_matches == 0 for h in hits if h.block_id != "b0")  # Б2-13 (no star) is not Б2-13*
    assert top(index, "Б2-13*", 10) == ["b0", "b3"]  # the mark alone: exact, then its look-alike
    assert top(index, "Б2-13", 10) == ["b1"]  # and the other way round
    assert "b4" in top(index, "ПР-1.13")  # PR-1.13: the Cyrillic mark read in Latin


def test_real_marks_with_a_star_or_in_latin(tmp_path: Path) -> None:
    ar2 = SearchIndex.build([read_document(DATA / "KS_AR2_izm10_excerpt_document.md")])
    assert top(ar2, "В4-14*", 10) == ["6RGC-AU9X-KWY"]  # the lintel spec lists В4-14* — the plans only В4-14
    assert set(top(ar2, "В4-14", 10)) == {"99NU-Y969-6AP", "6RGC-AU9X-KWY", "6T4T-F4WR-P7U"}
    al = SearchIndex.build([read_document(DATA / "AL_AR1.1-K4_izm2_excerpt_document.md")])
    hits = al.search("ПР-1.13", top_k=5)
    assert "YKYT-HDHE-NE6" in [h.block_id for h in hits]  # its table reads «PR-1.13»


# --- 3. numbers and ranges as people write them ------------------------------------------------------


@pytest.mark.parametrize("a, b", [
    ("-2,150", "-2.150"), ("Ду50", "DN50"), ("Ду50", "d=50"), ("Ду50", "Ø50"), ("Ду 50", "ДУ50"),
    ("от 50 до 100 мм", "50-100"), ("1200x1350x100mm(h)", "1200х1350"),
])
def test_numbers_written_two_ways_are_one_token(a: str, b: str) -> None:
    assert set(analyze(b)) & set(analyze(a)), (analyze(a), analyze(b))


def test_floors_and_numbered_things() -> None:
    doc = doc_of("floors", [(None, [
        "Экспликация помещений 3, 5-го этажа",        # b0
        "Экспликация помещений 3–5 этажей",           # b1
        "Экспликация помещений 6-го этажа",           # b2
        "Кладочный план 3-16 этажей",                 # b3
        "Кладочный план -2-го этажа на отм. -7,650",  # b4
        "Узел 9, отображающий крепление лотка",       # b5
        "Узел 19 крепления лотка",                    # b6
        "Развертка подпорной стенки №4",              # b7
        "Развертка подпорной стенки №3",              # b8
    ])])
    index = SearchIndex.build([doc])
    assert set(top(index, "экспликация 5 этажа", 3)) >= {"b0", "b1"}
    assert top(index, "экспликация 6 этажа", 1) == ["b2"]
    assert top(index, "кладочный план 10 этажа", 1) == ["b3"]  # 3–16 holds the 10th
    assert top(index, "кладочный план -2 этажа", 1) == ["b4"]
    assert top(index, "узел 9", 1) == ["b5"]
    assert top(index, "развертка подпорной стенки 4", 1) == ["b7"]
    q = analyze_query("экспликация 3-5 этаж")
    assert q.words[0] == "эт§3" and {alt[0][0] for alt in q.expansions[0]} == {"эт§4", "эт§5"}


# --- 4. headings matter more than body ------------------------------------------------------------


def test_the_block_whose_heading_names_the_thing_beats_passing_mentions(ar3: SearchIndex) -> None:
    # The sheet lists name «18 | Ведомость отделки помещений»; the table itself is on sheet 18.
    mentions = [b.block_id for b in ar3.blocks if "| Ведомость отделки помещений" in b.text and b.page_index == 4]
    assert mentions
    ranked = top(ar3, "ведомость отделки помещений", 10)
    assert ranked[0] == "9LCH-7MJH-X77" and all(ranked.index(m) > 2 for m in mentions if m in ranked)
    passing = doc_of("d", [(None, [
        "Примечание: 3. Ведомость отделки помещений - см. л.18 данного альбома. 4. Высотные отметки",
        "Ведомость отделки помещений надземной части здания\nНаименование помещения | № пом. | Стены",
    ])])
    assert top(SearchIndex.build([passing]), "ведомость отделки помещений", 1) == ["b1"]


def test_titles_are_captions_headings_and_image_summaries() -> None:
    assert block_title("Ведомость решеток 3-го этажа\nМарка | Описание\nPB-C16 | Решетка", "text", {}) == \
        "Ведомость решеток 3-го этажа"
    assert block_title("|  |  |\nЭкспликация помещений 14-го этажа |  |\n№ пом. | Наименование", "table", {}) == \
        "Экспликация помещений 14-го этажа"
    assert block_title("BLOCK-9HТА-M9PF-DTG\nХарактеристика систем\nПоз. | Тип", "text", {}) == "Характеристика систем"
    image = {"kind": "План этажа", "summary": "Маркировочный план 5-го этажа жилого здания. На чертеже отображена …"}
    assert block_title("…", "image", image) == "План этажа Маркировочный план 5-го этажа жилого здания"
    assert block_title("Штамп. Шифр: …", "image", {"stamp": True}) == ""


def test_a_block_is_found_through_the_name_of_its_sheet() -> None:
    doc = doc_of("sheets", [
        ("Общие данные", ["Ведомость чертежей основного комплекта\n13 | Кабельный журнал\n14 | Спецификация"]),
        ("Система ОЗДС. Кабельный журнал", ["Номер кабеля | Номер линии | Трасса\nК1 | 1 | ДР-1 — ВУ-1"]),
        ("План расположения оборудования", ["Примечания: линии питания от ДР к ВУ прокладываются в лотках"]),
    ])
    index = SearchIndex.build([doc])
    assert top(index, "кабельный журнал", 1) == ["b1"]  # its sheet says so, its text does not
    assert top(index, "номер линии", 1) == ["b1"]
