"""LibraryStore: folders, registered files, files in folders, files attached to messages.

The method names and arguments of the original integration's file library (``create_folder``,
``get_folders``, ``register_file``, ``add_file_to_folder``, ``get_folder_files``,
``delete_folder``, ``delete_file_from_folder``, ``add_attachment_to_message``), with the
differences of the rest of our store: rows are plain dicts (ISO timestamps, uuid strings),
failures raise :class:`~aizoomdoc.errors.AizoomdocError` subclasses instead of returning
``None``/``False``, and ``create_*``/``register_*`` accept ``id=`` (writing the same id again is a
no-op).

``LibraryStore(db).for_user(user_id)`` is a view acting as that user: every query is limited to
their rows and, on PostgreSQL, runs under RLS. Without a user (the seed facade, the service role)
the ``user_id`` arguments say whose rows are written, and a folder and a file of different users
can never be linked.

Storage knows nothing of documents: which files may be deleted when a folder goes is answered
here (:meth:`unused_files`: in no folder, attached to no message, not a chat's own file, not a
document a chat uses); deleting their bytes and documents is the library service's job
(:mod:`aizoomdoc.pipeline.library`).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import Table, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from aizoomdoc.errors import InvalidInputError, NotFoundError
from aizoomdoc.store import validate
from aizoomdoc.store.clock import utcnow
from aizoomdoc.store.database import Database
from aizoomdoc.store.files.paths import validate_key
from aizoomdoc.store.library_models import (
    SOURCE_TYPES,
    FolderItemRow,
    FolderRow,
    MessageAttachmentRow,
    StorageFileRow,
)
from aizoomdoc.store.models import Chat, ChatMessage
from aizoomdoc.store.validate import new_ids
from aizoomdoc.texts import t

log = logging.getLogger(__name__)
T = TypeVar("T")

folders: Table = FolderRow.__table__  # type: ignore[assignment]
files: Table = StorageFileRow.__table__  # type: ignore[assignment]
items: Table = FolderItemRow.__table__  # type: ignore[assignment]
attachments: Table = MessageAttachmentRow.__table__  # type: ignore[assignment]
chats: Table = Chat.__table__  # type: ignore[assignment]
messages: Table = ChatMessage.__table__  # type: ignore[assignment]

#: Deepest nesting of folders (project → section → … ).
MAX_DEPTH = 12
MAX_NAME_CHARS = 200
_IN_CHUNK = 500
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_CHAT_KEY = re.compile(r"chats/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/")

_DOCS_IN_CHATS = {
    "sqlite": text("SELECT DISTINCT j.value FROM chats c, json_each(c.metadata, '$.document_ids') j "
                   "WHERE c.user_id = :user_id AND c.metadata IS NOT NULL"),
    "postgresql": text(
        "SELECT DISTINCT x FROM chats c, jsonb_array_elements_text(CASE WHEN "
        "jsonb_typeof(c.metadata -> 'document_ids') = 'array' THEN c.metadata -> 'document_ids' "
        "ELSE '[]'::jsonb END) AS x WHERE c.user_id = :user_id"),
}


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    return value


def _out(row: Any) -> dict[str, Any]:
    d = {k: _iso(v) for k, v in row._mapping.items()}
    for key in ("id", "parent_id", "document_id", "chat_id", "folder_id", "file_id", "message_id"):
        if d.get(key) is not None:
            d[key] = str(d[key])
    return d


def folder_name(value: Any) -> str:
    """A folder name as stored: one line, spaces collapsed, no control or invisible characters
    (``/`` is allowed: document codes such as «133/23» have it); InvalidInputError otherwise."""
    name = validate.text(value, "name")
    assert name is not None
    name = unicodedata.normalize("NFC", name)
    name = " ".join("".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf")).split())
    if not name:
        raise InvalidInputError("store.empty", field="name")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInputError("library.bad_name", name=name[:60] + "…",
                                reason=t("library.bad_name.too_long", limit=MAX_NAME_CHARS))
    return name


def _url(value: Any) -> str:
    url = validate.text(value, "external_url")
    assert url is not None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise InvalidInputError("library.bad_url", value=url[:80])
    return url


def _sha(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA256.match(value.lower()):
        raise InvalidInputError("library.bad_sha256", value=str(value)[:80])
    return value.lower()


def _source_type(value: Any) -> str:
    if not isinstance(value, str) or value not in SOURCE_TYPES:
        raise InvalidInputError("library.bad_source_type", value=str(value)[:60], allowed=", ".join(SOURCE_TYPES))
    return value


class LibraryStore:
    """The library over one :class:`Database`. Cheap to create; ``for_user`` scopes it."""

    def __init__(self, db: Database, *, user_id: str | None = None, auto_migrate: bool | None = None) -> None:
        self.db = db
        self.user_id = user_id
        self.auto_migrate = db.migrates_itself if auto_migrate is None else auto_migrate
        self._insert = postgresql.insert if db.is_postgres else sqlite.insert

    def for_user(self, user_id: str) -> LibraryStore:
        view = object.__new__(LibraryStore)
        view.__dict__.update(self.__dict__)
        view.user_id = validate.text(user_id, "user_id")
        return view

    # --- plumbing ---------------------------------------------------------------------------------
    async def _run(self, fn: Callable[[Connection], T]) -> T:
        if self.auto_migrate and not self.db.schema_ready:
            from aizoomdoc.store import migrate

            await migrate.ensure_schema(self.db)
        return await self.db.run(fn, user_id=self.user_id if self.db.is_postgres else None)

    def _owner(self, user_id: Any) -> str:
        """Whose rows a write creates: the argument, else the view's user, else DEFAULT_USER_ID."""
        if user_id is None:
            user_id = self.user_id or self.db.settings.default_user_id
        user = validate.text(user_id, "user_id")
        assert user is not None
        if self.user_id is not None and user != self.user_id:
            raise InvalidInputError("library.other_user")
        return user

    def _mine(self, table: Table) -> list[Any]:
        return [table.c.user_id == self.user_id] if self.user_id is not None else []

    def _folder(self, conn: Connection, folder_id: str) -> dict[str, Any]:
        row = conn.execute(select(folders).where(folders.c.id == folder_id, *self._mine(folders))).first()
        if row is None:
            raise NotFoundError("library.folder_not_found", folder_id=folder_id)
        return _out(row)

    def _file(self, conn: Connection, file_id: str) -> dict[str, Any]:
        row = conn.execute(select(files).where(files.c.id == file_id, *self._mine(files))).first()
        if row is None:
            raise NotFoundError("library.file_not_found", file_id=file_id)
        return _out(row)

    # ==============================================================================================
    # Folders
    # ==============================================================================================
    async def create_folder(self, name: str, user_id: str | None = None, parent_id: str | None = None, *,
                            slug: str | None = None, id: str | None = None) -> str:
        """Create a folder (inside ``parent_id`` when given); returns its id.

        Names are unique among siblings; nesting is at most :data:`MAX_DEPTH` levels.
        """
        owner = self._owner(user_id)
        folder_id = new_ids(1)[0] if id is None else validate.canonical_uuid(id, "id")
        clean_name = folder_name(name)
        parent = None if parent_id is None else validate.canonical_uuid(parent_id, "parent_id")
        now = utcnow()
        values: dict[str, Any] = {
            "id": folder_id, "user_id": owner, "name": clean_name, "parent_id": parent,
            "slug": validate.text(slug, "slug", required=False, allow_empty=True),
            "created_at": now, "updated_at": now,
        }

        def work(conn: Connection) -> None:
            if conn.execute(select(folders.c.id).where(folders.c.id == folder_id)).first() is not None:
                return  # written before (a replay): a no-op
            if parent is not None:
                row = self._folder(conn, parent)
                if row["user_id"] != owner:
                    raise NotFoundError("library.folder_not_found", folder_id=parent)
                if self._depth(conn, parent) >= MAX_DEPTH:
                    raise InvalidInputError("library.too_deep", max=MAX_DEPTH)
            self._check_sibling(conn, owner, parent, clean_name)
            conn.execute(folders.insert().values(**values))

        await self._run(work)
        return folder_id

    @staticmethod
    def _depth(conn: Connection, folder_id: str) -> int:
        depth, seen = 0, set[str]()
        current: str | None = folder_id
        while current is not None and current not in seen and depth <= MAX_DEPTH:
            seen.add(current)
            depth += 1
            up = conn.execute(select(folders.c.parent_id).where(folders.c.id == current)).scalar()
            current = str(up) if up is not None else None
        return depth

    @staticmethod
    def _check_sibling(conn: Connection, owner: str, parent: str | None, name: str,
                       except_id: str | None = None) -> None:
        # Compared in Python: SQLite's lower() folds ASCII only («Раздел» ≠ «раздел» there).
        where = [folders.c.user_id == owner]
        where.append(folders.c.parent_id.is_(None) if parent is None else folders.c.parent_id == parent)
        if except_id is not None:
            where.append(folders.c.id != except_id)
        wanted = name.casefold()
        if any(n.casefold() == wanted for n in conn.execute(select(folders.c.name).where(*where)).scalars()):
            raise InvalidInputError("library.folder_exists", name=name)

    async def get_folders(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """The user's folders (every level; ``parent_id`` builds the tree), by name, with
        ``file_count`` (files directly inside)."""
        owner = validate.text(user_id, "user_id") if user_id is not None else (self.user_id or
                                                                        self.db.settings.default_user_id)
        counts = (select(items.c.folder_id, func.count().label("file_count"))
                  .group_by(items.c.folder_id).subquery())
        stmt = (select(folders, func.coalesce(counts.c.file_count, 0).label("file_count"))
                .outerjoin(counts, counts.c.folder_id == folders.c.id)
                .where(folders.c.user_id == owner, *self._mine(folders))
                .order_by(func.lower(folders.c.name), folders.c.id))
        return await self._run(lambda conn: [_out(r) for r in conn.execute(stmt)])

    async def get_folder(self, folder_id: str) -> dict[str, Any]:
        fid = validate.canonical_uuid(folder_id, "folder_id")
        return await self._run(lambda conn: self._folder(conn, fid))

    async def rename_folder(self, folder_id: str, name: str) -> dict[str, Any]:
        fid, new_name = validate.canonical_uuid(folder_id, "folder_id"), folder_name(name)

        def work(conn: Connection) -> dict[str, Any]:
            row = self._folder(conn, fid)
            self._check_sibling(conn, row["user_id"], row["parent_id"], new_name, except_id=fid)
            conn.execute(update(folders).where(folders.c.id == fid).values(name=new_name, updated_at=utcnow()))
            return self._folder(conn, fid)

        return await self._run(work)

    async def delete_folder(self, folder_id: str) -> dict[str, Any]:
        """Delete the folder with its subfolders and their links to files (never a file itself).

        Returns ``{"folders": [deleted ids], "file_ids": [ids of the files that were in them]}``
        (the candidates for :meth:`unused_files`).
        """
        fid = validate.canonical_uuid(folder_id, "folder_id")

        def work(conn: Connection) -> dict[str, Any]:
            row = self._folder(conn, fid)
            tree = conn.execute(select(folders.c.id, folders.c.parent_id)
                                .where(folders.c.user_id == row["user_id"])).all()
            children: dict[str, list[str]] = {}
            for child, parent in tree:
                if parent is not None:
                    children.setdefault(str(parent), []).append(str(child))
            subtree, todo = [], [fid]
            while todo:
                current = todo.pop()
                subtree.append(current)
                todo.extend(children.get(current, ()))
            file_ids: list[str] = []
            for start in range(0, len(subtree), _IN_CHUNK):
                chunk = subtree[start:start + _IN_CHUNK]
                file_ids += [str(f) for f in conn.execute(
                    select(items.c.file_id).where(items.c.folder_id.in_(chunk)).distinct()).scalars()]
            # Subfolders and items go by cascade.
            conn.execute(delete(folders).where(folders.c.id == fid))
            return {"folders": subtree, "file_ids": list(dict.fromkeys(file_ids))}

        return await self._run(work)

    # ==============================================================================================
    # Files
    # ==============================================================================================
    async def register_file(self, source_type: str, filename: str, user_id: str | None = None,
                            storage_path: str | None = None, external_url: str | None = None,
                            mime_type: str | None = None, size_bytes: int | None = None, *,
                            sha256: str | None = None, document_id: str | None = None,
                            metadata: Any = None, id: str | None = None) -> str:
        """Register a file once; returns its id.

        ``source_type``: ``user_upload`` | ``llm_generated`` (both need ``storage_path``, a key of
        the file storage) | ``external_link`` (needs an http(s) ``external_url``). A file the user
        already has — the same ``sha256`` or the same ``storage_path`` — is not registered again:
        its id is returned. A key under ``chats/{chat_id}/`` ties the file to that chat (deleted
        with it).
        """
        kind = _source_type(source_type)
        owner = self._owner(user_id)
        path = None if storage_path is None else validate_key(validate.text(storage_path, "storage_path"))
        url = None if external_url is None else _url(external_url)
        if kind == "external_link" and url is None:
            raise InvalidInputError("library.needs_external_url")
        if kind != "external_link" and path is None:
            raise InvalidInputError("library.needs_storage_path", source_type=kind)
        values = {
            "id": new_ids(1)[0] if id is None else validate.canonical_uuid(id, "id"),
            "user_id": owner, "source_type": kind, "filename": validate.text(filename, "filename"),
            "storage_path": path, "external_url": url,
            "mime_type": validate.text(mime_type, "mime_type", required=False, allow_empty=True),
            "size_bytes": validate.integer(size_bytes, "size_bytes"), "sha256": _sha(sha256),
            "document_id": None if document_id is None else validate.canonical_uuid(document_id, "document_id"),
            "metadata": validate.json_value(metadata, "metadata"), "created_at": utcnow(),
        }
        chat_match = _CHAT_KEY.match(path or "")

        same = [files.c.id == values["id"]]
        if values["sha256"] is not None:
            same.append((files.c.user_id == owner) & (files.c.sha256 == values["sha256"]))
        if path is not None:
            same.append((files.c.user_id == owner) & (files.c.storage_path == path))
        find_same = select(files.c.id).where(or_(*same)).limit(1)

        def work(conn: Connection) -> str:
            existing = conn.execute(find_same).scalar()
            if existing is not None:
                return str(existing)
            if values["document_id"] is not None:
                from aizoomdoc.store.document_models import DocumentRow

                docs: Table = DocumentRow.__table__  # type: ignore[assignment]
                if conn.execute(select(docs.c.id).where(docs.c.id == values["document_id"],
                                                        docs.c.user_id == owner)).first() is None:
                    raise NotFoundError("library.document_not_found", document_id=values["document_id"])
            chat_id = None
            if chat_match is not None:
                chat_id = conn.execute(select(chats.c.id).where(chats.c.id == chat_match.group(1),
                                                                chats.c.user_id == owner)).scalar()
            insert = self._insert(files).values(**values, chat_id=None if chat_id is None else str(chat_id))
            if conn.execute(insert.on_conflict_do_nothing()).rowcount == 0:
                # The same file was registered at the same moment: that registration wins.
                return str(conn.execute(find_same).scalar())
            return values["id"]

        return await self._run(work)

    async def get_file(self, file_id: str) -> dict[str, Any]:
        fid = validate.canonical_uuid(file_id, "file_id")
        return await self._run(lambda conn: self._file(conn, fid))

    async def find_file(self, *, user_id: str | None = None, sha256: str | None = None,
                        document_id: str | None = None) -> dict[str, Any] | None:
        """The user's file with this content or for this document, or None."""
        owner = self._owner(user_id)
        where = [files.c.user_id == owner]
        if sha256 is not None:
            where.append(files.c.sha256 == _sha(sha256))
        if document_id is not None:
            where.append(files.c.document_id == validate.canonical_uuid(document_id, "document_id"))
        stmt = select(files).where(*where).limit(1)

        def work(conn: Connection) -> dict[str, Any] | None:
            row = conn.execute(stmt).first()
            return _out(row) if row is not None else None

        return await self._run(work)

    async def delete_file(self, file_id: str) -> bool:
        """Forget a registered file (its folder links and attachments go with it; the stored object
        stays). False when there was no such file."""
        fid = validate.canonical_uuid(file_id, "file_id")
        stmt = delete(files).where(files.c.id == fid, *self._mine(files))
        return await self._run(lambda conn: conn.execute(stmt).rowcount > 0)

    # ==============================================================================================
    # Files in folders
    # ==============================================================================================
    async def add_file_to_folder(self, folder_id: str, file_id: str) -> bool:
        """Place a registered file in a folder (again: no-op). Returns True."""
        fid, file_ = validate.canonical_uuid(folder_id, "folder_id"), validate.canonical_uuid(file_id, "file_id")

        def work(conn: Connection) -> bool:
            folder, row = self._folder(conn, fid), self._file(conn, file_)
            if folder["user_id"] != row["user_id"]:
                raise InvalidInputError("library.owner_mismatch")
            stmt = self._insert(items).values(id=new_ids(1)[0], folder_id=fid, file_id=file_, added_at=utcnow())
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["folder_id", "file_id"]))
            return True

        return await self._run(work)

    async def get_folder_files(self, folder_id: str) -> list[dict[str, Any]]:
        """The files placed directly in the folder, in the order they were added (with ``added_at``)."""
        fid = validate.canonical_uuid(folder_id, "folder_id")
        stmt = (select(files, items.c.added_at).join(items, items.c.file_id == files.c.id)
                .where(items.c.folder_id == fid).order_by(items.c.added_at, files.c.id))

        def work(conn: Connection) -> list[dict[str, Any]]:
            self._folder(conn, fid)
            return [_out(r) for r in conn.execute(stmt)]

        return await self._run(work)

    async def delete_file_from_folder(self, folder_id: str, file_id: str) -> bool:
        """Take a file out of a folder (the file stays registered). Returns True."""
        fid, file_ = validate.canonical_uuid(folder_id, "folder_id"), validate.canonical_uuid(file_id, "file_id")

        def work(conn: Connection) -> bool:
            folder = self._folder(conn, fid)
            if conn.execute(delete(items).where(items.c.folder_id == fid, items.c.file_id == file_)).rowcount == 0:
                raise NotFoundError("library.not_in_folder", file_id=file_, folder=folder["name"])
            return True

        return await self._run(work)

    async def get_file_folders(self, file_id: str) -> list[dict[str, Any]]:
        """The folders the file is in."""
        fid = validate.canonical_uuid(file_id, "file_id")
        stmt = (select(folders).join(items, items.c.folder_id == folders.c.id)
                .where(items.c.file_id == fid, *self._mine(folders)).order_by(func.lower(folders.c.name)))

        def work(conn: Connection) -> list[dict[str, Any]]:
            self._file(conn, fid)
            return [_out(r) for r in conn.execute(stmt)]

        return await self._run(work)

    # ==============================================================================================
    # Attachments
    # ==============================================================================================
    async def add_attachment_to_message(self, message_id: str, file_id: str) -> bool:
        """Attach a registered file to a message (again: no-op). Returns True.

        The file and the message's chat must belong to the same user.
        """
        mid, fid = validate.canonical_uuid(message_id, "message_id"), validate.canonical_uuid(file_id, "file_id")
        msg_stmt = (select(messages.c.chat_id, chats.c.user_id).join(chats, chats.c.id == messages.c.chat_id)
                    .where(messages.c.id == mid, *self._mine(chats)))

        def work(conn: Connection) -> bool:
            msg = conn.execute(msg_stmt).first()
            if msg is None:
                raise NotFoundError("library.message_not_found", message_id=mid)
            row = self._file(conn, fid)
            if row["user_id"] != msg.user_id:
                raise InvalidInputError("library.owner_mismatch")
            stmt = self._insert(attachments).values(id=new_ids(1)[0], chat_id=str(msg.chat_id), message_id=mid,
                                                    file_id=fid, created_at=utcnow())
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["message_id", "file_id"]))
            return True

        return await self._run(work)

    async def get_message_attachments(self, message_id: str) -> list[dict[str, Any]]:
        """The files attached to a message, in the order they were attached (each with
        ``message_id`` and ``attached_at``)."""
        mid = validate.canonical_uuid(message_id, "message_id")
        exists = (select(messages.c.id).join(chats, chats.c.id == messages.c.chat_id)
                  .where(messages.c.id == mid, *self._mine(chats)))

        def work(conn: Connection) -> list[dict[str, Any]]:
            if conn.execute(exists).first() is None:
                raise NotFoundError("library.message_not_found", message_id=mid)
            return self._attached(conn, attachments.c.message_id == mid)

        return await self._run(work)

    async def get_chat_attachments(self, chat_id: str) -> list[dict[str, Any]]:
        """The files attached to the chat's messages, in the order they were attached."""
        cid = validate.canonical_uuid(chat_id, "chat_id")

        def work(conn: Connection) -> list[dict[str, Any]]:
            if conn.execute(select(chats.c.id).where(chats.c.id == cid, *self._mine(chats))).first() is None:
                raise NotFoundError("store.chat_not_found", chat_id=cid)
            return self._attached(conn, attachments.c.chat_id == cid)

        return await self._run(work)

    @staticmethod
    def _attached(conn: Connection, where: Any) -> list[dict[str, Any]]:
        stmt = (select(files, attachments.c.message_id, attachments.c.created_at.label("attached_at"))
                .join(attachments, attachments.c.file_id == files.c.id).where(where)
                .order_by(attachments.c.created_at, attachments.c.id))
        return [_out(r) for r in conn.execute(stmt)]

    # ==============================================================================================
    # Usage
    # ==============================================================================================
    async def unused_files(self, file_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Of ``file_ids``, the files nothing uses any more: in no folder, attached to no message,
        not kept in a chat's storage folder, and not a document any chat of their owner reads."""
        ids = list(dict.fromkeys(validate.canonical_uuid(f, "file_id") for f in file_ids))
        docs_in_chats = _DOCS_IN_CHATS[self.db.dialect]

        def work(conn: Connection) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            used_docs: dict[str, set[str]] = {}
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ids[start:start + _IN_CHUNK]
                rows = [_out(r) for r in conn.execute(select(files).where(files.c.id.in_(chunk), *self._mine(files)))]
                filed = {str(f) for f in conn.execute(select(items.c.file_id).where(items.c.file_id.in_(chunk)))
                         .scalars()}
                attached = {str(f) for f in conn.execute(
                    select(attachments.c.file_id).where(attachments.c.file_id.in_(chunk))).scalars()}
                for row in rows:
                    if row["id"] in filed or row["id"] in attached or row.get("chat_id"):
                        continue
                    if row.get("document_id"):
                        owner = row["user_id"]
                        if owner not in used_docs:
                            used_docs[owner] = {str(d) for d in conn.execute(docs_in_chats, {"user_id": owner})
                                                .scalars()}
                        if row["document_id"] in used_docs[owner]:
                            continue
                    out.append(row)
            return out

        return await self._run(work)


__all__ = ["MAX_DEPTH", "LibraryStore", "folder_name"]
