"""Ingest: documents and blocks in the database, files in storage, idempotency, nothing stored on
bad input, SQLite and PostgreSQL (with RLS), the CLI (ingest, search --json, sample-set)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aizoomdoc.config import Settings
from aizoomdoc.errors import DatabaseError, DocumentError, NotFoundError
from aizoomdoc.pipeline.ingest import DocumentService, ServiceDocumentSource
from aizoomdoc.sample import SyntheticSet, build_drawing_set, write_bundle_fixtures
from aizoomdoc.store.documents import blocks as blocks_table
from aizoomdoc.store.documents import documents as documents_table


@pytest.fixture(scope="module")
def drawing_set() -> SyntheticSet:
    return build_drawing_set()


@pytest.fixture()
def files(tmp_path: Path, drawing_set: SyntheticSet) -> dict[str, Path]:
    return write_bundle_fixtures(tmp_path / "in", drawing_set, formats=("result", "html_c2"))


async def counts(service: DocumentService) -> tuple[int, int]:
    def fn(conn):
        return (conn.execute(select(func.count()).select_from(documents_table)).scalar_one(),
                conn.execute(select(func.count()).select_from(blocks_table)).scalar_one())

    return await service.db.run(fn)


async def stored_files(service: DocumentService) -> list[str]:
    return await service.storage.list_files("documents/")


async def test_ingest_is_idempotent_on_sqlite(settings: Settings, files: dict[str, Path]) -> None:
    async with DocumentService(settings) as service:
        first = await service.ingest(files["pdf"])
        assert first.created
        doc = first.document
        assert len(doc.pages) == 4 and len(doc.blocks) > 200
        assert await counts(service) == (1, len(doc.blocks))
        assert len(first.storage_keys) == 1 and first.storage_keys[0].startswith(f"documents/{doc.id}/")
        again = await service.ingest(files["pdf"])
        assert not again.created and again.document.id == doc.id
        copy = files["pdf"].with_name("copy of set.pdf")
        copy.write_bytes(files["pdf"].read_bytes())
        same_content = await service.ingest(copy)
        assert not same_content.created and same_content.document.id == doc.id
        assert await counts(service) == (1, len(doc.blocks))
        assert len(await stored_files(service)) == 1

        # The stored document comes back whole, with its pixels.
        back = await service.get_document(doc.id)
        assert back is not None
        assert [(b.id, b.page_index, b.text, b.coords_norm) for b in back.blocks] == \
               [(b.id, b.page_index, b.text, b.coords_norm) for b in doc.blocks]
        assert back.pages[1].sheet == doc.pages[1].sheet and back.sheet == doc.sheet
        assert back.render_path is not None and Path(back.render_path).read_bytes() == files["pdf"].read_bytes()
        files["pdf"].write_bytes(b"changed")  # the original is gone: pixels come from storage
        back = await service.get_document(doc.id)
        assert back is not None and Path(back.render_path).read_bytes()[:5] == b"%PDF-"


async def test_bundle_ingest_stores_the_bundle_and_its_pdf(settings: Settings, files: dict[str, Path]) -> None:
    async with DocumentService(settings) as service:
        result = await service.ingest(files["result"])
        assert result.created and len(result.storage_keys) == 2
        row = await service.get_row(result.document.id)
        assert row is not None and row["source_format"] == "result_json"
        assert row["storage_key"].endswith(".json") and row["render_key"].endswith(".pdf")
        assert row["page_count"] == 4 and row["block_count"] == 12
        html = await service.ingest(files["html_c2"])  # another file: another document
        assert html.created and html.document.id != result.document.id
        hits = await service.search("П1.1", top_k=10)
        assert {h.document_id for h in hits} == {result.document.id, html.document.id}
        hits = await service.search("П1.1", [html.document.id], top_k=10)
        assert {h.document_id for h in hits} == {html.document.id}
        assert {h.page_number for h in await service.search("утеплитель", pages=[4])} == {4}


@pytest.mark.parametrize("name, content", [
    ("broken_result.json", b'{"pdf_path": "x.pdf", "pages": [{"page_number": 0, "blocks": [{"id"'),
    ("encrypted.pdf", None),
    ("empty.pdf", b""),
    ("cut_ocr.html", '<div class="block-header">Блок #1 (стр. 1)</div>Утеп'.encode()[:-1]),
])
async def test_bad_input_stores_nothing(settings: Settings, tmp_path: Path, drawing_set: SyntheticSet,
                                        name: str, content: bytes | None) -> None:
    import pymupdf

    if content is None:
        pdf = pymupdf.open(stream=drawing_set.pdf_bytes, filetype="pdf")
        content = pdf.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    path = tmp_path / name
    path.write_bytes(content)
    async with DocumentService(settings) as service:
        with pytest.raises(DocumentError) as info:
            await service.ingest(path)
        assert name in str(info.value)
        assert await counts(service) == (0, 0)
        assert await stored_files(service) == []


async def test_database_failure_removes_uploaded_files(settings: Settings, files: dict[str, Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from aizoomdoc.store.documents import DocumentStore

    async def broken_add(self, document, block_rows):
        raise DatabaseError("db.error", target="test", detail="disk full")

    async with DocumentService(settings) as service:
        monkeypatch.setattr(DocumentStore, "add", broken_add)
        with pytest.raises(DatabaseError):
            await service.ingest(files["result"])
        assert await stored_files(service) == []
        monkeypatch.undo()
        assert (await service.ingest(files["result"])).created


async def test_document_source_for_the_ask_pipeline(settings: Settings, files: dict[str, Path]) -> None:
    source = ServiceDocumentSource(settings)
    try:
        docs = await source.resolve([str(files["pdf"])])
        assert len(docs) == 1 and docs[0].can_render
        again = await source.resolve([docs[0].id, str(files["pdf"])])
        assert [d.id for d in again] == [docs[0].id]
        found = await source.search(docs, "АОВ8", 3)
        assert found and found[0].block.text == "АОВ8" and found[0].document is docs[0]
        with pytest.raises(NotFoundError):
            await source.resolve(["no-such-document"])
    finally:
        await source.aclose()


@pytest.mark.postgres
async def test_postgres_ingest_search_and_rls(pg_url: str, tmp_path: Path, files: dict[str, Path]) -> None:
    from aizoomdoc.store import migrate
    from aizoomdoc.store.database import Database

    settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=pg_url)
    db = Database(settings)
    try:
        assert await migrate.upgrade(db) == migrate.head_revision()
        async with DocumentService(settings, db=db) as service:
            first = await service.ingest(files["result"], user_id="alice")
            assert first.created
            assert not (await service.ingest(files["result"], user_id="alice")).created
            hits = await service.search("П1.1", user_id="alice")
            assert hits and all(h.document_id == first.document.id for h in hits)
            # Another user: does not see Alice's document; the same file is a document of their own.
            assert await service.list_documents(user_id="bob") == []
            assert await service.get_row(first.document.id, user_id="bob") is None
            with pytest.raises(NotFoundError):
                await service.search("П1.1", [first.document.id], user_id="bob")
            bob = await service.ingest(files["result"], user_id="bob")
            assert bob.created and bob.document.id != first.document.id
            back = await service.get_document(first.document.id, user_id="alice")
            assert back is not None and len(back.blocks) == 12 and back.render_path is not None
            assert await service.delete(first.document.id, user_id="alice")
            assert await service.get_row(first.document.id, user_id="alice") is None

        def rls_enabled(conn):
            from sqlalchemy import text

            return dict(conn.execute(text(
                "SELECT relname, relrowsecurity FROM pg_class WHERE relname IN ('documents', 'document_blocks')"
            )).all())

        assert await db.run(rls_enabled) == {"documents": True, "document_blocks": True}
    finally:
        await db.dispose()


# --- CLI ------------------------------------------------------------------------------------------------


@pytest.fixture()
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from typer.testing import CliRunner

    from aizoomdoc.config import reset_settings_cache

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "cli-data"))
    reset_settings_cache()
    yield CliRunner()
    reset_settings_cache()


def test_cli_sample_set_ingest_and_search_json(cli_env, tmp_path: Path) -> None:
    from aizoomdoc.cli import app

    runner = cli_env
    out = tmp_path / "set"
    r = runner.invoke(app, ["sample-set", str(out), "--bundles"])
    assert r.exit_code == 0, r.output
    pdf = out / "synthetic-set.pdf"
    assert (out / "synthetic-set_result.json").is_file() and (out / "synthetic-set_v2_ocr.html").is_file()
    assert pdf.is_file() and "записан" in r.output

    r = runner.invoke(app, ["search", "АОВ8", "--doc", str(pdf), "--top-k", "3", "--json"])
    assert r.exit_code == 0, r.output
    hits = json.loads(r.stdout)
    assert hits and {h["block_id"] for h in hits} >= {"p2-b31"}
    assert set(hits[0]) == {"document_id", "block_id", "page_number", "page_index", "block_type", "text", "score",
                            "coords_norm"}
    assert all(h["text"] == "АОВ8" for h in hits)
    assert hits[0]["page_number"] == hits[0]["page_index"] + 1
    doc_id = hits[0]["document_id"]

    r = runner.invoke(app, ["ingest", str(pdf)])
    assert r.exit_code == 0 and "Уже загружен" in r.output and doc_id in r.output
    r = runner.invoke(app, ["search", "утеплитель кровли", "--doc", doc_id, "--page", "4", "--json"])
    assert r.exit_code == 0
    assert json.loads(r.stdout)[0]["text"].startswith("3. Утеплитель кровли П-1")
    r = runner.invoke(app, ["search", "утеплитель", "--doc", "nonexistent-ref"])
    assert r.exit_code == 1 and "не найден" in r.output


def test_cli_ingest_reports_bad_files_and_continues(cli_env, tmp_path: Path, files: dict[str, Path]) -> None:
    from aizoomdoc.cli import app

    bad = tmp_path / "truncated_result.json"
    bad.write_text('{"pages": [', encoding="utf-8")
    r = cli_env.invoke(app, ["ingest", str(bad), str(files["result"]), "--json"])
    assert r.exit_code == 1
    report = json.loads(r.stdout)
    assert "truncated_result.json" in report[0]["error"] and report[1]["created"] is True
    r = cli_env.invoke(app, ["documents", "--json"])
    assert r.exit_code == 0 and [d["source_format"] for d in json.loads(r.stdout)] == ["result_json"]


def test_block_rows_json_and_ids_are_exact() -> None:
    """The bulk encoders of the block insert write what json.dumps writes (values and types)."""
    from aizoomdoc.store.documents import _boxes_json, _json_column, block_row_id, block_row_ids

    boxes = [(0.1, 0.2, 0.30000000000000004, 1.0), [0.0, -0.0, 1e-300, 0.1], (0.1, 0.2, 0.1, 0.2),
             (1.0, 2.0, 3.0, 4.0)]
    out = _boxes_json(boxes)
    assert [json.loads(t) for t in out] == [list(b) for b in boxes]
    assert out[1] == "[0.0,-0.0,1e-300,0.1]"
    mixed = [None, [1, 2, 3, 4], (1.0, 2, 3, 4.5), [0.5, 0.5]]  # ints stay ints, None stays NULL
    assert _boxes_json(mixed) == [None, "[1,2,3,4]", "[1.0,2,3,4.5]", "[0.5,0.5]"]
    with pytest.raises(ValueError):
        _boxes_json([(0.1, 0.2, 0.3, 0.4), (0.1, float("nan"), 0.3, 0.4)])
    assert _json_column([None, [], {"a": "б"}]) == [None, "[]", '{"a":"б"}']
    ids = block_row_ids("6f1d3c2e-5a7b-4c8d-9e0f-a1b2c3d4e5f6", ["p1-b1", "p1-b2", "лист"])
    assert ids == [block_row_id("6f1d3c2e-5a7b-4c8d-9e0f-a1b2c3d4e5f6", b) for b in ("p1-b1", "p1-b2", "лист")]
    assert ids[0] == "b7ac35dc-e757-5e8a-be53-09689034c8df"  # the id earlier versions stored
