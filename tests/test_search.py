"""Search: Russian morphology, exact codes (with look-alikes), ranking, filters, several documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from aizoomdoc.documents import Document, read_document
from aizoomdoc.documents.model import Block, Page
from aizoomdoc.sample import build_drawing_set
from aizoomdoc.search import IndexCache, IndexedBlock, IndexLoadError, SearchIndex, analyze, analyze_query, index_key

DATA = Path(__file__).parent / "data"


def make_doc(doc_id: str, texts: list[str | tuple[int, str]]) -> Document:
    doc = Document(id=doc_id, title=doc_id, source_path=f"{doc_id}.pdf", source_format="pdf", sha256=doc_id * 4)
    pages: dict[int, Page] = {}
    for k, item in enumerate(texts):
        page_index, text = item if isinstance(item, tuple) else (0, item)
        page = pages.setdefault(page_index, Page(page_index, 1000, 700))
        page.blocks.append(Block(f"b{k}", page_index, "text", text, (0.1, 0.1, 0.2, 0.2)))
    doc.pages = list(pages.values())
    return doc


CORPUS = make_doc("d1", [
    "Система П1 — приточная установка в венткамере",                      # b0
    "Система П1.1 обслуживает офисы",                                     # b1
    "П11 на кровле",                                                      # b2
    "Вытяжной вентилятор В2",                                             # b3
    "Вентилятор В21 крышный",                                             # b4
    "Перемычка А3-13 над проёмом",                                        # b5
    "Перемычка А3-13* с утеплителем",                                     # b6
    "См. чертежи 133/23-ГК-АР1",                                          # b7
    "См. чертежи 133/23-ГК-АР2",                                          # b8
    "Отметка низа котлована -7,650",                                      # b9
    "Отметка 7,650 верха парапета",                                       # b10
    "Уровень чистого пола ±0.000",                                        # b11
    "Масштаб 1:100",                                                      # b12
    "Масштаб 1:1000",                                                     # b13
    "Приямок 1000х2000х1000",                                             # b14
    "Приямок 1000х2000х1500",                                             # b15
    "Толщина утеплителя 150 мм",                                          # b16
    "Плиты утеплителем минераловатным",                                   # b17
    "Утеплитель кровли П-1 — минераловатные плиты 150 мм",               # b18
    "Агрегат АОВ8 у входа",                                               # b19
    "Установка Р1 в подвале",                                             # b20
    "Кладочный план 3-го этажа",                                          # b21
    "Спецификация перемычек",                                             # b22
])


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex.build([CORPUS])


def ids(hits) -> list[str]:
    return [h.block_id for h in hits]


# --- analyzer --------------------------------------------------------------------------------------


def test_analyzer_words_are_stemmed() -> None:
    assert analyze("утеплитель утеплителя утеплителем Утеплителю") == ["утеплител"] * 4
    assert analyze("Кровли кровля") == ["кровл", "кровл"]
    assert analyze("ёлка") == analyze("елка")


@pytest.mark.parametrize("text, token", [
    ("П1", "п1"), ("П1.1", "п1.1"), ("П11", "п11"), ("В21,", "в21"), ("А3-13*", "а3-13*"), ("(А3-13)", "а3-13"),
    ("133/23-ГК-АР1", "133/23-гк-ар1"), ("-7,650", "-7.650"), ("+3.300", "3.300"), ("±0,000", "0.000"),
    ("−7.650", "-7.650"), ("1:100", "1:100"), ("1000х2000х1000", "1000х2000х1000"),
    ("1000x2000x1000", "1000х2000х1000"), ("500×300", "500х300"), ("AOB8", "аов8"), ("P1", "р1"),
    ("B21", "в21"), ("КP3", "кр3"),
])
def test_codes_are_whole_normalised_tokens(text: str, token: str) -> None:
    assert analyze(text)[0] == token


def test_cipher_parts_are_indexed_but_not_searched() -> None:
    assert analyze("133/23-ГК-КР3.П3") == ["133/23-гк-кр3.п3", "133/23", "гк", "кр3", "п3"]
    q = analyze_query("133/23-ГК-КР3.П3")
    assert q.codes == ("133/23-гк-кр3.п3",) and q.words == ()


def test_query_stopwords_and_short_numbers() -> None:
    q = analyze_query("Найди, пожалуйста, где лист 2 и П1")
    assert q.words == ("лист§2", "лист") and q.codes == ("п1",)  # «лист 2» is one bound token


# --- search ----------------------------------------------------------------------------------------


def test_morphology(index: SearchIndex) -> None:
    found = set(ids(index.search("утеплитель", top_k=10)))
    assert {"b6", "b16", "b17", "b18"} <= found
    assert ids(index.search("утеплителя кровли", top_k=1)) == ["b18"]


@pytest.mark.parametrize("query, expected", [
    ("П1", {"b0"}), ("П1.1", {"b1"}), ("П11", {"b2"}), ("В2", {"b3"}), ("В21", {"b4"}),
    ("А3-13", {"b5"}), ("А3-13*", {"b6"}), ("133/23-ГК-АР1", {"b7"}), ("-7,650", {"b9"}), ("-7.650", {"b9"}),
    ("0.000", {"b11"}), ("1:100", {"b12"}), ("1000х2000х1000", {"b14"}), ("1000x2000x1000", {"b14"}),
    ("АОВ8", {"b19"}), ("AOB8", {"b19"}), ("АOВ8", {"b19"}), ("P1", {"b20"}), ("В2l", set()),
])
def test_codes_match_exactly(index: SearchIndex, query: str, expected: set[str]) -> None:
    exact = {h.block_id for h in index.search(query, top_k=10) if h.code_matches}
    assert exact == expected


@pytest.mark.parametrize("query, exact, alike", [
    ("P1", "b20", "b0"),    # a Latin P is the Cyrillic Р, or a transliterated П (below it)
    ("В2l", None, "b4"),    # l read for 1: В21 only as a look-alike, never as an exact match
])
def test_latin_and_digit_look_alikes_rank_below_exact_codes(index: SearchIndex, query: str, exact: str | None,
                                                             alike: str) -> None:
    hits = index.search(query, top_k=10)
    ranked = ids(hits)
    if exact is not None:
        assert ranked[0] == exact and hits[0].code_matches == 1
    assert alike in ranked and hits[ranked.index(alike)].code_matches == 0
    assert "b1" not in ranked and "b2" not in ranked  # never П1.1 or П11


def test_cipher_part_finds_the_cipher(index: SearchIndex) -> None:
    assert set(ids(index.search("АР1", top_k=10))) == {"b7"}
    assert set(ids(index.search("133/23", top_k=10))) == {"b7", "b8"}


def test_codes_rank_above_word_matches() -> None:
    doc = make_doc("d2", [
        "приточная установка приточная установка системы вентиляции",  # many word matches
        "П1.1",                                                       # only the code
        "приточная установка",
    ])
    hits = SearchIndex.build([doc]).search("приточная установка П1.1", top_k=3)
    assert hits[0].block_id == "b1" and hits[0].code_matches == 1
    assert all(h.code_matches == 0 for h in hits[1:])


def test_blocks_with_all_rare_words_rank_first(index: SearchIndex) -> None:
    assert ids(index.search("Какая толщина утеплителя кровли П-1?", top_k=1)) == ["b18"]
    assert ids(index.search("кладочный план 3-го этажа", top_k=1)) == ["b21"]
    assert ids(index.search("спецификация перемычек", top_k=1)) == ["b22"]


def test_hit_fields(index: SearchIndex) -> None:
    hit = index.search("АОВ8", top_k=1)[0]
    assert (hit.document_id, hit.block_id, hit.page_index, hit.page_number, hit.block_type) == ("d1", "b19", 0, 1, "text")
    d = hit.to_dict()
    assert set(d) == {"document_id", "block_id", "page_number", "page_index", "block_type", "text", "score",
                      "coords_norm"}
    assert d["coords_norm"] == [0.1, 0.1, 0.2, 0.2] and d["score"] > 0


def test_empty_and_unknown_queries(index: SearchIndex) -> None:
    assert index.search("", top_k=5) == []
    assert index.search("и в на", top_k=5) == []
    assert index.search("несуществующееслово", top_k=5) == []
    assert SearchIndex.build([]).search("П1") == []


def test_filters_by_document_page_and_type() -> None:
    a = make_doc("docA", [(0, "утеплитель П1"), (1, "утеплитель В2"), (2, "утеплитель")])
    b = make_doc("docB", [(0, "утеплитель П1"), (3, "утеплитель")])
    idx = SearchIndex.build([a, b])
    assert idx.document_ids == ["docA", "docB"]
    assert {h.document_id for h in idx.search("утеплитель", top_k=10)} == {"docA", "docB"}
    assert {h.document_id for h in idx.search("утеплитель", top_k=10, document_ids=["docB"])} == {"docB"}
    assert [(h.document_id, h.page_number) for h in idx.search("утеплитель", top_k=10, pages=[2])] == [("docA", 2)]
    hits = idx.search("утеплитель", top_k=10, document_ids=["docA"], pages=[1, 3])
    assert {(h.document_id, h.page_number) for h in hits} == {("docA", 1), ("docA", 3)}
    assert idx.search("утеплитель", top_k=10, document_ids=["nope"]) == []
    assert idx.search("утеплитель", top_k=10, block_types=["image"]) == []
    assert len(idx.search("утеплитель", top_k=2)) == 2


def test_several_real_and_synthetic_documents_at_once() -> None:
    synthetic = build_drawing_set()
    tmp = Path(__file__).parent  # read straight from bytes via a temporary file
    from aizoomdoc.documents import Source, read_source

    pdf = read_source(Source(tmp / "synthetic.pdf", synthetic.pdf_bytes), companions=False)
    ar6 = read_document(DATA / "KS_AR6_p4_result.json", companions=False)
    ar3 = read_document(DATA / "KS_AR3_excerpt_document.md")
    idx = SearchIndex.build([pdf, ar6, ar3])
    assert set(idx.document_ids) == {pdf.id, ar6.id, ar3.id}
    assert {h.document_id for h in idx.search("П1.1", top_k=5)} == {pdf.id}
    top = idx.search("утеплитель кровли П-1", top_k=1)[0]
    assert top.document_id == pdf.id and "Утеплитель кровли П-1" in top.text
    # A шифр part finds its set among sets that list each other.
    assert idx.search("ведомость спецификаций комплекса АР6", top_k=1)[0].block_id == "9M9E-U3YY-XEG"
    assert idx.search("133/23-ГК-АР3", top_k=1)[0].document_id == ar3.id
    assert idx.search("решетки 5 этажа", top_k=3, document_ids=[ar3.id])[0].document_id == ar3.id


def test_save_load_and_cache(tmp_path: Path, index: SearchIndex) -> None:
    index.save(tmp_path / "idx")
    loaded = SearchIndex.load(tmp_path / "idx")
    for q in ("П1.1", "утеплитель", "-7,650"):
        assert [(h.block_id, round(h.score, 4)) for h in loaded.search(q, top_k=5)] == \
               [(h.block_id, round(h.score, 4)) for h in index.search(q, top_k=5)]
    (tmp_path / "idx" / "blocks.npz").write_bytes(b"broken")
    with pytest.raises(IndexLoadError):
        SearchIndex.load(tmp_path / "idx")
    cache = IndexCache(tmp_path / "cache")
    key = index_key([("d1", "x")])
    assert key != index_key([("d1", "y")]) and key == index_key([("d1", "x"), ("d1", "x")])
    built = []
    first = cache.get_or_build(key, lambda: built.append(1) or index)
    again = IndexCache(tmp_path / "cache").get_or_build(key, lambda: built.append(1) or index)
    assert built == [1] and len(again) == len(first)
    (tmp_path / "cache" / key / "meta.json").write_text("{}", encoding="utf-8")
    assert IndexCache(tmp_path / "cache").get(key) is None  # damaged: dropped, to be rebuilt


def test_indexed_blocks_without_documents() -> None:
    rows = [IndexedBlock("x", "1", 4, "image", "План П1.1", (0.0, 0.0, 1.0, 1.0), False)]
    hit = SearchIndex.build(rows).search("п1.1")[0]
    assert (hit.page_number, hit.block_type, hit.has_coords) == (5, "image", False)
