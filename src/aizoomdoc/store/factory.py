"""Build "the store" and "the file storage" the rest of the application uses, from Settings.

- ``DATABASE_URL`` is PostgreSQL (and ``OFFLINE_MODE`` on) → :class:`ResilientChatStore`
  (offline journal, sync). SQLite (the default) → the plain :class:`ChatStore`: it is local already.
- ``USE_S3_STORAGE=true`` (and ``OFFLINE_MODE`` on) → :class:`ResilientFileStorage`; otherwise the
  storage :func:`~aizoomdoc.store.files.build_file_storage` builds (S3 without fallback, or the folder).

Both resilient parts of one process share one journal per ``DATA_DIR``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from aizoomdoc.config import Settings
from aizoomdoc.store.chats import ChatStore
from aizoomdoc.store.database import Database, normalize_url
from aizoomdoc.store.files import FileStorage, build_file_storage
from aizoomdoc.store.journal import Journal, ReadCache
from aizoomdoc.store.protocol import ChatStoreProtocol

_journals: dict[Path, Journal] = {}
_caches: dict[Path, ReadCache] = {}
_lock = threading.Lock()


def journal_for(settings: Settings) -> Journal:
    """The process-wide journal of ``settings.data_dir``."""
    key = Path(settings.data_dir).resolve()
    with _lock:
        j = _journals.get(key)
        if j is None:
            j = _journals[key] = Journal.for_data_dir(key)
        return j


def cache_for(settings: Settings) -> ReadCache:
    key = Path(settings.data_dir).resolve()
    with _lock:
        c = _caches.get(key)
        if c is None:
            c = _caches[key] = ReadCache.for_data_dir(key)
        return c


def uses_postgres(settings: Settings) -> bool:
    """Whether the database is PostgreSQL (DATABASE_URL points at one and USE_DATABASE is on)."""
    raw = settings.secret("database_url")
    if not settings.use_database or not raw:
        return False
    return normalize_url(raw).get_backend_name() == "postgresql"


def build_chat_store(settings: Settings) -> ChatStoreProtocol:
    """The chat store for ``settings``: resilient over PostgreSQL, plain over SQLite."""
    if settings.offline_mode and uses_postgres(settings):
        from aizoomdoc.store.resilient import ResilientChatStore

        cloud = ChatStore(Database(settings), auto_migrate=False)
        return ResilientChatStore(cloud, journal_for(settings), settings=settings, cache=cache_for(settings))
    return ChatStore.from_settings(settings)


def build_files(settings: Settings) -> FileStorage:
    """The file storage for ``settings``: S3 with a local fallback when S3 is configured."""
    if settings.offline_mode and settings.use_s3_storage:
        from aizoomdoc.store.files.resilient import ResilientFileStorage

        return ResilientFileStorage(settings, journal=journal_for(settings))
    return build_file_storage(settings)


def build_syncer(settings: Settings) -> Any:
    """A :class:`~aizoomdoc.store.sync.Syncer` for ``settings`` (for ``aizoomdoc sync``)."""
    from aizoomdoc.store.sync import Syncer

    return Syncer(settings, journal_for(settings))


__all__ = ["build_chat_store", "build_files", "build_syncer", "cache_for", "journal_for", "uses_postgres"]
