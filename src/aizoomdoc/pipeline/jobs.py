"""Processing a queued document, in steps that any worker can run (and run again).

    jobs = DocumentJobs(service, ocr)                     # ocr: an OcrPool or OcrProcess
    follow_ups = await jobs.run("ingest", {"document_id": ..., "user_id": ...})

A document is registered by :meth:`DocumentService.submit` (source in file storage, row in status
``queued``). Then three kinds of step, each idempotent, each returning the steps to run next:

- ``ingest``: read the source, decide which pages need OCR (``OCR_MODE``: pages without a usable
  text layer, every page, or none), record their number (``pages_total``), and hand out one
  ``ocr_page`` step per page not yet in the OCR cache — or finish at once when there is nothing to
  recognise.
- ``ocr_page``: recognise one page (in a bounded child process), store the result in the OCR
  cache (by sha256 + page), count the pages done; the step that completes the set hands out
  ``finish``.
- ``finish``: read the source again, put the OCR blocks in place of the pages' unusable text, and
  write every block and the status ``ready`` in one transaction (blocks replaced, never added), then
  build the search index.

A worker killed anywhere leaves the document ``queued``/``processing`` without blocks; running
the same step again (another worker) repeats only the unfinished work. The same code runs under
the PostgreSQL queue (:mod:`aizoomdoc.pipeline.queue`, ``aizoomdoc worker``), under the local runner
of the single-user server, and inline in ``aizoomdoc ingest``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aizoomdoc.documents.base import Source, most_common_sheet
from aizoomdoc.documents.isolated import read_source_isolated
from aizoomdoc.documents.model import Document
from aizoomdoc.documents.ocr import OcrOptions, PageOcr, ocr_unavailable
from aizoomdoc.errors import AizoomdocError, DocumentError
from aizoomdoc.pipeline.ocr_process import OcrFailed
from aizoomdoc.store.ocr_cache import OcrCache
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

OCR_MODES = ("auto", "always", "never")
#: Formats read through the queue (they may need OCR); bundles carry their text and are read at once.
QUEUED_FORMATS = ("pdf", "image")


@dataclass(frozen=True)
class Step:
    task: str  # "ingest" | "ocr_page" | "finish"
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def lock(self) -> str:
        """One pending job per step: the queue refuses a second one with the same lock."""
        page = self.kwargs.get("page_index")
        return f"{self.task}:{self.kwargs['document_id']}" + (f":{page}" if page is not None else "")


class Recogniser(Protocol):
    async def recognise(self, path: str, page_index: int, source_format: str, width: float,
                        height: float) -> dict[str, Any]: ...


def ocr_options(settings: Any) -> OcrOptions:
    return OcrOptions(lang=settings.ocr_lang, dpi=settings.ocr_dpi, max_pixels=settings.ocr_max_pixels,
                      tessdata=settings.ocr_tessdata_dir, min_confidence=settings.ocr_min_confidence)


def ocr_pool(settings: Any, size: int) -> Any:
    """``size`` bounded OCR processes configured from ``settings``."""
    from aizoomdoc.pipeline.ocr_process import OcrPool

    return OcrPool(ocr_options(settings), size, timeout=settings.ocr_timeout, memory_mb=settings.ocr_memory_mb,
                   nice=settings.ocr_nice)


def pages_to_ocr(doc: Document, mode: str) -> list[int]:
    """The pages OCR reads: with ``auto`` those without a usable text layer (none, garbage, scan)."""
    if mode == "never":
        return []
    if mode == "always":
        return [p.page_index for p in doc.pages]
    return [p.page_index for p in doc.pages if p.text_layer in ("none", "garbage") or p.is_scanned]


def missing_reason(missing: str | None, lang: str) -> str:
    return t(f"ocr.missing.{missing}", lang=lang) if missing else ""


class DocumentJobs:
    """The steps over one :class:`~aizoomdoc.pipeline.ingest.DocumentService`."""

    def __init__(self, service: Any, ocr: Recogniser | None) -> None:
        self.service = service
        self.settings = service.settings
        self.ocr = ocr
        self.options = ocr_options(self.settings)
        self.cache = OcrCache(service.db)

    async def run(self, task: str, kwargs: dict[str, Any]) -> list[Step]:
        steps: dict[str, Callable[..., Awaitable[list[Step]]]] = {
            "ingest": self.ingest, "ocr_page": self.ocr_page, "finish": self.finish}
        fn = steps[task]
        return await fn(**kwargs)

    async def run_all(self, first: Step, progress: Any = None) -> None:
        """Run a document's steps here until none is left (``aizoomdoc ingest``, the local runner):
        the pages' OCR steps at once, as many in parallel as the recogniser has processes."""
        pending = [first]
        while pending:
            results = await asyncio.gather(*(self.run(s.task, s.kwargs) for s in pending))
            pending = list({s.lock: s for r in results for s in r}.values())
            if progress is not None:
                progress(pending)

    # --- helpers -------------------------------------------------------------------------------
    async def _row(self, document_id: str, user_id: str) -> dict[str, Any] | None:
        row = await self.service.store_for(user_id).get(document_id)
        if row is None or row.get("status") in ("ready", "error"):
            return None  # deleted, or done already (a step run twice)
        return row

    async def _read(self, row: dict[str, Any]) -> tuple[Document, str]:
        """The document parsed from its stored source (off the event loop); the local path."""
        path = await self.service.render_path(row)
        if path is None:
            raise DocumentError("documents.not_found", path=row.get("filename") or "")

        data = await asyncio.to_thread(Path(path).read_bytes)
        # An uploaded file: parsed in a bounded worker process, like every untrusted parse.
        doc = await read_source_isolated(self.settings, Source(Path(row.get("filename") or path), data),
                                         companions=False)
        doc.id, doc.title, doc.source_path = str(row["id"]), row["title"], row.get("source_path") or doc.source_path
        doc.render_path = path
        return doc, path

    async def _fail(self, row: dict[str, Any], user_id: str, exc: AizoomdocError) -> None:
        log.warning("document %s failed: %s", row["id"], exc.key)
        await self.service.store_for(user_id).set_status(str(row["id"]), "error", status_error=str(exc),
                                                      only_from=("queued", "processing"))

    # --- steps -----------------------------------------------------------------------------------
    async def ingest(self, document_id: str, user_id: str) -> list[Step]:
        row = await self._row(document_id, user_id)
        if row is None:
            return []
        store = self.service.store_for(user_id)
        try:
            doc, _path = await self._read(row)
        except DocumentError as exc:
            await self._fail(row, user_id, exc)
            return []
        mode = (row.get("metadata") or {}).get("ocr_mode") or self.settings.ocr_mode
        pages = pages_to_ocr(doc, mode)
        if not pages or ocr_unavailable(self.options) is not None or self.ocr is None:
            return await self.finish(document_id, user_id)
        from aizoomdoc.pipeline.document_rows import document_rows

        page_rows = document_rows(doc)[0]["pages"]
        meta = dict(row.get("metadata") or {}, ocr_pages=pages)
        done = await self.cache.get(row["sha256"], self.options.cache_key(), pages)
        await store.set_status(document_id, "processing", only_from=("queued", "processing"), metadata=meta,
                               pages=page_rows, page_count=len(doc.pages), pages_total=len(pages),
                               pages_done=len(done))
        todo = [p for p in pages if p not in done]
        if not todo:
            return await self.finish(document_id, user_id)
        return [Step("ocr_page", {"document_id": document_id, "user_id": user_id, "page_index": p}) for p in todo]

    async def ocr_page(self, document_id: str, user_id: str, page_index: int) -> list[Step]:
        row = await self._row(document_id, user_id)
        if row is None:
            return []
        key = self.options.cache_key()
        pages = list((row.get("metadata") or {}).get("ocr_pages") or [page_index])
        if not await self.cache.get(row["sha256"], key, [page_index]):
            size = next((p for p in row.get("pages") or [] if int(p["page_index"]) == page_index), None)
            path = await self.service.render_path(row)
            if size is None or path is None or self.ocr is None:
                return [Step("ingest", {"document_id": document_id, "user_id": user_id})]
            try:
                result = await self.ocr.recognise(path, page_index, row["source_format"], float(size["width"]),
                                                  float(size["height"]))
            except OcrFailed as exc:
                result = {"page_index": page_index, "blocks": [], "failed": exc.reason, "detail": exc.detail}
            await self.cache.put(row["sha256"], key, page_index, result)
        done = await self.cache.count(row["sha256"], key, pages)
        await self.service.store_for(user_id).advance(document_id, done)
        if done >= len(set(pages)):
            return [Step("finish", {"document_id": document_id, "user_id": user_id})]
        return []

    async def finish(self, document_id: str, user_id: str) -> list[Step]:
        row = await self._row(document_id, user_id)
        if row is None:
            return []
        try:
            doc, _path = await self._read(row)
        except DocumentError as exc:
            await self._fail(row, user_id, exc)
            return []
        # What the reader found (warnings, pages without a text layer) under what the upload recorded.
        meta = {**doc.metadata, **(row.get("metadata") or {})}
        mode = meta.get("ocr_mode") or self.settings.ocr_mode
        pages = pages_to_ocr(doc, mode)
        missing = ocr_unavailable(self.options) if pages else None
        if missing is None and pages and self.ocr is None:
            missing = "engine"
        results = {} if missing else await self.cache.get(row["sha256"], self.options.cache_key(), pages)
        flags = merge_ocr(doc, pages, results, missing)
        from aizoomdoc.pipeline.document_rows import document_rows

        values, block_rows = document_rows(doc)
        for page in values["pages"]:
            page.update(flags.get(int(page["page_index"]), {}))
        unreadable = [p + 1 for p, f in sorted(flags.items()) if f.get("ocr") in ("failed", "unavailable")]
        meta.pop("ocr_pages", None)
        read = [p + 1 for p, f in sorted(flags.items()) if f.get("ocr") == "done"]
        meta.update(ocr_pages_read=len(read), ocr_read=read,
                    unreadable_pages=unreadable, ocr_missing=missing, ocr_lang=self.options.lang)
        if unreadable and not missing:
            details = {f.get("ocr_error") for f in flags.values() if f.get("ocr") == "failed"}
            meta["ocr_failure"] = "; ".join(sorted(d for d in details if d))
        values = {"title": values["title"], "pages": values["pages"], "sheet": values["sheet"],
                  "page_count": values["page_count"],
                  "metadata": meta, "pages_done": len(pages) if not missing else 0, "pages_total": len(pages)}
        if not await self.service.store_for(user_id).replace_blocks(document_id, values, block_rows):
            return []
        await self.service.document_ready(doc, row, user_id=user_id)
        log.info("document %s ready: %d pages, %d blocks, %d read by OCR", document_id, len(doc.pages),
                 len(block_rows), meta["ocr_pages_read"])
        return []


def merge_ocr(doc: Document, pages: list[int], results: dict[int, dict[str, Any]],
              missing: str | None) -> dict[int, dict[str, Any]]:
    """Put each recognised page's OCR blocks in place of its text blocks (image blocks stay);
    the flags of every OCR page: ``ocr`` = done | failed | unavailable, its confidence."""
    flags: dict[int, dict[str, Any]] = {}
    by_index = {p.page_index: p for p in doc.pages}
    for index in pages:
        page = by_index.get(index)
        if page is None:
            continue
        if missing:
            flags[index] = {"ocr": "unavailable"}
            continue
        data = results.get(index)
        if data is None or data.get("failed"):
            reason = (data or {}).get("failed") or "error"
            flags[index] = {"ocr": "failed", "ocr_error": t(f"ocr.failed.{reason}", detail=(data or {}).get("detail"))}
            continue
        result = PageOcr.from_dict(data)
        page.blocks = [b for b in page.blocks if b.block_type == "image"] + result.blocks
        if result.sheet is not None:
            page.sheet = result.sheet.merged(page.sheet) if page.sheet else result.sheet
        flags[index] = {"ocr": "done", "ocr_confidence": result.confidence, "ocr_dpi": result.dpi}
    if any(f.get("ocr") == "done" for f in flags.values()):
        doc.sheet = most_common_sheet(p.sheet for p in doc.pages) or doc.sheet
    return flags


__all__ = ["OCR_MODES", "QUEUED_FORMATS", "DocumentJobs", "Step", "merge_ocr", "ocr_options", "ocr_pool",
           "pages_to_ocr"]
