"""Backup and restore of everything the application keeps: every table and every stored file.

Layout of a backup root (a folder or ``s3://BUCKET/PREFIX``)::

    objects/ab/ab12…ef                  stored files, named by their sha256 (shared by all snapshots)
    snapshots/<id>/tables/<table>.jsonl.gz
    snapshots/<id>/files.jsonl.gz       key, sha256, size, content type, metadata of every file
    snapshots/<id>/manifest.json        written last: counts and sha256 of every part, format version

* **Incremental**: a file whose content is already in ``objects/`` is not sent again; a file whose
  key, size and modification time match the previous snapshot is not even read again.
* **Resumable**: an interrupted backup (S3 down, Ctrl+C) leaves whole objects and no manifest;
  running it again sends only what is missing and writes a complete snapshot. Snapshots without
  a manifest are incomplete: ``list`` marks them, ``restore`` and ``verify`` never use them, and
  the next successful backup removes them.
* **Restore** goes into an empty database and empty file storage (``--force`` replaces what is
  there): every part and every file is checked against its sha256 before it is used; files are
  written first, then all rows in one transaction; if anything fails, the files written are
  removed again and no row is written.
"""

from __future__ import annotations

import asyncio
import builtins
import gzip
import hashlib
import json
import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aizoomdoc.config import Settings
from aizoomdoc.errors import AizoomdocError, InvalidInputError, NotFoundError, StorageError
from aizoomdoc.pipeline.backup import tables as tbl
from aizoomdoc.pipeline.backup.target import BackupTarget, open_target
from aizoomdoc.store.database import Database
from aizoomdoc.store.files import FileStorage, build_file_storage

log = logging.getLogger(__name__)

FORMAT = "aizoomdoc-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FILES_PART = "files.jsonl.gz"
#: Files larger than this go through a temporary file instead of memory.
STREAM_BYTES = 16 * 1024 * 1024

Progress = Callable[[dict[str, Any]], None]


def object_name(sha256: str) -> str:
    return f"objects/{sha256[:2]}/{sha256}"


def _now_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


@dataclass
class FileEntry:
    key: str
    sha256: str
    size: int
    content_type: str
    metadata: dict[str, str]
    modified: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "sha256": self.sha256, "size": self.size, "content_type": self.content_type,
                "metadata": self.metadata, "modified": self.modified}


@dataclass
class Problem:
    kind: str  # part_missing | part_corrupt | file_missing | file_corrupt
    name: str
    key: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "key": self.key}


@dataclass
class _Copy:
    """Counters of one file pass."""

    done: int = 0
    sent: int = 0
    skipped: int = 0
    bytes_sent: int = 0
    vanished: list[str] = field(default_factory=list)


class BackupService:
    """``create`` / ``restore`` / ``list`` / ``verify`` for one settings object."""

    def __init__(self, settings: Settings, *, db: Database | None = None, files: FileStorage | None = None) -> None:
        self.settings = settings
        self._own_db = db is None
        self.db = db or Database(settings)
        self._own_files = files is None
        self._files = files
        self.concurrency = settings.backup_concurrency

    @property
    def files(self) -> FileStorage:
        if self._files is None:
            self._files = build_file_storage(self.settings)  # never the offline fallback
        return self._files

    async def aclose(self) -> None:
        if self._own_files and self._files is not None:
            await self._files.aclose()
        if self._own_db:
            await self.db.dispose()

    async def __aenter__(self) -> BackupService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # =========================================================================================
    async def create(self, dest: str, *, on_progress: Progress | None = None) -> dict[str, Any]:
        """A new snapshot of the database and the file storage in ``dest``."""
        say = on_progress or (lambda _e: None)
        t0 = time.perf_counter()
        target = open_target(self.settings, dest)
        tmp = Path(tempfile.mkdtemp(prefix="aizoomdoc-backup-"))
        try:
            await target.prepare()
            snap = _now_id()
            previous = await self._previous_files(target)
            # 1. the database, one consistent read
            say({"stage": "tables"})
            if self.db.migrates_itself:
                from aizoomdoc.store import migrate

                await migrate.ensure_schema(self.db)
            parts, revision = await self.db.run(lambda c: tbl.dump(c, tmp))
            # 2. the files (listed after the rows: every file a row names was written before it)
            keys = await self.files.list_files("")
            say({"stage": "files", "done": 0, "total": len(keys)})
            have = {n.rsplit("/", 1)[-1] for n in await target.list("objects/")}
            entries, stats = await self._copy_files(target, keys, have, previous, tmp, say)
            # 3. the parts, then the manifest (the snapshot exists only once it is there)
            say({"stage": "manifest"})
            base = f"snapshots/{snap}"
            files_part = tmp / FILES_PART
            _write_jsonl(files_part, (e.to_json() for e in entries))
            for p in parts:
                await target.put_file(f"{base}/tables/{p.path.name}", p.path)
            await target.put_file(f"{base}/{FILES_PART}", files_part)
            manifest = {
                "format": FORMAT, "format_version": FORMAT_VERSION, "id": snap,
                "created_at": datetime.now(UTC).isoformat(), "tool_version": _tool_version(),
                "schema_revision": revision,
                "source": {"database": self.db.dialect, "storage": self.files.backend},
                "tables": [p.to_manifest(f"tables/{p.path.name}") for p in parts],
                "files": {"count": len(entries), "bytes": sum(e.size for e in entries), "part": FILES_PART,
                          "sha256": tbl.sha256_file(files_part), "part_bytes": files_part.stat().st_size},
            }
            await target.put_bytes(f"{base}/{MANIFEST}", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
            removed = await self._drop_incomplete(target, keep=snap)
            return {
                "snapshot": snap, "location": target.location, "tables": {p.name: p.rows for p in parts},
                "rows": sum(p.rows for p in parts), "files": len(entries), "files_sent": stats.sent,
                "files_skipped": stats.skipped, "bytes_sent": stats.bytes_sent, "files_vanished": stats.vanished,
                "incomplete_removed": removed, "seconds": round(time.perf_counter() - t0, 3),
            }
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            await target.aclose()

    async def _previous_files(self, target: BackupTarget) -> dict[str, dict[str, Any]]:
        """key -> entry of the newest complete snapshot (to skip re-reading unchanged files)."""
        snaps = [s for s in await self._snapshots(target) if s["complete"]]
        if not snaps:
            return {}
        try:
            manifest = await self._manifest(target, snaps[-1]["id"])
            data = await target.get_bytes(f"snapshots/{manifest['id']}/{manifest['files']['part']}")
            if hashlib.sha256(data).hexdigest() != manifest["files"]["sha256"]:
                return {}
            rows = [json.loads(line) for line in gzip.decompress(data).decode("utf-8").splitlines() if line.strip()]
        except (AizoomdocError, ValueError, KeyError, OSError):
            log.warning("the previous snapshot's file list is unusable; every file is read again", exc_info=True)
            return {}
        return {r["key"]: r for r in rows}

    async def _copy_files(self, target: BackupTarget, keys: list[str], have: set[str],
                          previous: dict[str, dict[str, Any]], tmp: Path,
                          say: Progress) -> tuple[list[FileEntry], _Copy]:
        stats = _Copy()
        entries: dict[str, FileEntry] = {}
        inflight: dict[str, asyncio.Future[None]] = {}

        async def one(key: str) -> None:
            try:
                meta = await self.files.get_file_metadata(key)
            except NotFoundError:  # deleted since the listing (its chat was deleted)
                stats.vanished.append(key)
                return
            modified = meta["last_modified"].isoformat() if meta.get("last_modified") else None
            prev = previous.get(key)
            if (prev and prev.get("size") == meta["size"] and prev.get("modified") == modified
                    and prev["sha256"] in have):
                sha = prev["sha256"]
            else:
                sha = await self._send(target, key, meta["size"], have, inflight, tmp, stats)
                if sha is None:
                    stats.vanished.append(key)
                    return
            entries[key] = FileEntry(key, sha, int(meta["size"]), meta["content_type"], dict(meta["metadata"]),
                                     modified)

        async def counted(key: str) -> None:
            await one(key)
            stats.done += 1
            say({"stage": "files", "done": stats.done, "total": len(keys), "sent": stats.sent})

        await _bounded(counted, keys, self.concurrency)
        stats.skipped = len(entries) - stats.sent
        return [entries[k] for k in sorted(entries)], stats

    async def _send(self, target: BackupTarget, key: str, size: int, have: set[str],
                    inflight: dict[str, asyncio.Future[None]], tmp: Path, stats: _Copy) -> str | None:
        """Read a stored file, hash it, upload it unless its content is there already; its sha256."""
        path: Path | None = None
        try:
            if size > STREAM_BYTES:
                path = tmp / f"file-{secrets.token_hex(8)}"
                await self.files.download_file(key, path)
                sha = await asyncio.to_thread(tbl.sha256_file, path)
                data = None
            else:
                data = await self.files.read_bytes(key)
                sha = hashlib.sha256(data).hexdigest()
        except NotFoundError:
            return None
        try:
            if sha in have:
                return sha
            if sha in inflight:  # the same content under another key, being sent right now
                await inflight[sha]
                return sha
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            inflight[sha] = fut
            try:
                if data is not None:
                    await target.put_bytes(object_name(sha), data)
                else:
                    await target.put_file(object_name(sha), path)  # type: ignore[arg-type]
            except BaseException as exc:
                fut.set_exception(exc)
                fut.exception()  # retrieved: waiters re-raise it
                inflight.pop(sha, None)
                raise
            fut.set_result(None)
            have.add(sha)
            stats.sent += 1
            stats.bytes_sent += size
            return sha
        finally:
            if path is not None:
                path.unlink(missing_ok=True)

    async def _drop_incomplete(self, target: BackupTarget, keep: str) -> list[str]:
        """Remove the parts of snapshots that never got a manifest (interrupted runs)."""
        removed = []
        for snap in await self._snapshots(target):
            if snap["complete"] or snap["id"] == keep:
                continue
            await target.delete_folder(f"snapshots/{snap['id']}")
            removed.append(snap["id"])
        return removed

    # =========================================================================================
    async def list(self, source: str) -> builtins.list[dict[str, Any]]:
        target = open_target(self.settings, source)
        try:
            out = []
            for snap in await self._snapshots(target):
                if snap["complete"]:
                    m = await self._manifest(target, snap["id"])
                    out.append({"id": m["id"], "complete": True, "created_at": m.get("created_at"),
                                "rows": sum(t["rows"] for t in m["tables"]),
                                "tables": {t["name"]: t["rows"] for t in m["tables"]},
                                "files": m["files"]["count"], "bytes": m["files"]["bytes"],
                                "schema_revision": m.get("schema_revision"),
                                "source": m.get("source"), "tool_version": m.get("tool_version")})
                else:
                    out.append({"id": snap["id"], "complete": False})
            return out
        finally:
            await target.aclose()

    # (``builtins.list``: in this class ``list`` is the method above.)
    async def _snapshots(self, target: BackupTarget) -> builtins.list[dict[str, Any]]:
        ids: dict[str, bool] = {}
        for name in await target.list("snapshots/"):
            parts = name.split("/")
            if len(parts) >= 3:
                ids[parts[1]] = ids.get(parts[1], False) or (len(parts) == 3 and parts[2] == MANIFEST)
        return [{"id": i, "complete": ok} for i, ok in sorted(ids.items())]

    async def _manifest(self, target: BackupTarget, snap: str) -> dict[str, Any]:
        try:
            manifest = json.loads(await target.get_bytes(f"snapshots/{snap}/{MANIFEST}"))
        except NotFoundError:
            raise NotFoundError("backup.no_snapshot", snapshot=snap, location=target.location) from None
        except ValueError:
            raise InvalidInputError("backup.bad_manifest", snapshot=snap) from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise InvalidInputError("backup.bad_manifest", snapshot=snap)
        version = manifest.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise InvalidInputError("backup.newer_format", snapshot=snap, version=version, supported=FORMAT_VERSION)
        return manifest

    async def _pick(self, target: BackupTarget, snapshot: str | None) -> dict[str, Any]:
        if snapshot:
            return await self._manifest(target, snapshot)
        done = [s for s in await self._snapshots(target) if s["complete"]]
        if not done:
            raise NotFoundError("backup.empty", location=target.location)
        return await self._manifest(target, done[-1]["id"])

    # =========================================================================================
    async def verify(self, source: str, *, snapshot: str | None = None,
                     on_progress: Progress | None = None) -> dict[str, Any]:
        """Check every part and every file of a snapshot against its sha256."""
        say = on_progress or (lambda _e: None)
        target = open_target(self.settings, source)
        tmp = Path(tempfile.mkdtemp(prefix="aizoomdoc-verify-"))
        try:
            manifest = await self._pick(target, snapshot)
            problems: list[Problem] = []
            entries = await self._fetch_parts(target, manifest, tmp, problems)
            by_sha: dict[str, list[str]] = {}
            for e in entries or []:
                by_sha.setdefault(e.sha256, []).append(e.key)
            checked = 0

            async def check(sha: str) -> None:
                nonlocal checked
                path = tmp / f"obj-{sha}"
                try:
                    await target.get_file(object_name(sha), path)
                except NotFoundError:
                    problems.extend(Problem("file_missing", object_name(sha), k) for k in by_sha[sha])
                    return
                try:
                    if await asyncio.to_thread(tbl.sha256_file, path) != sha:
                        problems.extend(Problem("file_corrupt", object_name(sha), k) for k in by_sha[sha])
                finally:
                    path.unlink(missing_ok=True)
                checked += 1
                say({"stage": "verify", "done": checked, "total": len(by_sha)})

            await _bounded(check, list(by_sha), self.concurrency)
            return {"snapshot": manifest["id"], "location": target.location, "ok": not problems,
                    "files": len(entries or []), "objects_checked": checked,
                    "parts": len(manifest["tables"]) + 1, "problems": [p.to_json() for p in problems]}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            await target.aclose()

    async def _fetch_parts(self, target: BackupTarget, manifest: dict[str, Any], folder: Path,
                           problems: builtins.list[Problem]) -> builtins.list[FileEntry] | None:
        """Download every part into ``folder`` and check its hash; the file entries (None when
        the file list itself is unusable)."""
        base = f"snapshots/{manifest['id']}"
        for part in [*manifest["tables"], manifest["files"]]:
            name = f"{base}/{part['part']}"
            path = folder / part["part"]
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                await target.get_file(name, path)
            except NotFoundError:
                problems.append(Problem("part_missing", name))
                continue
            if await asyncio.to_thread(tbl.sha256_file, path) != part["sha256"]:
                problems.append(Problem("part_corrupt", name))
                path.unlink()
        files_path = folder / manifest["files"]["part"]
        if not files_path.exists():
            return None
        return [FileEntry(r["key"], r["sha256"], int(r["size"]), r.get("content_type") or "application/octet-stream",
                          dict(r.get("metadata") or {}), r.get("modified")) for r in tbl.read_rows(files_path)]

    # =========================================================================================
    async def restore(self, source: str, *, snapshot: str | None = None, force: bool = False,
                      on_progress: Progress | None = None) -> dict[str, Any]:
        """Bring a snapshot back into this database and file storage (see the module docstring)."""
        say = on_progress or (lambda _e: None)
        t0 = time.perf_counter()
        target = open_target(self.settings, source)
        tmp = Path(tempfile.mkdtemp(prefix="aizoomdoc-restore-"))
        written: list[str] = []
        try:
            manifest = await self._pick(target, snapshot)
            await self._prepare_database()
            if not force:
                await self._require_empty()
            say({"stage": "parts"})
            problems: list[Problem] = []
            entries = await self._fetch_parts(target, manifest, tmp, problems)
            if problems or entries is None:
                raise StorageError("backup.restore_corrupt", snapshot=manifest["id"],
                                   detail=", ".join(p.name for p in problems[:3]))
            if hasattr(self.files, "init"):
                await self.files.init()
            done = 0

            async def put(e: FileEntry) -> None:
                nonlocal done
                path = tmp / f"obj-{secrets.token_hex(8)}"
                try:
                    try:
                        await target.get_file(object_name(e.sha256), path)
                    except NotFoundError:
                        raise StorageError("backup.restore_corrupt", snapshot=manifest["id"],
                                           detail=f"{object_name(e.sha256)} ({e.key})") from None
                    if await asyncio.to_thread(tbl.sha256_file, path) != e.sha256:
                        raise StorageError("backup.restore_corrupt", snapshot=manifest["id"],
                                           detail=f"{object_name(e.sha256)} ({e.key})")
                    written.append(e.key)
                    await self.files.upload_file(path, e.key, content_type=e.content_type,
                                                 metadata=e.metadata or None)
                finally:
                    path.unlink(missing_ok=True)
                done += 1
                say({"stage": "files", "done": done, "total": len(entries)})

            await _bounded(put, entries, self.concurrency)
            say({"stage": "tables"})
            parts = {t["name"]: tmp / t["part"] for t in manifest["tables"]}
            counts = await self.db.run(lambda c: tbl.load(c, parts, replace=force))
            return {"snapshot": manifest["id"], "location": target.location, "tables": counts,
                    "rows": sum(counts.values()), "files": len(entries), "bytes": sum(e.size for e in entries),
                    "seconds": round(time.perf_counter() - t0, 3)}
        except BaseException:
            if written and not force:
                await self._remove(written)
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            await target.aclose()

    async def _prepare_database(self) -> None:
        """The schema at the current version: SQLite migrates itself; a PostgreSQL database
        without any table is migrated here; one at another version is refused."""
        from aizoomdoc.store import migrate

        if self.db.migrates_itself:
            await migrate.ensure_schema(self.db)
            return
        current, head = await migrate.current_revision(self.db), migrate.head_revision()
        if current == head:
            return
        tables = await self.db.run(lambda c: tbl.row_counts(c))
        if current is None and not tables:
            await migrate.upgrade(self.db)
            return
        raise InvalidInputError("backup.schema_mismatch", current=current or "—", head=head or "—")

    async def _require_empty(self) -> None:
        counts = await self.db.run(lambda c: tbl.row_counts(c))
        busy = {k: v for k, v in counts.items() if v}
        if busy:
            first = ", ".join(f"{k}: {v}" for k, v in list(busy.items())[:3])
            raise InvalidInputError("backup.not_empty_db", target=self.db.target, detail=first)
        keys = await self.files.list_files("")
        if keys:
            raise InvalidInputError("backup.not_empty_files", location=self.files.location, count=len(keys))

    async def _remove(self, keys: Iterable[str]) -> None:
        for key in keys:
            try:
                await self.files.delete_file(key)
            except (AizoomdocError, OSError):  # best effort cleanup after a failed restore
                log.warning("could not remove %s after a failed restore", key)


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as out:
        for r in rows:
            out.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")


async def _bounded(fn: Callable[[Any], Any], items: Iterable[Any], limit: int) -> None:
    """``await fn(item)`` for every item, at most ``limit`` at once. After the first error no new
    item starts, the running ones finish (a write in a worker thread cannot be cancelled: it must
    be over before the caller cleans up), then that error is raised."""
    todo = iter(list(items))
    failed: list[BaseException] = []

    async def worker() -> None:
        for item in todo:  # one iterator shared by the workers
            if failed:
                return
            try:
                await fn(item)
            except Exception as exc:  # noqa: BLE001 - not swallowed: re-raised below, after the other workers stopped
                failed.append(exc)
                return

    await asyncio.gather(*(worker() for _ in range(max(1, limit))))
    if failed:
        raise failed[0]


def _tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aizoomdoc")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


__all__ = ["FORMAT", "FORMAT_VERSION", "BackupService", "object_name"]
