"""Sync: replay the offline journal to the database and upload the kept files to S3.

Order and idempotency (see docs/OFFLINE.md):

- Database entries are replayed in ``seq`` order, a batch per transaction. Inserts carry the
  client-generated id and the original timestamps and use ``ON CONFLICT (id) DO NOTHING``;
  updates set values (replaying one twice changes nothing); ``updated_at`` only moves forward.
  A batch's entries are removed from the journal only after its transaction has committed, so a
  crash (even SIGKILL) between the two just replays the batch again, with no effect the second time.
- Files are uploaded in ``seq`` order (a bounded window in flight). After an upload the journal, in
  one transaction, removes the entry, marks the key ``uploaded`` with its S3 URL and appends a
  ``mark_uploaded`` database entry that points the image records (found by ``s3_path``) at S3 and
  sets ``sync_state='synced'``; only then is the local copy removed.
- Conflicts (documented in docs/OFFLINE.md): a write to a chat that no longer exists in the cloud is
  not applied and is kept in the journal's ``conflicts`` table (``chat_deleted``); an image or
  search result whose message is missing likewise (``message_missing``); a message added to a chat
  archived in the meantime is applied, the chat stays archived, and a notice is recorded
  (``chat_archived``). An entry that keeps failing for another reason is retried
  ``SYNC_MAX_ATTEMPTS`` times, then moved to the conflicts (``error``) so it cannot block the rest.
- One sync at a time per ``DATA_DIR`` (an exclusive ``flock`` on ``DATA_DIR/offline-sync.lock``,
  released by the kernel if the process dies).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, AsyncIterator

from sqlalchemy import Table, bindparam, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from aizoomdoc.config import Settings
from aizoomdoc.errors import AizoomdocError, DatabaseUnavailableError, NotFoundError, StorageUnavailableError
from aizoomdoc.store.clock import now_iso, parse_utc, to_iso
from aizoomdoc.store.database import Database
from aizoomdoc.store.journal import DB_QUEUE, FILES_QUEUE, Conflict, Entry, Journal, NewEntry
from aizoomdoc.store.models import GUID, Chat, ChatImage, ChatMessage, SearchResult
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

chats: Table = Chat.__table__  # type: ignore[assignment]
messages: Table = ChatMessage.__table__  # type: ignore[assignment]
images: Table = ChatImage.__table__  # type: ignore[assignment]
results: Table = SearchResult.__table__  # type: ignore[assignment]

LOCK_FILE = "offline-sync.lock"
_TS_FIELDS = {"created_at", "updated_at", "uploaded_at"}
_CHAT_FIELDS = ("title", "description", "document_path", "is_archived", "metadata")


@dataclass(slots=True)
class SyncProgress:
    """Reported after every committed batch."""

    phase: str  # "db" | "files"
    done: int
    remaining: int


@dataclass(slots=True)
class SyncReport:
    applied: int = 0
    uploaded: int = 0
    deleted_files: int = 0
    conflicts: int = 0
    notices: int = 0
    remaining_db: int = 0
    remaining_files: int = 0
    db_error: str | None = None
    files_error: str | None = None
    busy: bool = False
    elapsed: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.busy and self.remaining_db == 0 and self.remaining_files == 0

    def public(self) -> dict[str, Any]:
        return {
            "applied": self.applied, "uploaded": self.uploaded, "deleted_files": self.deleted_files,
            "conflicts": self.conflicts, "notices": self.notices, "remaining_db": self.remaining_db,
            "remaining_files": self.remaining_files, "db_error": self.db_error,
            "files_error": self.files_error, "busy": self.busy, "elapsed": round(self.elapsed, 3),
            "complete": self.complete,
        }


def _row(payload: dict[str, Any], table: Table) -> dict[str, Any]:
    """The columns of ``table`` found in a journal payload, timestamps as datetimes."""
    out = {}
    for c in table.c:
        if c.name in payload:
            v = payload[c.name]
            out[c.name] = parse_utc(v) if c.name in _TS_FIELDS and v is not None else v
    return out


class _Replayer:
    """The statements of a replay, built once per dialect; :meth:`apply` runs a batch."""

    def __init__(self, dialect: str) -> None:
        ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.insert = {t.name: ins(t).on_conflict_do_nothing(index_elements=["id"])
                       for t in (chats, messages, images, results)}
        ts = bindparam("ts", type_=chats.c.updated_at.type)
        self.bump = update(chats).where(chats.c.id == bindparam("b_chat_id", type_=GUID)).values(
            updated_at=case((chats.c.updated_at < ts, ts), else_=chats.c.updated_at))
        self.mark = update(images).where(images.c.s3_path == bindparam("b_key")).values(
            s3_url=bindparam("b_url"), sync_state="synced")
        self.delete_chat = delete(chats).where(chats.c.id == bindparam("b_chat_id", type_=GUID))

    def apply(self, conn: Connection, entries: Sequence[Entry],
              file_states: dict[str, tuple[str, str | None]]) -> tuple[list[int], list[Conflict]]:
        """Apply ``entries`` in order on ``conn`` (one transaction); returns the applied seqs and the
        conflicts (entries not applied, or applied with a notice)."""
        chat_ids = list({e.chat_id for e in entries if e.chat_id})
        # None (or absent): no such chat; else whether it is archived. Keys may be None (no chat_id).
        chat_state: dict[str | None, bool | None] = dict.fromkeys(chat_ids)
        for i in range(0, len(chat_ids), 500):
            for cid, archived in conn.execute(
                    select(chats.c.id, chats.c.is_archived).where(chats.c.id.in_(chat_ids[i:i + 500]))).all():
                chat_state[str(cid)] = bool(archived)
        msg_ids = list({e.payload["message_id"] for e in entries if e.op in ("add_image", "add_result")})
        known_msgs: set[str] = set()
        for i in range(0, len(msg_ids), 500):
            known_msgs.update(str(m) for m in conn.execute(
                select(messages.c.id).where(messages.c.id.in_(msg_ids[i:i + 500]))).scalars())

        done: list[int] = []
        conflicts: list[Conflict] = []
        buffer: list[dict[str, Any]] = []
        buffer_table: list[str | None] = [None]
        bumps: dict[str, datetime] = {}

        def flush() -> None:
            if buffer:
                conn.execute(self.insert[buffer_table[0]], list(buffer))  # type: ignore[index]
                buffer.clear()
            if bumps:
                conn.execute(self.bump, [{"b_chat_id": k, "ts": v} for k, v in bumps.items()])
                bumps.clear()
            buffer_table[0] = None

        def buffered(table: str, row: dict[str, Any]) -> None:
            if buffer_table[0] != table:
                flush()
                buffer_table[0] = table
            buffer.append(row)

        for e in entries:
            p, op, cid = e.payload, e.op, e.chat_id
            if op == "create_chat":
                buffered("chats", _row(p, chats))
                chat_state[p["id"]] = bool(p.get("is_archived", False))
                done.append(e.seq)
            elif op == "update_chat":
                if chat_state.get(cid) is None:
                    conflicts.append(Conflict(e, "chat_deleted"))
                    continue
                flush()
                fields = {k: v for k, v in (p.get("fields") or {}).items() if k in _CHAT_FIELDS}
                ts = parse_utc(p["updated_at"])
                values: dict[str, Any] = dict(fields)
                values["updated_at"] = case((chats.c.updated_at < ts, ts), else_=chats.c.updated_at)
                conn.execute(update(chats).where(chats.c.id == cid).values(**values))
                if "is_archived" in fields:
                    chat_state[cid] = bool(fields["is_archived"])
                done.append(e.seq)
            elif op == "delete_chat":
                flush()
                conn.execute(self.delete_chat, {"b_chat_id": cid})
                chat_state[cid] = None
                done.append(e.seq)
            elif op == "add_message":
                archived = chat_state.get(cid)
                if archived is None:
                    conflicts.append(Conflict(e, "chat_deleted"))
                    continue
                row = _row(p, messages)
                buffered("chat_messages", row)
                prev = bumps.get(cid)  # type: ignore[arg-type]
                if prev is None or row["created_at"] > prev:
                    bumps[cid] = row["created_at"]  # type: ignore[index]
                known_msgs.add(p["id"])
                if archived:
                    conflicts.append(Conflict(e, "chat_archived", resolution="applied"))
                done.append(e.seq)
            elif op in ("add_image", "add_result"):
                if chat_state.get(cid) is None:
                    conflicts.append(Conflict(e, "chat_deleted"))
                    continue
                if p["message_id"] not in known_msgs:
                    conflicts.append(Conflict(e, "message_missing"))
                    continue
                if op == "add_image":
                    row = _row(p, images)
                    state = file_states.get(row["s3_path"])
                    if state is not None and state[0] == "uploaded" and state[1]:
                        row["s3_url"], row["sync_state"] = state[1], "synced"
                    elif state is not None and state[0] == "pending":
                        row["sync_state"] = "pending"
                    buffered("chat_images", row)
                else:
                    buffered("search_results", _row(p, results))
                done.append(e.seq)
            elif op == "mark_uploaded":
                flush()
                conn.execute(self.mark, {"b_key": p["key"], "b_url": p["url"]})
                done.append(e.seq)
            else:
                conflicts.append(Conflict(e, "unknown_op"))
        flush()
        return done, conflicts


@asynccontextmanager
async def sync_lock(data_dir: Path, wait: bool) -> AsyncIterator[bool]:
    """An exclusive lock per DATA_DIR across processes; yields False when busy and not waiting."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(data_dir / LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o600)
    acquired = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                acquired = True
                break
            except BlockingIOError:
                if not wait:
                    break
                await asyncio.sleep(0.05)
        yield acquired
    finally:
        if acquired:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class Syncer:
    """Drains the journal of one ``DATA_DIR`` into the database and the S3 bucket.

    ``db``: the cloud database (PostgreSQL; SQLite works too, for file marks). ``s3``/``local``:
    the S3 backend and the local folder the resilient file storage keeps files in. Parts that are
    not given are built from ``settings`` when needed; a part that is not configured is skipped.
    """

    def __init__(self, settings: Settings, journal: Journal, *, db: Database | None = None,
                 s3: Any = None, local: Any = None) -> None:
        self.settings = settings
        self.journal = journal
        self._db = db
        self._s3 = s3
        self._local = local
        self._replayers: dict[str, _Replayer] = {}
        self._own: list[Any] = []

    # --- parts ------------------------------------------------------------------------------------
    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings)
            self._own.append(self._db)
        return self._db

    @property
    def s3(self) -> Any:
        if self._s3 is None and self.settings.use_s3_storage:
            from aizoomdoc.store.files.s3 import S3FileStorage

            self._s3 = S3FileStorage(self.settings)
            self._own.append(self._s3)
        return self._s3

    @property
    def local(self) -> Any:
        if self._local is None:
            from aizoomdoc.store.files.local import LocalFileStorage

            self._local = LocalFileStorage(self.settings)
        return self._local

    async def aclose(self) -> None:
        for obj in self._own:
            fn = getattr(obj, "aclose", None) or obj.dispose
            try:
                await fn()
            except Exception:  # noqa: BLE001 - closing engines and clients of any kind is best effort, logged
                log.debug("closing %r failed", obj, exc_info=True)
        self._own.clear()

    # --- the whole sync ------------------------------------------------------------------------------
    async def run(self, progress: Callable[[SyncProgress], Any] | None = None, *, wait: bool = True,
                  db: bool = True, files: bool = True) -> SyncReport:
        """Replay the database queue, upload the files, then replay the URL updates. Never raises
        for an unreachable server: the report says what is left and why."""
        started = time.perf_counter()
        report = SyncReport()
        async with sync_lock(self.settings.data_dir, wait) as acquired:
            if not acquired:
                report.busy = True
            else:
                if db:
                    await self._drain_db(report, progress)
                if files and self.journal.count(FILES_QUEUE):
                    await self._drain_files(report, progress)
                    if db and report.db_error is None and self.journal.count(DB_QUEUE):
                        await self._drain_db(report, progress)
                self.journal.set_meta("last_sync", {"at": now_iso(), **report.public()})
        report.remaining_db = self.journal.count(DB_QUEUE)
        report.remaining_files = self.journal.count(FILES_QUEUE)
        report.elapsed = time.perf_counter() - started
        log.info("sync: %d applied, %d uploaded, %d conflicts; %d+%d left (%.2fs)", report.applied,
                 report.uploaded, report.conflicts, report.remaining_db, report.remaining_files, report.elapsed)
        return report

    # --- database ---------------------------------------------------------------------------------------
    def _replayer(self) -> _Replayer:
        dialect = self.db.dialect
        if dialect not in self._replayers:
            self._replayers[dialect] = _Replayer(dialect)
        return self._replayers[dialect]

    async def _drain_db(self, report: SyncReport, progress: Callable[[SyncProgress], Any] | None) -> None:
        batch = self.settings.sync_batch_size
        try:
            if self.db.is_sqlite:
                from aizoomdoc.store import migrate

                await migrate.ensure_schema(self.db)
            while True:
                entries = self.journal.pending(DB_QUEUE, limit=batch)
                if not entries:
                    return
                user = entries[0].user_id
                run = []
                for e in entries:
                    if e.user_id != user:
                        break
                    run.append(e)
                if not await self._apply(run, report):
                    return
                if progress is not None:
                    progress(SyncProgress("db", report.applied, self.journal.count(DB_QUEUE)))
        except DatabaseUnavailableError as exc:
            report.db_error = str(exc)
            log.info("sync paused: database unavailable (%s)", exc.key)

    async def _apply(self, run: list[Entry], report: SyncReport) -> bool:
        """Apply one run of entries (same user); False when the pass must stop."""
        keys = [e.payload["s3_path"] for e in run if e.op == "add_image"]
        keys += [e.payload["key"] for e in run if e.op == "mark_uploaded"]
        states = self.journal.file_states(keys) if keys else {}
        replayer = self._replayer()
        try:
            done, conflicts = await self.db.run(lambda conn: replayer.apply(conn, run, states),
                                                user_id=run[0].user_id)
        except DatabaseUnavailableError:
            raise
        except Exception as exc:  # noqa: BLE001 - the replay loop isolates the entry that fails, whatever it raised
            if len(run) > 1:
                for e in run:
                    if not await self._apply([e], report):
                        return False
                return True
            return self._failed(run[0], exc, report)
        self.journal.complete(done, conflicts)
        report.applied += len(done)
        report.conflicts += sum(1 for c in conflicts if c.resolution == "kept")
        report.notices += sum(1 for c in conflicts if c.resolution == "applied")
        return True

    def _failed(self, e: Entry, exc: BaseException, report: SyncReport) -> bool:
        detail = str(exc) if isinstance(exc, AizoomdocError) else type(exc).__name__
        attempts = self.journal.record_failure(e.seq, detail)
        log.warning("sync: entry %d (%s) failed (attempt %d): %s", e.seq, e.op, attempts, detail)
        if attempts >= self.settings.sync_max_attempts:
            self.journal.complete([], [Conflict(e, "error", detail=detail)])
            report.conflicts += 1
            return True
        report.errors.append(detail)
        report.db_error = detail
        return False

    # --- files ----------------------------------------------------------------------------------------------
    async def _drain_files(self, report: SyncReport, progress: Callable[[SyncProgress], Any] | None) -> None:
        s3 = self.s3
        if s3 is None:
            report.files_error = t("sync.s3_not_configured")
            return
        window = max(1, self.settings.s3_max_concurrency)
        try:
            self._cleanup_uploaded()
            while True:
                entries = self.journal.pending(FILES_QUEUE, limit=window)
                if not entries:
                    return
                uploads: list[Entry] = []
                for e in entries:
                    if e.op != "upload" or any(u.entity_id == e.entity_id for u in uploads):
                        break
                    uploads.append(e)
                if uploads:
                    results = await asyncio.gather(*(self._upload(e, report) for e in uploads),
                                                   return_exceptions=True)
                    for r in results:
                        if isinstance(r, BaseException):
                            raise r
                else:
                    await self._file_op(entries[0], report)
                if progress is not None:
                    progress(SyncProgress("files", report.uploaded, self.journal.count(FILES_QUEUE)))
        except StorageUnavailableError as exc:
            report.files_error = str(exc)
            log.info("sync paused: S3 unavailable")

    async def _upload(self, e: Entry, report: SyncReport) -> None:
        key = e.entity_id or e.payload["key"]
        local = self.local
        path = local.path_for(key)
        if not path.is_file():
            self.journal.complete([], [Conflict(e, "file_missing", detail=str(path))])
            report.conflicts += 1
            return
        try:
            meta = await local.get_file_metadata(key)
            content_type, metadata = meta["content_type"], meta["metadata"]
        except NotFoundError:
            content_type, metadata = e.payload.get("content_type"), e.payload.get("metadata")
        url = await self.s3.upload_file(path, key, content_type=content_type, metadata=metadata)
        if self._finish_upload(e, key, url):
            report.uploaded += 1
            await asyncio.to_thread(self._remove_local, key)

    def _finish_upload(self, e: Entry, key: str, url: str) -> bool:
        """Entry gone, key uploaded, URL update queued — in one journal transaction. False when the
        entry was superseded meanwhile (the key was written again locally)."""
        with self.journal.transaction() as conn:
            if conn.execute("SELECT 1 FROM outbox WHERE seq = ?", (e.seq,)).fetchone() is None:
                return False
            conn.execute("DELETE FROM outbox WHERE seq = ?", (e.seq,))
            conn.execute("INSERT INTO files (key, state, url, updated_at) VALUES (?, 'uploaded', ?, ?) "
                         "ON CONFLICT (key) DO UPDATE SET state = 'uploaded', url = excluded.url, "
                         "updated_at = excluded.updated_at", (key, url, now_iso()))
            Journal._insert(conn, [NewEntry("mark_uploaded", {"key": key, "url": url}, DB_QUEUE, entity_id=key)])
        return True

    def _remove_local(self, key: str) -> None:
        """Remove the local copy of an uploaded key (and its metadata sidecar)."""
        state = self.journal.file_state(key)
        if state is None or state[0] != "uploaded":
            return
        try:
            self.local._delete_sync(key)
        except (AizoomdocError, OSError):  # the copy is redundant now; never fail the sync for it
            log.warning("could not remove the local copy of an uploaded file", exc_info=True)

    def _cleanup_uploaded(self) -> None:
        """Local copies left by a sync that died between the upload and the removal; prune old states."""
        for key in self.journal.uploaded_file_keys():
            if self.local.path_for(key).exists():
                self._remove_local(key)
        cutoff = to_iso(datetime.now(UTC) - timedelta(days=7))
        self.journal.prune_uploaded(cutoff)

    async def _file_op(self, e: Entry, report: SyncReport) -> None:
        if e.op == "delete_file":
            await self.s3.delete_file(e.payload["key"])
            report.deleted_files += 1
        elif e.op == "delete_prefix":
            report.deleted_files += await self.s3.delete_prefix(e.payload["prefix"])
        else:
            self.journal.complete([], [Conflict(e, "unknown_op")])
            report.conflicts += 1
            return
        self.journal.complete([e.seq])


__all__ = ["SyncProgress", "SyncReport", "Syncer", "sync_lock"]
