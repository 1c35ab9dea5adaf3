"""The library over HTTP: folders, upload into a folder, filing documents, attaching to chats and
messages, deleting folders without losing what others use; another user's anything is a 404 (on
SQLite through the checks, on PostgreSQL with RLS underneath)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from aizoomdoc.config import Settings
from aizoomdoc.sample import write_drawing_set
from aizoomdoc.store import Database, migrate
from tests.support.api_client import JWT_SECRET, QUESTION, api_client, bearer, sign_jwt, wait_answer

CSV = "Позиция;Наименование;Кол.\n1;Вентилятор ВЕНТС;2\n".encode()


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("libapi") / "133_23-GK-OV1.pdf"
    write_drawing_set(path)
    return path


async def _upload_into(client: Any, folder_id: str, name: str, data: bytes, headers: dict[str, str] | None = None,
                       ctype: str = "application/octet-stream") -> Any:
    return await client.post(f"/api/library/folders/{folder_id}/files", headers=headers or {},
                             files={"file": (name, data, ctype)})


async def _folder(client: Any, name: str, parent: str | None = None, headers: dict[str, str] | None = None) -> dict:
    r = await client.post("/api/library/folders", json={"name": name, "parent_id": parent}, headers=headers or {})
    assert r.status_code == 201, r.text
    return r.json()


async def test_library_flow_over_http(settings: Settings, pdf: Path) -> None:
    async with api_client(settings) as (app, client):
        project = await _folder(client, "Проект 133/23")
        section = await _folder(client, "Раздел ОВ", project["id"])
        folders = (await client.get("/api/library/folders")).json()["folders"]
        assert [(f["path"], f["depth"]) for f in folders] == [("Проект 133/23", 0), ("Проект 133/23 / Раздел ОВ", 1)]
        r = await client.post("/api/library/folders", json={"name": "раздел ов", "parent_id": project["id"]})
        assert r.status_code == 422 and "уже есть" in r.json()["error"]

        # Upload into the folder: the PDF is ingested (a document), the CSV kept as a file.
        r = await _upload_into(client, section["id"], pdf.name, pdf.read_bytes(), ctype="application/pdf")
        assert r.status_code == 201, r.text
        doc_file = r.json()["files"][0]
        assert doc_file["kind"] == "document" and doc_file["title"].startswith("133/23-ГК-ОВ1")
        assert doc_file["page_count"] == 4 and doc_file["created"] is True
        r = await _upload_into(client, section["id"], "спецификация.csv", CSV, ctype="text/csv")
        csv_file = r.json()["files"][0]
        assert csv_file["kind"] == "file" and csv_file["size_bytes"] == len(CSV) and csv_file["document_id"] is None
        # The same content again is the same file.
        r = await _upload_into(client, project["id"], "копия.pdf", pdf.read_bytes())
        assert r.json()["files"][0]["id"] == doc_file["id"] and r.json()["files"][0]["created"] is False
        docs = (await client.get("/api/documents")).json()["documents"]
        assert [d["id"] for d in docs] == [doc_file["document_id"]]

        files = (await client.get(f"/api/library/folders/{section['id']}/files")).json()["files"]
        assert [f["id"] for f in files] == [doc_file["id"], csv_file["id"]]
        info = (await client.get(f"/api/library/files/{doc_file['id']}")).json()
        assert {f["name"] for f in info["folders"]} == {"Проект 133/23", "Раздел ОВ"}
        r = await client.get(csv_file["download_url"])
        assert r.status_code == 307
        assert (await client.get(r.headers["location"])).content == CSV

        # Attach to a chat: the document becomes the chat's and a question is answered from it.
        chat = (await client.post("/api/chats", json={"title": "Вопросы по ОВ"})).json()
        r = await client.post(f"/api/library/files/{doc_file['id']}/chats", json={"chat_id": chat["id"]})
        assert r.status_code == 200 and r.json()["document_ids"] == [doc_file["document_id"]]
        r = await client.post(f"/api/library/files/{csv_file['id']}/chats", json={"chat_id": chat["id"]})
        assert r.status_code == 422 and "не документ" in r.json()["error"]
        r = await client.post(f"/api/chats/{chat['id']}/messages", json={"content": QUESTION})
        events = await wait_answer(client, chat["id"], r.json())
        assert events[-1].event == "answer", events[-1].data
        hist = (await client.get(f"/api/chats/{chat['id']}")).json()
        cited = {c["document_id"] for c in hist["messages"][-1]["metadata"]["citations"]}
        assert cited == {doc_file["document_id"]}

        # Attach the CSV to the question.
        question = hist["messages"][0]
        r = await client.post(f"/api/library/files/{csv_file['id']}/messages", json={"message_id": question["id"]})
        assert r.status_code == 201, r.text
        att = (await client.get(f"/api/library/chats/{chat['id']}/attachments")).json()["attachments"]
        assert [(a["id"], a["message_id"]) for a in att] == [(csv_file["id"], question["id"])]

        # A file only this folder has: taken out, it is deleted with its stored bytes.
        other = await _folder(client, "Черновики")
        r = await client.post(f"/api/library/folders/{other['id']}/items", json={"file_id": csv_file["id"]})
        assert r.status_code == 201 and r.json()["id"] == csv_file["id"]
        info = (await client.get(f"/api/library/files/{csv_file['id']}")).json()
        assert {f["name"] for f in info["folders"]} == {"Раздел ОВ", "Черновики"}
        lone = (await _upload_into(client, other["id"], "заметки.txt", "Заметки по узлам".encode())).json()["files"][0]
        key_url = (await client.get(lone["download_url"])).headers["location"]
        r = await client.delete(f"/api/library/folders/{other['id']}/items/{lone['id']}")
        assert r.json()["deleted_files"][0]["id"] == lone["id"]
        assert (await client.get(f"/api/library/files/{lone['id']}")).status_code == 404
        assert (await client.get(key_url)).status_code == 404

        # Deleting the project: the chat's document and the attached CSV stay; the folders go.
        r = await client.delete(f"/api/library/folders/{project['id']}")
        assert r.status_code == 200, r.text
        assert r.json() == {"folders": 2, "deleted_files": [], "kept_files": 2}
        assert (await client.get(f"/api/documents/{doc_file['document_id']}")).status_code == 200
        assert (await client.get(f"/api/library/files/{csv_file['id']}")).status_code == 200
        assert [f["name"] for f in (await client.get("/api/library/folders")).json()["folders"]] == ["Черновики"]

        # Filed again, then the chat goes: the next folder deletion takes the unused document along.
        again = await _folder(client, "Проект 2")
        r = await client.post(f"/api/library/folders/{again['id']}/items", json={"document_id": doc_file["document_id"]})
        assert r.status_code == 201 and r.json()["id"] == doc_file["id"]
        assert (await client.delete(f"/api/chats/{chat['id']}")).status_code == 204
        r = await client.delete(f"/api/library/folders/{again['id']}")
        assert [f["document_id"] for f in r.json()["deleted_files"]] == [doc_file["document_id"]]
        assert (await client.get(f"/api/documents/{doc_file['document_id']}")).status_code == 404
        assert (await client.get("/api/documents")).json()["documents"] == []


async def test_bad_input_is_a_clear_error_and_stores_nothing(settings: Settings, pdf: Path) -> None:
    small = settings.model_copy(update={"max_file_size_mb": 0.01})
    async with api_client(small) as (app, client):
        folder = await _folder(client, "Проект")
        for body, says in [({"name": "  "}, "name"), ({"name": "x" * 201}, "200 символов"),
                           ({"name": "a", "parent_id": "нет-такой"}, "не найдена")]:
            r = await client.post("/api/library/folders", json=body)
            assert r.status_code in (404, 422) and says in r.json()["error"], r.text
        r = await _upload_into(client, folder["id"], pdf.name, pdf.read_bytes())
        assert r.status_code == 413 and "МБ" in r.json()["error"]
        r = await _upload_into(client, folder["id"], "битый.pdf", b"%PDF-1.7\n" + b"\x00" * 500)
        assert r.status_code == 422 and "битый.pdf" in r.json()["error"] and "/uploads/" not in r.json()["error"]
        r = await _upload_into(client, folder["id"], "пустой.csv", b"")
        assert r.status_code == 422
        assert (await client.get(f"/api/library/folders/{folder['id']}/files")).json()["files"] == []
        assert (await client.get("/api/documents")).json()["documents"] == []
        assert not any((small.data_dir / "uploads").iterdir())
        r = await client.post(f"/api/library/folders/{folder['id']}/items", json={})
        assert r.status_code == 422


@pytest.fixture(params=["sqlite", "postgresql"])
async def server_settings(request: pytest.FixtureRequest, settings: Settings, pg_server: Any) -> AsyncIterator[Settings]:
    s = Settings(_env_file=None, data_dir=settings.data_dir, auth_mode="server", supabase_jwt_secret=JWT_SECRET)
    if request.param == "sqlite":
        yield s
        return
    url = await asyncio.to_thread(pg_server.create_database, "aizoomdoc_libapi")
    s = Settings(_env_file=None, data_dir=settings.data_dir, auth_mode="server", supabase_jwt_secret=JWT_SECRET,
                 database_url=url)
    db = Database(s)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()
    yield s
    await asyncio.to_thread(pg_server.drop_database, url)


@pytest.mark.postgres
async def test_another_users_library_is_not_found(server_settings: Settings, pdf: Path) -> None:
    alice, bob = bearer(sign_jwt("alice-lib")), bearer(sign_jwt("bob-lib"))
    async with api_client(server_settings) as (app, client):
        folder = await _folder(client, "Проект Алисы", headers=alice)
        r = await _upload_into(client, folder["id"], pdf.name, pdf.read_bytes(), headers=alice)
        assert r.status_code == 201, r.text
        file_ = r.json()["files"][0]
        chat = (await client.post("/api/chats", json={"title": "Чат Алисы"}, headers=alice)).json()
        r = await client.post(f"/api/library/files/{file_['id']}/chats", json={"chat_id": chat["id"]}, headers=alice)
        assert r.status_code == 200
        msg_id = (await app.state.aizoomdoc.store.for_user("alice-lib").add_message(chat["id"], "user", "Вопрос"))
        bob_folder = await _folder(client, "Проект Боба", headers=bob)
        bob_chat = (await client.post("/api/chats", json={"title": "Чат Боба"}, headers=bob)).json()

        f, fi = folder["id"], file_["id"]
        for method, path, body in [
            ("GET", f"/api/library/folders/{f}/files", None),
            ("PATCH", f"/api/library/folders/{f}", {"name": "Моё"}),
            ("DELETE", f"/api/library/folders/{f}", None),
            ("POST", "/api/library/folders", {"name": "Внутрь", "parent_id": f}),
            ("POST", f"/api/library/folders/{f}/items", {"file_id": fi}),
            ("DELETE", f"/api/library/folders/{f}/items/{fi}", None),
            ("GET", f"/api/library/files/{fi}", None),
            ("GET", f"/api/library/files/{fi}/download", None),
            ("POST", f"/api/library/files/{fi}/chats", {"chat_id": bob_chat["id"]}),
            ("POST", f"/api/library/files/{fi}/messages", {"message_id": msg_id}),
            ("POST", f"/api/library/folders/{bob_folder['id']}/items", {"file_id": fi}),
            ("POST", f"/api/library/folders/{bob_folder['id']}/items", {"document_id": file_["document_id"]}),
            ("GET", f"/api/library/chats/{chat['id']}/attachments", None),
            ("GET", "/api/library/folders/не-uuid/files", None),
            ("GET", "/api/library/files/не-uuid", None),
        ]:
            r = await client.request(method, path, json=body, headers=bob)
            assert r.status_code == 404, (method, path, r.status_code, r.text)
        r = await _upload_into(client, f, "чужое.csv", CSV, headers=bob)
        assert r.status_code == 404
        assert [x["name"] for x in (await client.get("/api/library/folders", headers=bob)).json()["folders"]] == [
            "Проект Боба"]
        # Alice's library is untouched.
        assert [x["id"] for x in (await client.get(f"/api/library/folders/{f}/files", headers=alice)).json()["files"]] \
            == [fi]
        assert (await client.get("/api/library/folders", headers=alice)).json()["folders"][0]["name"] == "Проект Алисы"
