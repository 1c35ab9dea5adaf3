"""Documents: upload (size limit enforced while streaming) + background processing, list, show, delete.

``POST /api/documents`` takes ``multipart/form-data`` with one or more ``file`` fields (a PDF, an
image, or an OCR bundle together with its PDF), or a raw body with ``?filename=``. The body is
streamed to a temporary folder under ``DATA_DIR/uploads``; the moment a file passes
``MAX_FILE_SIZE_MB`` the upload stops with 413 and everything received is deleted — nothing is
stored. So does an upload cut off early (a multipart body without its closing boundary, a raw
body shorter than its ``Content-Length``): 422, nothing stored. The body must be sent as
``multipart/form-data`` or a real file type (``application/octet-stream``, ``application/pdf``…):
``text/plain`` and form encoding — what any web page can send cross-site — are refused (415).
Then each file is checked (it opens, has pages), kept in file storage and recorded in status
``queued``; a job reads it, OCRs the pages without a usable text layer and makes it ``ready``
(``pipeline/jobs.py``; on PostgreSQL run by ``aizoomdoc worker``, on SQLite by this server's own
processes). OCR bundles (JSON/HTML/Markdown, which carry their text) are read at once.
``GET /api/documents/{id}`` shows ``status`` (queued | processing | ready | error) and ``progress``
(pages done of pages to OCR). ``?wait=true`` answers when the documents are processed;
``?chat_id=`` also attaches the documents to a chat.

The answer is JSON (201 ``{"documents": [...]}``, at once: status ``queued``), or with ``Accept:
application/x-ndjson`` a stream of lines that follows the jobs — ``{"type": "progress", "file",
"stage", "message", "status", "pages_done", "pages_total"}`` … then ``{"type": "document",
"document": {...}}`` per file and ``{"type": "done"}`` (or ``{"type": "error", "error": "..."}``) —
which the web UI shows as ingest progress.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
import unicodedata
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from aizoomdoc.api.deps import Ctx, get_ctx
from aizoomdoc.api.schemas import OUT, DocumentDetail, DocumentList
from aizoomdoc.documents.read_warnings import ingest_notes
from aizoomdoc.errors import AizoomdocError, DocumentError, FileTooLargeError, InvalidInputError, NotFoundError
from aizoomdoc.texts import t

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/documents", tags=["documents"])


class UnsupportedUploadError(InvalidInputError):
    status_code = 415

#: Multipart framing allowed on top of the files themselves (headers, boundaries, small fields).
FORM_OVERHEAD = 64 * 1024
#: Body types a web page can send cross-site without asking (CORS "simple" requests), and none at all.
NOT_UPLOAD_TYPES = frozenset({"", "text/plain", "application/x-www-form-urlencoded"})
MAX_FILES = 20
PDF_SUFFIXES = {".pdf"}
STAGES = {"read": "api.ingest.stage.read", "parse": "api.ingest.stage.read", "store": "api.ingest.stage.upload",
          "index": "api.ingest.stage.index"}
_PUBLIC_FIELDS = ("id", "title", "filename", "source_format", "file_size", "page_count", "block_count", "sheet",
                  "created_at", "updated_at")


def document_out(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row.get(k) for k in _PUBLIC_FIELDS}
    out["id"] = str(out["id"])
    out["can_render"] = bool(row.get("render_key"))
    status = row.get("status") or "ready"
    meta = row.get("metadata") or {}
    # What could not be read: warnings of a document read in part, pages without a text layer.
    out["warnings"] = meta.get("warnings") or []
    out["pages_without_text"] = meta.get("text_layer") or {}
    out["notes"] = ingest_notes(meta)
    out.update(status=status, status_text=t(f"jobs.status.{status}"), error=row.get("status_error"),
               progress={"pages_done": int(row.get("pages_done") or 0), "pages_total": int(row.get("pages_total") or 0)},
               ocr_pages=int(meta.get("ocr_pages_read") or 0), unreadable_pages=list(meta.get("unreadable_pages") or []))
    if out["unreadable_pages"]:
        from aizoomdoc.pipeline.notes import unreadable_reason

        out["unreadable_reason"] = unreadable_reason(meta)
    return out


def _safe_name(raw: str) -> str:
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    name = name.lstrip(".")[:150]
    return name or "document"


class _Receiver:
    """Writes uploaded files into ``folder`` while counting bytes; stops at the size limit."""

    def __init__(self, folder: Path, limit: int, limit_mb: float) -> None:
        self.folder, self.limit, self.limit_mb = folder, limit, limit_mb
        self.files: list[Path] = []
        self._fh: Any = None
        self._name = ""
        self._size = 0
        self.error: AizoomdocError | None = None

    def begin(self, filename: str) -> None:
        if len(self.files) >= MAX_FILES:
            raise InvalidInputError("api.upload.bad_form", detail=t("api.upload.too_many_files", count=MAX_FILES))
        name = _safe_name(filename)
        path = self.folder / name
        n = 1
        while path.exists():
            n += 1
            path = self.folder / f"{Path(name).stem}_{n}{Path(name).suffix}"
        self._name, self._size = name, 0
        self._fh = open(path, "wb")  # noqa: SIM115 - closed in end()/close()
        self.files.append(path)

    def write(self, data: bytes) -> None:
        if self._fh is None:
            return
        self._size += len(data)
        if self._size > self.limit:
            raise FileTooLargeError("api.upload.too_large", name=self._name[:120], limit_mb=f"{self.limit_mb:g}")
        self._fh.write(data)

    def end(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            if self._size == 0:
                raise InvalidInputError("api.upload.empty", name=self._name[:120])

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


async def receive_files(request: Request, folder: Path, limit: int, limit_mb: float,
                        filename: str | None) -> list[Path]:
    """Stream the request body into files under ``folder`` (multipart or raw)."""
    ctype = request.headers.get("content-type", "")
    length = request.headers.get("content-length")
    multipart = ctype.lower().startswith("multipart/form-data")
    if ctype.split(";", 1)[0].strip().lower() in NOT_UPLOAD_TYPES:
        raise UnsupportedUploadError("api.upload.content_type", ctype=ctype.split(";", 1)[0].strip()[:60] or "—")
    if length and length.isdigit():
        # Obviously too large: refused before a byte is read (exact limits are checked per file).
        ceiling = limit * MAX_FILES + FORM_OVERHEAD if multipart else limit
        if int(length) > ceiling:
            raise FileTooLargeError("api.upload.too_large", name=filename or "…", limit_mb=f"{limit_mb:g}")
    rx = _Receiver(folder, limit, limit_mb)
    try:
        if multipart:
            await _receive_multipart(request, ctype, rx)
        else:
            if not filename:
                raise InvalidInputError("api.upload.no_file")
            rx.begin(filename)
            received = 0
            try:
                async for chunk in request.stream():
                    received += len(chunk)
                    rx.write(chunk)
            except ClientDisconnect:
                raise InvalidInputError("api.upload.short_body", got=received, expected=length or "?") from None
            if length and length.isdigit() and received != int(length):
                raise InvalidInputError("api.upload.short_body", got=received, expected=length)
            rx.end()
    finally:
        rx.close()
    if not rx.files:
        raise InvalidInputError("api.upload.no_file")
    return rx.files


async def _receive_multipart(request: Request, ctype: str, rx: _Receiver) -> None:
    _, params = parse_options_header(ctype)
    boundary = params.get(b"boundary")
    if not boundary:
        raise InvalidInputError("api.upload.bad_form", detail=t("api.upload.no_boundary"))
    header_field = bytearray()
    header_value = bytearray()
    headers: dict[str, bytes] = {}
    in_file = False
    ended = False
    failure: list[BaseException] = []

    def on_part_begin() -> None:
        nonlocal in_file
        headers.clear()
        in_file = False

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[header_field.decode("latin-1").lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        nonlocal in_file
        disp, opts = parse_options_header(headers.get("content-disposition", b""))
        raw_name = opts.get(b"filename*") or opts.get(b"filename")
        if raw_name is None:
            return  # a plain form field: ignored
        name = raw_name.decode("utf-8", "replace")
        if name.lower().startswith("utf-8''"):
            from urllib.parse import unquote

            name = unquote(name[7:])
        if name:
            rx.begin(name)
            in_file = True

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if in_file:
            rx.write(data[start:end])

    def on_part_end() -> None:
        nonlocal in_file
        if in_file:
            rx.end()
            in_file = False

    def on_end() -> None:  # the closing boundary arrived: the form is complete
        nonlocal ended
        ended = True

    callbacks = {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data, "on_part_end": on_part_end, "on_end": on_end,
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except AizoomdocError:
        raise
    except ClientDisconnect:
        ended = False
    except Exception as exc:  # noqa: BLE001 - a malformed body
        failure.append(exc)
    if failure:
        raise InvalidInputError("api.upload.bad_form", detail=type(failure[0]).__name__)
    if not ended:
        raise InvalidInputError("api.upload.truncated")


# Not user text: a detail with Cyrillic letters is already a Russian message (ours), not a raw one.
_CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def upload_error(exc: DocumentError, folder: Path) -> DocumentError:
    """A document error of an uploaded file as its uploader should read it: the file's own name
    instead of the temporary path on the server, and no reader library detail in English
    (e.g. PyMuPDF's "Failed to open stream") — then a plain "damaged or wrong format"."""
    params: dict[str, Any] = {}
    for key, value in exc.params.items():
        text = str(value)
        if str(folder) in text:
            value = text.replace(str(folder) + "/", "")
            if key in ("path", "pdf"):
                value = f"«{value}»"
        params[key] = value
    name = Path(str(exc.params.get("path") or "")).name or "…"
    detail = params.get("detail")
    if detail is not None and not _CYRILLIC.search(str(detail)):
        err = DocumentError("api.upload.unreadable", name=name)
    else:
        err = DocumentError(exc.key, **params)
    err.status_code = exc.status_code
    return err


def ingest_order(paths: list[Path]) -> list[Path]:
    """What to ingest of the files of one upload: an OCR bundle takes the PDF next to it as its
    companion, so when both came together only the bundle files are ingested."""
    others = [p for p in paths if p.suffix.lower() not in PDF_SUFFIXES and p.suffix.lower() not in
              {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"}]
    return others if others else paths


async def wait_processed(ctx: Ctx, document_id: str, timeout: float,
                         on_change: Any = None) -> dict[str, Any] | None:
    """Poll a document until it is ``ready`` or ``error`` (or ``timeout`` seconds pass); its row.
    ``on_change(row)`` is called whenever its status or progress changes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen: tuple[Any, ...] | None = None
    delay = 0.05
    while True:
        row = await ctx.state.documents.get_row(document_id, user_id=ctx.user_id)
        if row is None or row.get("status") in (None, "ready", "error"):
            return row
        state = (row.get("status"), row.get("pages_done"), row.get("pages_total"))
        if state != seen and on_change is not None:
            on_change(row)
        seen = state
        if loop.time() >= deadline:
            return row
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)


def _progress_line(name: str, row: dict[str, Any]) -> dict[str, Any]:
    status = row.get("status") or "queued"
    done, total = int(row.get("pages_done") or 0), int(row.get("pages_total") or 0)
    if status == "processing" and total:
        stage, message = "ocr", t("jobs.stage.ocr", done=done, total=total)
    elif status == "processing":
        stage, message = "parse", t("api.ingest.stage.read")
    else:
        stage, message = "queued", t("jobs.stage.queued")
    return {"type": "progress", "file": name, "stage": stage, "message": message, "status": status,
            "pages_done": done, "pages_total": total}


@router.post("", status_code=201, summary=t("api.documents.upload.summary"),
             responses={413: {"description": t("api.upload.too_large.description")}})
async def upload(request: Request, ctx: Ctx = Depends(get_ctx),
                 filename: str | None = Query(None, max_length=255,
                                              description=t("api.documents.upload.filename.description")),
                 chat_id: str | None = Query(None, max_length=64,
                                             description=t("api.documents.upload.chat_id.description")),
                 ocr: str | None = Query(None, pattern="^(auto|always|never)$",
                                         description=t("api.documents.upload.ocr.description")),
                 wait: bool = Query(False, description=t("api.documents.upload.wait.description"))) -> Response:
    settings = ctx.settings
    chat = await ctx.chat(chat_id) if chat_id else None
    folder = settings.data_dir / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    try:
        paths = await receive_files(request, folder, settings.max_file_size_bytes, settings.max_file_size_mb, filename)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    streaming = "application/x-ndjson" in request.headers.get("accept", "")

    async def register() -> list[tuple[str, dict[str, Any]]]:
        """Each file checked, stored and queued (the heavy work is the job's)."""
        try:
            rows = []
            for path in ingest_order(paths):
                def progress(stage: str, _name: str = path.name) -> None:
                    queue.put_nowait({"type": "progress", "file": _name, "stage": stage,
                                      "message": t(STAGES.get(stage, "api.ingest.stage.read"))})
                try:
                    result = await ctx.state.documents.submit(path, user_id=ctx.user_id, progress=progress, ocr=ocr,
                                                              transient=True)
                except DocumentError as exc:
                    raise upload_error(exc, folder) from exc
                if result.created and result.queued:
                    try:
                        await ctx.state.jobs.enqueue(result.document.id, ctx.user_id)
                    except BaseException:
                        # No job, no document: nothing would ever process it.
                        await ctx.state.documents.delete(result.document.id, user_id=ctx.user_id)
                        raise
                row = await ctx.state.documents.get_row(result.document.id, user_id=ctx.user_id)
                doc = document_out(row or {"id": result.document.id, "title": result.document.title})
                doc["created"] = result.created
                rows.append((path.name, doc))
            if chat is not None:
                fresh = await ctx.chat(chat["id"])
                meta = dict(fresh.get("metadata") or {})
                known = list(meta.get("document_ids") or [])
                meta["document_ids"] = known + [d["id"] for _n, d in rows if d["id"] not in known]
                await ctx.store.update_chat(chat["id"], metadata=meta)
            return rows
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    async def follow(rows: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Wait for each document to be processed (``wait`` / a progress stream)."""
        out = []
        for name, doc in rows:
            if doc.get("status") in ("queued", "processing"):
                row = await wait_processed(ctx, doc["id"], settings.jobs_upload_wait_seconds,
                                           lambda r, _n=name: queue.put_nowait(_progress_line(_n, r)))
                if row is not None:
                    created = doc["created"]
                    doc = document_out(row)
                    doc["created"] = created
            if doc.get("status") == "error":
                queue.put_nowait({"type": "progress", "file": name, "stage": "error", "status": "error",
                                  "message": doc.get("error") or t("jobs.status.error")})
            elif doc.get("status") in ("ready", None):
                queue.put_nowait({"type": "progress", "file": name, "stage": "index",
                                  "message": t("api.ingest.stage.index")})
            queue.put_nowait({"type": "document", "document": doc})
            out.append(doc)
        return out

    if not streaming:
        rows = await register()
        docs = await follow(rows) if wait else [d for _n, d in rows]
        return Response(json.dumps({"documents": docs}, ensure_ascii=False), status_code=201,
                        media_type="application/json")

    async def work() -> list[dict[str, Any]]:
        return await follow(await register())

    task = asyncio.create_task(work())

    async def lines() -> AsyncIterator[bytes]:
        def line(obj: dict[str, Any]) -> bytes:
            return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")

        task.add_done_callback(lambda _t: queue.put_nowait(None))
        while (item := await queue.get()) is not None:
            yield line(item)
        try:
            task.result()
        except AizoomdocError as exc:
            yield line({"type": "error", "error": str(exc), "key": exc.key, "status": exc.status_code})
            return
        except Exception:  # noqa: BLE001 - never a traceback to the client
            log.exception("ingest failed")
            yield line({"type": "error", "error": t("api.internal"), "status": 500})
            return
        yield line({"type": "done", "message": t("api.ingest.stage.done")})

    return StreamingResponse(lines(), status_code=201, media_type="application/x-ndjson",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("", summary=t("api.documents.list_documents.summary"), response_model=DocumentList, **OUT)
async def list_documents(ctx: Ctx = Depends(get_ctx), limit: int = Query(200, ge=1, le=1000)) -> dict[str, Any]:
    rows = await ctx.state.documents.list_documents(user_id=ctx.user_id, limit=limit)
    return {"documents": [document_out(r) for r in rows]}


async def owned_document(ctx: Ctx, document_id: str) -> dict[str, Any]:
    row = await ctx.state.documents.get_row(document_id, user_id=ctx.user_id)
    if row is None or str(row.get("user_id")) != ctx.user_id:
        raise NotFoundError("api.document_not_found", document_id=document_id[:60])
    return row


@router.get("/{document_id}", summary=t("api.documents.get_document.summary"),
            response_model=DocumentDetail, **OUT)
async def get_document(document_id: str, ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    row = await owned_document(ctx, document_id)
    out = document_out(row)
    out["pages"] = [{**{k: p.get(k) for k in ("page_index", "width", "height", "unit", "is_scanned", "sheet",
                                              "ocr", "ocr_confidence", "ocr_error")},
                     "text_layer": p.get("text_layer") or "ok"} for p in row.get("pages") or []]
    return out


@router.delete("/{document_id}", status_code=204, summary=t("api.documents.delete_document.summary"))
async def delete_document(document_id: str, ctx: Ctx = Depends(get_ctx)) -> Response:
    await owned_document(ctx, document_id)
    await ctx.state.documents.delete(document_id, user_id=ctx.user_id)
    cache = getattr(ctx.state.source, "_docs", None)
    if isinstance(cache, dict):
        cache.pop(document_id, None)
    return Response(status_code=204)


__all__ = ["document_out", "owned_document", "receive_files", "router"]
