"""The file storage interface both backends implement (like httpx's transports).

:class:`FileStorage` does everything that is the same for every backend — key validation, the
``MAX_FILE_SIZE_MB`` limit (checked before any byte is sent), content-type guessing, metadata
checks, bounded-concurrency ``upload_many`` — and leaves the primitives (``_put_bytes``,
``_put_file``, reads, deletes, listing) to :class:`~.local.LocalFileStorage` and
:class:`~.s3.S3FileStorage`.

Method names follow the original integration (``s3_storage.upload_file(...)`` etc.).
``get_signed_url``, ``generate_s3_path``, ``url_for`` and ``is_connected`` are synchronous; the
rest is async.
"""

from __future__ import annotations

import asyncio
import base64
import mimetypes
import os
import re
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, TypedDict

from aizoomdoc.config import Settings
from aizoomdoc.errors import FileTooLargeError, InvalidInputError, NotFoundError, StorageError
from aizoomdoc.store.files.paths import generate_s3_path, validate_key
from aizoomdoc.texts import t

#: S3 limits user metadata to 2 KB (keys + values as sent in headers).
MAX_METADATA_BYTES = 2048
_META_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_PLAIN_HEADER_RE = re.compile(r"^[\x20-\x7e]*$")

PathLike = str | os.PathLike[str]


class FileMetadata(TypedDict):
    key: str
    size: int
    content_type: str
    last_modified: datetime
    metadata: dict[str, str]


@dataclass(frozen=True, slots=True)
class UploadItem:
    """One upload for :meth:`FileStorage.upload_many`: ``source`` is bytes or a local path."""

    source: bytes | bytearray | memoryview | PathLike
    s3_key: str
    content_type: str | None = None
    metadata: Mapping[str, Any] | None = None


def format_mb(size: int) -> str:
    mb = size / (1024 * 1024)
    return f"{mb:.2f}" if mb >= 0.01 else f"{mb:.4f}"


def guess_content_type(key: str) -> str:
    guessed, _ = mimetypes.guess_type(key, strict=False)
    return guessed or "application/octet-stream"


def encode_metadata_value(value: str) -> str:
    """A header-safe value: printable ASCII as is, anything else RFC 2047 base64 (``=?UTF-8?B?…?=``)."""
    if _PLAIN_HEADER_RE.match(value) and not value.startswith("=?"):
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="


def decode_metadata_value(value: str) -> str:
    if value.startswith("=?UTF-8?B?") and value.endswith("?="):
        try:
            return base64.b64decode(value[10:-2]).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return value
    return value


def normalize_metadata(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    """User metadata as ``{lowercase key: str}``; :class:`InvalidInputError` when S3 would refuse it."""
    if not metadata:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidInputError("files.bad_metadata", reason=t("files.bad_metadata.not_mapping"))
    result: dict[str, str] = {}
    total = 0
    for raw_key, raw_value in metadata.items():
        key = str(raw_key).strip().lower()
        if not _META_KEY_RE.match(key):
            raise InvalidInputError(
                "files.bad_metadata",
                reason=t("files.bad_metadata.key", name=str(raw_key)[:40]),
            )
        value = "" if raw_value is None else str(raw_value)
        result[key] = value
        total += len(key) + len(encode_metadata_value(value))
    if total > MAX_METADATA_BYTES:
        raise InvalidInputError(
            "files.bad_metadata", reason=t("files.bad_metadata.too_large", limit=MAX_METADATA_BYTES, total=total)
        )
    return result


@dataclass(slots=True)
class _Job:
    key: str
    content_type: str
    metadata: dict[str, str]
    data: bytes | None = None
    path: Path | None = None
    size: int = 0


class FileStorage(ABC):
    """One async API over a local folder or an S3-compatible bucket."""

    #: ``"local"`` or ``"s3"``.
    backend: ClassVar[str]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"

    # --- synchronous helpers ------------------------------------------------------------------
    @property
    @abstractmethod
    def location(self) -> str:
        """Where files go, for messages (``/data/files`` or ``s3://bucket @ endpoint``); no secrets."""

    def generate_s3_path(self, chat_id: object, file_type: str | None, filename: str | None) -> str:
        """``chats/{chat_id}/{images|documents|other}/{safe unique name}`` (see :mod:`.paths`)."""
        return generate_s3_path(chat_id, file_type, filename)

    @abstractmethod
    def url_for(self, s3_key: str) -> str:
        """The unsigned record URL of a key (what uploads return)."""

    @abstractmethod
    def get_signed_url(self, s3_key: str, expires_in: int = 3600) -> str:
        """A time-limited download link; synchronous, no network."""

    @abstractmethod
    def is_connected(self) -> bool:
        """A quick real check that the storage is usable; synchronous; never raises."""

    @property
    def is_offline(self) -> bool:
        """Whether uploads go to the local journal now (S3 unreachable); never for a storage
        without one (see :class:`~aizoomdoc.store.files.resilient.ResilientFileStorage`)."""
        return False

    def offline_state(self) -> dict[str, Any] | None:
        """``{"s3", "last_error", "pending_files"}`` for a storage with an offline journal; None
        for one without."""
        return None

    # --- uploads --------------------------------------------------------------------------------
    def _check_size(self, size: int, name: str) -> None:
        limit = self.settings.max_file_size_bytes
        if size > limit:
            raise FileTooLargeError(
                "files.too_large",
                name=name[:120],
                size_mb=format_mb(size),
                limit_mb=f"{self.settings.max_file_size_mb:g}",
            )

    def _prepare_bytes(
        self, data: bytes | bytearray | memoryview, s3_key: str, content_type: str | None,
        metadata: Mapping[str, Any] | None,
    ) -> _Job:
        key = validate_key(s3_key)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidInputError("files.bad_metadata", reason=t("files.bad_metadata.not_bytes"))
        payload = bytes(data)
        self._check_size(len(payload), key.rsplit("/", 1)[-1])
        return _Job(key, content_type or guess_content_type(key), normalize_metadata(metadata),
                    data=payload, size=len(payload))

    def _prepare_file(
        self, file_path: PathLike, s3_key: str, content_type: str | None,
        metadata: Mapping[str, Any] | None,
    ) -> _Job:
        key = validate_key(s3_key)
        path = Path(file_path)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError("files.source_missing", path=str(path)) from None
        if not path.is_file():
            raise NotFoundError("files.source_missing", path=str(path))
        self._check_size(st.st_size, path.name)
        return _Job(key, content_type or guess_content_type(key), normalize_metadata(metadata),
                    path=path, size=st.st_size)

    async def _run(self, job: _Job) -> str:
        if job.data is not None:
            await self._put_bytes(job.data, job.key, job.content_type, job.metadata)
        else:
            assert job.path is not None
            await self._put_file(job.path, job.key, job.content_type, job.metadata, job.size)
        return self.url_for(job.key)

    async def upload_file(
        self, file_path: PathLike, s3_key: str, content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """Store a local file under ``s3_key``; returns the record URL. Overwrites an existing key
        (use :meth:`generate_s3_path` for fresh, unique keys)."""
        return await self._run(self._prepare_file(file_path, s3_key, content_type, metadata))

    async def upload_bytes(
        self, data: bytes | bytearray | memoryview, s3_key: str, content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """Store ``data`` under ``s3_key``; returns the record URL."""
        return await self._run(self._prepare_bytes(data, s3_key, content_type, metadata))

    async def upload_file_object(
        self, file_obj: Any, s3_key: str, content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """Store what a binary file object (``open(path, "rb")``, ``io.BytesIO``) holds from its
        current position on under ``s3_key``; returns the record URL.

        The size limit is checked before reading when the object can seek, else while reading
        (never more than ``MAX_FILE_SIZE_MB`` + 1 byte is read); reading runs in a worker thread.
        """
        key = validate_key(s3_key)
        read = getattr(file_obj, "read", None)
        if not callable(read):
            raise InvalidInputError("files.bad_file_object", got=type(file_obj).__name__)
        limit = self.settings.max_file_size_bytes
        name = Path(str(getattr(file_obj, "name", "") or key)).name or key.rsplit("/", 1)[-1]

        def read_all() -> bytes:
            try:
                start = file_obj.tell()
                end = file_obj.seek(0, os.SEEK_END)
                file_obj.seek(start)
            except (AttributeError, OSError, ValueError):
                pass
            else:
                self._check_size(end - start, name)
            chunks: list[bytes] = []
            total = 0
            while total <= limit:
                chunk = read(min(1 << 20, limit + 1 - total))
                if not chunk:
                    break
                if not isinstance(chunk, (bytes, bytearray, memoryview)):
                    raise InvalidInputError("files.bad_file_object", got=type(chunk).__name__)
                chunks.append(bytes(chunk))
                total += len(chunk)
            return b"".join(chunks)

        data = await asyncio.to_thread(read_all)
        self._check_size(len(data), name)
        return await self._run(self._prepare_bytes(data, key, content_type, metadata))

    def _prepare_item(self, index: int, item: Any) -> _Job:
        key: Any  # a str once checked below
        if isinstance(item, UploadItem):
            source, key, ctype, meta = item.source, item.s3_key, item.content_type, item.metadata
        elif isinstance(item, Mapping):
            source = item.get("data", item.get("file_path"))
            key, ctype, meta = item.get("s3_key"), item.get("content_type"), item.get("metadata")
        elif isinstance(item, (tuple, list)) and 2 <= len(item) <= 4:
            source, key, ctype, meta = (*item, None, None)[:4]
        else:
            raise InvalidInputError("files.bad_item", index=index)
        if source is None or not isinstance(key, str):
            raise InvalidInputError("files.bad_item", index=index)
        if isinstance(source, (bytes, bytearray, memoryview)):
            return self._prepare_bytes(source, key, ctype, meta)
        if isinstance(source, (str, os.PathLike)):
            return self._prepare_file(source, key, ctype, meta)
        raise InvalidInputError("files.bad_item", index=index)

    async def upload_many(
        self, items: Iterable[UploadItem | Mapping[str, Any] | tuple[Any, ...]],
        concurrency: int | None = None,
    ) -> list[str]:
        """Upload many files/byte strings at once, at most ``concurrency`` in flight (default
        ``S3_MAX_CONCURRENCY``); returns the record URLs in the order of ``items``.

        Every item is validated (key, size limit, source exists) before the first byte is sent, so
        a bad batch writes nothing. If an upload fails the others are cancelled and the first
        error is raised (items already stored stay stored).
        """
        jobs = [self._prepare_item(i, item) for i, item in enumerate(items)]
        if not jobs:
            return []
        limit = max(1, int(concurrency or self.settings.s3_max_concurrency))
        semaphore = asyncio.Semaphore(limit)

        async def one(job: _Job) -> str:
            async with semaphore:
                return await self._run(job)

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(job)) for job in jobs]
        except BaseExceptionGroup as eg:
            raise eg.exceptions[0] from None
        return [task.result() for task in tasks]

    # --- primitives each backend implements ------------------------------------------------------
    @abstractmethod
    async def _put_bytes(self, data: bytes, key: str, content_type: str, metadata: dict[str, str]) -> None: ...

    @abstractmethod
    async def _put_file(
        self, path: Path, key: str, content_type: str, metadata: dict[str, str], size: int
    ) -> None: ...

    @abstractmethod
    async def download_file(self, s3_key: str, local_path: PathLike) -> Path:
        """Write the stored file to ``local_path`` (atomically; parent folders created)."""

    @abstractmethod
    async def read_bytes(self, s3_key: str) -> bytes:
        """The stored file's content; :class:`NotFoundError` when missing."""

    @abstractmethod
    async def delete_file(self, s3_key: str) -> None:
        """Delete one file; deleting a missing file is not an error."""

    @abstractmethod
    async def delete_prefix(self, prefix: str) -> int:
        """Delete every file under a folder-like prefix (``chats/{id}/``); returns how many."""

    @abstractmethod
    async def file_exists(self, s3_key: str) -> bool: ...

    @abstractmethod
    async def get_file_metadata(self, s3_key: str) -> FileMetadata:
        """``{key, size, content_type, last_modified, metadata}``; :class:`NotFoundError` when missing."""

    @abstractmethod
    async def list_files(self, prefix: str = "") -> list[str]:
        """Every key starting with ``prefix`` (all pages), sorted."""

    @abstractmethod
    async def init(self) -> bool:
        """Create the bucket / folder; True when it was created, False when it already existed."""

    async def aclose(self) -> None:  # noqa: B027 - an optional hook: local storage holds no connections
        """Release connections; the storage can be used again afterwards (it reconnects)."""

    async def __aenter__(self) -> FileStorage:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- diagnostics ------------------------------------------------------------------------------
    @abstractmethod
    async def _fetch_signed(self, url: str) -> tuple[int, bytes]:
        """Fetch a signed URL the way a browser would: (HTTP status, body)."""

    async def check(self) -> float:
        """Write, read, fetch through a signed link and delete a probe file; returns milliseconds.

        Raises the same clear errors as the operations themselves.
        """
        started = time.perf_counter()
        key = f"aizoomdoc-check/{uuid.uuid4().hex}.txt"
        payload = f"aizoomdoc check {uuid.uuid4().hex}".encode()
        await self.upload_bytes(payload, key, content_type="text/plain")
        try:
            if await self.read_bytes(key) != payload:
                raise StorageError("files.s3.failed", action="check", code="Mismatch",
                                   detail=t("files.check.mismatch"))
            status, body = await self._fetch_signed(self.get_signed_url(key, expires_in=60))
            if status != 200 or body != payload:
                raise StorageError("files.cli.check.signed_failed", status=status)
        finally:
            await self.delete_file(key)
        return (time.perf_counter() - started) * 1000
