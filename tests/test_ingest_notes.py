"""What a user is told about a document read in part: «загружен с предупреждениями: …» from
`aizoomdoc ingest` and the upload API, pages without a usable text layer in the document JSON and
in `aizoomdoc documents`, and the answer saying which pages it could not read."""

from __future__ import annotations

import json
from pathlib import Path

import pymupdf
import pytest
from typer.testing import CliRunner

from aizoomdoc.cli import app
from aizoomdoc.config import Settings, reset_settings_cache
from tests.support.api_client import api_client, wait_answer

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def garbled_pdf(path: Path) -> Path:
    """The real sheet (tests/data) with its fonts' ToUnicode maps removed."""
    pdf = pymupdf.open(DATA / "KS_AR6_p4.pdf")
    for xref in range(1, pdf.xref_length()):
        if "ToUnicode" in pdf.xref_get_keys(xref):
            pdf.xref_set_key(xref, "ToUnicode", "null")
    pdf.save(path)
    return path


def cut_markdown(path: Path) -> Path:
    """The real sheet's Markdown with an early-format image record cut off by the OCR model."""
    text = (DATA / "KS_AR6_p4_document.md").read_text(encoding="utf-8")
    text = text.replace("### BLOCK [TEXT]: LYEQ-EEDQ-67D",
                        '*Изображение:*\n\n{"location": {"zone_name": "Лестница Л-7", "grid\n\n'
                        "![Изображение](s3/crops/image_11111111-2222-3333-4444-555555555555.pdf)\n\n"
                        "### BLOCK [TEXT]: LYEQ-EEDQ-67D")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def cli_env(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    reset_settings_cache()
    yield work
    reset_settings_cache()


def test_ingest_says_what_it_could_not_read(cli_env: Path) -> None:
    md = cut_markdown(cli_env / "АР6_document.md")
    line = next(n for n, s in enumerate(md.read_text(encoding="utf-8").splitlines(), 1) if s.startswith('{"location"'))
    pdf = garbled_pdf(cli_env / "АР6 без шрифтов.pdf")
    r = runner.invoke(app, ["ingest", str(md), str(pdf)])
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert f"загружен с предупреждениями: 1 блок с повреждённым JSON (строка {line})" in out
    assert "стр. 1 — текстовый слой нечитаем" in out
    r = runner.invoke(app, ["ingest", "--json", str(md)])  # the same file again: the same notes
    [item] = json.loads(r.stdout)
    assert item["created"] is False and item["warnings"] == [{"kind": "json_broken", "line": line}]
    r = runner.invoke(app, ["documents", "--json"])
    docs = {d["filename"]: d for d in json.loads(r.stdout)}
    assert docs["АР6 без шрифтов.pdf"]["pages_without_text"] == "1"
    assert docs["АР6_document.md"]["warnings"] == f"1 блок с повреждённым JSON (строка {line})"


async def test_upload_api_document_json_and_the_answer_name_unread_pages(settings: Settings, tmp_path: Path) -> None:
    pdf = garbled_pdf(tmp_path / "garbled.pdf")
    md = cut_markdown(tmp_path / "ar6_document.md")
    async with api_client(settings) as (_app, client):
        docs = []
        for path in (pdf, md):
            # Processed before the answer (wait), without OCR: the unread page must be named.
            r = await client.post("/api/documents", params={"wait": "true", "ocr": "never"},
                                  files={"file": (path.name, path.read_bytes(), "application/octet-stream")})
            assert r.status_code == 201, r.text
            docs.append(r.json()["documents"][0])
        garbled, cut = docs
        assert garbled["pages_without_text"] == {"garbage": [1]} and "нечитаем" in garbled["notes"][0]
        assert cut["notes"][0].startswith("загружен с предупреждениями: 1 блок с повреждённым JSON")
        page = (await client.get(f"/api/documents/{garbled['id']}")).json()["pages"][0]
        assert page["text_layer"] == "garbage"
        assert (await client.get(f"/api/documents/{cut['id']}")).json()["pages"][0]["text_layer"] == "ok"

        chat = (await client.post("/api/chats", json={"document_ids": [garbled["id"], cut["id"]]})).json()
        r = await client.post(f"/api/chats/{chat['id']}/messages", json={"content": "Ведомость рабочих чертежей"})
        assert r.status_code == 202, r.text
        events = await wait_answer(client, chat["id"], r.json())
        answer = events[-1].data["result"]["answer"]
        assert "В документе «garbled» не прочитаны стр. 1" in answer
        assert "Ведомость рабочих чертежей" in answer  # the readable document still answers
