"""``GET /api/documents/{id}/examples``: example questions from the document's own blocks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from aizoomdoc.api.deps import Ctx, get_ctx
from aizoomdoc.api.documents import owned_document
from aizoomdoc.api.schemas import OUT, ExampleQuestions
from aizoomdoc.documents.examples import example_questions
from aizoomdoc.texts import t

router = APIRouter(prefix="/api/documents/{document_id}", tags=["documents"])

#: Blocks read for examples (the first pages hold the lists and specifications).
MAX_PAGES = 12


@router.get("/examples", summary=t("api.examples.examples.summary"), response_model=ExampleQuestions, **OUT)
async def examples(document_id: str, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    row = await owned_document(ctx, document_id)
    count = int(row.get("page_count") or 0)
    blocks = await ctx.state.documents.store.for_user(ctx.user_id).blocks(
        [str(row["id"])], pages=range(1, min(count, MAX_PAGES) + 1))
    names = [str((p.get("sheet") or {}).get("sheet_name") or "") for p in (row.get("pages") or [])]
    return {"questions": example_questions(blocks, names)}
