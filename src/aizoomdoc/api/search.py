"""Search results of a chat: the blocks found for its questions (block, page, coordinates, score)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from aizoomdoc.api.deps import Ctx, get_ctx
from aizoomdoc.api.schemas import OUT, SearchResultList
from aizoomdoc.texts import t

router = APIRouter(prefix="/api/chats/{chat_id}/search-results", tags=["search"])


@router.get("", summary=t("api.search.list_results.summary"), response_model=SearchResultList, **OUT)
async def list_results(chat_id: str, ctx: Ctx = Depends(get_ctx),
                       message_id: str | None = Query(None, max_length=64)) -> dict[str, Any]:
    await ctx.chat(chat_id)
    rows = await ctx.store.get_search_results(chat_id, message_id)
    return {"results": rows}


__all__ = ["router"]
