"""Topic questions and list questions: the construction thesaurus, table rows as context, and
"Найди всё …" answered with every matching item (search, PDF reader, direct answer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aizoomdoc.config import Settings
from aizoomdoc.documents import Document, Source, read_source
from aizoomdoc.documents.model import Block, Page
from aizoomdoc.pipeline.ask import AskService
from aizoomdoc.sample import EQUIPMENT, SyntheticSet, build_drawing_set, write_bundle_fixtures
from aizoomdoc.search import SearchIndex, analyze_query, is_list_question, matching_rows
from aizoomdoc.search.thesaurus import Thesaurus, ThesaurusError, default_thesaurus

LIST_QUESTION = "Найди всё вентиляционное оборудование"
UNITS = ["П1", "П1.1", "П11", "В2", "В21", "АОВ8"]


def row_of(position: str) -> str:
    """The specification row of an equipment position, as the PDF reader joins it."""
    pos, name, brand, count, note = next(e for e in EQUIPMENT if e[0] == position)
    return " | ".join(c for c in (pos, name, brand, count, note) if c)


@pytest.fixture(scope="module")
def synthetic() -> SyntheticSet:
    return build_drawing_set()


@pytest.fixture(scope="module")
def pdf(synthetic: SyntheticSet) -> Document:
    return read_source(Source(Path("synthetic-set.pdf"), synthetic.pdf_bytes), companions=False)


@pytest.fixture(scope="module")
def index(pdf: Document) -> SearchIndex:
    return SearchIndex.build([pdf])


def doc_of(texts: list[str]) -> Document:
    doc = Document(id="d", title="d", source_path="d.pdf", source_format="pdf", sha256="d" * 64)
    doc.pages = [Page(0, 1000, 700, blocks=[Block(f"b{k}", 0, "text", text, (0.1, 0.1, 0.2, 0.2))
                                           for k, text in enumerate(texts)])]
    return doc


# --- thesaurus -------------------------------------------------------------------------------------


def test_topic_words_expand_with_lower_weights_and_codes_never_do() -> None:
    q = analyze_query("вентиляционное оборудование П1")
    assert q.codes == ("п1",)
    vent = dict(q.expansions[q.words.index("вентиляцион")])
    assert vent[("вентилятор",)] < 1 and vent[("приточн",)] < 1 and vent[("воздуховод",)] < 1
    assert vent[("аов",)] < 1  # the abbreviation, not Snowball's "а"
    assert all(not any(ch.isdigit() for tok in alt for ch in tok) for alt in vent)
    # narrower terms are one way: a fan is not all of ventilation
    fan = dict(analyze_query("вентилятор").expansions[0])
    assert ("вентиляц",) not in fan and ("воздуховод",) not in fan
    with pytest.raises(ThesaurusError, match="codes"):
        Thesaurus.parse("водопровод, В1")
    assert len(default_thesaurus().concepts) >= 40


def test_exact_words_rank_above_thesaurus_terms() -> None:
    idx = SearchIndex.build([doc_of([
        "Теплоизоляция",                                   # b0: synonym only, short
        "Утеплитель стен толщиной 100 мм по расчёту",       # b1: the user's word in a longer text
        "Минераловатные плиты",                            # b2: narrower term
        "Кирпичная кладка",                                # b3: unrelated
    ])])
    hits = [h.block_id for h in idx.search("утеплитель", top_k=10)]
    assert hits[0] == "b1" and set(hits) == {"b0", "b1", "b2"}
    assert [h.block_id for h in idx.search("утеплитель", top_k=10, expand=False)] == ["b1"]


def test_lintel_series_marks_are_found_by_topic(index: SearchIndex) -> None:
    texts = [h.display_text for h in index.search("перечисли перемычки", top_k=30)]
    for mark in ("А3-13 |", "А3-13* |", "А3-16 |"):
        assert any(t.startswith(mark) for t in texts)
    assert [h.display_text for h in index.search("2ПБ 16-2", top_k=1)][0].startswith("А3-16 |")


# --- table rows from the PDF -----------------------------------------------------------------------


def test_pdf_table_cells_know_their_row_and_keep_precise_boxes(pdf: Document, synthetic: SyntheticSet) -> None:
    cell = next(b for b in pdf.blocks if b.text == "Вентилятор вытяжной канальный L=2000 м³/ч")
    assert cell.extra["row_text"] == row_of("В2") == "В2 | Вентилятор вытяжной канальный L=2000 м³/ч | ВКРМ-4 | 1"
    label = next(lb for lb in synthetic.find(cell.text) if lb.page_index == cell.page_index)
    assert cell.coords_norm == pytest.approx(label.coords_norm, abs=0.01)
    header = next(b for b in pdf.blocks if b.text == "Поз.")
    assert header.extra["row_text"].startswith("Поз. | Наименование и техническая характеристика | Тип, марка")
    # labels on one baseline of the plan are not a table row; a note beside a table is not in its row
    plan_labels = [b for b in pdf.pages[1].blocks if b.text in UNITS]
    assert len(plan_labels) == 5 and all("row_text" not in b.extra for b in plan_labels)
    sheet_row = next(b for b in pdf.pages[0].blocks if b.text == "Общие данные" and "row_text" in b.extra)
    assert sheet_row.extra["row_text"] == "1 | Общие данные"


def test_a_row_is_one_hit_on_the_matching_cell_showing_the_whole_row(index: SearchIndex, pdf: Document) -> None:
    hits = index.search("вентилятор В2", top_k=10)
    top = hits[0]
    assert top.display_text == row_of("В2") and top.code_matches == 1
    assert top.text == "В2" and top.page_number == 3  # the cell with the code: a precise highlight
    assert top.to_dict()["row_text"] == row_of("В2")
    texts = [h.display_text for h in hits]
    assert row_of("В21") not in texts[:2]
    assert len({h.context for h in hits if h.context}) == len([h for h in hits if h.context])  # one hit per row
    # codes stay exact through the row context
    for code in ("П1", "П1.1", "П11"):
        rows = [h.display_text.split(" | ")[0] for h in index.search(code, top_k=10) if h.context]
        assert rows == [code]


def test_list_question_finds_every_unit(index: SearchIndex) -> None:
    assert is_list_question(LIST_QUESTION)
    hits = index.search(LIST_QUESTION, top_k=30)
    texts = [h.display_text for h in hits]
    for unit in UNITS:
        assert row_of(unit) in texts, unit
    rows = [h.context for h in hits if h.context]
    assert len(rows) == len(set(rows))


def test_roof_build_up_is_still_first(index: SearchIndex) -> None:
    top = index.search("утеплитель кровли", top_k=5)[0]
    assert top.text == "3. Утеплитель кровли П-1 — минераловатные плиты 150 мм"


def test_row_context_survives_save_and_load(index: SearchIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "idx")
    loaded = SearchIndex.load(tmp_path / "idx")
    assert [(h.block_id, h.context) for h in loaded.search("вентилятор В2", top_k=5)] == \
           [(h.block_id, h.context) for h in index.search("вентилятор В2", top_k=5)]


@pytest.mark.parametrize("question, expected", [
    ("Найди всё вентиляционное оборудование", True), ("Найди все перемычки", True),
    ("Перечисли приточные установки", True), ("Какие вентиляторы есть на кровле?", True),
    ("Список листов", True), ("Какая толщина утеплителя кровли П-1?", False),
    ("Где вентилятор В2?", False), ("Приточная установка П1.1", False),
])
def test_list_questions_are_recognised(question: str, expected: bool) -> None:
    assert is_list_question(question) is expected


def test_matching_rows_of_a_bundle_table() -> None:
    table = "Поз. | Наименование | Кол.\nВ2 | Вентилятор вытяжной канальный | 1\n1 | Труба стальная | 5 м"
    assert matching_rows(table, LIST_QUESTION) == ["В2 | Вентилятор вытяжной канальный | 1"]
    assert matching_rows("просто текст", LIST_QUESTION) == []


# --- the direct answer (no language model) --------------------------------------------------------------------------------


async def test_direct_list_answer_lists_every_unit_with_its_row(settings: Settings, tmp_path: Path,
                                                                  synthetic: SyntheticSet) -> None:
    path = synthetic.write(tmp_path / "synthetic-set.pdf")
    async with AskService(settings, provider=None) as service:
        result = await service.ask(LIST_QUESTION, [str(path)])
        stored = await service.store.get_search_results(result.chat_id)
    assert result.ok and "Найдено позиций" in result.answer
    spec = result.answer.index("Стр. 3, лист «Спецификация оборудования»:")
    for unit in UNITS:
        line = next(ln for ln in result.answer.splitlines() if ln.startswith(f"• {row_of(unit)} — блок "))
        assert result.answer.index(line) > spec
        block_id = line.split(" — блок ")[1].split()[0]
        assert any(c.block_id == block_id and c.page_number == 3 for c in result.citations)
    # more than the usual 10 hits, each row stored once with its whole text
    assert len(stored) > settings.search_top_k
    assert sum(r["block_text"] == row_of("В2") for r in stored) == 1
    # the title block repeated on every sheet is one item
    assert result.answer.count("Отопление, вентиляция и кондиционирование") == 1


async def test_direct_answer_of_a_table_bundle_lists_matching_rows(settings: Settings, tmp_path: Path,
                                                                     synthetic: SyntheticSet) -> None:
    bundle = write_bundle_fixtures(tmp_path, synthetic, formats=("result",))["result"]
    async with AskService(settings, provider=None) as service:
        result = await service.ask(LIST_QUESTION, [str(bundle)])
        single = await service.ask("вентилятор В2", [str(bundle)])
    for unit in UNITS:
        assert f"• {row_of(unit)} — блок " in result.answer
    assert "(строка таблицы" in result.answer
    assert "Найдено фрагментов" in single.answer  # not a list question: the usual answer
