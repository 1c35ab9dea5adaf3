"""ChatStore: chats, messages, images and search results on SQLite or PostgreSQL.

The method names and signatures are those of the original Supabase integration (its users call
them through :mod:`aizoomdoc.supabase_client`). Differences from the original, on purpose:

- rows come back as plain dicts with ISO-8601 timestamps (UTC) and JSON fields decoded;
- failures raise :class:`~aizoomdoc.errors.AizoomdocError` subclasses (unknown chat or message:
  :class:`NotFoundError`; bad id, role, type or empty content: :class:`InvalidInputError`; database
  down: :class:`DatabaseUnavailableError`) instead of returning ``None``;
- every ``add_*``/``create_*`` method accepts a keyword-only ``id=`` (uuid4 string). Writing the
  same id twice is a no-op that returns the id, so offline writes can be replayed idempotently.

How it is fast (see bench/bench_store.py):

- every operation is one synchronous function run by :meth:`Database.run` in one transaction (on
  SQLite one hop to a worker thread per operation, not one per driver call);
- statements are SQLAlchemy Core, built once per store and executed with parameters (no ORM unit
  of work); a single-statement operation runs in autocommit on PostgreSQL (one round trip), and
  ``add_message`` bumps ``chats.updated_at`` in the same statement there (a data-modifying CTE);
- bulk paths hand driver-level tuples to one ``executemany``;
- a chat's history is four queries whatever its size.

The package: :mod:`.store` (the API), :mod:`.statements` (the SQL), :mod:`.shape` (database rows
-> dicts). Rows are validated and built by :mod:`aizoomdoc.store.rows`, the clock is
:mod:`aizoomdoc.store.clock`.
"""

from __future__ import annotations

from aizoomdoc.store.chats.store import ChatStore
from aizoomdoc.store.clock import utcnow

__all__ = ["ChatStore", "utcnow"]
