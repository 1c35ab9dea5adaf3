"""The offline journal: a local SQLite file under ``DATA_DIR`` holding what the cloud has not got yet.

``DATA_DIR/offline-journal.db`` has four tables:

- ``outbox`` — writes waiting for the cloud, in the order they were made (``seq`` autoincrement):
  ``op`` (``create_chat``, ``add_message``, ``upload``, …), ``payload`` (JSON with the
  client-generated id and timestamps, so a replay is idempotent), ``queue`` (``db`` for PostgreSQL,
  ``files`` for S3), ``chat_id`` (for per-chat reads and ordering), ``user_id`` (the RLS user the
  write was made as), ``created_at``, ``attempts`` and ``last_error``. An entry is removed only
  after its effect is committed in the cloud.
- ``files`` — one row per file key the resilient file storage kept locally: ``pending`` (the
  local copy is the only one) or ``uploaded`` (with the S3 URL, so image records written later
  point at S3 right away).
- ``conflicts`` — writes that could not be applied as made (e.g. to a chat deleted in the cloud
  while offline): kept here with their full payload, never dropped silently; ``resolution`` is
  ``kept`` (not applied) or ``applied`` (applied with a documented rule, recorded as a notice).
- ``meta`` — small key/value facts (last sync time and result).

Every write is one transaction (``BEGIN IMMEDIATE``, WAL, ``synchronous=FULL``): an entry is either
fully in the journal or not at all, also across a SIGKILL or a power cut. Several processes may
share the journal (the app and ``aizoomdoc sync``); SQLite's locking serialises them.

:class:`ReadCache` is a separate, disposable file (``offline-cache.db``) with the rows last read
from (or written to) the cloud, so chats stay readable while the cloud is down.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aizoomdoc.errors import DatabaseUnavailableError, describe_os_error
from aizoomdoc.store.clock import now_iso

log = logging.getLogger(__name__)

JOURNAL_FILE = "offline-journal.db"
CACHE_FILE = "offline-cache.db"

#: Queues of the outbox: PostgreSQL writes and S3 file operations are drained independently.
DB_QUEUE = "db"
FILES_QUEUE = "files"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    queue      TEXT NOT NULL,
    op         TEXT NOT NULL,
    payload    TEXT NOT NULL,
    chat_id    TEXT,
    entity_id  TEXT,
    user_id    TEXT,
    created_at TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS ix_outbox_queue_seq ON outbox (queue, seq);
CREATE INDEX IF NOT EXISTS ix_outbox_chat_seq ON outbox (chat_id, seq);
CREATE TABLE IF NOT EXISTS files (
    key        TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    url        TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS conflicts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    seq        INTEGER,
    queue      TEXT NOT NULL,
    op         TEXT NOT NULL,
    payload    TEXT NOT NULL,
    chat_id    TEXT,
    entity_id  TEXT,
    user_id    TEXT,
    kind       TEXT NOT NULL,
    resolution TEXT NOT NULL,
    detail     TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT
);
"""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


@dataclass(slots=True)
class Entry:
    """One outbox entry."""

    seq: int
    queue: str
    op: str
    payload: dict[str, Any]
    chat_id: str | None
    entity_id: str | None
    user_id: str | None
    created_at: str
    attempts: int = 0
    last_error: str | None = None


@dataclass(slots=True)
class NewEntry:
    """An entry to append (the journal assigns ``seq`` and ``created_at``)."""

    op: str
    payload: dict[str, Any]
    queue: str = DB_QUEUE
    chat_id: str | None = None
    entity_id: str | None = None
    user_id: str | None = None


@dataclass(slots=True)
class Conflict:
    """An entry that was not applied as made (``resolution='kept'``) or applied by a rule
    (``resolution='applied'``, a notice)."""

    entry: Entry
    kind: str
    resolution: str = "kept"
    detail: str | None = None


@dataclass(slots=True)
class ConflictRecord:
    id: int
    seq: int | None
    queue: str
    op: str
    payload: dict[str, Any]
    chat_id: str | None
    entity_id: str | None
    kind: str
    resolution: str
    detail: str | None
    created_at: str


@dataclass(slots=True)
class Counts:
    db: int = 0
    files: int = 0
    conflicts: int = 0
    notices: int = 0
    by_op: dict[str, int] = field(default_factory=dict)

    @property
    def pending(self) -> int:
        return self.db + self.files


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
    except OSError as exc:  # DATA_DIR cannot be created
        raise DatabaseUnavailableError("offline.journal.unavailable", path=str(path),
                                       detail=describe_os_error(exc)) from None
    except sqlite3.Error as exc:
        raise DatabaseUnavailableError("offline.journal.unavailable", path=str(path), detail=str(exc)) from None
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class Journal:
    """The outbox, file states and conflicts in ``DATA_DIR/offline-journal.db`` (thread-safe)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn = _connect(self.path, "FULL")
        with self._lock:
            self._conn.executescript(_SCHEMA)

    @classmethod
    def for_data_dir(cls, data_dir: Path | str) -> Journal:
        return cls(Path(data_dir) / JOURNAL_FILE)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error) under the journal's lock."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # --- appending ----------------------------------------------------------------------------
    @staticmethod
    def _insert(conn: sqlite3.Connection, entries: Iterable[NewEntry]) -> list[int]:
        created = now_iso()
        seqs = []
        for e in entries:
            cur = conn.execute(
                "INSERT INTO outbox (queue, op, payload, chat_id, entity_id, user_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (e.queue, e.op, _dumps(e.payload), e.chat_id, e.entity_id, e.user_id, created),
            )
            seqs.append(int(cur.lastrowid or 0))
        return seqs

    def append(self, entry: NewEntry) -> int:
        with self.transaction() as conn:
            return self._insert(conn, [entry])[0]

    def append_many(self, entries: Sequence[NewEntry]) -> list[int]:
        """Append all ``entries`` in one transaction (all or none)."""
        if not entries:
            return []
        with self.transaction() as conn:
            return self._insert(conn, entries)

    # --- reading ------------------------------------------------------------------------------
    _COLS = "seq, queue, op, payload, chat_id, entity_id, user_id, created_at, attempts, last_error"

    @staticmethod
    def _entry(row: tuple[Any, ...]) -> Entry:
        return Entry(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6], row[7], row[8], row[9])

    def pending(self, queue: str, limit: int = 1000, after_seq: int = 0) -> list[Entry]:
        rows = self._query(f"SELECT {self._COLS} FROM outbox WHERE queue = ? AND seq > ? ORDER BY seq LIMIT ?",
                           (queue, after_seq, limit))
        return [self._entry(r) for r in rows]

    def pending_for_chat(self, chat_id: str) -> list[Entry]:
        rows = self._query(f"SELECT {self._COLS} FROM outbox WHERE chat_id = ? AND queue = ? ORDER BY seq",
                           (chat_id, DB_QUEUE))
        return [self._entry(r) for r in rows]

    def pending_chat_ops(self) -> list[Entry]:
        """Every pending database entry that creates, changes or bumps a chat (for chat lists)."""
        rows = self._query(
            f"SELECT {self._COLS} FROM outbox WHERE queue = ? AND op IN "
            "('create_chat', 'update_chat', 'delete_chat', 'add_message') ORDER BY seq", (DB_QUEUE,))
        return [self._entry(r) for r in rows]

    def has_pending_for_chat(self, chat_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM outbox WHERE chat_id = ? AND queue = ? LIMIT 1",
                                (chat_id, DB_QUEUE)))

    def count(self, queue: str) -> int:
        return int(self._query("SELECT count(*) FROM outbox WHERE queue = ?", (queue,))[0][0])

    def counts(self) -> Counts:
        c = Counts()
        for queue, op, n in self._query("SELECT queue, op, count(*) FROM outbox GROUP BY queue, op"):
            if queue == DB_QUEUE:
                c.db += n
            else:
                c.files += n
            c.by_op[op] = c.by_op.get(op, 0) + n
        for resolution, n in self._query("SELECT resolution, count(*) FROM conflicts GROUP BY resolution"):
            if resolution == "kept":
                c.conflicts += n
            else:
                c.notices += n
        return c

    # --- completing -----------------------------------------------------------------------------
    def complete(self, seqs: Sequence[int], conflicts: Sequence[Conflict] = (),
                 then: Sequence[NewEntry] = (), files: Sequence[tuple[str, str, str | None]] = ()) -> None:
        """In one transaction: remove ``seqs`` (their effect is committed in the cloud), record
        ``conflicts`` (whose entries are removed too), append ``then`` and set file states
        ``(key, state, url)``."""
        with self.transaction() as conn:
            created = now_iso()
            for c in conflicts:
                e = c.entry
                conn.execute(
                    "INSERT INTO conflicts (seq, queue, op, payload, chat_id, entity_id, user_id, kind, resolution,"
                    " detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (e.seq, e.queue, e.op, _dumps(e.payload), e.chat_id, e.entity_id, e.user_id, c.kind,
                     c.resolution, c.detail, created),
                )
            gone = list(seqs) + [c.entry.seq for c in conflicts if c.resolution == "kept"]
            for i in range(0, len(gone), 500):
                chunk = gone[i:i + 500]
                conn.execute(f"DELETE FROM outbox WHERE seq IN ({','.join('?' * len(chunk))})", chunk)
            for key, state, url in files:
                conn.execute("INSERT INTO files (key, state, url, updated_at) VALUES (?, ?, ?, ?) "
                             "ON CONFLICT (key) DO UPDATE SET state = excluded.state, url = excluded.url, "
                             "updated_at = excluded.updated_at", (key, state, url, created))
            self._insert(conn, then)

    def record_failure(self, seq: int, error: str) -> int:
        """Count a failed attempt of entry ``seq``; returns the attempts so far."""
        with self.transaction() as conn:
            conn.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                         (error[:500], seq))
            row = conn.execute("SELECT attempts FROM outbox WHERE seq = ?", (seq,)).fetchone()
        return int(row[0]) if row else 0

    def remove(self, seqs: Sequence[int]) -> None:
        self.complete(seqs)

    # --- files ------------------------------------------------------------------------------------
    def file_state(self, key: str) -> tuple[str, str | None] | None:
        rows = self._query("SELECT state, url FROM files WHERE key = ?", (key,))
        return (rows[0][0], rows[0][1]) if rows else None

    def file_states(self, keys: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        out: dict[str, tuple[str, str | None]] = {}
        keys = list(dict.fromkeys(keys))
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            for key, state, url in self._query(
                    f"SELECT key, state, url FROM files WHERE key IN ({','.join('?' * len(chunk))})", chunk):
                out[key] = (state, url)
        return out

    def pending_file_keys(self, prefix: str = "") -> list[str]:
        rows = self._query("SELECT key FROM files WHERE state = 'pending' AND substr(key, 1, ?) = ? ORDER BY key",
                           (len(prefix), prefix))
        return [r[0] for r in rows]

    def uploaded_file_keys(self) -> list[str]:
        return [r[0] for r in self._query("SELECT key FROM files WHERE state = 'uploaded'")]

    def keep_file_locally(self, key: str, upload: NewEntry) -> None:
        """Mark ``key`` pending and append its upload entry, in one transaction."""
        with self.transaction() as conn:
            conn.execute("INSERT INTO files (key, state, url, updated_at) VALUES (?, 'pending', NULL, ?) "
                         "ON CONFLICT (key) DO UPDATE SET state = 'pending', url = NULL, "
                         "updated_at = excluded.updated_at", (key, now_iso()))
            conn.execute("DELETE FROM outbox WHERE queue = ? AND op = 'upload' AND entity_id = ?",
                         (FILES_QUEUE, key))
            self._insert(conn, [upload])

    def forget_files(self, keys: Sequence[str]) -> None:
        """Drop the state and any pending upload of ``keys`` (the files were deleted)."""
        with self.transaction() as conn:
            for key in keys:
                conn.execute("DELETE FROM files WHERE key = ?", (key,))
                conn.execute("DELETE FROM outbox WHERE queue = ? AND op = 'upload' AND entity_id = ?",
                             (FILES_QUEUE, key))

    def prune_uploaded(self, older_than_iso: str) -> int:
        with self.transaction() as conn:
            return conn.execute("DELETE FROM files WHERE state = 'uploaded' AND updated_at < ?",
                                (older_than_iso,)).rowcount

    # --- conflicts and meta -------------------------------------------------------------------
    def conflicts(self, limit: int = 100, resolution: str | None = None) -> list[ConflictRecord]:
        sql = ("SELECT id, seq, queue, op, payload, chat_id, entity_id, kind, resolution, detail, created_at "
               "FROM conflicts")
        params: list[Any] = []
        if resolution is not None:
            sql += " WHERE resolution = ?"
            params.append(resolution)
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)
        return [ConflictRecord(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7], r[8], r[9], r[10])
                for r in self._query(sql, params)]

    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                         "value = excluded.value", (key, _dumps(value)))

    def get_meta(self, key: str, default: Any = None) -> Any:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default


class ReadCache:
    """Rows last seen in the cloud (chats, messages, images, search results), so chats stay
    readable offline. Disposable: losing it loses nothing that is not in the cloud or the journal."""

    KINDS = ("chat", "message", "image", "result")

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn = _connect(self.path, "OFF")
        with self._lock:
            self._conn.executescript(
                "CREATE TABLE IF NOT EXISTS rows (kind TEXT NOT NULL, id TEXT NOT NULL, chat_id TEXT, "
                "user_id TEXT, body TEXT NOT NULL, PRIMARY KEY (kind, id));"
                "CREATE INDEX IF NOT EXISTS ix_rows_chat ON rows (chat_id, kind);"
                "CREATE INDEX IF NOT EXISTS ix_rows_user ON rows (kind, user_id);")

    @classmethod
    def for_data_dir(cls, data_dir: Path | str) -> ReadCache:
        return cls(Path(data_dir) / CACHE_FILE)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def put(self, kind: str, rows: Iterable[dict[str, Any]]) -> None:
        values = []
        for r in rows:
            chat_id = r["id"] if kind == "chat" else r.get("chat_id")
            clean = {k: v for k, v in r.items() if k not in ("images", "search_results")}
            values.append((kind, str(r["id"]), str(chat_id) if chat_id else None, r.get("user_id"),
                           json.dumps(clean, ensure_ascii=False, default=str)))
        if not values:
            return
        try:
            with self._lock:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.executemany("INSERT OR REPLACE INTO rows (kind, id, chat_id, user_id, body) "
                                           "VALUES (?, ?, ?, ?, ?)", values)
                finally:
                    self._conn.execute("COMMIT")
        except sqlite3.Error:  # a cache must never break a write
            log.warning("offline read cache not updated", exc_info=True)

    def drop_chat(self, chat_id: str) -> None:
        try:
            with self._lock:
                self._conn.execute("DELETE FROM rows WHERE chat_id = ?", (chat_id,))
        except sqlite3.Error:
            log.warning("offline read cache not updated", exc_info=True)

    def get(self, kind: str, id_: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT body FROM rows WHERE kind = ? AND id = ?", (kind, id_)).fetchone()
        return json.loads(row[0]) if row else None

    def of_chat(self, kind: str, chat_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute("SELECT body FROM rows WHERE kind = ? AND chat_id = ?",
                                      (kind, chat_id)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def chats_of(self, user_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute("SELECT body FROM rows WHERE kind = 'chat' AND user_id = ?",
                                      (user_id,)).fetchall()
        return [json.loads(r[0]) for r in rows]


__all__ = ["CACHE_FILE", "DB_QUEUE", "FILES_QUEUE", "JOURNAL_FILE", "Conflict", "ConflictRecord", "Counts",
           "Entry", "Journal", "NewEntry", "ReadCache"]
