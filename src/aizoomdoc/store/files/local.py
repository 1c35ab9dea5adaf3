"""Local-folder backend: files under ``DATA_DIR/files``.

* A key ``chats/1/images/a.png`` is the file ``DATA_DIR/files/chats/1/images/a.png``; keys are
  validated and the resolved path must stay inside the root, so nothing escapes it.
* Writes are atomic: a hidden temporary file in the same folder, fsync, then ``os.replace`` — a
  crash never leaves a half-written file under a real key.
* Content type and user metadata live in a JSON sidecar under ``DATA_DIR/files/.meta/``.
* Record URLs (what uploads return, what the database keeps) are the unsigned
  ``{PUBLIC_BASE_URL}/files/{percent-encoded key}``; :meth:`LocalFileStorage.get_signed_url` adds
  ``?expires=…&sig=…`` (HMAC-SHA256, see :mod:`.signing`), which the HTTP API checks with
  :meth:`LocalFileStorage.verify` / :meth:`LocalFileStorage.verify_signed_url` before serving
  :meth:`LocalFileStorage.path_for`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aizoomdoc.config import Settings
from aizoomdoc.errors import NotFoundError, StorageError, describe_os_error
from aizoomdoc.store.files.base import FileMetadata, FileStorage, PathLike, guess_content_type
from aizoomdoc.store.files.paths import folder_prefix, validate_key, validate_prefix
from aizoomdoc.store.files.signing import UrlSigner, check_expires_in, load_or_create_secret
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

META_DIR = ".meta"
_COPY_CHUNK = 1024 * 1024


def atomic_write(target: Path, write: Any) -> None:
    """Write through ``write(fileobj)`` into a temp file next to ``target``, then rename over it:
    a reader sees the old file or the whole new one, never a part."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise


class LocalFileStorage(FileStorage):
    backend = "local"

    def __init__(self, settings: Settings, root: Path | None = None) -> None:
        super().__init__(settings)
        self.root = Path(root or settings.files_dir)
        self._signer: UrlSigner | None = None
        self._signer_lock = threading.Lock()

    @property
    def location(self) -> str:
        return str(self.root)

    # --- keys and paths ---------------------------------------------------------------------------
    def path_for(self, s3_key: str) -> Path:
        """The file a key is stored in; :class:`InvalidInputError` for keys that could escape."""
        key = validate_key(s3_key)
        root = self.root.resolve()
        path = root.joinpath(*key.split("/"))
        # Symlinks inside the root must not lead outside it either.
        if not path.resolve().is_relative_to(root):
            from aizoomdoc.errors import InvalidInputError

            raise InvalidInputError("files.bad_key", value=key[:120], reason=t("files.local.outside_root"))
        return path

    def _meta_path(self, key: str) -> Path:
        return self.root.resolve() / META_DIR / (key + ".json")

    def _fail(self, action: str, exc: OSError) -> StorageError:
        detail = describe_os_error(exc)
        return StorageError("files.local.failed", action=action, path=str(self.root), detail=detail)

    # --- signed links -------------------------------------------------------------------------------
    @property
    def signer(self) -> UrlSigner:
        if self._signer is None:
            with self._signer_lock:
                if self._signer is None:
                    secret = load_or_create_secret(self.settings.data_dir, self.settings.secret("signing_secret"))
                    self._signer = UrlSigner(secret, self.settings.public_base_url)
        return self._signer

    def url_for(self, s3_key: str) -> str:
        return self.signer.url_for(validate_key(s3_key))

    def get_signed_url(self, s3_key: str, expires_in: int = 3600) -> str:
        return self.signer.sign_url(validate_key(s3_key), check_expires_in(expires_in))

    def verify(self, key: str, expires: object, sig: object) -> bool:
        """True when ``sig`` signs ``key`` until ``expires`` and that time has not passed."""
        return self.signer.verify(key, expires, sig)

    def verify_signed_url(self, url: str) -> str:
        """The key a signed URL grants; :class:`AuthError` when forged or expired."""
        return self.signer.verify_url(url)

    def is_connected(self) -> bool:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            return os.access(self.root, os.W_OK | os.X_OK)
        except OSError:
            return False

    # --- writes -------------------------------------------------------------------------------------
    def _write_meta(self, key: str, content_type: str, metadata: dict[str, str]) -> None:
        body = json.dumps({"content_type": content_type, "metadata": metadata}, ensure_ascii=False)
        atomic_write(self._meta_path(key), lambda fh: fh.write(body.encode("utf-8")))

    def _put_bytes_sync(self, data: bytes, key: str, content_type: str, metadata: dict[str, str]) -> None:
        path = self.path_for(key)
        try:
            self._write_meta(key, content_type, metadata)
            atomic_write(path, lambda fh: fh.write(data))
        except OSError as exc:
            raise self._fail(t("files.local.action.write"), exc) from exc

    def _put_file_sync(self, src: Path, key: str, content_type: str, metadata: dict[str, str]) -> None:
        path = self.path_for(key)

        def copy(fh: Any) -> None:
            with open(src, "rb") as source:
                shutil.copyfileobj(source, fh, _COPY_CHUNK)

        try:
            self._write_meta(key, content_type, metadata)
            atomic_write(path, copy)
        except FileNotFoundError as exc:
            if not src.exists():
                raise NotFoundError("files.source_missing", path=str(src)) from exc
            raise self._fail(t("files.local.action.write"), exc) from exc
        except OSError as exc:
            raise self._fail(t("files.local.action.write"), exc) from exc

    async def _put_bytes(self, data: bytes, key: str, content_type: str, metadata: dict[str, str]) -> None:
        await asyncio.to_thread(self._put_bytes_sync, data, key, content_type, metadata)

    async def _put_file(
        self, path: Path, key: str, content_type: str, metadata: dict[str, str], size: int
    ) -> None:
        await asyncio.to_thread(self._put_file_sync, path, key, content_type, metadata)

    # --- reads --------------------------------------------------------------------------------------
    async def download_file(self, s3_key: str, local_path: PathLike) -> Path:
        src = self.path_for(s3_key)
        target = Path(local_path)

        def copy() -> None:
            try:
                with open(src, "rb") as source:
                    atomic_write(target, lambda fh: shutil.copyfileobj(source, fh, _COPY_CHUNK))
            except FileNotFoundError:
                raise NotFoundError("files.not_found", file=s3_key) from None

        await asyncio.to_thread(copy)
        return target

    async def read_bytes(self, s3_key: str) -> bytes:
        path = self.path_for(s3_key)

        def read() -> bytes:
            try:
                return path.read_bytes()
            except (FileNotFoundError, IsADirectoryError):
                raise NotFoundError("files.not_found", file=s3_key) from None
            except OSError as exc:
                raise self._fail(t("files.local.action.read"), exc) from exc

        return await asyncio.to_thread(read)

    async def file_exists(self, s3_key: str) -> bool:
        path = self.path_for(s3_key)
        return await asyncio.to_thread(path.is_file)

    async def get_file_metadata(self, s3_key: str) -> FileMetadata:
        path = self.path_for(s3_key)
        key = validate_key(s3_key)

        def stat() -> FileMetadata:
            try:
                st = path.stat()
            except FileNotFoundError:
                raise NotFoundError("files.not_found", file=key) from None
            if not path.is_file():
                raise NotFoundError("files.not_found", file=key)
            try:
                sidecar = json.loads(self._meta_path(key).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                sidecar = {}
            return FileMetadata(
                key=key,
                size=st.st_size,
                content_type=sidecar.get("content_type") or guess_content_type(key),
                last_modified=datetime.fromtimestamp(st.st_mtime, tz=timezone.utc),
                metadata=dict(sidecar.get("metadata") or {}),
            )

        return await asyncio.to_thread(stat)

    def _list_sync(self, prefix: str) -> list[str]:
        root = self.root.resolve()
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = root.joinpath(*folder.split("/")) if folder else root
        if not start.is_dir():
            return []
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]  # skips .meta and temp dirs
            rel = Path(dirpath).relative_to(root).as_posix()
            base = "" if rel == "." else rel + "/"
            for name in filenames:
                if name.startswith("."):
                    continue  # temporary files of in-flight writes
                key = base + name
                if key.startswith(prefix):
                    keys.append(key)
        keys.sort()
        return keys

    async def list_files(self, prefix: str = "") -> list[str]:
        prefix = validate_prefix(prefix)
        try:
            return await asyncio.to_thread(self._list_sync, prefix)
        except OSError as exc:
            raise self._fail(t("files.local.action.list"), exc) from exc

    # --- deletes ------------------------------------------------------------------------------------
    def _delete_sync(self, key: str) -> bool:
        path = self.path_for(key)
        try:
            path.unlink()
            removed = True
        except FileNotFoundError:
            removed = False
        except OSError as exc:
            raise self._fail(t("files.local.action.delete"), exc) from exc
        try:
            self._meta_path(key).unlink()
        except OSError:
            pass
        self._prune_dirs(path.parent)
        self._prune_dirs(self._meta_path(key).parent)
        return removed

    def _prune_dirs(self, folder: Path) -> None:
        """Remove empty folders up to (not including) the root."""
        root = self.root.resolve()
        meta_root = root / META_DIR
        while folder != root and folder != meta_root and folder.is_relative_to(root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    async def delete_file(self, s3_key: str) -> None:
        key = validate_key(s3_key)
        await asyncio.to_thread(self._delete_sync, key)

    async def delete_prefix(self, prefix: str) -> int:
        folder = folder_prefix(prefix)

        def delete_all() -> int:
            count = 0
            for key in self._list_sync(folder):
                count += self._delete_sync(key)
            return count

        count = await asyncio.to_thread(delete_all)
        log.info("deleted %d files under %s", count, folder)
        return count

    async def init(self) -> bool:
        existed = self.root.is_dir()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._fail(t("files.local.action.mkdir"), exc) from exc
        return not existed

    async def _fetch_signed(self, url: str) -> tuple[int, bytes]:
        from aizoomdoc.errors import AuthError

        try:
            key = self.verify_signed_url(url)
        except AuthError:
            return 403, b""
        try:
            return 200, await self.read_bytes(key)
        except NotFoundError:
            return 404, b""
