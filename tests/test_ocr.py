"""OCR of scanned sheets with the real Tesseract: blocks with boxes, table rows and confidence;
ingest (CLI, library) reads image-only pages; the OCR cache; pages flagged when the language data
is missing (and the answer says which and what to install); uploads processed in the background on
SQLite with status and progress; ``GET /api/search``.

Kept small for CI: one A3 sheet (the specification table of the synthetic set) at 150 dpi.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pymupdf
import pytest

from aizoomdoc.config import Settings
from aizoomdoc.documents.ocr import OcrEngine, OcrOptions, ocr_unavailable
from aizoomdoc.pipeline.ingest import DocumentService
from aizoomdoc.pipeline.jobs import ocr_options
from aizoomdoc.sample import build_drawing_set, rasterised_pdf
from aizoomdoc.store.ocr_cache import OcrCache
from tests.support.api_client import api_client

SPEC_SHEET = 2  # 0-based: "Спецификация оборудования", a table


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scan") / "spec-scan.pdf"
    path.write_bytes(rasterised_pdf(build_drawing_set(4).pdf_bytes, dpi=150, pages=[SPEC_SHEET]))
    return path


def ocr_settings(settings: Settings, **kw: Any) -> Settings:
    return settings.model_copy(update={"ocr_dpi": 150.0, "jobs_local_workers": 1, **kw})


def test_tesseract_and_russian_are_installed() -> None:
    assert ocr_unavailable(OcrOptions()) is None


def test_a_scanned_sheet_becomes_blocks_with_boxes_rows_and_confidence(scan: Path) -> None:
    with pymupdf.open(scan) as pdf:
        assert pdf[0].get_text().strip() == ""  # only a picture
        width, height = pdf[0].rect.width, pdf[0].rect.height
    engine = OcrEngine(OcrOptions(dpi=150))
    try:
        result = engine.recognise_page(str(scan), 0, "pdf", width, height)
    finally:
        engine.close()
    assert result.dpi == 150 and result.words > 30 and 0.6 < result.confidence <= 1.0
    text = "\n".join(b.text for b in result.blocks).lower()
    assert "вентилятор" in text and "спецификация" in text
    for b in result.blocks:
        assert b.extra["source"] == "ocr" and 0.0 <= b.extra["ocr_confidence"] <= 1.0
        x0, y0, x1, y1 = b.coords_norm
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    fan = next(b for b in result.blocks if "вентилятор" in b.text.lower())
    # The table of the specification sheet is kept as rows: the cell knows its whole row.
    assert "|" in fan.extra.get("row_text", ""), fan.extra
    assert result.sheet is not None and result.sheet.document_code  # the title block, read by OCR


async def test_ingest_reads_a_scan_caches_pages_and_searches(settings: Settings, scan: Path) -> None:
    s = ocr_settings(settings)
    async with DocumentService(s) as service:
        result = await service.ingest(scan)
        doc = result.document
        assert doc.metadata["ocr_pages_read"] == 1 and doc.metadata["unreadable_pages"] == []
        assert all(b.extra.get("source") == "ocr" for b in doc.blocks if b.block_type == "text")
        row = await service.get_row(doc.id)
        assert row["status"] == "ready" and row["pages"][0]["ocr"] == "done" and row["pages"][0]["text_layer"] == "none"
        hits = await service.search("вентилятор вытяжной", [doc.id], top_k=3)
        assert hits and hits[0].page_number == 1 and "вентилятор" in hits[0].text.lower()
        assert await OcrCache(service.db).count(doc.sha256, ocr_options(s).cache_key(), [0]) == 1

        # Deleted and ingested again: the page comes from the cache, not from Tesseract (which
        # would not finish a page in a millisecond).
        assert await service.delete(doc.id)
    s2 = ocr_settings(settings, ocr_timeout=0.001)
    async with DocumentService(s2) as service:
        started = time.perf_counter()
        again = await service.ingest(scan)
        assert time.perf_counter() - started < 5
        assert again.document.metadata["ocr_pages_read"] == 1
        assert [b.text for b in again.document.blocks] == [b.text for b in doc.blocks]


async def test_without_the_language_data_pages_are_flagged_and_the_answer_says_what_to_install(
        settings: Settings, scan: Path) -> None:
    from aizoomdoc.pipeline.ask import AskService

    s = ocr_settings(settings, ocr_lang="zzz")
    async with DocumentService(s) as service:
        doc = (await service.ingest(scan)).document
        assert doc.metadata["unreadable_pages"] == [1] and doc.metadata["ocr_missing"] == "language"
        row = await service.get_row(doc.id)
        assert row["status"] == "ready" and row["pages"][0]["ocr"] == "unavailable"
    async with AskService(s) as asker:
        answer = await asker.ask("Какие вентиляторы установлены?", [doc.id])
    assert "не прочитаны страницы 1" in answer.answer and "tesseract-ocr-rus" in answer.answer, answer.answer


def test_cli_ingest_ocr_modes(cli_env: Any, scan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aizoomdoc.cli import app

    monkeypatch.setenv("OCR_DPI", "150")
    monkeypatch.setenv("JOBS_LOCAL_WORKERS", "1")
    never = tmp_path / "never.pdf"
    never.write_bytes(scan.read_bytes() + b"\n%")  # another file (another sha256), the same picture
    r = cli_env.invoke(app, ["ingest", str(never), "--ocr", "never", "--json"])
    assert r.exit_code == 0, r.output
    [out] = json.loads(r.stdout)
    assert out["ocr_pages"] == 0 and out["unreadable_pages"] == []
    r = cli_env.invoke(app, ["ingest", str(scan), "--json"])
    assert r.exit_code == 0, r.output
    [out] = json.loads(r.stdout)
    assert out["ocr_pages"] == 1 and out["blocks"] > 10
    r = cli_env.invoke(app, ["search", "вентилятор", "--doc", out["document_id"], "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout), r.output
    r = cli_env.invoke(app, ["ingest", str(scan), "--ocr", "sometimes"])
    assert r.exit_code == 1 and "auto, always, never" in r.output


@pytest.fixture()
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from typer.testing import CliRunner

    from aizoomdoc.config import reset_settings_cache

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "cli-data"))
    reset_settings_cache()
    yield CliRunner()
    reset_settings_cache()


async def test_upload_answers_queued_then_progress_ready_and_api_search(settings: Settings, scan: Path) -> None:
    s = ocr_settings(settings)
    async with api_client(s) as (app, client):
        started = time.perf_counter()
        r = await client.post("/api/documents", files={"file": (scan.name, scan.read_bytes(), "application/pdf")})
        assert r.status_code == 201, r.text
        doc = r.json()["documents"][0]
        assert doc["status"] in ("queued", "processing") and doc["block_count"] == 0
        assert time.perf_counter() - started < 3  # the OCR is not in the request
        seen = set()
        while (cur := (await client.get(f"/api/documents/{doc['id']}")).json())["status"] not in ("ready", "error"):
            seen.add((cur["status"], cur["progress"]["pages_total"]))
            assert time.perf_counter() - started < 120
            await asyncio.sleep(0.1)
        assert cur["status"] == "ready" and cur["status_text"] == "готов" and cur["block_count"] > 10, cur
        assert cur["progress"] == {"pages_done": 1, "pages_total": 1} and cur["pages"][0]["ocr"] == "done"
        assert ("processing", 1) in seen, seen
        r = await client.get("/api/search", params={"q": "вентилятор", "document_id": doc["id"], "limit": 2})
        assert r.status_code == 200
        hits = r.json()["hits"]
        assert 1 <= len(hits) <= 2 and hits[0]["page_number"] == 1 and hits[0]["document_id"] == doc["id"]
        assert set(hits[0]) >= {"document_id", "block_id", "page_number", "block_type", "text", "score", "coords_norm"}
        assert (await client.get("/api/search", params={"q": "вентилятор"})).json()["hits"]
        assert (await client.get("/api/search", params={"q": "  "})).status_code == 422
        r = await client.get("/api/search", params={"q": "x", "document_id": "00000000-0000-0000-0000-000000000000"})
        assert r.status_code == 404 and "не найден" in r.json()["error"]


async def test_a_scanned_png_sheet_is_read_too(settings: Settings, scan: Path, tmp_path: Path) -> None:
    png = tmp_path / "лист-спецификации.png"
    with pymupdf.open(scan) as pdf:
        pdf[0].get_pixmap(dpi=150, colorspace=pymupdf.csGRAY).save(str(png))
    async with DocumentService(ocr_settings(settings)) as service:
        doc = (await service.ingest(png)).document
        assert doc.source_format == "image" and doc.metadata["ocr_pages_read"] == 1
        page = doc.pages[0]
        ocr = [b for b in doc.blocks if b.extra.get("source") == "ocr"]
        assert ocr and any(b.block_type == "image" for b in doc.blocks)  # the picture stays a block
        fan = next(b for b in ocr if "вентилятор" in b.text.lower())
        assert fan.coords_px is not None and fan.coords_px[2] <= page.width + 1  # pixels of the picture
        hits = await service.search("вентилятор", [doc.id], top_k=1)
        assert hits and hits[0].block_id == fan.id or "вентилятор" in hits[0].text.lower()


async def test_a_page_over_the_time_limit_is_stopped_and_flagged(settings: Settings, scan: Path,
                                                                  tmp_path: Path) -> None:
    other = tmp_path / "slow.pdf"
    other.write_bytes(scan.read_bytes() + b"\n%")  # another sha256: not in the OCR cache
    async with DocumentService(ocr_settings(settings, ocr_timeout=0.5)) as service:
        started = time.perf_counter()
        doc = (await service.ingest(other)).document
        assert time.perf_counter() - started < 30
        assert doc.metadata["unreadable_pages"] == [1] and "0.5" in doc.metadata["ocr_failure"]
        row = await service.get_row(doc.id)
        assert row["status"] == "ready" and row["pages"][0]["ocr"] == "failed"
        assert "остановлено" in row["pages"][0]["ocr_error"]


def _drawing_with_vertical_text() -> bytes:
    """A scanned A4 "drawing": a table ruled with lines touching its labels, a horizontal label,
    and words written bottom to top along a wall (as dimensions and wall labels are)."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    for y in (100, 127, 160):  # table rulings, the middle one under the text
        page.draw_line((60, y), (540, y), width=1.2)
    for x in (60, 300, 540):
        page.draw_line((x, 100), (x, 160), width=1.2)
    font = pymupdf.Font("helv")  # carries Cyrillic glyphs through a TextWriter
    for (x, y), text, size, angle in (((70, 124), "Ведомость ограждений", 14, 0), ((310, 124), "Перила стальные", 14, 0),
                                      ((200, 400), "План кровли", 16, 0),
                                      ((120, 760), "Гидроизоляция фундамента", 16, 90)):  # bottom to top
        writer = pymupdf.TextWriter(page.rect)
        writer.append((x, y), text, font=font, fontsize=size)
        writer.write_text(page, morph=(pymupdf.Point(x, y), pymupdf.Matrix(angle)))
    page.draw_line((130, 780), (130, 420), width=1.0)  # the wall it is written along
    data = doc.tobytes()
    doc.close()
    return rasterised_pdf(data, dpi=150)


async def test_vertical_text_on_a_scanned_drawing_is_found_by_search(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "vertical.pdf"
    path.write_bytes(_drawing_with_vertical_text())
    async with DocumentService(ocr_settings(settings)) as service:
        doc = (await service.ingest(path)).document
        text = "\n".join(b.text for b in doc.blocks).lower()
        assert "ведомость" in text and "перила" in text  # in the ruled table
        assert "гидроизоляция" in text and "фундамента" in text, text  # written bottom to top
        block = next(b for b in doc.blocks if "гидроизоляция" in b.text.lower())
        x0, y0, x1, y1 = block.coords_norm
        assert (y1 - y0) * 842 > 3 * (x1 - x0) * 595  # its box is upright on the page, where the words are
        hits = await service.search("гидроизоляция фундамента", [doc.id], top_k=1)
        assert hits and hits[0].block_id == block.id
    # Without the turned reading the vertical words are not read (what the test is about).
    engine = OcrEngine(OcrOptions(dpi=150, vertical=False, zoom=0.0))
    try:
        result = engine.recognise_page(str(path), 0, "pdf", 595, 842)
    finally:
        engine.close()
    assert "гидроизоляция" not in "\n".join(b.text for b in result.blocks).lower()


def test_zoom_regions_cover_small_and_unsure_words_merged_by_orientation() -> None:
    from aizoomdoc.documents.ocr import zoom_regions

    dpi = 300.0  # small: under 27 px high; the regions reach 45 px around
    words = [
        (100.0, 100.0, 200.0, 160.0, "Ведомость", 1, 1, 1, 95.0),  # large and sure: not read again
        (500.0, 500.0, 540.0, 520.0, "100", 1, 2, 1, 90.0),  # small
        (560.0, 500.0, 600.0, 520.0, "150", 1, 2, 2, 90.0),  # small, next to it: one region
        (1000.0, 100.0, 1200.0, 160.0, "Пepилa", 1, 3, 1, 40.0),  # unsure
        (2000.0, 2000.0, 2010.0, 2010.0, "—", 1, 4, 1, 10.0),  # no letter or digit
        (300.0, 800.0, 320.0, 900.0, "2400", 2, 1, 1, 90.0),  # vertical (turned reading), small
    ]
    regions = zoom_regions(words, 5, 3000, 3000, dpi)
    upright = sorted(r for r, vertical in regions if not vertical)
    assert upright == [(455, 455, 645, 565), (955, 55, 1245, 205)]
    assert [r for r, vertical in regions if vertical] == [(255, 755, 365, 945)]


def _small_labels_on_dimension_lines() -> bytes:
    """A scanned A5 "drawing" at 150 dpi: 4-pt labels and dimension numbers, each on a dimension
    line with a tick crossing its start (too small for one reading at this resolution)."""
    doc = pymupdf.open()
    page = doc.new_page(width=420, height=298)
    font = pymupdf.Font("helv")
    for k, text in enumerate(SMALL_LABELS):
        x, y = 30 + (k % 3) * 130, 40 + (k // 3) * 60
        page.draw_line((x - 10, y + 1), (x + 90, y + 1), width=0.4)
        page.draw_line((x - 5, y + 5), (x + 5, y - 5), width=0.4)
        writer = pymupdf.TextWriter(page.rect)
        writer.append((x + 20, y - 0.5), text, font=font, fontsize=4)
        writer.write_text(page)
    data = doc.tobytes()
    doc.close()
    return rasterised_pdf(data, dpi=150)


SMALL_LABELS = ["1250", "3400", "Труба", "2700", "Отвод", "Кран", "4800", "Заглушка", "950", "Муфта", "6300", "Тройник"]


def test_small_labels_are_read_by_the_enlarged_second_reading(tmp_path: Path) -> None:
    path = tmp_path / "small.pdf"
    path.write_bytes(_small_labels_on_dimension_lines())
    found = {}
    for zoom in (0.0, 2.0):
        engine = OcrEngine(OcrOptions(dpi=150, zoom=zoom))
        try:
            result = engine.recognise_page(str(path), 0, "pdf", 420, 298)
        finally:
            engine.close()
        words = " ".join(b.text for b in result.blocks).lower().replace(".", " ").split()
        found[zoom] = sum(label.lower() in words for label in SMALL_LABELS)
        assert len(words) == len(set(words)) or zoom == 0.0, words  # no word twice from the two readings
    assert found[0.0] <= 6 and found[2.0] >= 10, found
