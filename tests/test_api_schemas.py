"""The API's response models (api/schemas.py): /docs names them for the main routes, and they pass
the routes' JSON through as it was — no key added, nulls kept, extra keys kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aizoomdoc.config import Settings
from aizoomdoc.sample import write_drawing_set
from tests.support.api_client import QUESTION, api_client, wait_answer

#: (path, method, status) -> the model /openapi.json must name for the answer.
MAIN_ROUTES = {
    ("/api/chats", "get", "200"): "ChatList",
    ("/api/chats", "post", "201"): "ChatOut",
    ("/api/chats/{chat_id}", "get", "200"): "ChatHistory",
    ("/api/chats/{chat_id}", "patch", "200"): "ChatOut",
    ("/api/chats/{chat_id}/messages", "get", "200"): "MessageList",
    ("/api/chats/{chat_id}/messages", "post", "202"): "QuestionAccepted",
    ("/api/chats/{chat_id}/images", "get", "200"): "ImageList",
    ("/api/chats/{chat_id}/search-results", "get", "200"): "SearchResultList",
    ("/api/documents", "get", "200"): "DocumentList",
    ("/api/documents/{document_id}", "get", "200"): "DocumentDetail",
    ("/api/search", "get", "200"): "SearchHits",
    ("/api/status", "get", "200"): "StatusOut",
    ("/api/stats", "get", "200"): "StatsOut",
    ("/api/compare", "get", "200"): "ComparisonOut",
    ("/api/library/folders", "get", "200"): "FolderList",
    ("/api/library/folders/{folder_id}/files", "get", "200"): "LibraryFileList",
    ("/api/library/files/{file_id}", "get", "200"): "LibraryFileDetail",
}


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("set") / "133_23-GK-OV1.pdf"
    write_drawing_set(path)
    return path


def _ref(spec: dict[str, Any], path: str, method: str, status: str) -> str:
    schema = spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return schema["$ref"].rsplit("/", 1)[-1]


def _props(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["components"]["schemas"][name]["properties"]


async def test_openapi_names_the_response_models_of_the_main_routes(settings: Settings) -> None:
    async with api_client(settings) as (_app, client):
        spec = (await client.get("/openapi.json")).json()
    named = {key: _ref(spec, *key) for key in MAIN_ROUTES}
    assert named == MAIN_ROUTES
    # The models say what is inside: a message's images and found blocks, a document's status and
    # progress, the status badge's parts, a comparison's sheets and their changes.
    message = _props(spec, "MessageOut")
    assert {"role", "content", "metadata", "images", "search_results"} <= set(message)
    assert message["images"]["anyOf"][0]["items"]["$ref"].endswith("/ImageOut")
    assert "url" in _props(spec, "ImageOut")
    document = _props(spec, "DocumentOut")
    assert {"status", "status_text", "progress", "notes", "unreadable_pages", "can_render"} <= set(document)
    assert {"pages_done", "pages_total"} <= set(_props(spec, "DocumentProgress"))
    assert {"online", "database", "storage", "pending", "llm", "max_file_size_mb"} <= set(_props(spec, "StatusOut"))
    assert {"old_image", "new_image", "changes", "status"} <= set(_props(spec, "CompareSheet"))
    assert {"register", "summary", "sheets"} <= set(_props(spec, "ComparisonOut"))
    # Open models: a row's other columns pass through.
    assert spec["components"]["schemas"]["ChatOut"].get("additionalProperties") is True


async def test_answers_keep_their_json_as_the_routes_build_it(settings: Settings, pdf: Path) -> None:
    async with api_client(settings) as (_app, client):
        r = await client.post("/api/documents", params={"wait": "true"},
                              files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")})
        assert r.status_code == 201, r.text
        doc = r.json()["documents"][0]
        shown = (await client.get(f"/api/documents/{doc['id']}")).json()
        # A key the route leaves out stays out (no defaults added); nulls stay null.
        assert "unreadable_reason" not in shown and shown["error"] is None
        assert shown["progress"] == {"pages_done": shown["progress"]["pages_done"],
                                     "pages_total": shown["progress"]["pages_total"]}
        assert shown["pages"] and "text_layer" in shown["pages"][0]

        chat = (await client.post("/api/chats", json={"document_ids": [doc["id"]]})).json()
        assert chat["description"] is None and chat["document_ids"] == [doc["id"]]
        assert "user_id" in chat and "metadata" in chat  # the row's columns, extra to nothing
        r = await client.post(f"/api/chats/{chat['id']}/messages", json={"content": QUESTION})
        assert r.status_code == 202
        accepted = r.json()
        assert set(accepted) == {"chat_id", "question_id", "event_id", "events_url"}
        events = await wait_answer(client, chat["id"], accepted)
        assert events[-1].event == "answer"

        history = (await client.get(f"/api/chats/{chat['id']}")).json()
        assert set(history) == {"chat", "messages", "last_event_id", "active_after"}
        answer = history["messages"][-1]
        assert answer["role"] == "assistant" and answer["metadata"]["citations"]
        # The citation dicts keep every key the pipeline wrote (open-ended metadata).
        assert {"document_id", "page_number", "block_id"} <= set(answer["metadata"]["citations"][0])
        images = [im for m in history["messages"] for im in m["images"]]
        assert images and all("url" in im and "s3_path" in im for im in images)
        listed = (await client.get(f"/api/chats/{chat['id']}/messages")).json()
        assert listed["messages"] == history["messages"]

        found = (await client.get("/api/search", params={"q": "утеплитель кровли", "limit": 3})).json()
        assert found["query"] == "утеплитель кровли" and found["hits"]
        assert {"document_id", "block_id", "page_number", "text", "score", "coords_norm"} <= set(found["hits"][0])
        assert (await client.get(f"/api/documents/{doc['id']}/examples")).json()["questions"]

        status = (await client.get("/api/status")).json()
        assert status["pending"] == {} and status["database"]["backend"] == "sqlite"
