"""A whole page of a document as PNG with the hit boxes drawn — what a citation opens.

``GET /api/documents/{id}/pages/{n}.png`` renders page ``n`` (1-based) from the document's PDF or
sheet image. Highlighted in red: every ``box=x1,y1,x2,y2`` (page coords_norm) given — the cited block; in
orange: with ``chat_id`` (and optionally ``message_id``) the search hits of that chat/message on
this page, and ``block_id`` blocks. The page is rendered at most ``VIEWPORT_MAX_PIXELS`` and cached per worker.
Rendering runs in a worker process (:mod:`aizoomdoc.zoom.isolated`): a page too complex for
``RENDER_TIMEOUT``/``WORKER_MEMORY_MB``/``RENDER_MAX_OPERATIONS`` is a 422, never a stalled server.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from aizoomdoc.api.deps import Ctx, get_ctx
from aizoomdoc.api.documents import owned_document
from aizoomdoc.errors import InvalidInputError, NotFoundError
from aizoomdoc.texts import t
from aizoomdoc.zoom.isolated import IsolatedRenderer

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/documents/{document_id}/pages", tags=["pages"])

CACHE_SLOTS = 32
MAX_BOXES = 200
_cache: OrderedDict[str, bytes] = OrderedDict()
_lock = asyncio.Lock()


def parse_box(raw: str) -> tuple[float, float, float, float]:
    try:
        values = [float(v) for v in raw.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or not all(-0.01 <= v <= 1.01 for v in values) or values[2] <= values[0] \
            or values[3] <= values[1]:
        raise InvalidInputError("api.bad_box", box=raw[:60])
    return _rounded(values)


Box = tuple[float, float, float, float]


def _rounded(values: Any) -> Box:
    """Four coordinates as a hashable box, rounded so that equal boxes from different sources match."""
    x1, y1, x2, y2 = (round(float(v), 5) for v in values)
    return x1, y1, x2, y2


@router.get("/{page_number}.png", summary=t("api.pages.page_png.summary"),
            response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def page_png(
    document_id: str,
    page_number: int,
    ctx: Ctx = Depends(get_ctx),
    box: list[str] = Query([], description=t("api.pages.page_png.box.description")),
    chat_id: str | None = Query(None, max_length=64, description=t("api.pages.page_png.chat_id.description")),
    message_id: str | None = Query(None, max_length=64, description=t("api.pages.page_png.message_id.description")),
    block_id: list[str] = Query([], description=t("api.pages.page_png.block_id.description")),
) -> Response:
    row = await owned_document(ctx, document_id)
    count = int(row.get("page_count") or 0)
    if page_number < 1 or (count and page_number > count):
        raise NotFoundError("api.page_not_found", page=page_number, count=count)
    cited = [parse_box(b) for b in box[:MAX_BOXES]]
    boxes: list[Box] = []
    if chat_id:
        await ctx.chat(chat_id)
        for r in await ctx.store.get_search_results(chat_id, message_id):
            if str(r.get("document_id")) == str(row["id"]) and r.get("page_number") == page_number \
                    and r.get("coords_norm"):
                boxes.append(_rounded(r["coords_norm"]))
    if block_id:
        wanted = set(block_id)
        for b in await ctx.state.documents.store.for_user(ctx.user_id).blocks([str(row["id"])], pages=[page_number]):
            if b["block_id"] in wanted and b.get("coords_norm") and b.get("has_coords", True):
                boxes.append(_rounded(b["coords_norm"]))
    cited = list(dict.fromkeys(cited))
    boxes = [b for b in dict.fromkeys(boxes) if b not in cited][:MAX_BOXES]
    if not row.get("render_key"):
        raise InvalidInputError("api.page_no_render", title=row.get("title") or row.get("filename") or "")
    key = hashlib.sha256(repr((str(row["id"]), row.get("sha256"), page_number, cited, boxes)).encode()).hexdigest()
    data = _cache.get(key)
    if data is None:
        path = await ctx.state.documents.render_path(row)
        if path is None:
            raise InvalidInputError("api.page_no_render", title=row.get("title") or "")
        renderer = IsolatedRenderer(ctx.settings)
        opts = renderer.options(target_cap_px=14.0, max_dpi=200.0, max_pixels=ctx.settings.viewport_max_pixels,
                                default_dpi=150.0)
        data = await renderer.page_view(path, page_number - 1, cited, boxes, opts)
        async with _lock:
            _cache[key] = data
            while len(_cache) > CACHE_SLOTS:
                _cache.popitem(last=False)
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})


def page_url(document_id: str, page_number: int, *, chat_id: str | None = None,
             message_id: str | None = None, boxes: list[Any] | None = None) -> str:
    from urllib.parse import urlencode

    params: list[tuple[str, str]] = [("box", ",".join(f"{float(v):.5f}" for v in b)) for b in boxes or []]
    if chat_id:
        params.append(("chat_id", chat_id))
    if message_id:
        params.append(("message_id", message_id))
    query = urlencode(params)
    return f"/api/documents/{document_id}/pages/{page_number}.png" + (f"?{query}" if query else "")


__all__ = ["page_url", "parse_box", "router"]
