"""Revision compare as a service: two versions of a set (files or stored documents) → a
:class:`~aizoomdoc.compare.Comparison`.

    async with CompareService(settings) as service:
        comparison = await service.compare_files("АР3.pdf", "АР3_изм8.pdf")      # files, nothing stored
        comparison = await service.compare_stored(old_id, new_id, user_id="u1")  # cached

The work — reading the files (untrusted input), rendering and diffing the sheets — runs in a child
process of its own, spawned per comparison and bounded: ``COMPARE_TIMEOUT`` seconds and
``COMPARE_MAX_MEMORY_MB`` of address space; past either it is killed and the user gets one clear
line. The event loop only waits.

Comparisons of stored documents are cached in file storage as JSON under
``compare/{old_document_id}/{new_document_id}-v{ENGINE_VERSION}{-text}.json`` (document ids are per
user and per content, so a cached result is never another user's): asking again — from the web
view or from a chat question — costs one read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from aizoomdoc import errors
from aizoomdoc.compare import CompareOptions, Comparison, VisualOptions
from aizoomdoc.config import Settings, get_settings
from aizoomdoc.documents.model import Document
from aizoomdoc.errors import AizoomdocError, InvalidInputError, NotFoundError
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

#: Bump when the comparison changes, so that cached results are computed again.
ENGINE_VERSION = 1


def options_from(settings: Settings, visual: bool | None = None) -> CompareOptions:
    return CompareOptions(
        visual=settings.compare_visual if visual is None else visual,
        visual_options=VisualOptions(max_pixels=settings.compare_render_max_pixels),
    )


# --- the child process --------------------------------------------------------------------------


def _limit_memory(megabytes: int) -> None:
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on this platform: the time limit still holds
        log.debug("no memory limit for the comparison process")


def _work(job: dict[str, Any]) -> dict[str, Any]:
    from aizoomdoc.compare import compare_documents
    from aizoomdoc.documents.detect import read_document

    opts = CompareOptions(visual=job["visual"], visual_options=VisualOptions(**job["visual_options"]))
    if job["kind"] == "files":
        old = read_document(job["old"], max_bytes=job["max_bytes"])
        new = read_document(job["new"], max_bytes=job["max_bytes"])
    else:
        old, new = job["old"], job["new"]
    comparison = compare_documents(old, new, opts)
    out = comparison.to_dict()
    out["timings"] = {k: round(v, 3) for k, v in comparison.timings.items()}
    return out


def _child_main() -> None:
    """``python -m aizoomdoc.pipeline.compare``: one pickled job on stdin, one pickled message on
    stdout (``("ok", result)`` or ``("error", class, key, params)``)."""
    import pickle
    import sys

    job = pickle.loads(sys.stdin.buffer.read())
    _limit_memory(job["memory_mb"])
    try:
        message: tuple[Any, ...] = ("ok", _work(job))
    except AizoomdocError as exc:
        message = ("error", type(exc).__name__, exc.key, {k: str(v) for k, v in exc.params.items()})
    except MemoryError:
        message = ("memory",)
    except Exception as exc:  # noqa: BLE001 - the child process top level: one line for the parent, the detail in the log
        log.exception("comparison failed")
        message = ("memory",) if "malloc" in str(exc) else ("crash", type(exc).__name__)
    sys.stdout.buffer.write(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()


#: Comparison processes running at once in this process (COMPARE_CONCURRENCY); a thread
#: semaphore, polled, so that it works across event loops and a cancelled waiter leaves no slot taken.
_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _get_slots(n: int) -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(n)
        return _slots


async def run_bounded(job: dict[str, Any], *, timeout: float, memory_mb: int, what: str,
                      concurrency: int = 2) -> dict[str, Any]:
    """Run a comparison job in a fresh Python process; its result dict, or an :class:`AizoomdocError`.

    A process of its own (not a fork of this one, which may hold an event loop and threads): it
    imports only what the comparison needs, its memory is limited, and it is killed on timeout
    or when the caller is cancelled. At most ``concurrency`` run at once; the others wait."""
    slots = _get_slots(concurrency)
    while not slots.acquire(blocking=False):
        await asyncio.sleep(0.2)
    try:
        return await _run_process(job, timeout=timeout, memory_mb=memory_mb, what=what)
    finally:
        slots.release()


async def _run_process(job: dict[str, Any], *, timeout: float, memory_mb: int, what: str) -> dict[str, Any]:
    import pickle
    import sys

    payload = pickle.dumps({**job, "memory_mb": memory_mb}, protocol=pickle.HIGHEST_PROTOCOL)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aizoomdoc.pipeline.compare", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(payload), timeout)
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        if isinstance(sys.exc_info()[1], TimeoutError):
            raise InvalidInputError("compare.timeout", what=what, seconds=f"{timeout:g}") from None
        raise
    message: tuple[Any, ...] | None = None
    if process.returncode == 0 and out:
        try:
            message = pickle.loads(out)
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, ValueError):
            # a truncated or garbled answer of the child: reported below as a failure
            message = None
    if message is None:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["—"]
        log.warning("comparison process for %s ended with %s: %s", what, process.returncode, tail[0][:300])
        if (process.returncode or 0) < 0 or b"MemoryError" in err:
            raise InvalidInputError("compare.memory", what=what, limit=memory_mb)
        raise InvalidInputError("compare.failed", what=what, detail=tail[0].split(":")[0][:80])
    if message[0] == "ok":
        return message[1]
    if message[0] == "error":
        cls = getattr(errors, message[1], None)
        if not (isinstance(cls, type) and issubclass(cls, AizoomdocError)):
            cls = AizoomdocError
        raise cls(message[2], **message[3])
    if message[0] == "crash":
        raise InvalidInputError("compare.failed", what=what, detail=message[1])
    raise InvalidInputError("compare.memory", what=what, limit=memory_mb)


# --- the service --------------------------------------------------------------------------------


class CompareService:
    """Comparisons for one settings object; stored documents through a DocumentService."""

    def __init__(self, settings: Settings | None = None, *, documents: Any = None, files: Any = None) -> None:
        self.settings = settings or get_settings()
        self._documents = documents
        self._own_documents = documents is None
        self._files = files if files is not None else getattr(documents, "storage", None) if documents else None

    @property
    def documents(self) -> Any:
        if self._documents is None:
            from aizoomdoc.pipeline.ingest import DocumentService

            self._documents = DocumentService(self.settings)
        return self._documents

    @property
    def files(self) -> Any:
        if self._files is None:
            self._files = self.documents.storage
        return self._files

    async def aclose(self) -> None:
        if self._own_documents and self._documents is not None:
            await self._documents.aclose()
            self._documents = None

    async def __aenter__(self) -> CompareService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _job(self, kind: str, old: Any, new: Any, visual: bool | None) -> dict[str, Any]:
        opts = options_from(self.settings, visual)
        return {"kind": kind, "old": old, "new": new, "visual": opts.visual,
                "visual_options": asdict(opts.visual_options), "max_bytes": self.settings.max_file_size_bytes}

    async def _run(self, job: dict[str, Any], what: str) -> Comparison:
        data = await run_bounded(job, timeout=self.settings.compare_timeout,
                                 memory_mb=self.settings.compare_max_memory_mb, what=what,
                                 concurrency=self.settings.compare_concurrency)
        comparison = Comparison.from_dict(data)
        comparison.timings = dict(data.get("timings") or {})
        return comparison

    async def compare_files(self, old: str | Path, new: str | Path, *, visual: bool | None = None) -> Comparison:
        """Two files (PDF, image or OCR bundle; a bundle with its PDF next to it) — nothing is stored."""
        old_p, new_p = Path(old).expanduser(), Path(new).expanduser()
        for p in (old_p, new_p):  # the usual one-line errors before a process is started
            if not p.exists():
                raise errors.DocumentError("documents.not_found", path=str(p))
            if not p.is_file():
                raise errors.DocumentError("documents.not_a_file", path=str(p))
        what = f"{old_p.name} → {new_p.name}"
        return await self._run(self._job("files", str(old_p), str(new_p), visual), what)

    async def compare_loaded(self, old: Document, new: Document, *, visual: bool | None = None,
                             cache: bool = True) -> Comparison:
        """Two documents already read (stored ones, with a local render path); cached by their ids."""
        opts = options_from(self.settings, visual)
        key = f"compare/{old.id}/{new.id}-v{ENGINE_VERSION}{'' if opts.visual else '-text'}.json"
        if cache:
            cached = await self._cached(key)
            if cached is not None:
                return cached
        comparison = await self._run(self._job("documents", old, new, visual), f"{old.title} → {new.title}")
        if cache:
            try:
                data = json.dumps(comparison.to_dict(), ensure_ascii=False).encode()
                await self.files.upload_bytes(data, key, content_type="application/json")
            except (AizoomdocError, OSError):  # the cache is an optimisation
                log.warning("could not cache the comparison %s", key, exc_info=True)
        return comparison

    async def _cached(self, key: str) -> Comparison | None:
        try:
            data = await self.files.read_bytes(key)
        except NotFoundError:
            return None
        except (AizoomdocError, OSError):  # an unreadable cache is recomputed
            log.warning("could not read the cached comparison %s", key, exc_info=True)
            return None
        try:
            return Comparison.from_dict(json.loads(data))
        except (ValueError, KeyError, TypeError):
            log.warning("cached comparison %s is unreadable; computing again", key)
            return None

    async def compare_stored(self, old_id: str, new_id: str, *, user_id: str | None = None,
                             visual: bool | None = None) -> Comparison:
        """Two stored documents of the user (ids); NotFoundError for an unknown one."""
        if old_id == new_id:
            raise InvalidInputError("compare.same_document")
        docs = []
        for ref in (old_id, new_id):
            doc = await self.documents.get_document(ref, user_id=user_id)
            if doc is None:
                raise NotFoundError("search.document_not_found", ref=ref)
            status = doc.metadata.get("status")
            if status in ("queued", "processing", "error"):  # no pages to compare (yet)
                raise InvalidInputError("compare.not_ready", title=doc.title, status=t(f"jobs.status.{status}"))
            docs.append(doc)
        return await self.compare_loaded(docs[0], docs[1], visual=visual)

    async def compare_refs(self, old: str, new: str, *, user_id: str | None = None,
                           visual: bool | None = None) -> Comparison:
        """Paths of files (compared as they are) or ids of stored documents (the CLI)."""
        is_file = [Path(r).expanduser().is_file() for r in (old, new)]
        if all(is_file):
            return await self.compare_files(old, new, visual=visual)
        rows: dict[int, dict[str, Any]] = {}
        for k in (0, 1):  # an unknown id fails before the other file is ingested
            if not is_file[k]:
                rows[k] = await self.documents.find((old, new)[k], user_id=user_id, ingest=False)
        for k in (0, 1):
            if is_file[k]:
                rows[k] = await self.documents.find((old, new)[k], user_id=user_id)
        ids = [str(rows[0]["id"]), str(rows[1]["id"])]
        return await self.compare_stored(ids[0], ids[1], user_id=user_id, visual=visual)


__all__ = ["CompareService", "ENGINE_VERSION", "options_from", "run_bounded"]


if __name__ == "__main__":
    _child_main()
