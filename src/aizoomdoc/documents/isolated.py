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


def parse_job(source: Source, max_image_pixels: int) -> Document:
    """Inside the worker: read the file with this server's pixel budget."""
    image.PIXEL_BUDGET = max_image_pixels
    return read_source(source)


def _on_limit(settings: Any, source: Source) -> Callable[[Reason], AizoomdocError]:
    def build(reason: Reason) -> AizoomdocError:
        if reason == "recursion":
            return DocumentError("documents.too_deep", path=str(source.path))
        detail = t(f"limit.reason.{reason}", seconds=f"{settings.parse_timeout:g}",
                   memory_mb=settings.worker_memory_mb)
        return DocumentError("documents.too_complex", path=str(source.path), reason=detail)
    return build


async def read_source_isolated(settings: Any, source: Source) -> Document:
    """:func:`read_source` of an untrusted file in a worker process (see the module docstring)."""
    limits = Limits(seconds=settings.parse_timeout, memory_mb=settings.worker_memory_mb)
    try:
        return await worker_pool(settings).run(parse_job, source, settings.max_image_pixels,
                                               limits=limits, on_limit=_on_limit(settings, source))
    except AizoomdocError:
        raise
    except Exception as exc:  # a reader bug on odd input: the uploader gets a clear 422, the log the detail
        log.warning("reading %s failed unexpectedly: %r", source.name, exc)
        raise DocumentError("documents.unreadable", path=str(source.path),
                            detail=f"{type(exc).__name__}") from exc


__all__ = ["parse_job", "read_source_isolated"]
