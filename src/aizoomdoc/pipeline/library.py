"""The document library as users see it: folders of documents and other files, filed once,
attached to chats and messages — over :class:`~aizoomdoc.store.library.LibraryStore`, the
document service and the file storage.

- A file uploaded into a folder is ingested when it is a document (PDF, sheet image, OCR markup;
  the same content twice is the same document and the same library file); any other file (a
  spreadsheet, a letter) is kept as it is under ``library/{file_id}/``.
- An already ingested document is filed by its id (:meth:`LibraryService.file_document`).
- Attaching a document file to a chat adds it to the chat's documents (what questions search);
  any file can be attached to a message.
- Deleting a folder (or taking a file out of one) deletes only the files nothing uses any more:
  a file still in another folder, attached to a message, kept in a chat's storage folder or read
  by any chat stays (see :meth:`LibraryStore.unused_files`); a deleted document goes with its
  blocks and stored files.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aizoomdoc.errors import AizoomdocError, DocumentError, InvalidInputError, NotFoundError
from aizoomdoc.store.files import FileStorage
from aizoomdoc.store.files.paths import unique_filename
from aizoomdoc.store.library import LibraryStore
from aizoomdoc.store.validate import is_uuid

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def _sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _norm(path: str) -> str:
    """A folder path for comparison: parts trimmed, case folded (``Проект / ОВ`` = ``проект/ов``)."""
    return "/".join(" ".join(p.split()) for p in path.split("/")).casefold()


class LibraryService:
    """Library operations for one user at a time (``user_id`` arguments)."""

    def __init__(self, store: LibraryStore, documents: Any, storage: FileStorage) -> None:
        self.store = store
        self.documents = documents  # pipeline.ingest.DocumentService
        self.storage = storage

    def _lib(self, user_id: str) -> LibraryStore:
        return self.store.for_user(user_id)

    # --- folders ----------------------------------------------------------------------------------
    async def folders(self, user_id: str) -> list[dict[str, Any]]:
        """The user's folders, each with ``path`` ("Проект / Раздел"), in tree order."""
        rows = await self._lib(user_id).get_folders(user_id)
        by_id = {r["id"]: r for r in rows}
        children: dict[str | None, list[dict[str, Any]]] = {}
        for r in rows:
            children.setdefault(r["parent_id"] if r["parent_id"] in by_id else None, []).append(r)
        out: list[dict[str, Any]] = []

        def walk(parent: str | None, prefix: list[str], depth: int) -> None:
            for r in children.get(parent, []):
                r["names"] = [*prefix, r["name"]]
                r["path"] = " / ".join(r["names"])
                r["depth"] = depth
                out.append(r)
                walk(r["id"], [*prefix, r["name"]], depth + 1)

        walk(None, [], 0)
        return out

    async def resolve_folder(self, ref: str, user_id: str) -> dict[str, Any]:
        """A folder by id or by path of names (``Проект/Раздел ОВ``, case-insensitive)."""
        ref = (ref or "").strip()
        rows = await self.folders(user_id)
        if is_uuid(ref):
            for r in rows:
                if r["id"] == str(uuid.UUID(ref)):
                    return r
        wanted = _norm(ref)
        matches = [r for r in rows if _norm("/".join(r["names"])) == wanted]
        if not matches:
            matches = [r for r in rows if _norm(r["name"]) == wanted]
        if len(matches) > 1:
            raise InvalidInputError("library.folder_ref_ambiguous", ref=ref)
        if not matches:
            raise NotFoundError("library.folder_ref_not_found", ref=ref)
        return matches[0]

    async def create_folder(self, name: str, user_id: str, parent_id: str | None = None) -> dict[str, Any]:
        lib = self._lib(user_id)
        return await lib.get_folder(await lib.create_folder(name, user_id, parent_id))

    # --- files ------------------------------------------------------------------------------------
    async def register_document(self, row: dict[str, Any], user_id: str) -> str:
        """The library file of an ingested document (registered on first use)."""
        if not row.get("storage_key"):
            raise InvalidInputError("library.no_storage_key", document_id=str(row["id"]))
        mime = mimetypes.guess_type(str(row.get("filename") or ""))[0]
        return await self._lib(user_id).register_file(
            "user_upload", row.get("filename") or row.get("title") or "document", user_id,
            storage_path=row["storage_key"], mime_type=mime, size_bytes=row.get("file_size"),
            sha256=row.get("sha256"), document_id=str(row["id"]))

    async def file_document(self, folder_id: str, document_id: str, user_id: str) -> dict[str, Any]:
        """Put an ingested document into a folder; its library file."""
        lib = self._lib(user_id)
        await lib.get_folder(folder_id)
        row = await self.documents.get_row(document_id, user_id=user_id)
        if row is None or str(row.get("user_id")) != user_id:
            raise NotFoundError("library.document_not_found", document_id=str(document_id)[:60])
        file_id = await self.register_document(row, user_id)
        await lib.add_file_to_folder(folder_id, file_id)
        return await lib.get_file(file_id)

    async def file_existing(self, folder_id: str, file_id: str, user_id: str) -> dict[str, Any]:
        lib = self._lib(user_id)
        await lib.add_file_to_folder(folder_id, file_id)
        return await lib.get_file(file_id)

    async def upload(self, folder_id: str, path: Path, user_id: str, *, name: str | None = None,
                     progress: Progress | None = None) -> dict[str, Any]:
        """Put a local file into a folder: ingested when it is a document, else stored as it is.
        Returns the library file (with ``created``: whether it was new to the library)."""
        lib = self._lib(user_id)
        await lib.get_folder(folder_id)  # a wrong folder fails before any work
        name = name or path.name
        try:
            result = await self.documents.ingest(path, user_id=user_id, progress=progress)
        except DocumentError as exc:
            if exc.key != "documents.unsupported":
                raise
            file_id, created = await self._store_plain(path, name, user_id)
        else:
            row = await self.documents.get_row(result.document.id, user_id=user_id)
            if row is None:
                raise NotFoundError("library.document_not_found", document_id=result.document.id)
            before = await lib.find_file(user_id=user_id, document_id=str(row["id"]))
            file_id = await self.register_document(row, user_id)
            created = before is None
        await lib.add_file_to_folder(folder_id, file_id)
        out = await lib.get_file(file_id)
        out["created"] = created
        return out

    async def _store_plain(self, path: Path, name: str, user_id: str) -> tuple[str, bool]:
        """A file that is not a document: stored once by content under ``library/{id}/``."""
        sha, size = await asyncio.to_thread(_sha256_of, path)
        lib = self._lib(user_id)
        existing = await lib.find_file(user_id=user_id, sha256=sha)
        if existing is not None:
            return existing["id"], False
        file_id = str(uuid.uuid4())
        key = f"library/{file_id}/{unique_filename(name)}"
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        await self.storage.upload_file(path, key, content_type=mime, metadata={"sha256": sha})
        try:
            got = await lib.register_file("user_upload", name, user_id, storage_path=key, mime_type=mime,
                                          size_bytes=size, sha256=sha, id=file_id)
        except BaseException:
            await self._delete_object(key)
            raise
        if got != file_id:  # the same content was filed at the same moment: keep that one
            await self._delete_object(key)
        return got, got == file_id

    # --- attaching --------------------------------------------------------------------------------
    async def attach_to_chat(self, file_id: str, chat: dict[str, Any], chat_store: Any,
                             user_id: str) -> dict[str, Any]:
        """Add the document of a library file to the chat's documents; returns the chat."""
        row = await self._lib(user_id).get_file(file_id)
        if not row.get("document_id"):
            raise InvalidInputError("library.not_a_document", name=row["filename"])
        meta = dict(chat.get("metadata") or {})
        known = [str(d) for d in meta.get("document_ids") or []]
        if row["document_id"] not in known:
            meta["document_ids"] = [*known, row["document_id"]]
            return await chat_store.update_chat(chat["id"], metadata=meta)
        return chat

    async def attach_to_message(self, file_id: str, message_id: str, user_id: str) -> dict[str, Any]:
        lib = self._lib(user_id)
        await lib.add_attachment_to_message(message_id, file_id)
        return await lib.get_file(file_id)

    # --- removing ---------------------------------------------------------------------------------
    async def remove_from_folder(self, folder_id: str, file_id: str, user_id: str) -> dict[str, Any]:
        """Take a file out of a folder; it is deleted if nothing else uses it."""
        lib = self._lib(user_id)
        await lib.delete_file_from_folder(folder_id, file_id)
        deleted = await self._delete_unused([file_id], user_id)
        return {"folders": 0, "deleted_files": deleted, "kept_files": 1 - len(deleted)}

    async def delete_folder(self, folder_id: str, user_id: str) -> dict[str, Any]:
        """Delete a folder with its subfolders; of the files in them, delete those nothing else
        uses. ``{"folders": n, "deleted_files": [{id, filename, document_id}], "kept_files": n}``."""
        result = await self._lib(user_id).delete_folder(folder_id)
        deleted = await self._delete_unused(result["file_ids"], user_id)
        return {"folders": len(result["folders"]), "deleted_files": deleted,
                "kept_files": len(result["file_ids"]) - len(deleted)}

    async def _delete_unused(self, file_ids: list[str], user_id: str) -> list[dict[str, Any]]:
        lib = self._lib(user_id)
        deleted: list[dict[str, Any]] = []
        for row in await lib.unused_files(file_ids):
            if row.get("document_id"):
                # The document with its blocks and stored files; its library file goes by cascade.
                await self.documents.delete(row["document_id"], user_id=user_id)
                await lib.delete_file(row["id"])
            else:
                await lib.delete_file(row["id"])
                if row.get("storage_path"):
                    await self._delete_object(row["storage_path"])
            deleted.append({"id": row["id"], "filename": row["filename"], "document_id": row.get("document_id")})
        return deleted

    async def _delete_object(self, key: str) -> None:
        try:
            await self.storage.delete_file(key)
        except (AizoomdocError, OSError):  # the record is gone; an orphaned object is logged
            log.warning("could not delete the stored file %s", key, exc_info=True)


__all__ = ["LibraryService"]
