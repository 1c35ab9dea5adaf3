"""The files of a document in file storage: its source and render file uploaded at ingest (all
or nothing), deleted with it, and found again as a local path to render from.

Keys are read back from a row the user can write, so only keys under the document's own folder
(``documents/{id}/``) are ever followed.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aizoomdoc.config import Settings
from aizoomdoc.documents.base import Source
from aizoomdoc.documents.model import Document
from aizoomdoc.errors import AizoomdocError, StorageError
from aizoomdoc.pipeline.document_rows import file_stat
from aizoomdoc.store.files import FileStorage
from aizoomdoc.store.files.paths import key_under, unique_filename

log = logging.getLogger(__name__)


class DocumentFiles:
    """Document files in the storage given by ``storage`` (called on use: it may be built lazily)."""

    def __init__(self, settings: Settings, storage: Callable[[], FileStorage]) -> None:
        self.settings = settings
        self._storage = storage

    @property
    def storage(self) -> FileStorage:
        return self._storage()

    async def upload_source(self, doc_id: str, source: Source, sha: str) -> str:
        """The source file into storage; its key."""
        key = f"documents/{doc_id}/{unique_filename(source.path.name)}"
        ctype = mimetypes.guess_type(source.path.name)[0] or "application/octet-stream"
        try:
            await self.storage.upload_bytes(source.data, key, content_type=ctype, metadata={"sha256": sha})
        except BaseException as exc:
            if isinstance(exc, AizoomdocError):
                raise
            raise StorageError("ingest.storage_failed", name=source.name, detail=str(exc)) from exc
        return key

    async def upload_render(self, doc: Document, source: Source, upload: asyncio.Future[str]) -> dict[str, str]:
        """After the source upload (``upload``), a different render file (a bundle's PDF); all or
        nothing: the keys by role."""
        keys = {"source": await upload}
        if doc.render_path and Path(doc.render_path).resolve() != source.path.resolve():
            path = Path(doc.render_path)
            key = f"documents/{doc.id}/{unique_filename(path.name)}"
            try:
                await self.storage.upload_file(path, key, content_type=mimetypes.guess_type(path.name)[0]
                                               or "application/octet-stream")
            except BaseException as exc:
                await self.delete_keys([keys["source"]])
                if isinstance(exc, AizoomdocError):
                    raise
                raise StorageError("ingest.storage_failed", name=source.name, detail=str(exc)) from exc
            keys["render"] = key
        if doc.render_path:
            keys.setdefault("render", keys["source"])
            # Where the pixels are now (until get_document says otherwise).
            doc.metadata["render_stat"] = file_stat(Path(doc.render_path))
        return keys

    async def delete_keys(self, keys: list[str]) -> None:
        for key in dict.fromkeys(keys):
            try:
                await self.storage.delete_file(key)
            except Exception:  # noqa: BLE001 - best effort cleanup
                log.warning("could not delete %s after a failed ingest", key, exc_info=True)

    def own_key(self, row: dict[str, Any], column: str) -> str | None:
        """``row[column]`` if it is a key in the document's own folder (``documents/{id}/``).

        Keys are read back from a row the user can write (Supabase's Data API): a key pointing
        at another document's file is never read, signed or deleted."""
        key = row.get(column)
        if not key:
            return None
        if not key_under(key, f"documents/{row['id']}/"):
            log.warning("document %s: %s outside its folder is ignored", row.get("id"), column)
            return None
        return str(key)

    async def render_path(self, row: dict[str, Any]) -> str | None:
        """A local path with the document's pixels: the original file when unchanged (local mode
        only), the local storage file, or a download cached under ``DATA_DIR/cache/documents``."""
        key = self.own_key(row, "render_key")
        if not key:
            return None
        meta = row.get("metadata") or {}
        # A file system path in a row is only followed in local mode, where the one user owns the
        # machine; a server never opens a path a user could have written into their row.
        original = (meta.get("pdf_path") if key != row.get("storage_key") else row.get("source_path")) \
            if self.settings.auth_mode == "local" else None
        stat = meta.get("render_stat")
        if original and stat and file_stat(Path(original)) == stat:
            return str(original)
        local = getattr(self.storage, "path_for", None)
        if self.storage.backend == "local" and callable(local):
            p = Path(local(key))
            if p.is_file():
                return str(p)
        target = self.settings.data_dir / "cache" / "documents" / str(row["id"]) / key.rsplit("/", 1)[-1]
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            await self.storage.download_file(key, target)
        return str(target)
