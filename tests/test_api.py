"""The HTTP API on SQLite + local files, in process: every endpoint, auth, ownership, signed links,
upload limits, errors as JSON. (PostgreSQL/RLS: test_api_pg.py; SSE resume over real sockets:
test_api_sse.py; the browser: test_web_browser.py.)"""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from aizoomdoc.config import Settings
from aizoomdoc.sample import SyntheticSet, write_drawing_set
from tests.support.api_client import JWT_SECRET, QUESTION, api_client, bearer, sign_jwt, wait_answer


@pytest.fixture(scope="module")
def synthetic_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticSet, Path]:
    path = tmp_path_factory.mktemp("set") / "133_23-GK-OV1.pdf"
    return write_drawing_set(path), path


@pytest.fixture()
def pdf(synthetic_pdf: tuple[SyntheticSet, Path]) -> Path:
    return synthetic_pdf[1]


def server_settings(settings: Settings, **kw: Any) -> Settings:
    return Settings(_env_file=None, data_dir=settings.data_dir, auth_mode="server",
                    supabase_jwt_secret=JWT_SECRET, **kw)


async def upload(client: Any, pdf: Path, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    """Upload and wait for the document to be processed (``?wait=true``)."""
    r = await client.post("/api/documents", params={"wait": "true", **params}, headers=headers or {},
                          files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")})
    assert r.status_code == 201, r.text
    return r.json()["documents"][0]


async def ask_and_wait(client: Any, chat_id: str, question: str = QUESTION,
                       headers: dict[str, str] | None = None) -> list[Any]:
    r = await client.post(f"/api/chats/{chat_id}/messages", json={"content": question}, headers=headers or {})
    assert r.status_code == 202, r.text
    return await wait_answer(client, chat_id, r.json(), headers)


def red_pixels(png: bytes) -> int:
    import numpy as np

    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int(((a[..., 0] > 180) & (a[..., 1] < 80) & (a[..., 2] < 80)).sum())


# --------------------------------------------------------------------------------------------
# The whole flow, local mode
# --------------------------------------------------------------------------------------------
async def test_local_flow_upload_chat_ask_stream_history_images_search_page(settings: Settings, pdf: Path,
                                                                             synthetic_pdf: Any) -> None:
    async with api_client(settings) as (app, client):
        r = await client.get("/api/status")
        assert r.status_code == 200
        status = r.json()
        assert status["online"] is True and status["database"]["backend"] == "sqlite"
        assert status["auth_mode"] == "local" and status["llm"]["offline"] is True

        doc = await upload(client, pdf)
        assert doc["page_count"] == 4 and doc["block_count"] > 50 and doc["can_render"]
        r = await client.get("/api/documents")
        assert [d["id"] for d in r.json()["documents"]] == [doc["id"]]
        r = await client.get(f"/api/documents/{doc['id']}")
        assert r.status_code == 200 and len(r.json()["pages"]) == 4
        assert "source_path" not in r.json()  # no server paths leak

        r = await client.post("/api/chats", json={"document_ids": [doc["id"]]})
        assert r.status_code == 201
        chat = r.json()
        assert chat["title"] == "Новый чат" and chat["document_ids"] == [doc["id"]]

        events = await ask_and_wait(client, chat["id"])
        types = [e.event for e in events]
        assert types[0] == "question" and types[-1] == "answer"
        assert "stage" in types and "hits" in types and "token" in types and "image" in types
        ids = [e.id for e in events]
        assert ids == list(range(ids[0], ids[0] + len(ids)))  # every event numbered, no gaps
        assert len({e.data["question_id"] for e in events}) == 1
        answer = events[-1].data["result"]
        # The question names «П-1» (and a no-hit answer repeats it): the thickness is what must be there.
        assert "150 мм" in answer["answer"], answer["answer"]
        cited_pages = {c["page_number"] for c in answer["citations"]}
        roof = next(r for r in synthetic_pdf[0].regions if "Утеплитель кровли П-1" in r.text)
        assert roof.page_index + 1 in cited_pages
        image_events = [e for e in events if e.event == "image"]
        assert all(e.data["image"]["url"].startswith("/files/") for e in image_events)

        # The chat took the question as its title; history comes from the store.
        r = await client.get(f"/api/chats/{chat['id']}")
        body = r.json()
        assert body["chat"]["title"] == QUESTION
        assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
        assert body["last_event_id"] == events[-1].id and body["active_after"] == events[-1].id
        user_msg, asst = body["messages"]
        assert user_msg["images"] and user_msg["search_results"]
        assert asst["metadata"]["citations"]

        r = await client.get(f"/api/chats/{chat['id']}/messages")
        assert [m["id"] for m in r.json()["messages"]] == [user_msg["id"], asst["id"]]

        # Images: list with fresh signed links that load; the redirect; the record.
        r = await client.get(f"/api/chats/{chat['id']}/images")
        images = r.json()["images"]
        assert len(images) == len(image_events)
        r = await client.get(images[0]["url"])
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(r.content)).size == (images[0]["width"], images[0]["height"])
        r = await client.get(f"/api/chats/{chat['id']}/images/{images[0]['id']}")
        assert r.status_code == 307 and r.headers["location"].startswith("/files/")
        r = await client.get(f"/api/chats/{chat['id']}/images/{images[0]['id']}/info")
        assert r.json()["id"] == images[0]["id"]

        # Search results of the chat and of one message.
        r = await client.get(f"/api/chats/{chat['id']}/search-results")
        results = r.json()["results"]
        roof_hit = next(x for x in results if "Утеплитель кровли П-1" in x["block_text"])
        assert roof_hit["page_number"] == roof.page_index + 1 and roof_hit["coords_norm"]
        r = await client.get(f"/api/chats/{chat['id']}/search-results", params={"message_id": user_msg["id"]})
        assert len(r.json()["results"]) == len(results)

        # The page of a citation with the hit boxes drawn.
        cite = next(c for c in answer["citations"] if c["block_id"] == roof_hit["block_id"])
        plain = await client.get(f"/api/documents/{doc['id']}/pages/{cite['page_number']}.png")
        marked = await client.get(f"/api/documents/{doc['id']}/pages/{cite['page_number']}.png",
                                  params={"box": ",".join(map(str, cite["coords_norm"])), "chat_id": chat["id"],
                                          "message_id": user_msg["id"]})
        assert plain.status_code == marked.status_code == 200
        assert marked.headers["content-type"] == "image/png"
        assert red_pixels(marked.content) > red_pixels(plain.content) + 50
        r = await client.get(f"/api/documents/{doc['id']}/pages/99.png")
        assert r.status_code == 404 and "страницы 99" in r.json()["error"]
        r = await client.get(f"/api/documents/{doc['id']}/pages/1.png", params={"box": "1,2,3"})
        assert r.status_code == 422


async def test_chat_list_filter_rename_archive_delete(settings: Settings, pdf: Path) -> None:
    async with api_client(settings) as (app, client):
        doc = await upload(client, pdf)
        a = (await client.post("/api/chats", json={"title": "Вентиляция 3 этаж", "document_ids": [doc["id"]]})).json()
        b = (await client.post("/api/chats", json={"title": "Кровля"})).json()
        r = await client.get("/api/chats")
        assert [c["id"] for c in r.json()["chats"]] == [b["id"], a["id"]]
        r = await client.get("/api/chats", params={"q": "вентиляц"})
        assert [c["id"] for c in r.json()["chats"]] == [a["id"]]

        r = await client.patch(f"/api/chats/{a['id']}", json={"title": "Вентиляция, этаж 3"})
        assert r.status_code == 200 and r.json()["title"] == "Вентиляция, этаж 3"
        r = await client.patch(f"/api/chats/{a['id']}", json={"title": "   "})
        assert r.status_code == 422 and r.json()["error"]
        r = await client.patch(f"/api/chats/{b['id']}", json={"is_archived": True})
        assert r.json()["is_archived"] is True
        assert [c["id"] for c in (await client.get("/api/chats")).json()["chats"]] == [a["id"]]
        assert [c["id"] for c in (await client.get("/api/chats", params={"archived": "true"})).json()["chats"]] == [b["id"]]
        assert len((await client.get("/api/chats", params={"archived": "all"})).json()["chats"]) == 2
        r = await client.patch(f"/api/chats/{b['id']}", json={"document_ids": [doc["id"]]})
        assert r.json()["document_ids"] == [doc["id"]]
        r = await client.patch(f"/api/chats/{b['id']}", json={"document_ids": ["00000000-0000-0000-0000-000000000000"]})
        assert r.status_code == 404

        await ask_and_wait(client, a["id"])
        files = settings.files_dir / "chats" / a["id"]
        assert files.is_dir() and any(files.rglob("*.png"))
        r = await client.delete(f"/api/chats/{a['id']}")
        assert r.status_code == 204
        assert (await client.get(f"/api/chats/{a['id']}")).status_code == 404
        assert (await client.get(f"/api/chats/{a['id']}/events", params={"after": 0})).status_code == 404
        assert not any(files.rglob("*.png")) if files.exists() else True


async def test_question_validation_and_errors_are_json(settings: Settings, pdf: Path) -> None:
    async with api_client(settings) as (app, client):
        chat = (await client.post("/api/chats", json={})).json()
        r = await client.post(f"/api/chats/{chat['id']}/messages", json={"content": "   "})
        assert r.status_code == 422 and "Вопрос пустой" in r.json()["error"]
        r = await client.post(f"/api/chats/{chat['id']}/messages", json={"content": QUESTION})
        assert r.status_code == 422 and "не прикреплено" in r.json()["error"]
        r = await client.post(f"/api/chats/{chat['id']}/messages", json={})
        assert r.status_code == 422 and r.json()["error"].startswith("Неверный запрос")
        for path in ("/api/chats/not-a-uuid", "/api/chats/00000000-0000-0000-0000-000000000000",
                     "/api/documents/zzz", "/api/nothing-here"):
            r = await client.get(path)
            assert r.status_code == 404, path
            assert set(r.json()) <= {"error", "key"} and "Traceback" not in r.text

        # A question whose document was deleted meanwhile: an error event, then nothing hangs.
        doc = await upload(client, pdf)
        chat = (await client.post("/api/chats", json={"document_ids": [doc["id"]]})).json()
        r = await client.post(f"/api/chats/{chat['id']}/messages", json={"content": QUESTION})
        accepted = r.json()
        events = await wait_answer(client, chat["id"], accepted)
        assert events[-1].event == "answer"
        assert (await client.delete(f"/api/documents/{doc['id']}")).status_code == 204
        r = await client.post(f"/api/chats/{chat['id']}/messages", json={"content": QUESTION})
        events = await wait_answer(client, chat["id"], r.json())
        assert events[-1].event == "error" and events[-1].data["message"]
        assert (await client.get(f"/api/documents/{doc['id']}")).status_code == 404


# --------------------------------------------------------------------------------------------
# Uploads
# --------------------------------------------------------------------------------------------
async def test_oversize_upload_is_refused_with_413_and_nothing_is_stored(settings: Settings, pdf: Path) -> None:
    small = Settings(_env_file=None, data_dir=settings.data_dir, max_file_size_mb=0.02)  # 20 KB
    big = b"%PDF-1.7\n" + b"0" * 300_000
    async with api_client(small) as (app, client):
        r = await client.post("/api/documents", files={"file": ("большой.pdf", big, "application/pdf")})
        assert r.status_code == 413
        assert "большой.pdf" in r.json()["error"] and "0.02 МБ" in r.json()["error"]
        r = await client.post("/api/documents", params={"filename": "raw.pdf"}, content=big,
                              headers={"content-type": "application/pdf"})
        assert r.status_code == 413 and "raw.pdf" in r.json()["error"]

        async def chunks():  # no Content-Length: the limit is enforced while streaming
            for _ in range(40):
                yield b"0" * 10_000

        r = await client.post("/api/documents", params={"filename": "stream.pdf"}, content=chunks(),
                              headers={"content-type": "application/octet-stream"})
        assert r.status_code == 413
        assert (await client.get("/api/documents")).json()["documents"] == []
    assert not list((settings.data_dir / "uploads").glob("*/*")) if (settings.data_dir / "uploads").exists() else True
    assert not (settings.files_dir / "documents").exists() or not any((settings.files_dir / "documents").rglob("*"))


async def test_upload_progress_stream_bad_file_and_chat_attach(settings: Settings, pdf: Path) -> None:
    async with api_client(settings) as (app, client):
        chat = (await client.post("/api/chats", json={})).json()
        r = await client.post("/api/documents", params={"chat_id": chat["id"]},
                              headers={"Accept": "application/x-ndjson"},
                              files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")})
        assert r.status_code == 201 and r.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(x) for x in r.text.splitlines()]
        stages = [x["stage"] for x in lines if x["type"] == "progress"]
        assert stages[0] == "read" and "index" in stages
        assert all(x["message"] for x in lines if x["type"] == "progress")
        assert [x["type"] for x in lines][-2:] == ["document", "done"]
        doc = lines[-2]["document"]
        assert (await client.get(f"/api/chats/{chat['id']}")).json()["chat"]["document_ids"] == [doc["id"]]
        # The same file again: the same document, nothing new.
        again = await upload(client, pdf)
        assert again["id"] == doc["id"] and again["created"] is False

        r = await client.post("/api/documents", files={"file": ("broken.pdf", b"%PDF-1.7 not really", "application/pdf")})
        assert r.status_code == 422 and "«broken.pdf»" in r.json()["error"]
        # The uploader's file name, not the temporary path on the server; no English library detail.
        assert str(settings.data_dir) not in r.json()["error"] and "uploads" not in r.json()["error"]
        assert not re.search(r"[A-Za-z]{4,}", r.json()["error"].replace("broken.pdf", "")), r.json()["error"]
        r = await client.post("/api/documents", headers={"Accept": "application/x-ndjson"},
                              files={"file": ("notes.txt", b"hello", "text/plain")})
        [err] = [json.loads(x) for x in r.text.splitlines() if json.loads(x)["type"] == "error"]
        assert "«notes.txt» не распознан" in err["error"] and str(settings.data_dir) not in err["error"], err
        r = await client.post("/api/documents", content=b"x", headers={"content-type": "application/pdf"})
        assert r.status_code == 422 and "нет файла" in r.json()["error"]
        assert len((await client.get("/api/documents")).json()["documents"]) == 1


# --------------------------------------------------------------------------------------------
# Signed links
# --------------------------------------------------------------------------------------------
async def test_forged_expired_and_unsigned_file_links_are_refused(settings: Settings) -> None:
    async with api_client(settings) as (app, client):
        files = app.state.aizoomdoc.files
        key = "chats/11111111-1111-1111-1111-111111111111/images/v1.png"
        png = io.BytesIO()
        Image.new("RGB", (8, 8), (0, 128, 0)).save(png, format="PNG")
        await files.upload_bytes(png.getvalue(), key, content_type="image/png")
        good = app.state.aizoomdoc.link(key)
        r = await client.get(good)
        assert r.status_code == 200 and r.content == png.getvalue()
        assert "sandbox" in r.headers["content-security-policy"]

        expired = files.signer.sign_url(key, 60, now=time.time() - 3600)
        r = await client.get(expired.replace(settings.public_base_url, ""))
        assert r.status_code == 403 and "истёк" in r.json()["error"]
        sig = good.rsplit("sig=", 1)[1]
        forged = good.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
        r = await client.get(forged)
        assert r.status_code == 403 and "недействительна" in r.json()["error"]
        other = good.replace("v1.png", "v2.png")  # a valid signature for another key
        assert (await client.get(other)).status_code == 403
        later = good.replace("expires=", "expires=9")  # a longer life than signed
        assert (await client.get(later)).status_code == 403
        assert (await client.get(f"/files/{key}")).status_code == 403
        assert (await client.get("/files/../../etc/passwd?expires=1&sig=x")).status_code in (403, 404)


# --------------------------------------------------------------------------------------------
# Auth and ownership (server mode)
# --------------------------------------------------------------------------------------------
async def test_server_mode_auth_jwt_tokens_cookie_and_csrf(settings: Settings) -> None:
    from aizoomdoc.store.events import ApiTokenStore

    s = server_settings(settings)
    async with api_client(s) as (app, client):
        r = await client.get("/api/chats")
        assert r.status_code == 401 and "Authorization" in r.json()["error"]
        assert r.headers["www-authenticate"] == "Bearer"
        assert (await client.get("/api/status")).status_code == 200  # the badge works before login

        ok = sign_jwt("alice")
        r = await client.get("/api/auth/me", headers=bearer(ok))
        assert r.json() == {"user_id": "alice", "via": "jwt", "auth_mode": "server"}
        cases = {
            "истёк": sign_jwt("alice", exp_in=-120),
            "подпись": sign_jwt("alice", secret="another-secret-another-secret-123"),
            "аудитория": sign_jwt("alice", aud="anon"),
            "повреждён": "abc.def.ghi",
        }
        for word, token in cases.items():
            r = await client.get("/api/chats", headers=bearer(token))
            assert r.status_code == 401 and word in r.json()["error"], (word, r.text)
        import jwt as pyjwt

        no_sub = pyjwt.encode({"aud": "authenticated", "exp": int(time.time()) + 60}, JWT_SECRET, algorithm="HS256")
        r = await client.get("/api/chats", headers=bearer(no_sub))
        assert r.status_code == 401 and "sub" in r.json()["error"]

        tokens = ApiTokenStore(app.state.aizoomdoc.db)
        token_id, token = await tokens.create("carol", "ci")
        row = (await tokens.list("carol"))[0]
        assert token not in json.dumps(row) and row["id"] == token_id
        r = await client.get("/api/auth/me", headers=bearer(token))
        assert r.json()["user_id"] == "carol" and r.json()["via"] == "token"
        r = await client.get("/api/chats", headers=bearer("azd_" + "x" * 43))
        assert r.status_code == 401 and "не найден" in r.json()["error"]

        # Browser session: token -> HttpOnly cookie; writes need the X-AIZoomDoc header.
        del client.headers["X-AIZoomDoc"]  # sent by default by the test client, as by the web UI
        r = await client.post("/api/auth/session", json={"token": ok})
        assert r.status_code == 200 and "httponly" in r.headers["set-cookie"].lower()
        assert "samesite=strict" in r.headers["set-cookie"].lower()
        r = await client.get("/api/chats")
        assert r.status_code == 200
        r = await client.post("/api/chats", json={"title": "x"})
        assert r.status_code == 403 and "X-AIZoomDoc" in r.json()["error"]
        r = await client.post("/api/chats", json={"title": "x"}, headers={"X-AIZoomDoc": "1"})
        assert r.status_code == 201
        await client.delete("/api/auth/session", headers={"X-AIZoomDoc": "1"})
        client.cookies.clear()
        assert (await client.get("/api/chats")).status_code == 401


async def test_local_mode_refuses_non_loopback_clients(settings: Settings) -> None:
    async with api_client(settings, client_host="10.1.2.3") as (app, client):
        r = await client.get("/api/chats")
        assert r.status_code == 403 and "AUTH_MODE=server" in r.json()["error"]


async def test_another_users_chat_images_results_documents_are_404(settings: Settings, pdf: Path) -> None:
    s = server_settings(settings)
    alice, bob = bearer(sign_jwt("alice")), bearer(sign_jwt("bob"))
    async with api_client(s) as (app, client):
        doc = await upload(client, pdf, alice)
        chat = (await client.post("/api/chats", json={"document_ids": [doc["id"]]}, headers=alice)).json()
        await ask_and_wait(client, chat["id"], headers=alice)
        hist = (await client.get(f"/api/chats/{chat['id']}", headers=alice)).json()
        user_msg = hist["messages"][0]
        image = user_msg["images"][0]
        cid, base = chat["id"], f"/api/chats/{chat['id']}"

        for method, path, body in [
            ("GET", base, None), ("PATCH", base, {"title": "мой"}), ("DELETE", base, None),
            ("GET", f"{base}/messages", None), ("POST", f"{base}/messages", {"content": QUESTION}),
            ("GET", f"{base}/events?after=0&until=x", None), ("GET", f"{base}/images", None),
            ("GET", f"{base}/images/{image['id']}", None), ("GET", f"{base}/images/{image['id']}/info", None),
            ("GET", f"{base}/search-results", None),
            ("GET", f"{base}/search-results?message_id={user_msg['id']}", None),
            ("GET", f"/api/documents/{doc['id']}", None), ("DELETE", f"/api/documents/{doc['id']}", None),
            ("GET", f"/api/documents/{doc['id']}/pages/1.png", None),
        ]:
            r = await client.request(method, path, json=body, headers=bob)
            assert r.status_code == 404, (method, path, r.status_code, r.text)
            assert "error" in r.json()
        assert (await client.get("/api/chats", headers=bob)).json()["chats"] == []
        assert (await client.get("/api/documents", headers=bob)).json()["documents"] == []
        r = await client.post("/api/chats", json={"document_ids": [doc["id"]]}, headers=bob)
        assert r.status_code == 404
        # Bob's own document does not open Alice's chat hits on the page view either.
        bob_doc = await upload(client, pdf, bob)
        assert bob_doc["id"] != doc["id"]
        r = await client.get(f"/api/documents/{bob_doc['id']}/pages/1.png", params={"chat_id": cid}, headers=bob)
        assert r.status_code == 404
        r = await client.post("/api/documents", params={"chat_id": cid}, headers=bob,
                              files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")})
        assert r.status_code == 404

        # Nothing of Alice's changed.
        again = (await client.get(base, headers=alice)).json()
        assert again["chat"]["title"] == hist["chat"]["title"] and len(again["messages"]) == 2
        assert (await client.get(f"/api/documents/{doc['id']}", headers=alice)).status_code == 200


async def test_openapi_docs_and_web_ui_are_served(settings: Settings) -> None:
    async with api_client(settings) as (app, client):
        r = await client.get("/docs")
        assert r.status_code == 200 and "swagger" in r.text.lower()
        spec = (await client.get("/openapi.json")).json()
        assert "/api/chats/{chat_id}/events" in spec["paths"]
        r = await client.get("/")
        assert r.status_code == 200 and 'lang="ru"' in r.text
        assert "script-src 'self'" in r.headers["content-security-policy"]
        for name in ("app.js", "i18n.js", "markdown.js", "api.js", "style.css"):
            assert (await client.get(f"/static/{name}")).status_code == 200, name


@pytest.mark.s3
async def test_images_on_s3_are_presigned_links_that_load_and_expire(settings: Settings, pdf: Path,
                                                                      s3_server: Any, s3_bucket: str) -> None:
    import httpx

    s = Settings(_env_file=None, data_dir=settings.data_dir, use_s3_storage=True,
                 s3_endpoint_url=s3_server.endpoint_url, s3_region=s3_server.region,
                 s3_access_key=s3_server.access_key, s3_secret_key=s3_server.secret_key, s3_bucket=s3_bucket,
                 s3_addressing_style="path", s3_url_expiration=60)
    async with api_client(s) as (app, client):
        doc = await upload(client, pdf)
        chat = (await client.post("/api/chats", json={"document_ids": [doc["id"]]})).json()
        events = await ask_and_wait(client, chat["id"])
        assert events[-1].event == "answer"
        images = (await client.get(f"/api/chats/{chat['id']}/images")).json()["images"]
        url = images[0]["url"]
        assert url.startswith(s3_server.endpoint_url) and "X-Amz-Signature=" in url
        assert s3_server.endpoint_url in (await client.get("/")).headers["content-security-policy"]
        async with httpx.AsyncClient(timeout=10) as http:
            r = await http.get(url)
            assert r.status_code == 200 and r.content[:4] == b"\x89PNG"
            sig = url.rsplit("X-Amz-Signature=", 1)[1][:64]
            forged = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
            assert (await http.get(forged)).status_code == 403
        r = await client.get(f"/api/chats/{chat['id']}/images/{images[0]['id']}")
        assert r.status_code == 307 and r.headers["location"].startswith(s3_server.endpoint_url)
        assert (await client.get("/files/" + images[0]["s3_path"])).status_code == 404  # no local serving
