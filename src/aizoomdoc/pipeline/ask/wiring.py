"""The composition root of the ask pipeline: ONE factory, :func:`build_parts`, builds from the
settings whatever the caller did not pass — the chat store (offline-resilient on PostgreSQL), the
file storage (S3 with a local fallback), the document source (ingest into the database, reading
paths from disk while it is down), the provider (the configured LLM, else the direct answerer),
the isolated renderer and its options, the render cache and the usage recorder.

What it builds it also owns: :func:`close_owned` closes those parts (never the caller's) in reverse
order. Keeping this apart lets the flow (``service.py``) take its parts as given.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from aizoomdoc.config import Settings
from aizoomdoc.llm import LLMProvider, answering_provider, provider_from_settings
from aizoomdoc.pipeline.render_cache import RenderCache
from aizoomdoc.pipeline.sources import DocumentSource
from aizoomdoc.pipeline.usage import UsageRecorder
from aizoomdoc.store.cache import shared_cache
from aizoomdoc.store.files import FileStorage
from aizoomdoc.store.protocol import ChatStoreProtocol
from aizoomdoc.zoom.isolated import IsolatedRenderer
from aizoomdoc.zoom.layout import LayoutOptions

#: "Use the configured provider" (``None`` means the direct answerer, no language model).
AUTO: Any = object()


@dataclass
class AskParts:
    """Everything the ask pipeline works with; ``owned`` lists what :func:`build_parts` built."""

    settings: Settings
    store: ChatStoreProtocol
    files: FileStorage
    documents: DocumentSource
    provider: LLMProvider
    renderer: IsolatedRenderer
    render_options: Any
    layout_options: LayoutOptions
    render_cache: RenderCache
    usage: UsageRecorder
    owned: list[Any] = field(default_factory=list)


def build_parts(
    settings: Settings,
    *,
    store: ChatStoreProtocol | None = None,
    files: FileStorage | None = None,
    documents: DocumentSource | None = None,
    provider: LLMProvider | None = AUTO,
) -> AskParts:
    """The parts of the pipeline: those given, the rest built from ``settings`` (and owned).

    ``provider``: omit for the configured one (the direct answerer when ``LLM_API_KEY`` is unset),
    ``None`` for the direct answerer, or any :class:`LLMProvider`.
    """
    owned: list[Any] = []
    if store is None:
        from aizoomdoc.store.factory import build_chat_store

        store = build_chat_store(settings)  # resilient (offline journal) on PostgreSQL
        owned.append(store)
    if files is None:
        from aizoomdoc.store.factory import build_files

        files = build_files(settings)  # S3 with a local fallback when S3 is configured
        owned.append(files)
    if documents is None:
        from aizoomdoc.pipeline.document_source import ServiceDocumentSource
        from aizoomdoc.pipeline.ingest import DocumentService
        from aizoomdoc.pipeline.offline_source import OfflineFallbackSource

        db = getattr(store, "db", None)  # share the chat store's engine when it has one
        source = ServiceDocumentSource(settings, DocumentService(settings, db=db, storage=files))
        owned.append(source.service)
        documents = OfflineFallbackSource(settings, source)  # reads paths from disk while the DB is down
    if provider is AUTO:
        provider = provider_from_settings(settings)
        if provider is not None:
            owned.append(provider)
    # Documents are untrusted uploads: every render runs in a worker process, bounded.
    renderer = IsolatedRenderer(settings)
    render_options = renderer.options(
        target_cap_px=settings.viewport_target_cap_px,
        max_dpi=settings.viewport_max_dpi,
        max_pixels=settings.viewport_max_pixels,
        max_side=settings.viewport_max_side,
    )
    layout_options = LayoutOptions(
        min_cap_px=settings.viewport_min_cap_px, max_side=settings.viewport_max_side,
        max_pixels=settings.viewport_max_pixels, max_dpi=settings.viewport_max_dpi,
    )
    return AskParts(
        settings=settings, store=store, files=files, documents=documents,
        provider=answering_provider(provider), renderer=renderer, render_options=render_options,
        layout_options=layout_options, render_cache=RenderCache(shared_cache(settings)),
        usage=UsageRecorder(settings, getattr(store, "db", None)), owned=owned,
    )


async def close_owned(owned: list[Any]) -> None:
    """Close what :func:`build_parts` built, newest first (``aclose`` or ``close``, sync or async)."""
    for obj in reversed(owned):
        for name in ("aclose", "close"):
            fn = getattr(obj, name, None)
            if fn is not None:
                res = fn()
                if inspect.isawaitable(res):
                    await res
                break
    owned.clear()
