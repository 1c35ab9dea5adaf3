"""The original integration's examples module (examples/06_integration_examples.py, its code with
only the import path changed) end to end against ``aizoomdoc.supabase_client`` and
``aizoomdoc.s3_storage``: on SQLite + the local folder and on PostgreSQL + S3 (SeaweedFS). After
``delete_chat_completely`` no file of the chat is left in storage and no row in the database.

Also the two file-storage methods the original had and callers use: ``upload_file_object`` and
``delete_folder``, on both backends.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import text

from aizoomdoc.config import Settings
from aizoomdoc.errors import FileTooLargeError, InvalidInputError
from aizoomdoc.s3_storage import s3_storage
from aizoomdoc.sample import write_drawing_set
from aizoomdoc.store import Database, migrate
from aizoomdoc.store.files import FileStorage, build_file_storage
from aizoomdoc.supabase_client import supabase_client
from tests.support.services import SeaweedServer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "06_integration_examples.py"


def load_examples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("integration_examples", EXAMPLES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_examples_only_changed_the_import_path() -> None:
    source = EXAMPLES.read_text(encoding="utf-8")
    assert "from aizoomdoc.supabase_client import supabase_client" in source
    assert "from aizoomdoc.s3_storage import s3_storage" in source
    assert not re.search(r"^\s*(from|import) src\b", source, re.M)
    # Only the facades of the original are used (and, for a sample file in __main__, the synthetic set).
    used = set(re.findall(r"^\s*(?:from|import) (aizoomdoc[\w.]*)", source, re.M))
    assert used == {"aizoomdoc.s3_storage", "aizoomdoc.supabase_client", "aizoomdoc.sample"}


def s3_settings(settings: Settings, server: SeaweedServer, bucket: str, **extra: Any) -> Settings:
    return Settings(_env_file=None, data_dir=settings.data_dir, use_s3_storage=True,
                    s3_endpoint_url=server.endpoint_url, s3_region=server.region, s3_access_key=server.access_key,
                    s3_secret_key=server.secret_key, s3_bucket=bucket, s3_addressing_style="path", **extra)


@pytest.fixture()
async def facades() -> AsyncIterator[Any]:
    """Binds the seed facades to a Settings object; unbinds them afterwards."""
    bound: list[Settings] = []

    def bind(s: Settings) -> None:
        supabase_client.configure(s)
        s3_storage.configure(s)
        bound.append(s)

    yield bind
    await s3_storage.aclose()
    await supabase_client.close()
    s3_storage.configure(None)
    supabase_client.reset()


@pytest.fixture(scope="module")
def drawing_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("examples") / "133_23-GK-OV1.pdf"
    write_drawing_set(path)
    return path


@pytest.fixture(params=["sqlite+local", "postgresql+s3"])
async def backend(request: pytest.FixtureRequest, settings: Settings, facades: Any, pg_server: Any,
                  s3_server: SeaweedServer) -> AsyncIterator[tuple[Settings, FileStorage]]:
    """The facades bound to one backend, and a plain storage to look into it independently."""
    url = None
    if request.param == "sqlite+local":
        s = settings
    else:
        server = s3_server
        bucket = await asyncio.to_thread(server.create_bucket)
        # The helpers run their own event loop: keep them off this one.
        url = await asyncio.to_thread(pg_server.create_database, "aizoomdoc_examples")
        s = s3_settings(settings, server, bucket, database_url=url)
        db = Database(s)
        try:
            await migrate.upgrade(db)
        finally:
            await db.dispose()
    facades(s)
    plain = build_file_storage(s)  # S3 itself (no local fallback) or the folder
    yield s, plain
    await plain.aclose()
    if url is not None:
        await s3_storage.aclose()
        await supabase_client.close()
        await asyncio.to_thread(pg_server.drop_database, url)


async def _rows(settings: Settings, sql: str, **params: Any) -> int:
    db = Database(settings)
    try:
        return await db.run(lambda c: c.execute(text(sql), params).scalar())
    finally:
        await db.dispose()


@pytest.mark.postgres
@pytest.mark.s3
async def test_original_example_flow_end_to_end(backend: tuple[Settings, FileStorage], drawing_set: Path,
                                                tmp_path: Path) -> None:
    settings, plain = backend
    ex = load_examples()
    is_s3 = settings.use_s3_storage
    assert supabase_client.is_connected() and s3_storage.is_connected()

    # 1. A chat for the document; the document goes to storage and the chat points at it.
    chat_id = await ex.process_document_with_chat(str(drawing_set), "user_123", "Найди информацию о вентиляции")
    chat = await supabase_client.get_chat(chat_id)
    assert chat["title"] == "Анализ 133_23-GK-OV1.pdf" and chat["user_id"] == "user_123"
    assert chat["document_path"].startswith(f"chats/{chat_id}/documents/133_23-GK-OV1")
    assert await plain.read_bytes(chat["document_path"]) == drawing_set.read_bytes()

    # 2./3. Search hits, zoomed viewports (rendered from the drawing), the answer.
    answer = await ex.run_agent_loop_with_chat(chat_id, str(drawing_set), "вентиляция", tmp_path)
    assert answer.startswith("Обнаружил информацию о вентиляции на страницах")
    results = await supabase_client.get_search_results(chat_id)
    assert len(results) == 3
    assert all("вентил" in r["block_text"].lower() and len(r["coords_norm"]) == 4 for r in results)

    # 4. The history with images: every viewport is a real PNG in storage with the stored size.
    history = await ex.get_chat_history_with_images(chat_id)
    assert [m["role"] for m in history["messages"]] == ["user", "assistant", "assistant", "assistant", "assistant"]
    images = [img for m in history["messages"] for img in m["images"]]
    assert len(images) == 3
    for img in images:
        assert img["s3_path"].startswith(f"chats/{chat_id}/images/viewport_step_")
        with Image.open(io.BytesIO(await plain.read_bytes(img["s3_path"]))) as png:
            assert png.format == "PNG" and png.size == (img["width"], img["height"])
        meta = await plain.get_file_metadata(img["s3_path"])
        assert meta["content_type"] == "image/png" and meta["metadata"]["step"] in {"1", "2", "3"}
        if is_s3:  # what the original handed to a browser: a signed link that loads
            async with httpx.AsyncClient(timeout=10) as http:
                r = await http.get(s3_storage.get_signed_url(img["s3_path"], expires_in=60))
            assert r.status_code == 200 and r.content[:4] == b"\x89PNG"

    # 5. Markdown export: the title, the question, each image by its URL.
    md = await ex.export_chat_as_markdown(chat_id)
    assert md.startswith("# Анализ 133_23-GK-OV1.pdf\n") and "Найди информацию о вентиляции" in md
    assert md.count("![viewport](") == 3 and all(img["s3_url"] in md for img in images)

    # 6. The file library: the uploaded document in "Проект / Раздел", attached to the question.
    library = await ex.file_document_in_library(chat_id, "user_123")
    assert {f["name"] for f in library["folders"]} == {"Проект 133/23", "Раздел ОВ"}
    assert sorted(f["source_type"] for f in library["files"]) == ["external_link", "user_upload"]
    assert [a["storage_path"] for a in library["attachments"]] == [chat["document_path"]]
    assert library["attachments"][0]["size_bytes"] == drawing_set.stat().st_size

    # 7. Delete with files: nothing of the chat is left in storage or in the database.
    keys = await plain.list_files(f"chats/{chat_id}/")
    assert len(keys) == 4  # the document and three viewports
    assert await ex.delete_chat_completely(chat_id) is True
    assert await plain.list_files(f"chats/{chat_id}/") == []
    assert await s3_storage.list_files(f"chats/{chat_id}/") == []
    for key in keys:
        assert not await plain.file_exists(key)
    if not is_s3:
        assert not (settings.data_dir / "files" / "chats" / chat_id).exists()
    assert await supabase_client.get_chat(chat_id) is None
    for table in ("chat_messages", "chat_images", "search_results", "message_attachments", "storage_files"):
        assert await _rows(settings, f"SELECT count(*) FROM {table} WHERE chat_id = :c", c=chat_id) == 0, table
    # The folders stay, with what is not the chat's own: the link.
    section = next(f for f in await supabase_client.get_folders("user_123") if f["name"] == "Раздел ОВ")
    assert [f["source_type"] for f in await supabase_client.get_folder_files(section["id"])] == ["external_link"]
    assert await ex.delete_chat_completely(chat_id) is False  # the original's answer for a missing chat


@pytest.mark.postgres
@pytest.mark.s3
async def test_upload_file_object_and_delete_folder(backend: tuple[Settings, FileStorage], tmp_path: Path) -> None:
    settings, plain = backend
    key = s3_storage.generate_s3_path("chat-a", "viewport", "кроп листа 5.png")
    png = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(png, "PNG")
    png.seek(0)
    url = await s3_storage.upload_file_object(png, key, content_type="image/png",
                                              metadata={"description": "Вид на узел"})
    assert url and await plain.read_bytes(key) == png.getvalue()
    meta = await plain.get_file_metadata(key)
    assert meta["content_type"] == "image/png" and meta["metadata"]["description"] == "Вид на узел"
    disk = tmp_path / "doc.bin"
    disk.write_bytes(b"0123456789")
    with disk.open("rb") as fh:
        fh.seek(4)  # from the current position on, like boto's upload_fileobj
        await s3_storage.upload_file_object(fh, "chats/chat-a/other/tail.bin")
    assert await plain.read_bytes("chats/chat-a/other/tail.bin") == b"456789"

    with pytest.raises(InvalidInputError) as exc:
        await s3_storage.upload_file_object(io.StringIO("текст"), "chats/chat-a/other/t.txt")
    assert "двоичном режиме" in str(exc.value)
    with pytest.raises(InvalidInputError):
        await s3_storage.upload_file_object(b"bytes are not a file object", "chats/chat-a/other/t.txt")

    await s3_storage.upload_file_object(io.BytesIO(b"x"), "chats/chat-ab/other/neighbour.txt")
    assert await s3_storage.delete_folder("chats/chat-a") == 2  # a folder: never chats/chat-ab/…
    assert await plain.list_files("chats/chat-a/") == []
    assert await plain.list_files("chats/chat-ab/") == ["chats/chat-ab/other/neighbour.txt"]
    assert await s3_storage.delete_folder("chats/chat-a/") == 0
    with pytest.raises(InvalidInputError):
        await s3_storage.delete_folder("")


async def test_upload_file_object_refuses_too_large_before_storing(settings: Settings, facades: Any) -> None:
    small = settings.model_copy(update={"max_file_size_mb": 0.001})  # 1048 bytes
    facades(small)

    class Pipe(io.RawIOBase):  # a stream that cannot seek: the limit is found while reading
        def __init__(self, size: int) -> None:
            self.left = size
            self.read_total = 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            n = self.left if n < 0 else min(n, self.left)
            self.left -= n
            self.read_total += n
            return b"z" * n

    for source in (io.BytesIO(b"y" * 5000), Pipe(10_000_000)):
        with pytest.raises(FileTooLargeError) as exc:
            await s3_storage.upload_file_object(source, "chats/c/other/big.bin")
        assert "MAX_FILE_SIZE_MB" in str(exc.value)
        if isinstance(source, Pipe):
            assert source.read_total <= small.max_file_size_bytes + 1
    assert await s3_storage.list_files("chats/c/") == []
