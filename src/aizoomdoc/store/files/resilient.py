"""ResilientFileStorage: S3 that keeps working when S3 is down.

- Online, files go to S3 (:class:`~.s3.S3FileStorage`) as usual.
- When S3 raises :class:`StorageUnavailableError` the storage flips offline: the file is written to
  the local folder (:class:`~.local.LocalFileStorage` under ``DATA_DIR/files``, atomic), the key is
  marked ``pending`` in the journal with an ``upload`` entry (one transaction), and the URL returned
  points at the local copy. While offline no upload touches S3; a background probe with backoff
  checks it and, when it answers, runs the sync, which uploads the files in order, points the image
  records (by ``s3_path``) at S3 with ``sync_state='synced'`` and removes the local copies.
- Reads, links and listings of a pending key are served from the local copy; other keys from S3.
- Deletes while offline are journalled (``delete_file``/``delete_prefix``) and replayed in order.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, ClassVar

from aizoomdoc.config import Settings
from aizoomdoc.errors import StorageUnavailableError
from aizoomdoc.store.files.base import FileMetadata, FileStorage, PathLike
from aizoomdoc.store.files.local import LocalFileStorage
from aizoomdoc.store.files.paths import folder_prefix, validate_key, validate_prefix
from aizoomdoc.store.files.s3 import S3FileStorage
from aizoomdoc.store.journal import FILES_QUEUE, Journal, NewEntry
from aizoomdoc.store.link import Link
from aizoomdoc.store.sync import Syncer, SyncReport

log = logging.getLogger(__name__)


class ResilientFileStorage(FileStorage):
    """:class:`FileStorage` over (S3, local folder, journal)."""

    backend: ClassVar[str] = "s3"

    def __init__(self, settings: Settings, *, s3: FileStorage | None = None, local: LocalFileStorage | None = None,
                 journal: Journal | None = None) -> None:
        super().__init__(settings)
        self.s3 = s3 if s3 is not None else S3FileStorage(settings)
        self.local = local or LocalFileStorage(settings)
        self._own_journal = journal is None
        self.journal = journal or Journal.for_data_dir(settings.data_dir)
        self.syncer = Syncer(settings, self.journal, s3=self.s3, local=self.local)
        self.link = Link("s3", self._check, self._sync, settings)
        self._started = False

    # --- state ---------------------------------------------------------------------------------------
    @property
    def location(self) -> str:
        return self.s3.location

    @property
    def is_offline(self) -> bool:
        return not self.link.online

    def offline_state(self) -> dict[str, Any]:
        return {"s3": "online" if self.link.online else "offline", "last_error": self.link.last_error,
                "pending_files": self.journal.count(FILES_QUEUE)}

    async def _check(self) -> bool:
        return await asyncio.to_thread(self.s3.is_connected)

    async def _sync(self) -> bool:
        report = await self.syncer.run(wait=False)
        if report.files_error is not None and self.journal.count(FILES_QUEUE):
            return False
        return not report.busy

    async def sync(self, progress: Any = None) -> SyncReport:
        report = await self.syncer.run(progress, wait=True)
        if report.files_error is None:
            self.link.mark_online()
        return report

    def _start(self) -> None:
        if not self._started:
            self._started = True
            if self.journal.count(FILES_QUEUE):
                self.link.kick()

    def _pending(self, key: str) -> bool:
        state = self.journal.file_state(key)
        return state is not None and state[0] == "pending"

    # --- links ------------------------------------------------------------------------------------------
    def url_for(self, s3_key: str) -> str:
        return self.local.url_for(s3_key) if self._pending(validate_key(s3_key)) else self.s3.url_for(s3_key)

    def get_signed_url(self, s3_key: str, expires_in: int = 3600) -> str:
        if self._pending(validate_key(s3_key)):
            return self.local.get_signed_url(s3_key, expires_in)
        return self.s3.get_signed_url(s3_key, expires_in)

    def is_connected(self) -> bool:
        return self.s3.is_connected()

    # --- writes -----------------------------------------------------------------------------------------
    async def _keep_locally(self, key: str, content_type: str, metadata: dict[str, str], size: int,
                            write: Any) -> None:
        await write(self.local)
        entry = NewEntry("upload", {"key": key, "content_type": content_type, "metadata": metadata, "size": size},
                         FILES_QUEUE, entity_id=key)
        await asyncio.to_thread(self.journal.keep_file_locally, key, entry)
        log.info("S3 unavailable: file kept locally until sync (%d bytes)", size)

    async def _put(self, key: str, content_type: str, metadata: dict[str, str], size: int, write: Any) -> None:
        self._start()
        if self.link.online:
            try:
                await write(self.s3)
                if self._pending(key):  # an older local version is superseded by this upload
                    await asyncio.to_thread(self.journal.forget_files, [key])
                    await asyncio.to_thread(self.local._delete_sync, key)
                return
            except StorageUnavailableError as exc:
                self.link.went_offline(exc)
        await self._keep_locally(key, content_type, metadata, size, write)

    async def _put_bytes(self, data: bytes, key: str, content_type: str, metadata: dict[str, str]) -> None:
        await self._put(key, content_type, metadata, len(data),
                        lambda backend: backend._put_bytes(data, key, content_type, metadata))

    async def _put_file(self, path: Path, key: str, content_type: str, metadata: dict[str, str], size: int) -> None:
        await self._put(key, content_type, metadata, size,
                        lambda backend: backend._put_file(path, key, content_type, metadata, size))

    # --- reads ------------------------------------------------------------------------------------------
    async def download_file(self, s3_key: str, local_path: PathLike) -> Path:
        if self._pending(validate_key(s3_key)):
            return await self.local.download_file(s3_key, local_path)
        return await self.s3.download_file(s3_key, local_path)

    async def read_bytes(self, s3_key: str) -> bytes:
        if self._pending(validate_key(s3_key)):
            return await self.local.read_bytes(s3_key)
        return await self.s3.read_bytes(s3_key)

    async def file_exists(self, s3_key: str) -> bool:
        if self._pending(validate_key(s3_key)):
            return await self.local.file_exists(s3_key)
        return await self.s3.file_exists(s3_key)

    async def get_file_metadata(self, s3_key: str) -> FileMetadata:
        if self._pending(validate_key(s3_key)):
            return await self.local.get_file_metadata(s3_key)
        return await self.s3.get_file_metadata(s3_key)

    async def list_files(self, prefix: str = "") -> list[str]:
        prefix = validate_prefix(prefix)
        local_keys = self.journal.pending_file_keys(prefix)
        if not self.link.online:
            return sorted(local_keys)
        try:
            remote = await self.s3.list_files(prefix)
        except StorageUnavailableError as exc:
            self.link.went_offline(exc)
            return sorted(local_keys)
        return sorted(set(remote) | set(local_keys))

    # --- deletes -------------------------------------------------------------------------------------------
    async def delete_file(self, s3_key: str) -> None:
        key = validate_key(s3_key)
        if self._pending(key):
            await asyncio.to_thread(self.journal.forget_files, [key])
            await self.local.delete_file(key)
        await self._remote_op("delete_file", {"key": key}, lambda: self.s3.delete_file(key))

    async def delete_prefix(self, prefix: str) -> int:
        folder = folder_prefix(prefix)
        local_keys = self.journal.pending_file_keys(folder)
        await asyncio.to_thread(self.journal.forget_files, local_keys)
        count = await self.local.delete_prefix(folder)
        remote = await self._remote_op("delete_prefix", {"prefix": folder}, lambda: self.s3.delete_prefix(folder))
        return count + (remote or 0)

    async def _remote_op(self, op: str, payload: dict[str, Any], call: Any) -> Any:
        self._start()
        if self.link.online and not self.journal.count(FILES_QUEUE):
            try:
                return await call()
            except StorageUnavailableError as exc:
                self.link.went_offline(exc)
        await asyncio.to_thread(self.journal.append, NewEntry(op, payload, FILES_QUEUE,
                                                              entity_id=payload.get("key")))
        self.link.kick()
        return None

    # --- the rest ---------------------------------------------------------------------------------------------
    async def init(self) -> bool:
        await self.local.init()
        return await self.s3.init()

    async def aclose(self) -> None:
        await self.link.aclose()
        await self.syncer.aclose()
        await self.s3.aclose()
        await self.local.aclose()
        if self._own_journal:
            self.journal.close()

    async def _fetch_signed(self, url: str) -> tuple[int, bytes]:
        if url.startswith(self.settings.public_base_url.rstrip("/") + "/files/"):
            return await self.local._fetch_signed(url)
        return await self.s3._fetch_signed(url)


__all__ = ["ResilientFileStorage"]
