"""The ask pipeline's :class:`~aizoomdoc.pipeline.sources.DocumentSource` over the database:
references resolve through :class:`~aizoomdoc.pipeline.ingest.DocumentService` (paths ingested
once, ids looked up), ready documents are kept in memory, search is the service's BM25.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aizoomdoc.config import Settings
from aizoomdoc.documents.model import Document
from aizoomdoc.errors import NotFoundError
from aizoomdoc.pipeline.sources import FoundBlock, found_blocks

if TYPE_CHECKING:  # ingest.py imports this module (its public names include this class)
    from aizoomdoc.pipeline.ingest import DocumentService


class ServiceDocumentSource:
    """A :class:`~aizoomdoc.pipeline.sources.DocumentSource` over :class:`DocumentService`:
    paths are ingested once (database + file storage), ids are looked up, search is BM25."""

    def __init__(self, settings: Settings | None = None, service: DocumentService | None = None, *,
                 allow_paths: bool = True) -> None:
        if service is None:
            from aizoomdoc.pipeline.ingest import DocumentService

            service = DocumentService(settings)
            self._own = True
        else:
            self._own = False
        self.service = service
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

    async def search(self, documents: Sequence[Document], query: str, top_k: int) -> list[FoundBlock]:
        owners = {self._owner.get(d.id) for d in documents}
        user_id = owners.pop() if len(owners) == 1 else None
        hits = await self.service.search(query, list(dict.fromkeys(d.id for d in documents)), top_k=top_k,
                                        user_id=user_id)
        return found_blocks(hits, documents)
