"""What the ask pipeline needs from documents and search, behind one small interface.

:class:`DocumentSource` resolves the user's document references (paths or ids) to
:class:`~aizoomdoc.documents.model.Document` objects and searches their blocks. The default
implementation is :class:`aizoomdoc.pipeline.ingest.ServiceDocumentSource` (ingest into the
database and file storage, BM25 search); tests and embedding applications may pass their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from aizoomdoc.documents.model import Block, Document
from aizoomdoc.search.blocks import Hit


@dataclass
class FoundBlock:
    document: Document
    block: Block
    score: float


def found_blocks(hits: Sequence[Hit], documents: Sequence[Document]) -> list[FoundBlock]:
    """The search hits as blocks of ``documents``, in hit order; hits of other documents, or of
    blocks a document no longer has, are left out."""
    by_id = {d.id: d for d in documents}
    found = []
    for h in hits:
        doc = by_id.get(h.document_id)
        block = doc.block(h.block_id) if doc is not None else None
        if doc is not None and block is not None:
            found.append(FoundBlock(doc, block, h.score))
    return found


@runtime_checkable
class DocumentSource(Protocol):
    async def resolve(self, refs: Sequence[str], user_id: str | None = None) -> list[Document]:
        """Documents for paths (ingested when new) or document ids; NotFoundError otherwise."""
        ...

    async def search(self, documents: Sequence[Document], query: str, top_k: int) -> list[FoundBlock]:
        """The best ``top_k`` blocks of ``documents`` for ``query``, best first."""
        ...
