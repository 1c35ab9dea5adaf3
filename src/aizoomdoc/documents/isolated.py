"""Parse an uploaded file in a worker process, bounded in time and memory.

    doc = await read_source_isolated(settings, source)

:func:`~aizoomdoc.documents.detect.read_source` runs in :func:`aizoomdoc.isolation.worker_pool`:
the event loop never waits on a reader, parsing slower than ``PARSE_TIMEOUT`` is stopped, and
more than ``WORKER_MEMORY_MB`` fails. Every such failure is a :class:`DocumentError` (422) naming
the file: «слишком сложный для разбора» (time, memory, a crash of a C library) or «слишком
глубокая вложенность» (JSON nested deeper than the parser's recursion limit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aizoomdoc.documents import image
from aizoomdoc.documents.base import Source
from aizoomdoc.documents.detect import read_source
from aizoomdoc.documents.model import Document
from aizoomdoc.errors import AizoomdocError, DocumentError
from aizoomdoc.isolation import Limits, Reason, worker_pool
from aizoomdoc.texts import t

log = logging.getLogger(__name__)


def parse_job(source: Source, max_image_pixels: int, companions: bool = True) -> Document:
    """Inside the worker: read the file with this server's pixel budget."""
    image.PIXEL_BUDGET = max_image_pixels
    return read_source(source, companions=companions)


def check_job(source: Source, fmt: str, max_image_pixels: int) -> tuple[str, int]:
    """Inside the worker: a PDF or image opens and has pages (cheap, before it is queued): its
    title and page count."""
    image.PIXEL_BUDGET = max_image_pixels
    if fmt == "image":
        return image.ImageReader().read(source).title, 1
    from aizoomdoc.documents.base import new_document
    from aizoomdoc.documents.pdf import _open

    pdf = _open(source)
    try:
        title = (pdf.metadata or {}).get("title") or None
        count = pdf.page_count
    finally:
        pdf.close()
    return new_document(source, fmt, title=title).title, count


def _on_limit(settings: Any, source: Source) -> Callable[[Reason], AizoomdocError]:
    def build(reason: Reason) -> AizoomdocError:
        if reason == "recursion":
            return DocumentError("documents.too_deep", path=str(source.path))
        detail = t(f"limit.reason.{reason}", seconds=f"{settings.parse_timeout:g}",
                   memory_mb=settings.worker_memory_mb)
        return DocumentError("documents.too_complex", path=str(source.path), reason=detail)
    return build


async def read_source_isolated(settings: Any, source: Source, *, companions: bool = True) -> Document:
    """:func:`read_source` of an untrusted file in a worker process (see the module docstring)."""
    return await _run(settings, source, parse_job, source, settings.max_image_pixels, companions)


async def check_source_isolated(settings: Any, source: Source, fmt: str) -> tuple[str, int]:
    """:func:`check_job` of an untrusted PDF or image in a worker process: (title, page count)."""
    return await _run(settings, source, check_job, source, fmt, settings.max_image_pixels)


async def _run(settings: Any, source: Source, fn: Callable[..., Any], *args: Any) -> Any:
    limits = Limits(seconds=settings.parse_timeout, memory_mb=settings.worker_memory_mb)
    try:
        return await worker_pool(settings).run(fn, *args, limits=limits, on_limit=_on_limit(settings, source))
    except AizoomdocError:
        raise
    except Exception as exc:  # noqa: BLE001 - a reader bug on odd input: the uploader gets a clear 422, the log the detail
        log.warning("reading %s failed unexpectedly: %r", source.name, exc)
        raise DocumentError("documents.unreadable", path=str(source.path),
                            detail=f"{type(exc).__name__}") from exc


__all__ = ["check_job", "check_source_isolated", "parse_job", "read_source_isolated"]
