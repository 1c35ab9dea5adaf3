"""Revision compare as users reach it: `aizoomdoc compare`, the bounded compare process, the HTTP
API (with the page images of both versions) and a chat question answered from the comparison.

The versions are the real excerpt (tests/data/KS_AR6_register_sheet1.pdf) and a revision of it
with two values retyped on sheet 1 (as in a PDF editor: redaction + new text)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from aizoomdoc.cli import app
from aizoomdoc.compare.revise import Retype, make_revision
from aizoomdoc.config import Settings, reset_settings_cache
from aizoomdoc.errors import AizoomdocError, DocumentError
from tests.support.api_client import api_client

DATA = Path(__file__).parent / "data"
EXCERPT = DATA / "KS_AR6_register_sheet1.pdf"
EDITS = [Retype(1, "А500С", "А400С"), Retype(1, "59.13330.2020", "59.13330.2024")]
runner = CliRunner()


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """АР6 «изм.1» (the excerpt as it is) and «изм.2» (two values retyped on sheet 1)."""
    d = tmp_path_factory.mktemp("versions")
    old, new = d / "133_23-ГК-АР6_изм.1.pdf", d / "133_23-ГК-АР6_изм.2.pdf"
    old.write_bytes(EXCERPT.read_bytes())
    make_revision(EXCERPT, new, EDITS)
    return old, new


@pytest.fixture()
def env(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.chdir(tmp_path)  # no stray .env
    reset_settings_cache()
    yield data_dir
    reset_settings_cache()


def red_pixels(png: bytes) -> int:
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int(((a[..., 0] > 180) & (a[..., 1] < 80) & (a[..., 2] < 80)).sum())


# --- the command line ---------------------------------------------------------------------------


def test_cli_compare_json_report_and_errors(env: Path, versions: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = versions
    r = runner.invoke(app, ["compare", str(old), str(new), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out) >= {"sheets", "summary"}
    assert [(s["old_page"], s["new_page"], s["sheet"], s["status"]) for s in out["sheets"]] == \
        [(1, 1, None, "same"), (2, 2, "1", "changed")]
    changes = out["sheets"][1]["changes"]
    assert {(c["old_text"], c["new_text"]) for c in changes} == {("А500С", "А400С"), ("59.13330.2020", "59.13330.2024")}
    for c in changes:
        assert set(c) >= {"kind", "old_text", "new_text", "bbox_norm_old", "bbox_norm_new"}
        assert len(c["bbox_norm_new"]) == 4 and all(0 <= v <= 1 for v in c["bbox_norm_new"])
    assert out["summary"]["changed_sheets"] == ["1"]
    # The new version's register has no new row: not filled in for this revision, sheet 1 unnamed.
    assert out["register"]["updated"] is False and out["register"]["changed_unnamed"] == ["1"]
    assert out["register"]["pages"] == [1]
    assert not (env / "aizoomdoc.db").exists()  # files are compared as they are: nothing stored

    r = runner.invoke(app, ["compare", str(old), str(new)])
    assert r.exit_code == 0, r.output
    assert "Лист 1 «Общие данные Формат А2» (стр. 2 → 2): изменён, изменений: 2" in r.stdout
    assert "текст изменён: «А500С» → «А400С»" in r.stdout
    assert "Реестр не дополнен" in r.stdout and "Изменены, но в реестре не названы: 1." in r.stdout

    # Bad input: one Russian line, exit code 1, no traceback.
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(old.read_bytes()[:5000])
    for args, expected in (([str(old), str(tmp_path / "нет.pdf")], "не найден"), ([str(old), str(broken)], "обрезан")):
        r = runner.invoke(app, ["compare", *args])
        assert r.exit_code == 1, r.output
        assert expected in r.output and "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1


def test_cli_compare_stays_within_its_time_limit(env: Path, versions: tuple[Path, Path],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPARE_TIMEOUT", "0.2")
    reset_settings_cache()
    r = runner.invoke(app, ["compare", *map(str, versions)])
    assert r.exit_code == 1
    assert "не уложилось в 0.2 с" in r.output and "COMPARE_TIMEOUT" in r.output


# --- the bounded process ------------------------------------------------------------------------


async def test_compare_process_memory_limit_and_errors(settings: Settings, versions: tuple[Path, Path]) -> None:
    from aizoomdoc.pipeline.compare import CompareService

    tight = Settings(_env_file=None, data_dir=settings.data_dir, compare_max_memory_mb=256)
    async with CompareService(tight) as service:
        with pytest.raises(AizoomdocError) as err:
            await service.compare_files(*versions)
    assert err.value.key == "compare.memory" and "COMPARE_MAX_MEMORY_MB" in str(err.value)
    async with CompareService(settings) as service:
        with pytest.raises(DocumentError):
            await service.compare_files(versions[0], settings.data_dir)  # a folder, not a file
        text_only = await service.compare_files(*versions, visual=False)
    assert [s.status for s in text_only.sheets] == ["same", "changed"]


# --- the API ------------------------------------------------------------------------------------


async def _upload(client: Any, path: Path, chat_id: str | None = None) -> dict[str, Any]:
    params = {"chat_id": chat_id, "wait": "true"} if chat_id else {"wait": "true"}
    r = await client.post("/api/documents", params=params, files={"file": (path.name, path.read_bytes(), "application/pdf")})
    assert r.status_code == 201, r.text
    return r.json()["documents"][0]


async def test_api_compare_two_documents_of_a_chat(settings: Settings, versions: tuple[Path, Path]) -> None:
    async with api_client(settings) as (app, client):
        r = await client.post("/api/chats", json={"title": "АР6"})
        chat_id = r.json()["id"]
        old = await _upload(client, versions[0], chat_id)
        new = await _upload(client, versions[1], chat_id)
        r = await client.get("/api/compare", params={"old": old["id"], "new": new["id"], "chat_id": chat_id})
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["old"]["document_id"] == old["id"] and "path" not in out["old"]
        assert [s["status"] for s in out["sheets"]] == ["same", "changed"]
        sheet = out["sheets"][1]
        assert len(sheet["changes"]) == 2
        for side in ("old", "new"):
            url = sheet[f"{side}_image"]
            assert url.startswith(f"/api/documents/{out[side]['document_id']}/pages/2.png?box=")
            img = await client.get(url)
            assert img.status_code == 200 and img.headers["content-type"] == "image/png"
            assert red_pixels(img.content) > 50  # the changed places are highlighted in both versions
        unchanged = await client.get(out["sheets"][0]["new_image"])
        assert unchanged.status_code == 200 and red_pixels(unchanged.content) == 0

        # Computed once: the second request reads the cached result from file storage.
        cached = list((settings.data_dir / "files" / "compare").rglob("*.json"))
        assert len(cached) == 1
        r2 = await client.get("/api/compare", params={"old": old["id"], "new": new["id"]})
        assert r2.json()["sheets"] == out["sheets"]

        # Wrong requests: one clear message each.
        r = await client.get("/api/compare", params={"old": old["id"], "new": old["id"]})
        assert r.status_code == 422 and "два разных документа" in r.json()["error"]
        r = await client.get("/api/compare", params={"old": old["id"], "new": "00000000-0000-0000-0000-000000000000"})
        assert r.status_code == 404
        r = await client.post("/api/chats", json={"title": "другой"})
        r = await client.get("/api/compare", params={"old": old["id"], "new": new["id"], "chat_id": r.json()["id"]})
        assert r.status_code == 422 and "не прикреплён к этому чату" in r.json()["error"]


# --- chat ---------------------------------------------------------------------------------------


async def test_chat_question_about_changes_cites_both_versions(settings: Settings, versions: tuple[Path, Path]) -> None:
    from aizoomdoc.pipeline.ask import AskService

    old, new = versions
    async with AskService(settings, provider=None) as service:
        # the newer version attached first: the revision numbers in the titles decide
        r = await service.ask("Что изменилось на листе 1 между изм.1 и изм.2?", [str(new), str(old)])
        assert r.error is None, r.error
        assert "«А500С» → «А400С»" in r.answer and "«59.13330.2020» → «59.13330.2024»" in r.answer
        assert "Лист 1" in r.answer and "изменений: 2" in r.answer
        docs = {c.document_title for c in r.citations}
        # Both editions have the same title block: their titles keep the file name's revision.
        assert docs == {"133/23-ГК-АР6 (изм.1)", "133/23-ГК-АР6 (изм.2)"}, r.citations
        assert all(c.page_number == 2 and c.coords_norm for c in r.citations)
        viewports = [i for i in r.images if i.image_type == "viewport"]
        assert {i.document_id for i in viewports} == {c.document_id for c in r.citations}

        # A question about a sheet without changes, and an ordinary question in the same chat.
        r2 = await service.ask("А что изменилось на листе 5?", chat_id=r.chat_id)
        assert "Лист 5 в комплекте не найден" in r2.answer
        r3 = await service.ask("Какой ГОСТ на уголки стальные?", chat_id=r.chat_id)
        assert "8509-93" in r3.answer and "Сравнение версий" not in r3.answer

        # With one document a «что изменилось» question is an ordinary search.
        r4 = await service.ask("Что изменилось в нормах по кровлям?", [str(old)])
        assert "Сравнение версий" not in r4.answer


@pytest.mark.s3
async def test_api_compare_with_documents_and_cache_on_s3(settings: Settings, versions: tuple[Path, Path],
                                                          s3_server: Any, s3_bucket: str) -> None:
    s = Settings(_env_file=None, data_dir=settings.data_dir, use_s3_storage=True,
                 s3_endpoint_url=s3_server.endpoint_url, s3_region=s3_server.region,
                 s3_access_key=s3_server.access_key, s3_secret_key=s3_server.secret_key, s3_bucket=s3_bucket,
                 s3_addressing_style="path")
    async with api_client(s) as (app, client):
        old = await _upload(client, versions[0])
        new = await _upload(client, versions[1])
        r = await client.get("/api/compare", params={"old": old["id"], "new": new["id"]})
        assert r.status_code == 200, r.text
        assert [x["status"] for x in r.json()["sheets"]] == ["same", "changed"]
        files = app.state.aizoomdoc.files
        from aizoomdoc.pipeline.compare import ENGINE_VERSION

        assert await files.list_files("compare/") == [f"compare/{old['id']}/{new['id']}-v{ENGINE_VERSION}.json"]
        img = await client.get(r.json()["sheets"][1]["new_image"])
        assert img.status_code == 200 and red_pixels(img.content) > 50
        r2 = await client.get("/api/compare", params={"old": old["id"], "new": new["id"]})
        assert r2.json()["sheets"] == r.json()["sheets"]


async def test_chat_question_about_changes_with_a_model(settings: Settings, versions: tuple[Path, Path]) -> None:
    """With a language model the comparison is its context: the changed places of both versions
    (as viewports and texts «Было:»/«Стало:») and the summary; the answer cites both versions."""
    from aizoomdoc.llm.openai_compat import OpenAICompatProvider
    from aizoomdoc.pipeline.ask import AskService
    from tests.support.llm_server import ScriptedLLM, text

    with ScriptedLLM([text("На листе 1 изменены марка арматуры и год свода правил.")]) as llm:
        provider = OpenAICompatProvider(base_url=llm.base_url, model="vision/test", api_key="sk-test", timeout=5.0,
                                        max_retries=0)
        async with AskService(settings, provider=provider) as service:
            r = await service.ask("Что изменилось на листе 1 между изм.1 и изм.2?", [str(v) for v in versions])
        sent = json.dumps(llm.requests[-1].messages, ensure_ascii=False)
    assert r.error is None and r.answer.startswith("На листе 1 изменены")
    assert "Было: А500С" in sent and "Стало: А400С" in sent and "«А500С» → «А400С»" in sent
    assert len(llm.requests[-1].image_urls) >= 2  # the viewports of both versions
    assert {c.document_title for c in r.citations} == {"133/23-ГК-АР6 (изм.1)", "133/23-ГК-АР6 (изм.2)"}


async def test_a_document_still_processing_is_not_compared(settings: Settings, versions: tuple[Path, Path]) -> None:
    """An upload answers at once with status «queued»: comparing it then says to wait, not «no change»."""
    from aizoomdoc.pipeline.compare import CompareService
    from aizoomdoc.pipeline.ingest import DocumentService

    async with DocumentService(settings) as documents:
        queued = [await documents.submit(p) for p in versions]  # registered, not processed (no worker)
        assert all(r.queued for r in queued)
        async with CompareService(settings) as service:
            with pytest.raises(AizoomdocError) as err:
                await service.compare_stored(queued[0].document.id, queued[1].document.id)
    assert err.value.key == "compare.not_ready" and "в очереди" in str(err.value)
