"""Images of a chat (with fresh signed links) and the local backend's signed ``/files/`` links.

A browser never gets a storage key it could use without permission: every image comes with a
signed, time-limited link (``S3_URL_EXPIRATION`` seconds). For S3 that is a presigned S3 URL; for
the local folder it is ``/files/{key}?expires=…&sig=…`` (HMAC-SHA256), which this module serves
only after :meth:`LocalFileStorage.verify` accepted the signature and the expiry — a forged,
altered or expired link is a 403, whatever the caller's login.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, RedirectResponse

from aizoomdoc.api.deps import AppState, Ctx, get_ctx, get_state
from aizoomdoc.api.errors import error_response
from aizoomdoc.api.schemas import OUT, ImageList, ImageOut
from aizoomdoc.errors import InvalidInputError, NotFoundError
from aizoomdoc.texts import t

router = APIRouter(prefix="/api/chats/{chat_id}/images", tags=["images"])
files_router = APIRouter(tags=["images"])


@router.get("", summary=t("api.images.list_images.summary"), response_model=ImageList, **OUT)
async def list_images(chat_id: str, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    chat = await ctx.chat(chat_id)
    rows = await ctx.store.get_chat_images(chat_id)
    return {"images": [ctx.state.image_out(r, str(chat["id"])) for r in rows]}


@router.get("/{image_id}", summary=t("api.images.open_image.summary"))
async def open_image(chat_id: str, image_id: str, ctx: Ctx = Depends(get_ctx)) -> RedirectResponse:
    chat = await ctx.chat(chat_id)
    rows = await ctx.store.get_chat_images(chat_id)
    row = next((r for r in rows if str(r["id"]) == image_id), None)
    if row is None:
        raise NotFoundError("api.image_not_found", image_id=image_id[:60])
    url = ctx.state.chat_file_link(row["s3_path"], str(chat["id"]))
    if url is None:  # a key outside this chat's folder: not this chat's image
        raise NotFoundError("api.image_not_found", image_id=image_id[:60])
    return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})


@router.get("/{image_id}/info", summary=t("api.images.image_info.summary"), response_model=ImageOut, **OUT)
async def image_info(chat_id: str, image_id: str, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    chat = await ctx.chat(chat_id)
    rows = await ctx.store.get_chat_images(chat_id)
    row = next((r for r in rows if str(r["id"]) == image_id), None)
    if row is None:
        raise NotFoundError("api.image_not_found", image_id=image_id[:60])
    return ctx.state.image_out(row, str(chat["id"]))


@files_router.get("/files/{key:path}", summary=t("api.images.signed_file.summary"),
                  response_class=FileResponse)
async def signed_file(key: str, state: AppState = Depends(get_state),
                      expires: str = Query("", max_length=20), sig: str = Query("", max_length=128)) -> Any:
    files = state.files
    verify = getattr(files, "verify", None)
    if files.backend != "local" or verify is None:
        return error_response(404, t("api.file_missing"))
    if not verify(key, expires, sig):
        # Valid signature but refused: the link has expired (else it is forged or altered).
        expired = bool(sig) and files.signer.verify(key, expires, sig, now=0)  # type: ignore[attr-defined]
        message = t("api.signed.expired") if expired else t("api.signed.invalid")
        return error_response(403, message, key="api.signed.expired" if expired else "api.signed.invalid")
    try:
        path = files.path_for(key)  # type: ignore[attr-defined]
        meta = await files.get_file_metadata(key)
    except (NotFoundError, InvalidInputError):
        return error_response(404, t("api.file_missing"))
    ctype = meta["content_type"]
    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff",
               # Stored files are user content: never let them run script on this origin.
               "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"}
    inline = ctype.startswith("image/") and ctype != "image/svg+xml" or ctype == "application/pdf"
    return FileResponse(path, media_type=ctype if inline else "application/octet-stream", headers=headers,
                        content_disposition_type="inline" if inline else "attachment",
                        filename=None if inline else key.rsplit("/", 1)[-1])


__all__ = ["files_router", "router"]
