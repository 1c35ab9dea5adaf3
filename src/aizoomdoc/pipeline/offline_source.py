"""A document source that keeps answering when the database is down.

Documents are normally ingested into the database (:class:`~aizoomdoc.pipeline.ingest.ServiceDocumentSource`).
When that raises :class:`DatabaseUnavailableError`, documents given by path are read directly from
disk for this process (same readers, same document id: uuid5 of the owner and the content hash)
and searched with an in-memory BM25 index, so a question still gets its answer while offline. They
are not ingested then; the next question asked online ingests them as usual. Documents given by id
only live in the database: for them the original error is raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aizoomdoc.config import Settings
from aizoomdoc.documents.base import Source, document_id_for
from aizoomdoc.documents.detect import load_source, read_source
from aizoomdoc.documents.model import Document
from aizoomdoc.errors import DatabaseUnavailableError
from aizoomdoc.pipeline.sources import DocumentSource, FoundBlock, found_blocks

log = logging.getLogger(__name__)


class OfflineFallbackSource:
    """:class:`DocumentSource` over ``primary`` with a read-from-disk fallback (see module doc)."""

    def __init__(self, settings: Settings, primary: DocumentSource) -> None:
        self.settings = settings
        self.primary = primary
        self._local: dict[str, Document] = {}
        self._indexes: dict[tuple[str, ...], Any] = {}

    @property
    def service(self) -> Any:
        return getattr(self.primary, "service", None)

    async def aclose(self) -> None:
        fn = getattr(self.primary, "aclose", None)
        if fn is not None:
            await fn()

    async def resolve(self, refs: Sequence[str], user_id: str | None = None) -> list[Document]:
        try:
            return await self.primary.resolve(refs, user_id=user_id)
        except DatabaseUnavailableError:
            if not all(Path(r).expanduser().is_file() for r in refs):
                raise
            log.warning("database unavailable: reading %d document(s) from disk for this question", len(refs))
        user = user_id or self.settings.default_user_id
        out: list[Document] = []
        for ref in refs:
            source = await asyncio.to_thread(load_source, ref, self.settings.max_file_size_bytes)
            sha = await asyncio.to_thread(_sha256, source)
            doc_id = document_id_for(sha, user)
            doc = self._local.get(doc_id)
            if doc is None:
                doc = await asyncio.to_thread(read_source, source)
                doc.id = doc_id
                self._local[doc_id] = doc
            if all(d.id != doc.id for d in out):
                out.append(doc)
        return out

    async def search(self, documents: Sequence[Document], query: str, top_k: int) -> list[FoundBlock]:
        if not any(d.id in self._local for d in documents):
            return await self.primary.search(documents, query, top_k)
        from aizoomdoc.search import SearchIndex

        key = tuple(sorted(d.id for d in documents))
        index = self._indexes.get(key)
        if index is None:
            index = self._indexes[key] = await asyncio.to_thread(SearchIndex.build, list(documents))
        hits = await asyncio.to_thread(index.search, query, top_k)
        return found_blocks(hits, documents)


def _sha256(source: Source) -> str:
    """The content hash of a source (hashing a large file is work for a thread)."""
    return source.sha256


__all__ = ["OfflineFallbackSource"]
