"""Chats: list (with filter), create, show (history from the store), rename/archive, delete."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from aizoomdoc.api.deps import Ctx, get_ctx
from aizoomdoc.api.schemas import OUT, ChatHistory, ChatList, ChatOut
from aizoomdoc.errors import InvalidInputError, NotFoundError
from aizoomdoc.texts import t

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/chats", tags=["chats"])

#: Events scanned for unfinished questions when a chat is opened, and how old such a question may be.
ACTIVE_WINDOW = 300
ACTIVE_QUESTION_SECONDS = 15 * 60


class ChatIn(BaseModel):
    title: str | None = Field(None, max_length=500)
    description: str | None = Field(None, max_length=5000)
    document_ids: list[str] = Field(default_factory=list, max_length=50)


class ChatPatch(BaseModel):
    title: str | None = Field(None, max_length=500)
    description: str | None = Field(None, max_length=5000)
    is_archived: bool | None = None
    document_ids: list[str] | None = Field(None, max_length=50)


def chat_out(chat: dict[str, Any]) -> dict[str, Any]:
    out = dict(chat)
    out["document_ids"] = list((chat.get("metadata") or {}).get("document_ids") or [])
    return out


async def check_documents(ctx: Ctx, document_ids: list[str]) -> list[str]:
    """The ids, deduplicated, each an existing document of the caller (else 404)."""
    out: list[str] = []
    for doc_id in dict.fromkeys(str(d) for d in document_ids):
        row = await ctx.state.documents.get_row(doc_id, user_id=ctx.user_id)
        if row is None:
            raise NotFoundError("api.document_not_found", document_id=doc_id[:60])
        out.append(str(row["id"]))
    return out


def message_out(ctx: Ctx, message: dict[str, Any], chat_id: str) -> dict[str, Any]:
    out = dict(message)
    if "images" in out:
        out["images"] = [ctx.state.image_out(i, chat_id) for i in out["images"]]
    return out


@router.get("", summary=t("api.chats.list_chats.summary"), response_model=ChatList, **OUT)
async def list_chats(
    ctx: Ctx = Depends(get_ctx),
    archived: Literal["false", "true", "all"] = Query("false",
                                                      description=t("api.chats.list_chats.archived.description")),
    q: str | None = Query(None, max_length=200, description=t("api.chats.list_chats.q.description")),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    rows = await ctx.store.get_chats(ctx.user_id, limit=limit if archived == "false" and not q else 1000,
                                     include_archived=archived != "false")
    if archived == "true":
        rows = [r for r in rows if r.get("is_archived")]
    if q and q.strip():
        needle = q.strip().casefold()
        rows = [r for r in rows if needle in (r.get("title") or "").casefold()
                or needle in (r.get("description") or "").casefold()]
    return {"chats": [chat_out(r) for r in rows[:limit]]}


@router.post("", status_code=201, summary=t("api.chats.create_chat.summary"), response_model=ChatOut, **OUT)
async def create_chat(body: ChatIn, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    doc_ids = await check_documents(ctx, body.document_ids)
    title = (body.title or "").strip() or t("api.default_chat_title")
    chat_id = await ctx.store.create_chat(title, ctx.user_id, description=body.description,
                                          metadata={"document_ids": doc_ids})
    return chat_out(await ctx.chat(chat_id))


@router.get("/{chat_id}", summary=t("api.chats.get_chat.summary"),
            response_model=ChatHistory, **OUT)
async def get_chat(chat_id: str, ctx: Ctx = Depends(get_ctx),
                   limit: int | None = Query(None, ge=1, le=10_000)) -> dict[str, Any]:
    chat = await ctx.chat(chat_id)
    history = await ctx.store.get_chat_history(chat_id, limit=limit)
    last = await ctx.events.last_id(chat_id)
    return {
        "chat": chat_out(history["chat"]),
        "messages": [message_out(ctx, m, str(chat["id"])) for m in history["messages"]],
        "last_event_id": last,
        "active_after": await active_after(ctx, chat_id, last),
    }


async def active_after(ctx: Ctx, chat_id: str, last: int) -> int:
    """Where a client opening the chat should start its event stream: just before the oldest
    question still being answered (so its progress is shown), else after the last event."""
    if last == 0:
        return 0
    open_questions: dict[str, int] = {}
    cutoff = datetime.now(UTC) - timedelta(seconds=ACTIVE_QUESTION_SECONDS)
    for row in await ctx.events.read(chat_id, max(0, last - ACTIVE_WINDOW), ACTIVE_WINDOW):
        qid = row.get("question_id")
        if row["type"] == "question" and qid:
            created = row.get("created_at")
            if created and datetime.fromisoformat(created) >= cutoff:
                open_questions[qid] = row["id"]
        elif row["type"] in ("answer", "error") and qid:
            open_questions.pop(qid, None)
    return min(open_questions.values()) - 1 if open_questions else last


@router.patch("/{chat_id}", summary=t("api.chats.update_chat.summary"),
              response_model=ChatOut, **OUT)
async def update_chat(chat_id: str, body: ChatPatch, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    chat = await ctx.chat(chat_id)
    fields: dict[str, Any] = {}
    if body.title is not None:
        if not body.title.strip():
            raise InvalidInputError("store.empty", field="title")
        fields["title"] = body.title.strip()
    if body.description is not None:
        fields["description"] = body.description
    if body.is_archived is not None:
        fields["is_archived"] = body.is_archived
    if body.document_ids is not None:
        meta = dict(chat.get("metadata") or {})
        meta["document_ids"] = await check_documents(ctx, body.document_ids)
        fields["metadata"] = meta
    if not fields:
        return chat_out(chat)
    return chat_out(await ctx.store.update_chat(chat_id, **fields))


@router.delete("/{chat_id}", status_code=204, summary=t("api.chats.delete_chat.summary"))
async def delete_chat(chat_id: str, ctx: Ctx = Depends(get_ctx)) -> Response:
    await ctx.chat(chat_id)
    await ctx.store.delete_chat(chat_id)
    try:
        await ctx.state.files.delete_prefix(f"chats/{chat_id}/")
    except Exception:  # noqa: BLE001 - the records are gone; files are only orphaned
        log.warning("could not delete the files of chat %s", chat_id, exc_info=True)
    return Response(status_code=204)


__all__ = ["chat_out", "check_documents", "message_out", "router"]
