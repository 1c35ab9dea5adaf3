"""The live event stream of a chat (Server-Sent Events), replayable from any worker.

Decision: events are **persisted** in the ``chat_events`` table (migration 003), numbered per chat.
The SSE ``id`` of an event is that number. A client that reconnects — to this worker or another
one — with ``Last-Event-ID: n`` (browsers send it automatically) or ``?after=n`` gets every event
numbered above ``n``, then live ones; nothing is lost between the disconnect and the reconnect.
Deriving events from stored messages was rejected: progress, tokens and images-as-they-render
exist before any message is written.

Each SSE message: ``event: <type>``, ``id: <n>``, ``data: {"event_id", "question_id", "type", …}``
with the pipeline event's fields (see ``pipeline/events.py``) plus a fresh signed ``url`` on every
image. Types: ``question``, ``stage``, ``hits``, ``token``, ``tool``, ``image``, ``answer``,
``error``. ``?until=<question_id>`` closes the stream after that question's ``answer``/``error``.

Live delivery: an event written by this worker wakes its streams at once; on PostgreSQL every append
also sends ``NOTIFY aizoomdoc_chat_events`` and each worker LISTENs, so streams on other workers
wake at once too (with a slow safety-net poll). Without notifications (SQLite, a transaction
pooler, the listener reconnecting) streams poll every ``API_EVENTS_POLL_INTERVAL`` seconds (an
indexed range read on the primary key).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette.sse import EventSourceResponse, ServerSentEvent

from aizoomdoc.api.deps import Ctx, get_ctx
from aizoomdoc.api.runner import TERMINAL
from aizoomdoc.errors import NotFoundError
from aizoomdoc.texts import t

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/chats/{chat_id}/events", tags=["events"])

BATCH = 200
PING_SECONDS = 15
CHAT_CHECK_SECONDS = 10.0
RETRY_MS = 1000


def enrich(ctx: Ctx, row: dict[str, Any], chat_id: str) -> dict[str, Any]:
    """The event as sent: stored data + ids + fresh signed links for images (only for keys in
    this chat's folder: event data is a column the user can write)."""
    data = dict(row["data"] or {})
    data["event_id"] = row["id"]
    data["question_id"] = row.get("question_id")
    data.setdefault("type", row["type"])
    state = ctx.state
    if row["type"] == "image" and isinstance(data.get("image"), dict):
        data["image"] = state.image_out(data["image"], chat_id)
    elif row["type"] == "answer" and isinstance(data.get("result"), dict):
        result = dict(data["result"])
        result["images"] = [state.image_out(i, chat_id) for i in result.get("images") or []
                            if isinstance(i, dict)]
        data["result"] = result
    return data


def _start_after(last_event_id: str | None, after: int | None) -> int:
    if last_event_id:
        try:
            return max(0, int(last_event_id.strip()))
        except ValueError:
            pass
    return max(0, after or 0)


@router.get("", summary=t("api.events.stream_events.summary"))
async def stream_events(
    chat_id: str,
    request: Request,
    ctx: Ctx = Depends(get_ctx),
    after: int | None = Query(None, ge=0, description=t("api.events.stream_events.after.description")),
    until: str | None = Query(None, max_length=64, description=t("api.events.stream_events.until.description")),
    last_event_id: str | None = Header(None, alias="Last-Event-ID"),
) -> EventSourceResponse:
    own_id = str((await ctx.chat(chat_id))["id"])
    start = _start_after(last_event_id, after)
    notifier = ctx.state.notifier
    lease = ctx.state.streams.acquire(ctx.user_id)  # 429 past API_MAX_STREAMS_PER_USER

    async def events() -> AsyncIterator[ServerSentEvent]:
        try:
            async for event in _events():
                yield event
        finally:
            lease.release()

    async def _events() -> AsyncIterator[ServerSentEvent]:
        last = start
        first = True
        checked = time.monotonic()
        while True:
            seen = notifier.version(chat_id)
            rows = await ctx.events.read(chat_id, last, BATCH)
            for row in rows:
                last = row["id"]
                payload = enrich(ctx, row, own_id)
                yield ServerSentEvent(data=json.dumps(payload, ensure_ascii=False), event=row["type"],
                                      id=str(row["id"]), retry=RETRY_MS if first else None)
                first = False
                if until and row.get("question_id") == until and row["type"] in TERMINAL:
                    return
            if len(rows) == BATCH:
                continue
            if await request.is_disconnected():
                return
            if time.monotonic() - checked > CHAT_CHECK_SECONDS:
                checked = time.monotonic()
                try:
                    await ctx.chat(chat_id)
                except NotFoundError:
                    return  # the chat was deleted
            await notifier.wait(chat_id, seen, ctx.state.poll_interval())

    return EventSourceResponse(events(), ping=PING_SECONDS, headers={"Cache-Control": "no-store",
                                                                       "X-Accel-Buffering": "no"})


__all__ = ["enrich", "router"]
