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
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from aizoomdoc.config import Settings, get_settings
from aizoomdoc.store.chats import ChatStore
from aizoomdoc.store.factory import build_chat_store
from aizoomdoc.store.protocol import ChatStoreProtocol

log = logging.getLogger(__name__)


class SupabaseClient:
    """Seed-compatible facade; attribute access is forwarded to the bound :class:`ChatStore`."""

    def __init__(self, store: ChatStoreProtocol | None = None) -> None:
        self._store = store
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
            return self._store

    def reset(self) -> None:
        """Forget the bound store (the next use binds to the current settings again).

        Call :meth:`close` first to release connections.
        """
        with self._lock:
            self._store = None

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()

    # --- the seed's API -------------------------------------------------------------------
    def is_connected(self) -> bool:
        """Whether the database answers now (synchronous, as the original's callers use it)."""
        try:
            return self.store.is_connected()
        except Exception:  # noqa: BLE001 - a wrong DATABASE_URL means "not connected" here
            log.debug("is_connected failed", exc_info=True)
            return False

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.store, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {n for n in dir(ChatStore) if not n.startswith("_")})


#: The shared instance the original integration's code imports.
supabase_client = SupabaseClient()

__all__ = ["SupabaseClient", "supabase_client"]
