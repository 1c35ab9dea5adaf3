"""The document library: folders (nested), files in them, attaching files to chats and messages.

Every route acts as the caller (the library store's ``for_user`` view, RLS on PostgreSQL):
another user's folder, file, chat or message — and a malformed id — is a 404, like everywhere
else. Uploading into a folder streams the body to ``DATA_DIR/uploads`` with the same size limit as
``POST /api/documents``; documents are ingested, other files kept as they are.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from aizoomdoc.api.chats import chat_out
from aizoomdoc.api.deps import Ctx, get_ctx
from aizoomdoc.api.documents import ingest_order, receive_files, upload_error
from aizoomdoc.api.schemas import (
    OUT,
    AttachmentList,
    ChatOut,
    FolderDeleted,
    FolderList,
    FolderOut,
    LibraryFileDetail,
    LibraryFileList,
    LibraryFileOut,
)
from aizoomdoc.errors import AizoomdocError, DocumentError, InvalidInputError, NotFoundError
from aizoomdoc.pipeline.library import LibraryService
from aizoomdoc.store.library import LibraryStore
from aizoomdoc.texts import t

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/library", tags=["library"])

_FILE_FIELDS = ("id", "filename", "source_type", "mime_type", "size_bytes", "document_id", "external_url",
                "chat_id", "created_at", "added_at", "attached_at", "message_id", "created")


class FolderIn(BaseModel):
    name: str = Field(..., max_length=500)
    parent_id: str | None = Field(None, max_length=64)


class FolderPatch(BaseModel):
    name: str = Field(..., max_length=500)


class ItemIn(BaseModel):
    document_id: str | None = Field(None, max_length=64)
    file_id: str | None = Field(None, max_length=64)


class ChatRef(BaseModel):
    chat_id: str = Field(..., max_length=64)


class MessageRef(BaseModel):
    message_id: str = Field(..., max_length=64)


def service(ctx: Ctx) -> LibraryService:
    """The library for this request (cheap: the store only holds the worker's database)."""
    return LibraryService(LibraryStore(ctx.state.db), ctx.state.documents, ctx.state.files)


def _not_found_if_bad_id(exc: AizoomdocError, key: str, **params: Any) -> AizoomdocError:
    """A malformed id in the path is "not found" (as for chats), not a validation error."""
    if exc.key == "store.bad_id":
        return NotFoundError(key, **params)
    return exc


async def files_out(ctx: Ctx, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Files as the API shows them: with the document's title and pages, and a signed link."""
    doc_ids = [r["document_id"] for r in rows if r.get("document_id")]
    docs = {}
    if doc_ids:
        docs = {str(d["id"]): d for d in await ctx.state.documents.store.for_user(ctx.user_id).get_many(doc_ids)}
    out = []
    for r in rows:
        item = {k: r[k] for k in _FILE_FIELDS if k in r}
        doc = docs.get(r.get("document_id") or "")
        item["kind"] = ("document" if doc else "link" if r.get("external_url") else
                        "generated" if r.get("source_type") == "llm_generated" else "file")
        if doc:
            item.update(title=doc.get("title"), page_count=doc.get("page_count"),
                        block_count=doc.get("block_count"))
        item["download_url"] = f"/api/library/files/{r['id']}/download"
        out.append(item)
    return out


# --- folders -------------------------------------------------------------------------------------
@router.get("/folders", summary=t("api.library.list_folders.summary"), response_model=FolderList, **OUT)
async def list_folders(ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    return {"folders": await service(ctx).folders(ctx.user_id)}


@router.post("/folders", status_code=201, summary=t("api.library.create_folder.summary"),
             response_model=FolderOut, **OUT)
async def create_folder(body: FolderIn, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    try:
        return await service(ctx).create_folder(body.name, ctx.user_id, body.parent_id)
    except AizoomdocError as exc:
        raise _not_found_if_bad_id(exc, "library.folder_not_found", folder_id=str(body.parent_id)[:60]) from None


@router.patch("/folders/{folder_id}", summary=t("api.library.rename_folder.summary"), response_model=FolderOut, **OUT)
async def rename_folder(folder_id: str, body: FolderPatch, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    try:
        return await service(ctx).store.for_user(ctx.user_id).rename_folder(folder_id, body.name)
    except AizoomdocError as exc:
        raise _not_found_if_bad_id(exc, "library.folder_not_found", folder_id=folder_id[:60]) from None


@router.delete("/folders/{folder_id}",
               summary=t("api.library.delete_folder.summary"),
               response_model=FolderDeleted, **OUT)
async def delete_folder(folder_id: str, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    try:
        report = await service(ctx).delete_folder(folder_id, ctx.user_id)
    except AizoomdocError as exc:
        raise _not_found_if_bad_id(exc, "library.folder_not_found", folder_id=folder_id[:60]) from None
    _forget_documents(ctx, report)
    return report


def _forget_documents(ctx: Ctx, report: dict[str, Any]) -> None:
    """Deleted documents leave the per-worker document cache (as DELETE /api/documents does)."""
    cache = getattr(ctx.state.source, "_docs", None)
    if isinstance(cache, dict):
        for f in report["deleted_files"]:
            if f.get("document_id"):
                cache.pop(f["document_id"], None)


@router.get("/folders/{folder_id}/files", summary=t("api.library.folder_files.summary"),
            response_model=LibraryFileList, **OUT)
async def folder_files(folder_id: str, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    try:
        rows = await service(ctx).store.for_user(ctx.user_id).get_folder_files(folder_id)
    except AizoomdocError as exc:
        raise _not_found_if_bad_id(exc, "library.folder_not_found", folder_id=folder_id[:60]) from None
    return {"files": await files_out(ctx, rows)}


@router.post("/folders/{folder_id}/files", status_code=201,
             summary=t("api.library.upload_into_folder.summary"),
             responses={413: {"description": t("api.upload.too_large.description")}},
             response_model=LibraryFileList, **OUT)
async def upload_into_folder(folder_id: str, request: Request, ctx: Ctx = Depends(get_ctx),
                             filename: str | None = Query(None, max_length=255)) -> dict[str, Any]:
    svc = service(ctx)
    try:
        folder = await svc.store.for_user(ctx.user_id).get_folder(folder_id)
    except AizoomdocError as exc:
        raise _not_found_if_bad_id(exc, "library.folder_not_found", folder_id=folder_id[:60]) from None
    settings = ctx.settings
    tmp = settings.data_dir / "uploads" / uuid.uuid4().hex
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        paths = await receive_files(request, tmp, settings.max_file_size_bytes, settings.max_file_size_mb, filename)
        rows = []
        for path in ingest_order(paths):
            try:
                rows.append(await svc.upload(folder["id"], path, ctx.user_id))
            except DocumentError as exc:
                raise upload_error(exc, tmp) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"files": await files_out(ctx, rows)}


@router.post("/folders/{folder_id}/items", status_code=201,
             summary=t("api.library.add_item.summary"),
             response_model=LibraryFileOut, **OUT)
async def add_item(folder_id: str, body: ItemIn, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    if (body.document_id is None) == (body.file_id is None):
        raise InvalidInputError("api.bad_request", detail=t("api.library.item_ref_required"))
    svc = service(ctx)
    try:
        await svc.store.for_user(ctx.user_id).get_folder(folder_id)
    except AizoomdocError as exc:
        raise _not_found_if_bad_id(exc, "library.folder_not_found", folder_id=folder_id[:60]) from None
    try:
        if body.document_id is not None:
            row = await svc.file_document(folder_id, body.document_id, ctx.user_id)
        else:
            row = await svc.file_existing(folder_id, str(body.file_id), ctx.user_id)
    except AizoomdocError as exc:
        if body.document_id is not None:
            raise _not_found_if_bad_id(exc, "library.document_not_found", document_id=body.document_id[:60]) from None
        raise _not_found_if_bad_id(exc, "library.file_not_found", file_id=str(body.file_id)[:60]) from None
    return (await files_out(ctx, [row]))[0]


@router.delete("/folders/{folder_id}/items/{file_id}",
               summary=t("api.library.remove_item.summary"),
               response_model=FolderDeleted, **OUT)
async def remove_item(folder_id: str, file_id: str, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    try:
        report = await service(ctx).remove_from_folder(folder_id, file_id, ctx.user_id)
    except AizoomdocError as exc:
        raise _not_found_if_bad_id(exc, "library.folder_not_found", folder_id=folder_id[:60]) from None
    _forget_documents(ctx, report)
    return report


# --- files ---------------------------------------------------------------------------------------
async def _file(ctx: Ctx, file_id: str) -> dict[str, Any]:
    try:
        return await service(ctx).store.for_user(ctx.user_id).get_file(file_id)
    except AizoomdocError as exc:
        raise _not_found_if_bad_id(exc, "library.file_not_found", file_id=file_id[:60]) from None


@router.get("/files/{file_id}", summary=t("api.library.get_file.summary"),
            response_model=LibraryFileDetail, **OUT)
async def get_file(file_id: str, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    row = await _file(ctx, file_id)
    out = (await files_out(ctx, [row]))[0]
    out["folders"] = await service(ctx).store.for_user(ctx.user_id).get_file_folders(row["id"])
    return out


@router.get("/files/{file_id}/download", summary=t("api.library.download_file.summary"))
async def download_file(file_id: str, ctx: Ctx = Depends(get_ctx)) -> RedirectResponse:
    row = await _file(ctx, file_id)
    url = row.get("external_url") if not row.get("storage_path") else ctx.state.link(row["storage_path"])
    if not url:
        raise NotFoundError("library.file_not_found", file_id=file_id[:60])
    return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})


@router.post("/files/{file_id}/chats", summary=t("api.library.attach_to_chat.summary"),
             response_model=ChatOut, **OUT)
async def attach_to_chat(file_id: str, body: ChatRef, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    chat = await ctx.chat(body.chat_id)
    await _file(ctx, file_id)
    return chat_out(await service(ctx).attach_to_chat(file_id, chat, ctx.store, ctx.user_id))


@router.post("/files/{file_id}/messages", status_code=201, summary=t("api.library.attach_to_message.summary"),
             response_model=LibraryFileOut, **OUT)
async def attach_to_message(file_id: str, body: MessageRef, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    await _file(ctx, file_id)
    try:
        row = await service(ctx).attach_to_message(file_id, body.message_id, ctx.user_id)
    except AizoomdocError as exc:
        raise _not_found_if_bad_id(exc, "library.message_not_found", message_id=body.message_id[:60]) from None
    return (await files_out(ctx, [row]))[0]


@router.get("/chats/{chat_id}/attachments", summary=t("api.library.chat_attachments.summary"),
            response_model=AttachmentList, **OUT)
async def chat_attachments(chat_id: str, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    await ctx.chat(chat_id)
    rows = await service(ctx).store.for_user(ctx.user_id).get_chat_attachments(chat_id)
    return {"attachments": await files_out(ctx, rows)}


__all__ = ["router"]
