"""The search indexes of stored documents: one saved when a document becomes ready, and the one
over a set of documents built from the database when no cache (disk, then Redis) has it.

Indexes are caches keyed by the documents' content and state (:func:`index_version`): losing one
costs a rebuild, never an answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from aizoomdoc.config import Settings
from aizoomdoc.documents.model import Document
from aizoomdoc.errors import NotFoundError
from aizoomdoc.pipeline.document_rows import index_version, indexed_blocks, page_sheets
from aizoomdoc.pipeline.index_share import SharedIndexes
from aizoomdoc.search import Hit, IndexCache, SearchIndex, index_key
from aizoomdoc.store.cache import shared_cache
from aizoomdoc.store.documents import DocumentStore

log = logging.getLogger(__name__)


class DocumentIndexes:
    """The index caches of one settings object: on disk (``DATA_DIR/search``) and shared (Redis)."""

    def __init__(self, settings: Settings, index_cache: IndexCache | None = None) -> None:
        self.index_cache = index_cache or IndexCache(settings.data_dir / "search")
        self.shared_indexes = SharedIndexes(shared_cache(settings), self.index_cache)

    async def save(self, doc: Document, row: dict[str, Any]) -> None:
        """Save the search index of one ready document (a cache: search rebuilds it when missing)."""
        try:
            key = index_key([(doc.id, index_version(row))])
            await asyncio.to_thread(lambda: self.index_cache.put(key, SearchIndex.build([doc])))
            await self.shared_indexes.put(key)
        except Exception:  # noqa: BLE001 - the index is a cache; search rebuilds it from the DB
            log.warning("could not save the search index of %s", doc.id, exc_info=True)

    async def index_for(self, store: DocumentStore, document_ids: Sequence[str] | None = None) -> SearchIndex:
        """The index over these documents (all of ``store``'s user's when None), cached on disk."""
        if document_ids is None:
            rows = await store.list(limit=100_000)
        else:
            rows = await store.get_many(document_ids)
            missing = set(document_ids) - {str(r["id"]) for r in rows}
            if missing:
                raise NotFoundError("search.document_not_found", ref=sorted(missing)[0])
        key = index_key((str(r["id"]), index_version(r)) for r in rows)
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
                     store: DocumentStore) -> list[Hit]:
        """Best blocks for ``query`` over the documents (all of ``store``'s user's when None)."""
        index = await self.index_for(store, document_ids)
        return await asyncio.to_thread(index.search, query, top_k, None, pages, block_types)
