"""Pick the reader for a file by its content, checked against its extension; read it.

Content decides (magic bytes, JSON skeleton, OCR HTML block headers, Markdown block markers).
A known extension that contradicts the content is an error (a PDF saved as ``.json`` is most
likely the wrong file); an unknown or missing extension is fine when the content is recognised.
When the content is not recognised, the extension picks the reader, whose parse error then says
precisely what is wrong (truncated JSON, HTML without blocks, corrupt PDF, …).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from aizoomdoc.documents.base import Reader, Source
from aizoomdoc.documents.bundle import read_with_companions
from aizoomdoc.documents.model import Document
from aizoomdoc.documents.registry import READERS, format_name, known_extensions, reader_for_extension
from aizoomdoc.documents.text_layer import mark_text_layers
from aizoomdoc.errors import DocumentError, describe_os_error
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

SNIFF_BYTES = 64 * 1024


def load_source(path: str | Path, max_bytes: int | None = None) -> Source:
    p = Path(path).expanduser()
    if not p.exists():
        raise DocumentError("documents.not_found", path=str(p))
    if not p.is_file():
        raise DocumentError("documents.not_a_file", path=str(p))
    if max_bytes is not None:
        size = p.stat().st_size
        if size > max_bytes:
            raise DocumentError(
                "documents.too_large", path=str(p), size_mb=_megabytes(size),
                limit_mb=_megabytes(max_bytes),
            )
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DocumentError("documents.unreadable", path=str(p), detail=describe_os_error(exc)) from exc
    return Source(p, data)


def _megabytes(size: int) -> str:
    """3.2, 0.04, 100 — enough digits that a small file and a small limit do not both read «0»."""
    mb = size / 1048576
    return f"{mb:.1f}" if mb >= 10 else f"{mb:.2g}"


def detect_reader(source: Source) -> Reader:
    """The reader for ``source`` (see the module docstring for the rules)."""
    path = str(source.path)
    if not source.data.strip():
        raise DocumentError("documents.empty", path=path)
    head = source.data[:SNIFF_BYTES].decode("utf-8", errors="replace")
    suffix = source.path.suffix.lower()
    by_ext = reader_for_extension(suffix)
    by_content = next((r for r in READERS if r.sniff(source, head)), None)
    if by_content is not None:
        if by_ext is not None and by_ext is not by_content:
            raise DocumentError(
                "documents.wrong_extension", path=path, ext=suffix,
                actual=format_name(by_content.format),
            )
        return by_content
    if by_ext is not None:
        return by_ext
    raise DocumentError("documents.unsupported", path=path)


def read_source(source: Source, *, companions: bool = True) -> Document:
    """Read an already loaded file (CPU-bound: call it off the event loop)."""
    started = time.perf_counter()
    reader = detect_reader(source)
    doc = reader.read(source)
    if companions:
        read_with_companions(doc, source.path)
    if doc.metadata.get("layout_only"):
        # Markup without text and without its PDF: nothing to search.
        raise DocumentError("documents.layout_only", path=str(source.path),
                            pages=len(doc.pages), blocks=t("documents.count.blocks", count=len(doc.blocks)))
    mark_text_layers(doc)
    log.debug("read %s as %s: %d pages, %d blocks in %.3fs", source.path, doc.source_format,
              len(doc.pages), len(doc.blocks), time.perf_counter() - started)
    return doc


def read_document(path: str | Path, *, companions: bool = True, max_bytes: int | None = None) -> Document:
    """Read any supported file into a :class:`Document` (raises DocumentError naming the file).

    ``companions``: read an OCR bundle together with its PDF (and HTML/Markdown with a JSON
    bundle of the same document for coordinates), see :mod:`aizoomdoc.documents.bundle`.
    """
    return read_source(load_source(path, max_bytes=max_bytes), companions=companions)


__all__ = ["detect_reader", "known_extensions", "load_source", "read_document", "read_source"]
