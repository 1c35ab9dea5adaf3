"""Storage: the database (SQLAlchemy 2 async over SQLite or PostgreSQL, schema owned by Alembic).

- :class:`~aizoomdoc.store.database.Database` — engine, connections, error translation, RLS sessions
  (its parts: ``db_url`` URLs, ``db_engines`` engines, ``db_run`` how an operation runs,
  ``db_errors`` error translation)
- :class:`~aizoomdoc.store.chats.ChatStore` — chats, messages, images, search results
- :class:`~aizoomdoc.store.protocol.ChatStoreProtocol` — the interface wrappers implement
- :mod:`aizoomdoc.store.migrate` — Alembic commands; :mod:`aizoomdoc.store.rls` — RLS SQL
"""

from __future__ import annotations

from aizoomdoc.store.chats import ChatStore
from aizoomdoc.store.database import Database, describe_url, normalize_url
from aizoomdoc.store.protocol import ChatStoreProtocol

__all__ = ["ChatStore", "ChatStoreProtocol", "Database", "describe_url", "normalize_url"]
