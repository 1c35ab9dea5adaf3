"""The original integration's entry point: ``from aizoomdoc.s3_storage import s3_storage``.

``s3_storage`` is a thin facade over :mod:`aizoomdoc.store.files`: on first use it builds the
storage from :func:`~aizoomdoc.config.get_settings` (S3 when ``USE_S3_STORAGE=true``, otherwise the
local folder ``DATA_DIR/files``) and forwards every call. Tests and embedding applications bind it
to their own settings::

    s3_storage.configure(settings)      # or: S3StorageFacade(settings)
    key = s3_storage.generate_s3_path(chat_id, "viewport", "viewport_step_1.png")
    url = await s3_storage.upload_file("/tmp/v.png", key, content_type="image/png")
    url = await s3_storage.upload_file_object(io.BytesIO(png), key, content_type="image/png")
    deleted = await s3_storage.delete_folder(f"chats/{chat_id}/")   # how many files
    link = s3_storage.get_signed_url(key, expires_in=3600)   # synchronous
    ok = s3_storage.is_connected()                           # synchronous
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from aizoomdoc.config import Settings, get_settings
from aizoomdoc.errors import AizoomdocError
from aizoomdoc.store.files import FileMetadata, FileStorage, UploadItem
from aizoomdoc.store.files.base import PathLike


class S3StorageFacade:
    """Seed-compatible methods over a lazily built :class:`FileStorage`."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._storage: FileStorage | None = None
        self._lock = threading.Lock()

    # --- binding ------------------------------------------------------------------------------------
    def configure(self, settings: Settings | None = None, storage: FileStorage | None = None) -> None:
        """Bind to ``settings`` (or to a ready ``storage``); ``None`` goes back to ``get_settings()``.

        The previous storage is dropped; call ``await aclose()`` first to release its connections.
        """
        with self._lock:
            self._settings = storage.settings if storage is not None else settings
            self._storage = storage

    @property
    def storage(self) -> FileStorage:
        """The underlying storage, built on first use."""
        if self._storage is None:
            with self._lock:
                if self._storage is None:
                    from aizoomdoc.store.factory import build_files

                    # S3 with a local fallback (offline journal) when S3 is configured.
                    self._storage = build_files(self._settings or get_settings())
        return self._storage

    @property
    def backend(self) -> str:
        return self.storage.backend

    # --- synchronous ------------------------------------------------------------------------------
    def generate_s3_path(self, chat_id: object, file_type: str | None, filename: str | None) -> str:
        return self.storage.generate_s3_path(chat_id, file_type, filename)

    def get_signed_url(self, s3_key: str, expires_in: int = 3600) -> str:
        return self.storage.get_signed_url(s3_key, expires_in=expires_in)

    def url_for(self, s3_key: str) -> str:
        return self.storage.url_for(s3_key)

    def is_connected(self) -> bool:
        try:
            return self.storage.is_connected()
        except AizoomdocError:  # e.g. S3 enabled but not configured
            return False

    # --- async ----------------------------------------------------------------------------------------
    async def upload_file(
        self, file_path: PathLike, s3_key: str, content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        return await self.storage.upload_file(file_path, s3_key, content_type=content_type, metadata=metadata)

    async def upload_bytes(
        self, data: bytes, s3_key: str, content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        return await self.storage.upload_bytes(data, s3_key, content_type=content_type, metadata=metadata)

    async def upload_file_object(
        self, file_obj: Any, s3_key: str, content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """Store a binary file object (``io.BytesIO``, ``open(…, "rb")``); returns the record URL."""
        return await self.storage.upload_file_object(file_obj, s3_key, content_type=content_type, metadata=metadata)

    async def upload_many(
        self, items: Iterable[UploadItem | Mapping[str, Any] | tuple[Any, ...]],
        concurrency: int | None = None,
    ) -> list[str]:
        return await self.storage.upload_many(items, concurrency=concurrency)

    async def download_file(self, s3_key: str, local_path: PathLike) -> Path:
        return await self.storage.download_file(s3_key, local_path)

    async def read_bytes(self, s3_key: str) -> bytes:
        return await self.storage.read_bytes(s3_key)

    async def delete_file(self, s3_key: str) -> None:
        await self.storage.delete_file(s3_key)

    async def delete_prefix(self, prefix: str) -> int:
        return await self.storage.delete_prefix(prefix)

    async def delete_folder(self, prefix: str) -> int:
        """The original's name: delete every file under ``prefix`` (``chats/{id}/``); returns how many.

        The prefix is a folder: ``chats/abc`` deletes ``chats/abc/…``, never ``chats/abcd/…``; an
        empty prefix (the whole storage) is refused.
        """
        return await self.storage.delete_prefix(prefix)

    async def file_exists(self, s3_key: str) -> bool:
        return await self.storage.file_exists(s3_key)

    async def get_file_metadata(self, s3_key: str) -> FileMetadata:
        return await self.storage.get_file_metadata(s3_key)

    async def list_files(self, prefix: str = "") -> list[str]:
        return await self.storage.list_files(prefix)

    async def aclose(self) -> None:
        if self._storage is not None:
            await self._storage.aclose()


s3_storage = S3StorageFacade()

__all__ = ["S3StorageFacade", "s3_storage"]
