"""Ingest and search: the wiring of document readers, the search index, the database and files.

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
import mimetypes
import os
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aizoomdoc.config import Settings, get_settings
from aizoomdoc.documents.title import display_title
from aizoomdoc.documents.base import Source, document_id_for
from aizoomdoc.documents.detect import load_source
from aizoomdoc.documents.isolated import check_source_isolated, read_source_isolated
from aizoomdoc.documents.model import Block, Document, Page, SheetInfo
from aizoomdoc.errors import AizoomdocError, DatabaseError, DocumentError, InvalidInputError, NotFoundError, StorageError
from aizoomdoc.search import Hit, IndexCache, IndexedBlock, SearchIndex, index_key
from aizoomdoc.search.index import indexed_block
from aizoomdoc.store.database import Database
from aizoomdoc.store.documents import DocumentStore
from aizoomdoc.store.factory import build_files
from aizoomdoc.store.files import FileStorage
from aizoomdoc.pipeline.index_share import SharedIndexes
from aizoomdoc.pipeline.usage import UsageRecorder
from aizoomdoc.store.cache import shared_cache
from aizoomdoc.store.clock import parse_utc, utcnow
from aizoomdoc.store.files.paths import key_under, unique_filename
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


# --- Document <-> rows ------------------------------------------------------------------------


def _sheet(info: SheetInfo | None) -> dict[str, str] | None:
    return info.to_dict() if info is not None and not info.is_empty() else None


def document_rows(doc: Document) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``documents`` row and ``document_blocks`` rows of a document."""
    pages = [
        {"page_index": p.page_index, "width": p.width, "height": p.height, "unit": p.unit,
         "is_scanned": p.is_scanned, "sheet": _sheet(p.sheet), "text_layer": p.text_layer}
        for p in doc.pages
    ]
    row = {
        "id": doc.id, "sha256": doc.sha256, "title": display_title(doc), "filename": Path(doc.source_path).name,
        "source_path": doc.source_path, "source_format": doc.source_format, "page_count": len(doc.pages),
        "pages": pages, "sheet": _sheet(doc.sheet), "metadata": dict(doc.metadata),
    }
    # Boxes stay the blocks' own tuples (JSON arrays all the same): no new objects per block.
    block_rows = [
        {"block_id": b.id, "page_index": b.page_index, "block_type": b.block_type, "text": b.text,
         "coords_norm": b.coords_norm, "coords_px": b.coords_px or None,
         "has_coords": b.has_coords, "links": b.links or None, "crop_ref": b.crop_ref,
         "sheet": _sheet(b.sheet) if b.sheet else None, "extra": b.extra or None}
        for p in doc.pages for b in p.blocks
    ]
    return row, block_rows


def document_from_rows(row: dict[str, Any], block_rows: Iterable[dict[str, Any]] | None = None,
                       render_path: str | None = None) -> Document:
    """A :class:`Document` from its stored rows (``block_rows=None``: pages without blocks)."""
    doc = Document(
        id=str(row["id"]), title=row["title"], source_path=row.get("source_path") or row["filename"],
        source_format=row["source_format"], sha256=row["sha256"], render_path=render_path,
        sheet=SheetInfo.from_dict(row.get("sheet")), metadata=dict(row.get("metadata") or {}),
    )
    if row.get("status") not in (None, "ready"):
        doc.metadata["status"] = row["status"]
    pages: dict[int, Page] = {}
    for p in row.get("pages") or []:
        pages[int(p["page_index"])] = Page(
            int(p["page_index"]), float(p.get("width") or 0), float(p.get("height") or 0),
            unit=p.get("unit") or "pt", is_scanned=bool(p.get("is_scanned")), sheet=SheetInfo.from_dict(p.get("sheet")),
            text_layer=p.get("text_layer") or "ok",
        )
    for b in block_rows or []:
        page_index = int(b["page_index"])
        page = pages.setdefault(page_index, Page(page_index, 0.0, 0.0, unit="px"))
        page.blocks.append(Block(
            id=b["block_id"], page_index=page_index, block_type=b["block_type"], text=b["text"] or "",
            coords_norm=tuple(b["coords_norm"] or (0.0, 0.0, 1.0, 1.0)),  # type: ignore[arg-type]
            coords_px=tuple(b["coords_px"]) if b.get("coords_px") else None,  # type: ignore[arg-type]
            links=list(b.get("links") or []), crop_ref=b.get("crop_ref"), sheet=SheetInfo.from_dict(b.get("sheet")),
            extra=dict(b.get("extra") or {}), has_coords=bool(b.get("has_coords", True)),
        ))
    doc.pages = [pages[k] for k in sorted(pages)]
    return doc


def page_sheets(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    """(document id, page index) -> the page's title-block info, from ``documents`` rows."""
    return {(str(r["id"]), int(p["page_index"])): p["sheet"]
            for r in rows for p in (r.get("pages") or []) if p.get("sheet")}


def indexed_blocks(block_rows: Iterable[dict[str, Any]],
                   sheets: dict[tuple[str, int], dict[str, Any]] | None = None) -> list[IndexedBlock]:
    """What the search index keeps of stored blocks (``sheets``: see :func:`page_sheets`)."""
    sheets = sheets or {}
    return [
        indexed_block(str(b["document_id"]), b["block_id"], int(b["page_index"]), b["block_type"], b["text"] or "",
                      tuple(b["coords_norm"] or (0.0, 0.0, 1.0, 1.0)), bool(b.get("has_coords", True)),  # type: ignore[arg-type]
                      b.get("extra"), sheets.get((str(b["document_id"]), int(b["page_index"]))))
        for b in block_rows
    ]


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
        self.index_cache = index_cache or IndexCache(self.settings.data_dir / "search")
        self.usage = UsageRecorder(self.settings, self.db)
        self.shared_indexes = SharedIndexes(shared_cache(self.settings), self.index_cache)
        self._ocr: Any = None

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
        upload = asyncio.ensure_future(self._upload_source(doc_id, source, sha))
        try:
            title, page_count = await check_source_isolated(self.settings, source, reader.format)
        except BaseException:
            done = await asyncio.gather(upload, return_exceptions=True)
            if isinstance(done[0], str):
                await self._delete_keys([done[0]])
            raise
        key = await upload
        doc = Document(id=doc_id, title=title, source_path=str(source.path), source_format=reader.format, sha256=sha)
        row = {"id": doc_id, "sha256": sha, "title": title, "filename": source.path.name,
               "source_path": str(source.path), "source_format": reader.format, "page_count": page_count,
               "pages": [], "file_size": len(source.data), "storage_key": key, "render_key": key, "status": "queued",
               "metadata": {"ocr_mode": mode, **({} if transient else {"render_stat": _stat(source.path)})}}
        try:
            created = await store.add(row, [])
        except BaseException as exc:
            await self._delete_keys([key])
            if isinstance(exc, AizoomdocError):
                raise
            raise DatabaseError("ingest.db_failed", name=source.name, detail=str(exc) or type(exc).__name__) from exc
        if not created:
            await self._delete_keys([key])
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
        upload = asyncio.ensure_future(self._upload_source(doc_id, source, sha))
        try:
            doc = await read_source_isolated(self.settings, source)
        except BaseException:
            done = await asyncio.gather(upload, return_exceptions=True)
            if isinstance(done[0], str):
                await self._delete_keys([done[0]])
            raise
        doc.id = doc_id
        say("store")
        keys = await self._upload_render(doc, source, upload)
        # One step at a time from here: the sqlite3 driver releases and re-takes the GIL once per
        # row, so CPU work in another thread (the search index, as before) stalls every row for a
        # GIL switch interval (measured: a 5,922-row insert, 55 ms alone, took 0.2-8 s next to one
        # busy thread). The index is built once the rows are in.
        try:
            row, block_rows = await asyncio.to_thread(document_rows, doc)
            row.update(file_size=len(source.data), storage_key=keys.get("source"), render_key=keys.get("render"))
            created = await store.add(row, block_rows)
        except BaseException as exc:
            await self._delete_keys(list(keys.values()))
            if isinstance(exc, AizoomdocError):
                raise
            raise DatabaseError("ingest.db_failed", name=source.name, detail=str(exc) or type(exc).__name__) from exc
        if not created:
            # A concurrent ingest of the same file won: keep its files, drop ours.
            await self._delete_keys(list(keys.values()))
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
        try:
            key = index_key([(doc.id, _index_version(row))])
            await asyncio.to_thread(lambda: self.index_cache.put(key, SearchIndex.build([doc])))
            await self.shared_indexes.put(key)
        except Exception:  # noqa: BLE001 - the index is a cache; search rebuilds it from the DB
            log.warning("could not save the search index of %s", doc.id, exc_info=True)

    async def _upload_source(self, doc_id: str, source: Source, sha: str) -> str:
        """The source file into storage; its key."""
        key = f"documents/{doc_id}/{unique_filename(source.path.name)}"
        ctype = mimetypes.guess_type(source.path.name)[0] or "application/octet-stream"
        try:
            await self.storage.upload_bytes(source.data, key, content_type=ctype, metadata={"sha256": sha})
        except BaseException as exc:
            if isinstance(exc, AizoomdocError):
                raise
            raise StorageError("ingest.storage_failed", name=source.name, detail=str(exc)) from exc
        return key

    async def _upload_render(self, doc: Document, source: Source, upload: asyncio.Future[str]) -> dict[str, str]:
        """After the source upload (``upload``), a different render file (a bundle's PDF); all or
        nothing: the keys by role."""
        keys = {"source": await upload}
        if doc.render_path and Path(doc.render_path).resolve() != source.path.resolve():
            path = Path(doc.render_path)
            key = f"documents/{doc.id}/{unique_filename(path.name)}"
            try:
                await self.storage.upload_file(path, key, content_type=mimetypes.guess_type(path.name)[0]
                                               or "application/octet-stream")
            except BaseException as exc:
                await self._delete_keys([keys["source"]])
                if isinstance(exc, AizoomdocError):
                    raise
                raise StorageError("ingest.storage_failed", name=source.name, detail=str(exc)) from exc
            keys["render"] = key
        if doc.render_path:
            keys.setdefault("render", keys["source"])
            # Where the pixels are now (until get_document says otherwise).
            doc.metadata["render_stat"] = _stat(Path(doc.render_path))
        return keys

    async def _delete_keys(self, keys: list[str]) -> None:
        for key in dict.fromkeys(keys):
            try:
                await self.storage.delete_file(key)
            except Exception:  # noqa: BLE001 - best effort cleanup
                log.warning("could not delete %s after a failed ingest", key, exc_info=True)

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

    def _own_key(self, row: dict[str, Any], column: str) -> str | None:
        """``row[column]`` if it is a key in the document's own folder (``documents/{id}/``).

        Keys are read back from a row the user can write (Supabase's Data API): a key pointing
        at another document's file is never read, signed or deleted."""
        key = row.get(column)
        if not key:
            return None
        if not key_under(key, f"documents/{row['id']}/"):
            log.warning("document %s: %s outside its folder is ignored", row.get("id"), column)
            return None
        return str(key)

    async def render_path(self, row: dict[str, Any]) -> str | None:
        """A local path with the document's pixels: the original file when unchanged (local mode
        only), the local storage file, or a download cached under ``DATA_DIR/cache/documents``."""
        key = self._own_key(row, "render_key")
        if not key:
            return None
        meta = row.get("metadata") or {}
        # A file system path in a row is only followed in local mode, where the one user owns the
        # machine; a server never opens a path a user could have written into their row.
        original = (meta.get("pdf_path") if key != row.get("storage_key") else row.get("source_path")) \
            if self.settings.auth_mode == "local" else None
        stat = meta.get("render_stat")
        if original and stat and _stat(Path(original)) == stat:
            return str(original)
        local = getattr(self.storage, "path_for", None)
        if self.storage.backend == "local" and callable(local):
            p = Path(local(key))
            if p.is_file():
                return str(p)
        target = self.settings.data_dir / "cache" / "documents" / str(row["id"]) / key.rsplit("/", 1)[-1]
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            await self.storage.download_file(key, target)
        return str(target)

    async def list_documents(self, *, user_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        return await self._store(user_id).list(limit=limit)

    async def delete(self, document_id: str, *, user_id: str | None = None) -> bool:
        store = self._store(user_id)
        row = await store.get(document_id)
        if row is None:
            return False
        deleted = await store.delete(document_id)
        for key in {self._own_key(row, "storage_key"), self._own_key(row, "render_key")} - {None}:
            await self._delete_keys([key])  # type: ignore[list-item]
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
        store = self._store(user_id)
        if document_ids is None:
            rows = await store.list(limit=100_000)
        else:
            rows = await store.get_many(document_ids)
            missing = set(document_ids) - {str(r["id"]) for r in rows}
            if missing:
                raise NotFoundError("search.document_not_found", ref=sorted(missing)[0])
        key = index_key((str(r["id"]), _index_version(r)) for r in rows)
        cached = await asyncio.to_thread(self.index_cache.get, key)
        if cached is not None:
            return cached
        shared = await self.shared_indexes.get(key)  # built by a worker elsewhere (Redis)
        if shared is not None:
            return shared
        block_rows = await store.blocks([str(r["id"]) for r in rows])
        if rows and "pages" not in rows[0]:  # a listing: the pages (sheet names) come with the full rows
            rows = await store.get_many([str(r["id"]) for r in rows])

        def build() -> SearchIndex:
            index = SearchIndex.build(indexed_blocks(block_rows, page_sheets(rows)))
            self.index_cache.put(key, index)
            return index

        index = await asyncio.to_thread(build)
        await self.shared_indexes.put(key)
        return index

    async def search(self, query: str, document_ids: Sequence[str] | None = None, *, top_k: int = 10,
                     pages: Iterable[int] | None = None, block_types: Iterable[str] | None = None,
                     user_id: str | None = None) -> list[Hit]:
        """Best blocks for ``query`` over the documents (all of the user's when None)."""
        index = await self.index_for(document_ids, user_id=user_id)
        return await asyncio.to_thread(index.search, query, top_k, None, pages, block_types)


class ServiceDocumentSource:
    """A :class:`~aizoomdoc.pipeline.sources.DocumentSource` over :class:`DocumentService`:
    paths are ingested once (database + file storage), ids are looked up, search is BM25."""

    def __init__(self, settings: Settings | None = None, service: DocumentService | None = None, *,
                 allow_paths: bool = True) -> None:
        self.service = service or DocumentService(settings)
        self._own = service is None
        #: False on the server: references are document ids only, never paths (see ``find``).
        self.allow_paths = allow_paths
        self._docs: dict[str, Document] = {}
        self._owner: dict[str, str | None] = {}

    async def aclose(self) -> None:
        self._docs.clear()
        if self._own:
            await self.service.aclose()

    async def resolve(self, refs: Sequence[str], user_id: str | None = None) -> list[Document]:
        out: list[Document] = []
        for ref in refs:
            row = await self.service.find(ref, user_id=user_id, paths=self.allow_paths)
            doc_id = str(row["id"])
            if any(d.id == doc_id for d in out):
                continue
            doc = self._docs.get(doc_id)
            if doc is None:
                doc = await self.service.get_document(doc_id, user_id=user_id)
                if doc is None:
                    raise NotFoundError("search.document_not_found", ref=ref)
                if "status" not in doc.metadata:  # ready: its blocks will not change
                    self._docs[doc_id] = doc
            self._owner[doc_id] = user_id
            out.append(doc)
        return out

    async def search(self, documents: Sequence[Document], query: str, top_k: int) -> list[Any]:
        from aizoomdoc.pipeline.sources import FoundBlock

        by_id = {d.id: d for d in documents}
        owners = {self._owner.get(d) for d in by_id}
        user_id = owners.pop() if len(owners) == 1 else None
        hits = await self.service.search(query, list(by_id), top_k=top_k, user_id=user_id)
        found = []
        for h in hits:
            doc = by_id.get(h.document_id)
            block = doc.block(h.block_id) if doc is not None else None
            if doc is not None and block is not None:
                found.append(FoundBlock(doc, block, h.score))
        return found


def is_document_id(ref: object) -> bool:
    """Whether ``ref`` is a document id (a uuid), as opposed to a path or anything else."""
    try:
        uuid.UUID(str(ref))
    except ValueError:
        return False
    return isinstance(ref, str)


def _index_version(row: dict[str, Any]) -> str:
    """What the cached index of a document depends on: its content, and its blocks (a queued
    document has none yet; they arrive with ``ready``)."""
    return f"{row['sha256']}:{row.get('status') or 'ready'}:{row.get('block_count') or 0}"



def _stat(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


__all__ = [
    "DocumentService", "IngestResult", "ServiceDocumentSource", "document_from_rows", "document_rows", "indexed_blocks",
    "is_document_id",
]
