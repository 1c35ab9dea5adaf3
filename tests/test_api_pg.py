"""The HTTP API on a real PostgreSQL: ownership through the endpoints and Row Level Security
underneath them (a store call that forgot to check still sees nothing of another user)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aizoomdoc.config import Settings
from aizoomdoc.errors import AizoomdocError
from aizoomdoc.sample import write_drawing_set
from aizoomdoc.store import migrate
from aizoomdoc.store.database import Database
from tests.support.api_client import JWT_SECRET, QUESTION, api_client, bearer, sign_jwt, wait_answer

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pgset") / "set.pdf"
    write_drawing_set(path)
    return path


@pytest.fixture()
async def pg_settings(settings: Settings, pg_url: str) -> Settings:
    # Uploads processed by the server's own runner (the job queue and its workers: test_jobs_pg.py).
    s = Settings(_env_file=None, data_dir=settings.data_dir, database_url=pg_url, auth_mode="server",
                 supabase_jwt_secret=JWT_SECRET, jobs_backend="local")
    db = Database(s)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()
    return s


async def test_ownership_and_rls_on_postgresql(pg_settings: Settings, pdf: Path) -> None:
    alice, bob = bearer(sign_jwt("alice-pg")), bearer(sign_jwt("bob-pg"))
    async with api_client(pg_settings) as (app, client):
        state = app.state.aizoomdoc
        assert state.db.is_postgres
        r = await client.post("/api/documents", headers=alice, params={"wait": "true"},
                              files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")})
        assert r.status_code == 201, r.text
        doc = r.json()["documents"][0]
        chat = (await client.post("/api/chats", json={"document_ids": [doc["id"]]}, headers=alice)).json()
        r = await client.post(f"/api/chats/{chat['id']}/messages", json={"content": QUESTION}, headers=alice)
        assert r.status_code == 202
        events = await wait_answer(client, chat["id"], r.json(), alice)
        assert events[-1].event == "answer", events[-1].data
        hist = (await client.get(f"/api/chats/{chat['id']}", headers=alice)).json()
        assert [m["role"] for m in hist["messages"]] == ["user", "assistant"]
        image = hist["messages"][0]["images"][0]
        assert (await client.get(image["url"])).status_code == 200

        base = f"/api/chats/{chat['id']}"
        for method, path in [("GET", base), ("DELETE", base), ("GET", f"{base}/images"),
                             ("GET", f"{base}/images/{image['id']}"), ("GET", f"{base}/search-results"),
                             ("GET", f"{base}/events?after=0&until=x"), ("GET", f"/api/documents/{doc['id']}"),
                             ("GET", f"/api/documents/{doc['id']}/pages/1.png")]:
            r = await client.request(method, path, headers=bob)
            assert r.status_code == 404, (method, path, r.text)
        assert (await client.get("/api/chats", headers=bob)).json()["chats"] == []

        # Underneath the endpoints: the stores as Bob see nothing of Alice's (RLS), even when
        # asked directly by id, and cannot write into her chat.
        bob_store = state.store.for_user("bob-pg")
        assert await bob_store.get_chat(chat["id"]) is None
        assert await state.events.for_user("bob-pg").read(chat["id"]) == []
        assert await state.documents.get_row(doc["id"], user_id="bob-pg") is None
        with pytest.raises(AizoomdocError):
            await state.events.for_user("bob-pg").append(chat["id"], [("stage", {"type": "stage"})])
        plain = Database(pg_settings)
        try:
            from sqlalchemy import text

            async with plain.session(user_id="bob-pg") as conn:
                for table in ("chats", "chat_messages", "chat_images", "search_results", "chat_events"):
                    count = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
                    assert count == 0, table
            async with plain.session(user_id="alice-pg") as conn:
                assert (await conn.execute(text("SELECT count(*) FROM chat_events"))).scalar_one() == len(events)
        finally:
            await plain.dispose()
        assert len((await client.get(f"{base}/messages", headers=alice)).json()["messages"]) == 2


async def test_api_tokens_on_postgresql(pg_settings: Settings) -> None:
    from aizoomdoc.store.events import ApiTokenStore

    async with api_client(pg_settings) as (app, client):
        tokens = ApiTokenStore(app.state.aizoomdoc.db)
        token_id, token = await tokens.create("dave-pg", "bench")
        r = await client.get("/api/auth/me", headers=bearer(token))
        assert r.status_code == 200 and r.json()["user_id"] == "dave-pg"
        chat: dict[str, Any] = (await client.post("/api/chats", json={"title": "t"}, headers=bearer(token))).json()
        assert chat["user_id"] == "dave-pg"
        assert await tokens.revoke(token_id)
        from aizoomdoc.api import auth

        auth._token_cache.clear()
        assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 401
