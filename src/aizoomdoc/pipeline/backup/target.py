"""Where backups live: a local folder, or ``s3://BUCKET/PREFIX`` in a (second) S3-compatible store.

Both expose the same few operations on names relative to the backup's root (``objects/ab/ab12…``,
``snapshots/<id>/manifest.json``). Every write is atomic (a folder: temp file + fsync + rename;
S3: one PUT), so an interrupted backup never leaves a half-written object under a real name.

The S3 target is the application's :class:`~aizoomdoc.store.files.s3.S3FileStorage` pointed at
another bucket, with its own endpoint and keys when ``BACKUP_S3_*`` are set (a bucket in another
region or cloud), else the ``S3_*`` ones.
"""

from __future__ import annotations

import asyncio
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from aizoomdoc.config import Settings
from aizoomdoc.errors import InvalidInputError, NotFoundError, StorageError, describe_os_error
from aizoomdoc.store.files.local import atomic_write

S3_SCHEME = "s3://"
#: Backups hold whole table dumps and any stored file: no upload limit of their own.
_NO_LIMIT_MB = 1024 * 1024


class BackupTarget(ABC):
    #: Where it is, for messages (never a key or password).
    location: str

    @abstractmethod
    async def put_bytes(self, name: str, data: bytes) -> None: ...

    @abstractmethod
    async def put_file(self, name: str, path: Path) -> None: ...

    @abstractmethod
    async def get_bytes(self, name: str) -> bytes: ...

    @abstractmethod
    async def get_file(self, name: str, path: Path) -> None: ...

    @abstractmethod
    async def list(self, prefix: str) -> list[str]:
        """Names under ``prefix`` (a folder name ending with ``/``), sorted."""

    @abstractmethod
    async def delete_folder(self, folder: str) -> None:
        """Remove everything under ``folder`` (a name without the trailing ``/``)."""

    async def prepare(self) -> None:  # noqa: B027 - a hook; the default is to need nothing
        """Make the target writable (create the folder / bucket)."""

    async def aclose(self) -> None:
        return None


class FolderTarget(BackupTarget):
    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()
        self.location = str(self.root)

    def _path(self, name: str) -> Path:
        parts = name.split("/")
        if not name or any(p in ("", ".", "..") for p in parts):
            raise InvalidInputError("backup.bad_name", name=name[:100])
        return self.root.joinpath(*parts)

    def _fail(self, exc: OSError) -> StorageError:
        return StorageError("backup.folder_error", location=self.location, detail=describe_os_error(exc))

    def _write(self, name: str, write: Any) -> None:
        atomic_write(self._path(name), write)

    async def _io(self, fn: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args)
        except FileNotFoundError as exc:
            raise NotFoundError("backup.missing_part", name=str(exc.filename or "")[-200:]) from None
        except OSError as exc:
            raise self._fail(exc) from None

    async def prepare(self) -> None:
        await self._io(lambda: self.root.mkdir(parents=True, exist_ok=True))

    async def put_bytes(self, name: str, data: bytes) -> None:
        await self._io(self._write, name, lambda fh: fh.write(data))

    async def put_file(self, name: str, path: Path) -> None:
        def copy(fh: Any) -> None:
            with open(path, "rb") as src:
                while chunk := src.read(1024 * 1024):
                    fh.write(chunk)

        await self._io(self._write, name, copy)

    async def get_bytes(self, name: str) -> bytes:
        return await self._io(self._path(name).read_bytes)

    async def get_file(self, name: str, path: Path) -> None:
        import shutil

        src = self._path(name)
        await self._io(shutil.copyfile, src, path)

    async def delete_folder(self, folder: str) -> None:
        import shutil

        await self._io(shutil.rmtree, self._path(folder), True)

    async def list(self, prefix: str) -> list[str]:
        def walk() -> list[str]:
            base = self.root / prefix if prefix else self.root
            if not base.is_dir():
                return []
            out = []
            for dirpath, _dirs, files in os.walk(base):
                for f in files:
                    if f.startswith("."):
                        continue  # temp files of unfinished writes
                    out.append(Path(dirpath, f).relative_to(self.root).as_posix())
            return sorted(out)

        return await self._io(walk)


class S3Target(BackupTarget):
    def __init__(self, settings: Settings, bucket: str, prefix: str) -> None:
        from aizoomdoc.store.files.s3 import S3FileStorage

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.storage = S3FileStorage(s3_settings(settings, bucket))
        self.location = f"s3://{bucket}/{self.prefix}".rstrip("/")

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    async def prepare(self) -> None:
        await self.storage.init()

    async def put_bytes(self, name: str, data: bytes) -> None:
        await self.storage.upload_bytes(data, self._key(name), content_type="application/octet-stream")

    async def put_file(self, name: str, path: Path) -> None:
        await self.storage.upload_file(path, self._key(name), content_type="application/octet-stream")

    async def get_bytes(self, name: str) -> bytes:
        return await self.storage.read_bytes(self._key(name))

    async def get_file(self, name: str, path: Path) -> None:
        await self.storage.download_file(self._key(name), path)

    async def list(self, prefix: str) -> list[str]:
        base = self._key(prefix) if prefix else (self.prefix + "/" if self.prefix else "")
        cut = len(self.prefix) + 1 if self.prefix else 0
        return [k[cut:] for k in await self.storage.list_files(base)]

    async def delete_folder(self, folder: str) -> None:
        await self.storage.delete_prefix(self._key(folder))

    async def aclose(self) -> None:
        await self.storage.aclose()


def s3_settings(settings: Settings, bucket: str) -> Settings:
    """``settings`` pointed at ``bucket``, with the ``BACKUP_S3_*`` endpoint and keys where set."""
    s = settings
    update: dict[str, Any] = {
        "use_s3_storage": True, "s3_bucket": bucket, "max_file_size_mb": _NO_LIMIT_MB,
        "s3_endpoint_url": s.backup_s3_endpoint_url or s.s3_endpoint_url,
        "s3_region": s.backup_s3_region or s.s3_region,
        "s3_addressing_style": s.backup_s3_addressing_style or s.s3_addressing_style,
    }
    if s.secret("backup_s3_access_key"):
        update["s3_access_key"] = s.backup_s3_access_key
    if s.secret("backup_s3_secret_key"):
        update["s3_secret_key"] = s.backup_s3_secret_key
    return s.model_copy(update=update)


def open_target(settings: Settings, spec: str) -> BackupTarget:
    """The target named by ``spec``: ``s3://BUCKET[/PREFIX]`` or a folder path."""
    spec = (spec or "").strip()
    if not spec:
        raise InvalidInputError("backup.no_target")
    if spec.lower().startswith(S3_SCHEME):
        rest = spec[len(S3_SCHEME):]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise InvalidInputError("backup.bad_s3_url", url=spec[:200])
        return S3Target(settings, bucket, prefix)
    if "://" in spec:
        raise InvalidInputError("backup.bad_scheme", url=spec[:200])
    return FolderTarget(Path(spec))


__all__ = ["BackupTarget", "FolderTarget", "S3Target", "open_target", "s3_settings"]
