"""Messages: read a chat's messages; post a question (answered in the background)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from aizoomdoc.api.chats import check_documents, message_out
from aizoomdoc.api.deps import Ctx, get_ctx
from aizoomdoc.api.schemas import OUT, MessageList, QuestionAccepted
from aizoomdoc.errors import InvalidInputError
from aizoomdoc.texts import t

router = APIRouter(prefix="/api/chats/{chat_id}/messages", tags=["messages"])


class QuestionIn(BaseModel):
    content: str = Field(..., max_length=20_000, description=t("api.messages.question.description"))
    document_ids: list[str] = Field(default_factory=list, max_length=50,
                                    description=t("api.messages.document_ids.description"))


@router.get("", summary=t("api.messages.list_messages.summary"),
            response_model=MessageList, **OUT)
async def list_messages(chat_id: str, ctx: Ctx = Depends(get_ctx),
                        limit: int | None = Query(None, ge=1, le=10_000)) -> dict[str, Any]:
    chat = await ctx.chat(chat_id)
    history = await ctx.store.get_chat_history(chat_id, limit=limit)
    return {"messages": [message_out(ctx, m, str(chat["id"])) for m in history["messages"]]}


@router.post("", status_code=202, summary=t("api.messages.post_question.summary"),
             response_model=QuestionAccepted, **OUT)
async def post_question(chat_id: str, body: QuestionIn, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    """Starts the ask pipeline in the background and returns at once.

    Follow ``GET /api/chats/{chat_id}/events?after={event_id - 1}`` (or ``?until={question_id}``)
    for progress, tokens, images and the final ``answer`` (or ``error``) event.
    """
    chat = await ctx.chat(chat_id)
    question = body.content.strip()
    if not question:
        raise InvalidInputError("api.empty_question")
    doc_ids = await check_documents(ctx, body.document_ids)
    if not doc_ids and not (chat.get("metadata") or {}).get("document_ids"):
        raise InvalidInputError("api.no_documents")
    if chat.get("title") == t("api.default_chat_title"):
        # A chat made with the "new chat" button takes its first question as title.
        messages = await ctx.store.get_chat_messages(chat_id, limit=1)
        if not messages:
            await ctx.store.update_chat(chat_id, title=_title_from(question))
    accepted = await ctx.state.runner.submit(ctx, chat_id, question, doc_ids)
    accepted["events_url"] = f"/api/chats/{chat_id}/events?after={accepted['event_id'] - 1}"
    return accepted


def _title_from(question: str, limit: int = 80) -> str:
    text = " ".join(question.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


__all__ = ["router"]
