"""``GET /api/search?q=&document_id=&limit=``: search the caller's documents without a chat.

The hits are those of ``aizoomdoc search --json`` (document, page, block, type, text, score,
normalised box; ``row_text`` for a table cell), best first. Without ``document_id`` every document
of the caller is searched; with it (repeatable) only those, each checked to be the caller's.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from aizoomdoc.api.deps import Ctx, get_ctx
from aizoomdoc.api.documents import owned_document
from aizoomdoc.api.schemas import OUT, SearchHits
from aizoomdoc.errors import InvalidInputError
from aizoomdoc.search import analyze_query
from aizoomdoc.texts import t

router = APIRouter(prefix="/api/search", tags=["search"])


@router.get("", summary=t("api.search_documents.summary"), response_model=SearchHits, **OUT)
async def search_documents(
    ctx: Ctx = Depends(get_ctx),
    q: str = Query(..., max_length=1000, description=t("api.search_documents.q.description")),
    document_id: list[str] = Query([], description=t("api.search_documents.document_id.description")),
    limit: int = Query(10, ge=1, le=200, description=t("api.search_documents.limit.description")),
) -> dict[str, Any]:
    if not analyze_query(q):
        raise InvalidInputError("search.empty_query")
    service = ctx.state.documents
    if document_id:
        ids = [str((await owned_document(ctx, d))["id"]) for d in dict.fromkeys(document_id)]
    else:
        rows = await service.list_documents(user_id=ctx.user_id, limit=100_000)
        ids = [str(r["id"]) for r in rows]
    if not ids:
        return {"query": q, "hits": []}
    hits = await service.search(q, ids, top_k=limit, user_id=ctx.user_id)
    return {"query": q, "hits": [h.to_dict() for h in hits]}


__all__ = ["router"]
