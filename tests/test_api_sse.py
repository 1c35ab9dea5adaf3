"""The live event stream over real sockets: a client disconnects in the middle of a question and
reconnects — to another server process sharing the database — with Last-Event-ID, and misses
nothing. Two `aizoomdoc serve` processes on PostgreSQL, a scripted LLM that takes its time."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from aizoomdoc.config import Settings
from aizoomdoc.sample import write_drawing_set
from aizoomdoc.store import migrate
from aizoomdoc.store.database import Database
from tests.support.api_client import JWT_SECRET, QUESTION, LiveServer, bearer, parse_sse, sign_jwt
from tests.support.llm_server import ScriptedLLM, delay, text, tool_call

pytestmark = pytest.mark.postgres


def _unsigned(data: Any) -> str:
    """``data`` as JSON with the query strings of links (signature, expiry) cut off."""
    return re.sub(r'(https?://[^"?]*|/files/[^"?]*)\?[^"]*', r"\1", json.dumps(data, sort_keys=True))


def read_events(resp: httpx.Response, stop_after: int | None = None) -> list[Any]:
    """SSE events from a streaming response; with ``stop_after``, return after that many."""
    events: list[Any] = []
    block: list[str] = []
    for line in resp.iter_lines():
        if line:
            block.append(line)
            continue
        if block:
            events += parse_sse("\n".join(block) + "\n\n")
            block = []
            if stop_after is not None and len(events) >= stop_after:
                break
    return events


async def test_stream_resumed_on_another_worker_with_last_event_id_misses_nothing(
        settings: Settings, pg_url: str, tmp_path: Path) -> None:
    s = Settings(_env_file=None, data_dir=settings.data_dir, database_url=pg_url)
    db = Database(s)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()
    pdf = tmp_path / "set.pdf"
    write_drawing_set(pdf)
    answer = "Утеплитель кровли П-1 — минераловатные плиты толщиной 150 мм (стр. 4, блок p4-b11)."
    script = [delay(0.7, tool_call("zoom", {"image_id": "v1", "cell": "B2"})),
              delay(0.7, tool_call("zoom", {"image_id": "v1", "cell": "A1"})),
              delay(0.7, text(answer))]
    with ScriptedLLM(script, default=text(answer)) as llm:
        env = {"DATA_DIR": str(settings.data_dir), "DATABASE_URL": pg_url, "AUTH_MODE": "server",
               "SUPABASE_JWT_SECRET": JWT_SECRET, "LLM_BASE_URL": llm.base_url, "LLM_API_KEY": "sk-test",
               "LLM_MODEL": "vision/test", "LLM_MAX_RETRIES": "0", "LOG_LEVEL": "WARNING",
               "JOBS_BACKEND": "local"}
        with LiveServer(env, log=tmp_path / "a.log") as a, LiveServer(env, log=tmp_path / "b.log") as b:
            auth = bearer(sign_jwt("alice-sse"))
            with httpx.Client(timeout=30, headers=auth) as http:
                r = http.post(a.url + "/api/documents", params={"wait": "true"}, files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")})
                assert r.status_code == 201, r.text
                doc = r.json()["documents"][0]
                chat = http.post(a.url + "/api/chats", json={"document_ids": [doc["id"]]}).json()
                accepted = http.post(a.url + f"/api/chats/{chat['id']}/messages", json={"content": QUESTION}).json()
                events_url = f"/api/chats/{chat['id']}/events"

                # First connection (server A): read a few events, then drop the connection.
                with http.stream("GET", a.url + events_url, params={"after": accepted["event_id"] - 1}) as resp:
                    assert resp.headers["content-type"].startswith("text/event-stream")
                    first = read_events(resp, stop_after=3)
                dropped_at = time.time()
                assert [e.event for e in first][0] == "question"
                assert all(e.event not in ("answer", "error") for e in first), "the question finished too fast"
                time.sleep(1.0)  # events keep coming while nobody listens

                # Reconnect to server B the way EventSource does: Last-Event-ID header.
                with http.stream("GET", b.url + events_url, params={"until": accepted["question_id"]},
                                 headers={"Last-Event-ID": str(first[-1].id)}) as resp:
                    rest = read_events(resp)
                full = parse_sse(http.get(b.url + events_url, params={"after": accepted["event_id"] - 1,
                                                                      "until": accepted["question_id"]}).text)
            seen = first + rest
            ids = [e.id for e in seen]
            assert ids == list(range(accepted["event_id"], accepted["event_id"] + len(ids))), ids
            assert [(e.id, e.event) for e in seen] == [(e.id, e.event) for e in full]
            # Same content; image links are signed when served, so their expiry may differ by a second.
            assert [_unsigned(e.data) for e in seen if e.event != "image"] == \
                   [_unsigned(e.data) for e in full if e.event != "image"]
            assert seen[-1].event == "answer" and "150 мм" in seen[-1].data["result"]["answer"]
            kinds = {e.event for e in rest}
            assert {"image", "tool", "token"} <= kinds  # zooms and tokens happened during or after the gap
            zooms = [e for e in seen if e.event == "image" and e.data["image"]["image_type"] == "zoom_crop"]
            assert len(zooms) == 2
            assert any(e.event == "tool" for e in rest) and dropped_at > 0
            assert len(llm.requests) == 3
