"""Issue 11, finding 5: the server never trusts a column its user can write (real PostgreSQL).

With Supabase's Data API a user writes his own rows directly (role ``authenticated``, RLS). These
tests do exactly that, through a non-superuser login role, then use the HTTP API as that user:

* a server file path put into his chat's ``metadata.document_ids`` is never read;
* another chat's image key in ``chat_images.s3_path`` or in an event is never signed;
* another document's key in ``documents.render_key`` is never rendered or deleted, and a server
  path in ``source_path`` is never opened;
* he cannot mint himself an API token.

Where migration 004 makes PostgreSQL refuse such a row, the test also writes it as the owner
(as on a database without the policy) to show the server's own check.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from PIL import Image

from aizoomdoc.config import Settings
from aizoomdoc.sample import write_drawing_set
from aizoomdoc.store import ChatStore, Database, migrate
from tests.support.api_client import JWT_SECRET, QUESTION, api_client, bearer, parse_sse, sign_jwt, wait_answer
from tests.support.rls import as_user, login_role

pytestmark = pytest.mark.postgres

ALICE, BOB = "alice-hostile", "bob-hostile"
MARKER = "СЕКРЕТНЫЙМАРКЕРСЕРВЕРА"


@dataclass
class World:
    settings: Settings
    login_url: str
    owner: ChatStore
    files: Path


@pytest.fixture(scope="module")
async def world(pg_server, pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    root = tmp_path_factory.mktemp("hostile-pg")
    settings = Settings(_env_file=None, data_dir=root / "data", database_url=pg_url, auth_mode="server",
                        supabase_jwt_secret=JWT_SECRET)
    db = Database(settings)
    await migrate.upgrade(db)
    owner = ChatStore(db)
    async with login_role(pg_server, pg_url) as login_url:
        yield World(settings, login_url, owner, root)
        await owner.close()


def _files(pdf: Path) -> dict[str, tuple[str, bytes, str]]:
    return {"file": (pdf.name, pdf.read_bytes(), "application/pdf")}


async def test_a_server_path_written_into_document_ids_is_never_read(world: World) -> None:
    secret = world.files / "server-secret_document.md"  # a file of the server's disk, readable as OCR Markdown
    secret.write_text(f"# Страница 1\n\n## BLOCK [TEXT]: SECRET-1\n\nутеплитель кровли П-1 {MARKER}\n",
                      encoding="utf-8")
    pdf = world.files / "alice-set.pdf"
    write_drawing_set(pdf, 2)
    alice = bearer(sign_jwt(ALICE))
    async with api_client(world.settings) as (app, client):
        doc = (await client.post("/api/documents", files=_files(pdf), headers=alice)).json()["documents"][0]
        chat = (await client.post("/api/chats", json={"document_ids": [doc["id"]]}, headers=alice)).json()
        for refs in ([str(secret)], [str(secret), doc["id"]]):
            # Alice edits her own chat's row directly (allowed: it is hers).
            status = await as_user(world.login_url, ALICE,
                                   "UPDATE chats SET metadata = jsonb_set(metadata, '{document_ids}', $2::jsonb) "
                                   "WHERE id = $1", chat["id"], json.dumps(refs))
            assert status == "UPDATE 1"
            r = await client.post(f"/api/chats/{chat['id']}/messages", json={"content": QUESTION}, headers=alice)
            assert r.status_code == 202, r.text
            events = await wait_answer(client, chat["id"], r.json(), alice)
            assert MARKER not in json.dumps([e.data for e in events], ensure_ascii=False)
            if doc["id"] in refs:  # her own document still answers
                assert events[-1].event == "answer", events[-1].data
            else:
                assert events[-1].event == "error"
        history = (await client.get(f"/api/chats/{chat['id']}", headers=alice)).json()
        assert MARKER not in json.dumps(history, ensure_ascii=False)
        names = [d["filename"] for d in (await client.get("/api/documents", headers=alice)).json()["documents"]]
        assert secret.name not in names


async def _chat(world: World, user: str) -> tuple[str, str, str]:
    """A chat of ``user`` with one message, and a key in that chat's folder."""
    chat = await world.owner.create_chat("чат", user)
    msg = await world.owner.add_message(chat, "user", "вопрос")
    return chat, msg, f"chats/{chat}/images/{user}-secret.png"


async def as_owner(world: World, sql: str, *args: object) -> None:
    """``sql`` as the tables' owner (bypasses RLS: a database without migration 004's policies)."""
    conn = await asyncpg.connect(world.settings.secret("database_url"))
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def test_another_chats_image_key_is_never_signed(world: World) -> None:
    alice = bearer(sign_jwt(ALICE))
    async with api_client(world.settings) as (app, client):
        files = app.state.aizoomdoc.files
        _b_chat, _b_msg, b_key = await _chat(world, BOB)
        await files.upload_bytes(b"\x89PNG bob's private image", b_key, content_type="image/png")
        a_chat, a_msg, _ = await _chat(world, ALICE)
        insert = ("INSERT INTO chat_images (id, chat_id, message_id, image_name, s3_path, image_type) "
                  "VALUES ($1, $2, $3, 'x.png', $4, 'viewport')")
        # Migration 004: PostgreSQL refuses the row (a key outside the chat's own folder).
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await as_user(world.login_url, ALICE, insert, str(uuid.uuid4()), a_chat, a_msg, b_key)
        # Written anyway (a database without the policy): the server still never signs it.
        image_id = str(uuid.uuid4())
        await as_owner(world, insert, image_id, a_chat, a_msg, b_key)
        listed = (await client.get(f"/api/chats/{a_chat}/images", headers=alice)).json()["images"]
        assert [i["url"] for i in listed] == [None]
        assert (await client.get(f"/api/chats/{a_chat}/images/{listed[0]['id']}", headers=alice,
                                 follow_redirects=False)).status_code == 404
        history = (await client.get(f"/api/chats/{a_chat}", headers=alice)).json()
        assert all(i["url"] is None for m in history["messages"] for i in m.get("images", []))
        # The same key in an event Alice writes into her own chat's event log (RLS allows it).
        q = str(uuid.uuid4())
        image = {"id": image_id, "s3_path": b_key, "image_type": "viewport"}
        for seq, kind, data in [(1, "image", {"type": "image", "image": image}),
                                (2, "answer", {"type": "answer", "result": {"images": [image]}})]:
            await as_user(world.login_url, ALICE, "INSERT INTO chat_events (chat_id, seq, question_id, type, data) "
                          "VALUES ($1, $2, $3, $4, $5::jsonb)", a_chat, seq, q, kind, json.dumps(data))
        r = await client.get(f"/api/chats/{a_chat}/events", params={"after": 0, "until": q}, headers=alice)
        events = parse_sse(r.text)
        assert [e.event for e in events] == ["image", "answer"]
        assert events[0].data["image"]["url"] is None
        assert events[1].data["result"]["images"][0]["url"] is None
        assert "sig=" not in r.text and "X-Amz-Signature" not in r.text


async def test_another_documents_keys_and_server_paths_are_never_used(world: World) -> None:
    alice, bob = bearer(sign_jwt(ALICE)), bearer(sign_jwt(BOB))
    a_pdf, b_pdf = world.files / "a-render.pdf", world.files / "b-render.pdf"
    write_drawing_set(a_pdf, 1)
    write_drawing_set(b_pdf, 3, document_code="999-BOB-AR")
    server_png = world.files / "server-only.png"
    Image.new("RGB", (77, 33), (255, 0, 0)).save(server_png)
    async with api_client(world.settings) as (app, client):
        a_doc = (await client.post("/api/documents", files=_files(a_pdf), headers=alice)).json()["documents"][0]
        b_doc = (await client.post("/api/documents", files=_files(b_pdf), headers=bob)).json()["documents"][0]
        conn = await asyncpg.connect(world.settings.secret("database_url"))
        try:
            b_key = await conn.fetchval("SELECT render_key FROM documents WHERE id = $1", b_doc["id"])
        finally:
            await conn.close()
        # Migration 004: Alice cannot point her row at Bob's file.
        for column in ("render_key", "storage_key"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await as_user(world.login_url, ALICE, f"UPDATE documents SET {column} = $2 WHERE id = $1",
                              a_doc["id"], b_key)
        # A path on the server's disk with a matching stat (so "the original file" would be used).
        st = os.stat(server_png)
        status = await as_user(world.login_url, ALICE,
                               "UPDATE documents SET source_path = $2, metadata = jsonb_set(coalesce(metadata, "
                               "'{}'::jsonb), '{render_stat}', $3::jsonb) WHERE id = $1",
                               a_doc["id"], str(server_png), json.dumps([st.st_size, st.st_mtime_ns]))
        assert status == "UPDATE 1"
        r = await client.get(f"/api/documents/{a_doc['id']}/pages/1.png", headers=alice, params={"box": "0,0,1,1"})
        assert r.status_code == 200
        with Image.open(io.BytesIO(r.content)) as page:
            assert page.size != (77, 33) and page.width > 500  # her PDF, not the server's file
        # Written anyway as the owner (no policy): Bob's page is not rendered for her, and
        # deleting her document leaves Bob's file in place.
        await as_owner(world, "UPDATE documents SET render_key = $2, storage_key = $2 WHERE id = $1",
                       a_doc["id"], b_key)
        r = await client.get(f"/api/documents/{a_doc['id']}/pages/1.png", headers=alice)
        assert r.status_code == 422 and "нельзя показать" in r.json()["error"], r.text
        assert (await client.delete(f"/api/documents/{a_doc['id']}", headers=alice)).status_code == 204
        files = app.state.aizoomdoc.files
        assert await files.file_exists(b_key)
        r = await client.get(f"/api/documents/{b_doc['id']}/pages/3.png", headers=bob)
        assert r.status_code == 200


async def test_a_user_cannot_mint_his_own_api_token(world: World) -> None:
    token = "azd_" + "m" * 43
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_user(world.login_url, ALICE, "INSERT INTO api_tokens (id, user_id, token_hash) VALUES ($1, $2, $3)",
                      str(uuid.uuid4()), ALICE, hashlib.sha256(token.encode()).hexdigest())
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_user(world.login_url, ALICE, "UPDATE api_tokens SET user_id = $1", ALICE)
    # Listing and revoking his own tokens still works.
    assert await as_user(world.login_url, ALICE, "SELECT id FROM api_tokens") == []
    assert await as_user(world.login_url, ALICE, "DELETE FROM api_tokens WHERE user_id = $1", ALICE) == "DELETE 0"
    async with api_client(world.settings) as (app, client):
        assert (await client.get("/api/chats", headers=bearer(token))).status_code == 401
