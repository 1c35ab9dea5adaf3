"""Ingest and search: the wiring of document readers, the search index, the database and files.

This module is :class:`DocumentService` (ingest, submit, get, delete, find, search). Its parts
live apart, one job each: rows ↔ documents in ``document_rows.py``, the files of a document in
``document_files.py``, the ask pipeline's document source in ``document_source.py`` (all
importable from here as before).

    service = DocumentService(settings)
    result = await service.ingest("set.pdf")            # IngestResult(document, created, ...)
    hits = await service.search("утеплитель П-1", [result.document.id], top_k=10)
    doc = await service.get_document(result.document.id)  # Document with a local render_path

Ingest of one file:
1. read the bytes; sha256 → document id (uuid5 of user + sha256). The same file again: nothing
   is parsed or written, ``created=False``.
2. parse in a worker process (``documents/isolated.py``: bounded by ``PARSE_TIMEOUT`` and
   ``WORKER_MEMORY_MB``, never on the event loop) while the source file is uploaded to file
   storage under ``documents/{document_id}/{safe unique name}``; a :class:`DocumentError` stops
   here and the uploaded file is deleted again — nothing stays stored;
3. upload a bundle's companion PDF (the render file) next to it;
4. write the document and all its blocks in one transaction; if that fails the uploaded files are
   deleted again;
5. build and save the search index of the document (a cache under ``DATA_DIR/search``; rebuilt from
   the database whenever missing).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aizoomdoc.config import Settings, get_settings
from aizoomdoc.documents.base import Source, document_id_for
from aizoomdoc.documents.detect import load_source
from aizoomdoc.documents.isolated import check_source_isolated, read_source_isolated
from aizoomdoc.documents.model import Document
from aizoomdoc.errors import AizoomdocError, DatabaseError, DocumentError, InvalidInputError, NotFoundError
from aizoomdoc.pipeline.document_files import DocumentFiles
from aizoomdoc.pipeline.document_rows import (
    document_from_rows,
    document_rows,
    file_stat,
    indexed_blocks,
    is_document_id,
    page_sheets,
)
from aizoomdoc.pipeline.document_search import DocumentIndexes
from aizoomdoc.pipeline.document_source import ServiceDocumentSource
from aizoomdoc.pipeline.usage import UsageRecorder
from aizoomdoc.search import Hit, IndexCache, SearchIndex
from aizoomdoc.store.clock import parse_utc, utcnow
from aizoomdoc.store.database import Database
from aizoomdoc.store.documents import DocumentStore
from aizoomdoc.store.factory import build_files
from aizoomdoc.store.files import FileStorage
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class IngestResult:
    document: Document
    #: False when the user already had this file (same sha256): nothing was written.
    created: bool
    storage_keys: list[str] = field(default_factory=list)
    #: True when the document waits for a job (status ``queued``) to be read and OCR'd.
    queued: bool = False

    @property
    def document_id(self) -> str:
        return self.document.id


# --- the service ------------------------------------------------------------------------------


class DocumentService:
    """Ingest, look up and search documents for one settings object (one DB, one file store)."""

    def __init__(self, settings: Settings | None = None, *, db: Database | None = None,
                 storage: FileStorage | None = None, index_cache: IndexCache | None = None) -> None:
        self.settings = settings or get_settings()
        self.db = db or Database(self.settings)
        self._own_db = db is None
        self._storage = storage
        self._own_storage = storage is None
        self.store = DocumentStore(self.db, user_id=self.settings.default_user_id)
        self.indexes = DocumentIndexes(self.settings, index_cache)
        self.index_cache, self.shared_indexes = self.indexes.index_cache, self.indexes.shared_indexes
        self.usage = UsageRecorder(self.settings, self.db)
        self._ocr: Any = None
        self.document_files = DocumentFiles(self.settings, lambda: self.storage)

    @property
    def storage(self) -> FileStorage:
        if self._storage is None:
            self._storage = build_files(self.settings)
        return self._storage

    def store_for(self, user_id: str | None) -> DocumentStore:
        """The document store acting as this user (RLS on PostgreSQL)."""
        return self.store.for_user(user_id or self.settings.default_user_id)

    _store = store_for

    async def aclose(self) -> None:
        if self._ocr is not None:
            await asyncio.to_thread(self._ocr.close)
            self._ocr = None
        if self._own_storage and self._storage is not None:
            await self._storage.aclose()
            self._storage = None
        if self._own_db:
            await self.db.dispose()

    async def __aenter__(self) -> DocumentService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- ingest -------------------------------------------------------------------------------
    @property
    def ocr(self) -> Any:
        """The OCR processes of inline runs (``ingest``), started on first use."""
        if self._ocr is None:
            from aizoomdoc.pipeline.jobs import ocr_pool

            self._ocr = ocr_pool(self.settings, self.settings.local_workers)
        return self._ocr

    async def ingest(self, path: str | Path, *, user_id: str | None = None, progress: Progress | None = None,
                     ocr: str | None = None) -> IngestResult:
        """Store one file and process it here and now (OCR included); raises DocumentError for bad
        input, and leaves nothing stored then."""
        result = await self.submit(path, user_id=user_id, progress=progress, ocr=ocr)
        if not result.queued:
            return result
        from aizoomdoc.pipeline.jobs import DocumentJobs, Step

        user = user_id or self.settings.default_user_id
        doc_id = result.document.id
        store = self._store(user)
        say = progress or (lambda _stage: None)
        say("parse")

        def steps(pending: list[Step]) -> None:
            if any(s.task == "ocr_page" for s in pending):
                say("ocr")

        try:
            await DocumentJobs(self, self.ocr).run_all(Step("ingest", {"document_id": doc_id, "user_id": user}),
                                                       steps)
        except BaseException:
            await self.delete(doc_id, user_id=user)
            raise
        row = await store.get(doc_id)
        if row is None or row.get("status") != "ready":
            error = (row or {}).get("status_error") or ""
            await self.delete(doc_id, user_id=user)
            raise DocumentError("jobs.error", message=error or t("jobs.status.error"))
        say("index")
        doc = await self.get_document(doc_id, user_id=user, local_render=False)
        assert doc is not None
        doc.render_path = str(Path(path).expanduser())
        return IngestResult(doc, created=True, storage_keys=result.storage_keys)

    async def submit(self, path: str | Path, *, user_id: str | None = None, progress: Progress | None = None,
                     ocr: str | None = None, transient: bool = False) -> IngestResult:
        """Register one file: a PDF or an image is checked (it opens, has pages), kept in file
        storage and recorded in status ``queued`` for a job to process (``queued=True``); an OCR
        bundle, which needs no OCR, is read and stored at once. Bad input raises DocumentError and
        leaves nothing stored. ``transient``: the file at ``path`` goes away (an upload), so jobs
        read the stored copy only."""
        from aizoomdoc.documents.detect import detect_reader
        from aizoomdoc.pipeline.jobs import OCR_MODES, QUEUED_FORMATS

        mode = ocr or self.settings.ocr_mode
        if mode not in OCR_MODES:
            raise InvalidInputError("ocr.bad_mode", mode=mode)
        user = user_id or self.settings.default_user_id
        store = self._store(user)
        say = progress or (lambda _stage: None)
        t_start = time.perf_counter()
        say("read")
        source: Source = await asyncio.to_thread(load_source, path, self.settings.max_file_size_bytes)
        sha = await asyncio.to_thread(lambda: source.sha256)
        existing = await store.get_by_sha256(sha)
        if existing is not None and existing.get("status") == "error":
            # It failed before (e.g. a worker gave up): the same file again is a new try.
            await self.delete(str(existing["id"]), user_id=user)
            existing = None
        if existing is not None:
            log.info("%s is already ingested as %s", source.path, existing["id"])
            return IngestResult(document_from_rows(existing), created=False)
        reader = await asyncio.to_thread(detect_reader, source)
        if reader.format not in QUEUED_FORMATS:
            return await self._ingest_now(source, sha, user, say, t_start)
        say("parse")
        doc_id = document_id_for(sha, user)
        upload = asyncio.ensure_future(self.document_files.upload_source(doc_id, source, sha))
        try:
            title, page_count = await check_source_isolated(self.settings, source, reader.format)
        except BaseException:
            done = await asyncio.gather(upload, return_exceptions=True)
            if isinstance(done[0], str):
                await self.document_files.delete_keys([done[0]])
            raise
        key = await upload
        doc = Document(id=doc_id, title=title, source_path=str(source.path), source_format=reader.format, sha256=sha)
        row = {"id": doc_id, "sha256": sha, "title": title, "filename": source.path.name,
               "source_path": str(source.path), "source_format": reader.format, "page_count": page_count,
               "pages": [], "file_size": len(source.data), "storage_key": key, "render_key": key, "status": "queued",
               "metadata": {"ocr_mode": mode, **({} if transient else {"render_stat": file_stat(source.path)})}}
        try:
            created = await store.add(row, [])
        except BaseException as exc:
            await self.document_files.delete_keys([key])
            if isinstance(exc, AizoomdocError):
                raise
            raise DatabaseError("ingest.db_failed", name=source.name, detail=str(exc) or type(exc).__name__) from exc
        if not created:
            await self.document_files.delete_keys([key])
            winner = await store.get_by_sha256(sha)
            return IngestResult(document_from_rows(winner) if winner else doc, created=False)
        log.info("queued %s as %s (%d pages)", source.path, doc_id, page_count)
        return IngestResult(doc, created=True, storage_keys=[key], queued=True)

    async def _ingest_now(self, source: Source, sha: str, user: str, say: Progress, t_start: float) -> IngestResult:
        """Parse and store a document in one go (OCR bundles: their text is there already)."""
        store = self._store(user)
        say("parse")
        doc_id = document_id_for(sha, user)
        # The source file goes to storage while the file is parsed (I/O next to CPU); if parsing
        # fails it is deleted again, so bad input leaves nothing behind.
        upload = asyncio.ensure_future(self.document_files.upload_source(doc_id, source, sha))
        try:
            doc = await read_source_isolated(self.settings, source)
        except BaseException:
            done = await asyncio.gather(upload, return_exceptions=True)
            if isinstance(done[0], str):
                await self.document_files.delete_keys([done[0]])
            raise
        doc.id = doc_id
        say("store")
        keys = await self.document_files.upload_render(doc, source, upload)
        # One step at a time from here: the sqlite3 driver releases and re-takes the GIL once per
        # row, so CPU work in another thread (the search index, as before) stalls every row for a
        # GIL switch interval (measured: a 5,922-row insert, 55 ms alone, took 0.2-8 s next to one
        # busy thread). The index is built once the rows are in.
        try:
            row, block_rows = await asyncio.to_thread(document_rows, doc)
            row.update(file_size=len(source.data), storage_key=keys.get("source"), render_key=keys.get("render"))
            created = await store.add(row, block_rows)
        except BaseException as exc:
            await self.document_files.delete_keys(list(keys.values()))
            if isinstance(exc, AizoomdocError):
                raise
            raise DatabaseError("ingest.db_failed", name=source.name, detail=str(exc) or type(exc).__name__) from exc
        if not created:
            # A concurrent ingest of the same file won: keep its files, drop ours.
            await self.document_files.delete_keys(list(keys.values()))
            winner = await store.get_by_sha256(sha)
            return IngestResult(document_from_rows(winner) if winner else doc, created=False)
        say("index")
        await self.document_ready(doc, await store.get(doc.id) or row, user_id=user,
                                  seconds=time.perf_counter() - t_start)
        log.info("ingested %s as %s: %d pages, %d blocks", source.path, doc.id, len(doc.pages), len(doc.blocks))
        return IngestResult(doc, created=True, storage_keys=list(dict.fromkeys(keys.values())))

    async def document_ready(self, doc: Document, row: dict[str, Any], *, user_id: str,
                             seconds: float | None = None) -> None:
        """A document became ready: its search index saved, its ingest counted in the usage
        analytics (``seconds``: how long it took; by default since it was uploaded)."""
        await self.index_document(doc, row)
        if seconds is None:
            created = row.get("created_at")
            seconds = (utcnow() - parse_utc(created)).total_seconds() if created else 0.0
        await self.usage.document(user_id=user_id, doc=doc, file_size=row.get("file_size"), seconds=seconds)

    async def index_document(self, doc: Document, row: dict[str, Any]) -> None:
        """Save the search index of one ready document (a cache: search rebuilds it when missing)."""
        await self.indexes.save(doc, row)

    # --- lookup -------------------------------------------------------------------------------
    async def get_row(self, document_id: str, user_id: str | None = None) -> dict[str, Any] | None:
        return await self._store(user_id).get(document_id)

    async def get_document(self, document_id: str, *, user_id: str | None = None,
                           with_blocks: bool = True, local_render: bool = True) -> Document | None:
        """The stored document; ``render_path`` is a local file (downloaded if needed) or None."""
        store = self._store(user_id)
        row = await store.get(document_id)
        if row is None:
            return None
        block_rows = await store.blocks([document_id]) if with_blocks else None
        render = await self.render_path(row) if local_render else None
        return document_from_rows(row, block_rows, render_path=render)

    async def render_path(self, row: dict[str, Any]) -> str | None:
        """A local path with the document's pixels (:meth:`DocumentFiles.render_path`)."""
        return await self.document_files.render_path(row)

    async def list_documents(self, *, user_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        return await self._store(user_id).list(limit=limit)

    async def delete(self, document_id: str, *, user_id: str | None = None) -> bool:
        store = self._store(user_id)
        row = await store.get(document_id)
        if row is None:
            return False
        deleted = await store.delete(document_id)
        files = self.document_files
        for key in {files.own_key(row, "storage_key"), files.own_key(row, "render_key")} - {None}:
            await files.delete_keys([key])  # type: ignore[list-item]
        return deleted

    async def find(self, ref: str, *, user_id: str | None = None, ingest: bool = True,
                   progress: Progress | None = None, paths: bool = True) -> dict[str, Any]:
        """The document row for a path (ingested first when new) or an id (or a unique id prefix).

        ``paths=False`` (the server): ``ref`` is only ever an id of the caller's documents, never
        a file of the server's disk."""
        if not paths:
            row = await self._store(user_id).get(ref) if is_document_id(ref) else None
            if row is None:
                raise NotFoundError("search.document_not_found", ref=str(ref)[:60])
            return row
        path = Path(ref).expanduser()
        if path.is_file():
            source = await asyncio.to_thread(load_source, path, self.settings.max_file_size_bytes)
            row = await self._store(user_id).get_by_sha256(source.sha256)
            if row is None and ingest:
                result = await self.ingest(path, user_id=user_id, progress=progress)
                row = await self._store(user_id).get(result.document.id)
            if row is not None:
                return row
        row = await self._store(user_id).get(ref)
        if row is None and len(ref) >= 4 and not path.exists():
            matches = [r for r in await self._store(user_id).list(limit=10_000) if str(r["id"]).startswith(ref)]
            if len(matches) == 1:
                row = await self._store(user_id).get(str(matches[0]["id"]))
        if row is None and path.is_dir():  # a folder is neither a document nor an id
            raise DocumentError("documents.not_a_file", path=ref)
        if row is None:
            raise NotFoundError("search.document_not_found", ref=ref)
        return row

    # --- search -------------------------------------------------------------------------------

    async def index_for(self, document_ids: Sequence[str] | None = None, *,
                        user_id: str | None = None) -> SearchIndex:
        """The index over these documents (all of the user's when None), cached on disk."""
        return await self.indexes.index_for(self._store(user_id), document_ids)

    async def search(self, query: str, document_ids: Sequence[str] | None = None, *, top_k: int = 10,
                     pages: Iterable[int] | None = None, block_types: Iterable[str] | None = None,
                     user_id: str | None = None) -> list[Hit]:
        """Best blocks for ``query`` over the documents (all of the user's when None)."""
        return await self.indexes.search(query, document_ids, top_k=top_k, pages=pages, block_types=block_types,
                                         store=self._store(user_id))


__all__ = [
    "DocumentService", "IngestResult", "ServiceDocumentSource", "document_from_rows", "document_rows", "indexed_blocks",
    "is_document_id", "page_sheets",
]
