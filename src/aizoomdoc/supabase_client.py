"""The original integration's entry point, kept for its users::

    from aizoomdoc.supabase_client import supabase_client

    chat_id = await supabase_client.create_chat(title="Анализ документа XYZ", user_id="user_123")
    if supabase_client.is_connected():
        ...

``supabase_client`` is a thin facade over :class:`aizoomdoc.store.chats.ChatStore`, bound lazily
to :func:`aizoomdoc.config.get_settings` on first use: SQLite under ``DATA_DIR`` by default,
PostgreSQL/Supabase when ``DATABASE_URL`` is set — then through the offline-resilient store, so
writes made while PostgreSQL is unreachable are journalled locally and synced later, never lost. Tests and applications can bind it explicitly
with :meth:`SupabaseClient.configure` (to a Settings object or a ready store) and undo that with
:meth:`SupabaseClient.reset`. Every method of the store is available on the facade.

The original's file library is here too — ``create_folder``, ``get_folders``, ``register_file``,
``add_file_to_folder``, ``get_folder_files``, ``delete_folder``, ``delete_file_from_folder``,
``add_attachment_to_message`` (and ``get_message_attachments``) — over the same database through
:class:`aizoomdoc.store.library.LibraryStore`; they raise clear errors instead of returning
``None``/``False``. Without ``user_id`` they act for ``DEFAULT_USER_ID``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from aizoomdoc.config import Settings, get_settings
from aizoomdoc.store.chats import ChatStore
from aizoomdoc.store.factory import build_chat_store
from aizoomdoc.store.library import LibraryStore
from aizoomdoc.store.protocol import ChatStoreProtocol

log = logging.getLogger(__name__)


class SupabaseClient:
    """Seed-compatible facade; attribute access is forwarded to the bound :class:`ChatStore`."""

    def __init__(self, store: ChatStoreProtocol | None = None) -> None:
        self._store = store
        self._library: LibraryStore | None = None
        self._lock = threading.Lock()

    # --- binding --------------------------------------------------------------------------
    @property
    def store(self) -> ChatStoreProtocol:
        """The bound store (created from the application's settings on first use)."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = build_chat_store(get_settings())
        return self._store

    def configure(self, settings: Settings | None = None, *,
                  store: ChatStoreProtocol | None = None) -> ChatStoreProtocol:
        """Bind to ``store``, or to a new store for ``settings``. Returns the bound store."""
        with self._lock:
            self._store = store if store is not None else build_chat_store(settings or get_settings())
            self._library = None
            return self._store

    def reset(self) -> None:
        """Forget the bound store (the next use binds to the current settings again).

        Call :meth:`close` first to release connections.
        """
        with self._lock:
            self._store = None
            self._library = None

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()

    # --- the seed's API -------------------------------------------------------------------
    def is_connected(self) -> bool:
        """Whether the database answers now (synchronous, as the original's callers use it)."""
        try:
            return self.store.is_connected()
        except Exception:  # noqa: BLE001 - a probe of the seed API: any failure (a wrong DATABASE_URL too) is "not connected", logged
            log.debug("is_connected failed", exc_info=True)
            return False

    # --- the original's file library -------------------------------------------------------
    @property
    def library(self) -> LibraryStore:
        """The library over the bound store's database."""
        db = self.store.db  # type: ignore[attr-defined]
        library = self._library
        if library is None or library.db is not db:
            library = self._library = LibraryStore(db)
        return library

    async def create_folder(self, name: str, user_id: str | None = None, parent_id: str | None = None,
                            slug: str | None = None) -> str:
        """Create a folder (inside ``parent_id``); returns its id."""
        return await self.library.create_folder(name, user_id, parent_id, slug=slug)

    async def get_folders(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """All the user's folders (``parent_id`` gives the tree), by name."""
        return await self.library.get_folders(user_id)

    async def register_file(self, source_type: str, filename: str, user_id: str | None = None,
                            storage_path: str | None = None, external_url: str | None = None,
                            mime_type: str | None = None, size_bytes: int | None = None,
                            **extra: Any) -> str:
        """Register a file (``user_upload`` | ``llm_generated`` | ``external_link``) once; its id."""
        return await self.library.register_file(source_type, filename, user_id, storage_path, external_url,
                                                mime_type, size_bytes, **extra)

    async def add_file_to_folder(self, folder_id: str, file_id: str) -> bool:
        return await self.library.add_file_to_folder(folder_id, file_id)

    async def get_folder_files(self, folder_id: str) -> list[dict[str, Any]]:
        return await self.library.get_folder_files(folder_id)

    async def delete_folder(self, folder_id: str) -> bool:
        """Delete the folder, its subfolders and their links to files (the files stay registered,
        as in the original). Returns True."""
        await self.library.delete_folder(folder_id)
        return True

    async def delete_file_from_folder(self, folder_id: str, file_id: str) -> bool:
        return await self.library.delete_file_from_folder(folder_id, file_id)

    async def add_attachment_to_message(self, message_id: str, file_id: str) -> bool:
        return await self.library.add_attachment_to_message(message_id, file_id)

    async def get_message_attachments(self, message_id: str) -> list[dict[str, Any]]:
        return await self.library.get_message_attachments(message_id)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.store, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {n for n in dir(ChatStore) if not n.startswith("_")})


#: The shared instance the original integration's code imports.
supabase_client = SupabaseClient()

__all__ = ["SupabaseClient", "supabase_client"]
