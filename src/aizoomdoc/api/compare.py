"""Revision compare over HTTP: ``GET /api/compare?old=ID&new=ID`` — two of the caller's documents.

The answer is the comparison's JSON (see :mod:`aizoomdoc.compare.model`) with, per sheet, the
links of both page images with the changed regions highlighted (``old_image``/``new_image``, the
page route of :mod:`aizoomdoc.api.pages`). ``chat_id`` checks that both documents belong to that
chat (the web view compares the documents of a chat). The work runs in a bounded process of its
own and is cached in file storage; repeating a request costs one read.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from aizoomdoc.api.deps import Ctx, get_ctx
from aizoomdoc.api.documents import owned_document
from aizoomdoc.api.pages import page_url
from aizoomdoc.api.schemas import OUT, ComparisonOut
from aizoomdoc.errors import InvalidInputError
from aizoomdoc.texts import t

router = APIRouter(prefix="/api/compare", tags=["compare"])

#: Boxes drawn on a page image at most (the page route accepts 200).
MAX_BOXES = 60


@router.get("", summary=t("api.compare.compare.summary"), response_model=ComparisonOut, **OUT)
async def compare(
    old: str = Query(..., max_length=64, description=t("api.compare.compare.old.description")),
    new: str = Query(..., max_length=64, description=t("api.compare.compare.new.description")),
    chat_id: str | None = Query(None, max_length=64, description=t("api.compare.compare.chat_id.description")),
    text_only: bool = Query(False, description=t("api.compare.compare.text_only.description")),
    ctx: Ctx = Depends(get_ctx),
) -> dict[str, Any]:
    from aizoomdoc.pipeline.compare import CompareService

    if old == new:
        raise InvalidInputError("compare.same_document")
    rows = [await owned_document(ctx, old), await owned_document(ctx, new)]
    if chat_id:
        chat = await ctx.chat(chat_id)
        in_chat = {str(d) for d in (chat.get("metadata") or {}).get("document_ids") or []}
        missing = [str(r["id"]) for r in rows if str(r["id"]) not in in_chat]
        if missing:
            raise InvalidInputError("compare.not_in_chat", document_id=missing[0])
    service = CompareService(ctx.settings, documents=ctx.state.documents, files=ctx.state.files)
    comparison = await service.compare_stored(str(rows[0]["id"]), str(rows[1]["id"]), user_id=ctx.user_id,
                                              visual=False if text_only else None)
    out = comparison.to_dict()
    for side, row in (("old", rows[0]), ("new", rows[1])):
        out[side].pop("path", None)  # a server path is nobody's business
        out[side]["can_render"] = bool(row.get("render_key"))
    for sheet in out["sheets"]:
        for side, row in (("old", rows[0]), ("new", rows[1])):
            page = sheet.get(f"{side}_page")
            boxes = [c[f"bbox_norm_{side}"] for c in sheet["changes"] if c.get(f"bbox_norm_{side}")][:MAX_BOXES]
            sheet[f"{side}_image"] = page_url(str(row["id"]), page, boxes=boxes) \
                if page and row.get("render_key") else None
    return out
