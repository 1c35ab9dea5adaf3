"""ResilientChatStore: the chat store over PostgreSQL that keeps working when PostgreSQL is down.

- Online, a write goes to the cloud :class:`~aizoomdoc.store.chats.ChatStore` — unless the chat
  still has entries waiting in the journal, then it is journalled behind them (per-chat order).
- When the cloud raises :class:`DatabaseUnavailableError` (at start or mid-conversation) the store
  flips offline and the write goes to the journal with its client-generated id and timestamp, so
  it is never lost and never duplicated (the replay is ``ON CONFLICT (id) DO NOTHING``).
- Offline, the cloud is not touched at all: a background probe with exponential backoff
  (:class:`~aizoomdoc.store.link.Link`) checks it; when it answers the journal is synced
  (:class:`~aizoomdoc.store.sync.Syncer`) and the store goes back online.
- Reads return the union of the cloud (when reachable; else the rows last seen, from the
  :class:`~aizoomdoc.store.journal.ReadCache`) and the journal, merged by id and ordered like the
  cloud orders them (:mod:`aizoomdoc.store.overlay`).
- Rows are validated and built by :mod:`aizoomdoc.store.rows`, exactly as the cloud store does;
  journal payloads carry ISO timestamps (:func:`aizoomdoc.store.clock.to_iso`).
- :meth:`ResilientChatStore.offline_state` tells the CLI/API/UI whether we are offline and what
  is pending.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from aizoomdoc.config import Settings
from aizoomdoc.errors import AizoomdocError, DatabaseUnavailableError, NotFoundError
from aizoomdoc.store import validate
from aizoomdoc.store.chats import ChatStore
from aizoomdoc.store.clock import stamps, to_iso, utcnow
from aizoomdoc.store.database import Database
from aizoomdoc.store.journal import DB_QUEUE, Entry, Journal, NewEntry, ReadCache
from aizoomdoc.store.link import Link
from aizoomdoc.store.overlay import ChatView, ordered, overlay, when
from aizoomdoc.store.rows import (
    IMAGE_COLUMNS,
    MESSAGE_COLUMNS,
    RESULT_COLUMNS,
    as_dicts,
    chat_row,
    image_rows,
    message_rows,
    result_rows,
)
from aizoomdoc.store.sync import Syncer, SyncReport
from aizoomdoc.store.validate import canonical_uuid, json_value, row_list

log = logging.getLogger(__name__)
T = TypeVar("T")


def _iso_stamps(count: int) -> list[str]:
    """``count`` consecutive timestamps from the clock as ISO text (journal payloads)."""
    return [to_iso(s) for s in stamps(utcnow(count), count)]


class _Shared:
    """What every per-user view of one resilient store shares."""

    def __init__(self, settings: Settings, cloud: ChatStore, journal: Journal, cache: ReadCache | None) -> None:
        self.settings = settings
        self.root_cloud = cloud
        self.journal = journal
        self.cache = cache
        self.syncer = Syncer(settings, journal, db=cloud.db)
        self.link = Link("database", self._check, self._sync, settings)
        self.started = False

    async def _check(self) -> bool:
        try:
            await asyncio.wait_for(self.root_cloud.db.check(), self.settings.db_connect_timeout + 1.0)
            return True
        except (AizoomdocError, TimeoutError):  # a probe answers, never raises
            return False

    async def _sync(self) -> bool:
        report = await self.syncer.run(wait=False, files=True)
        if report.db_error is not None and self.journal.count(DB_QUEUE):
            return False
        return not report.busy


class ResilientChatStore:
    """:class:`ChatStoreProtocol` over (cloud :class:`ChatStore` on PostgreSQL, local journal)."""

    def __init__(self, cloud: ChatStore, journal: Journal, *, settings: Settings | None = None,
                 cache: ReadCache | None = None, user_id: str | None = None,
                 _shared: _Shared | None = None) -> None:
        self.cloud = cloud
        self.user_id = user_id
        self._shared = _shared or _Shared(settings or cloud.db.settings, cloud, journal, cache)
        self.settings = self._shared.settings
        self.journal = journal
        self.cache = cache

    @classmethod
    def from_settings(cls, settings: Settings) -> ResilientChatStore:
        journal = Journal.for_data_dir(settings.data_dir)
        cache = ReadCache.for_data_dir(settings.data_dir)
        return cls(ChatStore(settings=settings, auto_migrate=False), journal, settings=settings, cache=cache)

    def for_user(self, user_id: str) -> ResilientChatStore:
        return ResilientChatStore(self.cloud.for_user(user_id), self.journal, cache=self.cache,
                                  user_id=validate.text(user_id, "user_id"), _shared=self._shared)

    # --- state --------------------------------------------------------------------------------
    @property
    def db(self) -> Database:
        """The cloud database (shared with other services of the process, e.g. documents)."""
        return self.cloud.db

    @property
    def link(self) -> Link:
        return self._shared.link

    @property
    def syncer(self) -> Syncer:
        return self._shared.syncer

    @property
    def online(self) -> bool:
        return self.link.online

    @property
    def is_offline(self) -> bool:
        return not self.link.online

    def offline_state(self) -> dict[str, Any]:
        """``{"database": "online"|"offline", "since", "last_error", "pending", "pending_files",
        "conflicts", "notices"}`` for the CLI, the API and the UI."""
        counts = self.journal.counts()
        return {
            "database": "online" if self.link.online else "offline",
            "since": to_iso(datetime.fromtimestamp(self.link.since, UTC)) if self.link.since else None,
            "last_error": self.link.last_error,
            "pending": counts.db,
            "pending_files": counts.files,
            "conflicts": counts.conflicts,
            "notices": counts.notices,
        }

    async def sync(self, progress: Callable[[Any], Any] | None = None) -> SyncReport:
        """Sync now (on demand); returns the :class:`~aizoomdoc.store.sync.SyncReport`."""
        report = await self.syncer.run(progress, wait=True)
        if report.db_error is None:
            self.link.mark_online()
        return report

    async def wait_synced(self, timeout: float = 30.0) -> bool:
        """Wait until the journal's database queue is empty (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.journal.count(DB_QUEUE) and self.link.online:
                return True
            await asyncio.sleep(0.05)
        return False

    def is_connected(self) -> bool:
        return self.cloud.is_connected()

    async def close(self) -> None:
        await self.link.aclose()
        await self.syncer.aclose()
        await self.cloud.close()

    def _start(self) -> None:
        if not self._shared.started:
            self._shared.started = True
            if self.journal.count(DB_QUEUE):
                self.link.kick()  # entries left by an earlier run

    # --- plumbing -------------------------------------------------------------------------------
    async def _cloud(self, fn: Callable[[], Awaitable[T]]) -> tuple[bool, T | None]:
        """(True, result) from the cloud, or (False, None) when it is (or just went) unreachable."""
        self._start()
        if not self.link.online:
            return False, None
        try:
            return True, await fn()
        except DatabaseUnavailableError as exc:
            self.link.went_offline(exc)
            return False, None

    async def _journal(self, entries: Sequence[NewEntry]) -> None:
        await asyncio.to_thread(self.journal.append_many, list(entries))
        if self.link.online:
            self.link.kick()

    def _entry(self, op: str, payload: dict[str, Any], chat_id: str | None) -> NewEntry:
        return NewEntry(op, payload, DB_QUEUE, chat_id=chat_id, entity_id=payload.get("id"), user_id=self.user_id)

    async def _write(self, chat_id: str, entries: Sequence[NewEntry], cloud_call: Callable[[], Awaitable[T]]
                     ) -> tuple[bool, T | None]:
        """Write to the cloud when online and the chat has nothing pending; else journal it."""
        if self.link.online and not self.journal.has_pending_for_chat(chat_id):
            done, result = await self._cloud(cloud_call)
            if done:
                return True, result
        await self._journal(entries)
        return False, None

    def _remember(self, kind: str, rows: Iterable[dict[str, Any]]) -> None:
        if self.cache is not None:
            self.cache.put(kind, rows)

    # ==========================================================================================
    # Chats
    # ==========================================================================================
    async def create_chat(self, title: str, user_id: str, description: str | None = None,
                          document_path: str | None = None, metadata: Any = None, *,
                          id: str | None = None) -> str:
        row = chat_row(title, user_id, description, document_path, metadata, id, to_iso(utcnow()))
        chat_id = row["id"]

        async def call() -> str:
            return await self.cloud.create_chat(row["title"], row["user_id"], row["description"],
                                                row["document_path"], row["metadata"], id=chat_id)

        await self._write(chat_id, [self._entry("create_chat", row, chat_id)], call)
        self._remember("chat", [row])
        return chat_id

    async def _cloud_chat(self, chat_id: str) -> tuple[bool, dict[str, Any] | None]:
        online, chat = await self._cloud(lambda: self.cloud.get_chat(chat_id))
        if online:
            if chat is not None:
                self._remember("chat", [chat])
            elif self.cache is not None:
                self.cache.drop_chat(chat_id)
            return True, chat
        return False, self.cache.get("chat", chat_id) if self.cache is not None else None

    async def get_chat(self, chat_id: str) -> dict[str, Any] | None:
        chat_id = canonical_uuid(chat_id, "chat_id")
        _online, chat = await self._cloud_chat(chat_id)
        entries = self.journal.pending_for_chat(chat_id)
        if not entries:
            return chat
        return overlay(chat, (), (), (), entries).chat

    async def get_chats(self, user_id: str, limit: int = 50, include_archived: bool = False) -> list[dict[str, Any]]:
        user_id = validate.text(user_id, "user_id")  # type: ignore[assignment]
        limit = validate.limit(limit, optional=False)  # type: ignore[assignment]
        online, rows = await self._cloud(lambda: self.cloud.get_chats(user_id, limit=limit, include_archived=True))
        if online:
            self._remember("chat", rows or [])
        elif self.cache is not None:
            rows = self.cache.chats_of(user_id)
        by_id = {r["id"]: dict(r) for r in rows or []}
        grouped: dict[str, list[Entry]] = {}
        for e in self.journal.pending_chat_ops():
            if e.chat_id:
                grouped.setdefault(e.chat_id, []).append(e)
        for chat_id, entries in grouped.items():
            chat = by_id.get(chat_id)
            if chat is None and entries[0].op != "create_chat" and self.cache is not None:
                chat = self.cache.get("chat", chat_id)
            view = overlay(chat, (), (), (), entries)
            if view.chat is None:
                by_id.pop(chat_id, None)
            elif view.chat.get("user_id") == user_id:
                by_id[chat_id] = view.chat
        out = [c for c in by_id.values() if include_archived or not c.get("is_archived")]
        out.sort(key=lambda c: (when(c.get("updated_at")), str(c["id"])), reverse=True)
        return out[:limit]

    async def update_chat(self, chat_id: str, **fields: Any) -> dict[str, Any]:
        chat_id = canonical_uuid(chat_id, "chat_id")
        clean = validate.chat_fields(fields)
        payload = {"id": chat_id, "fields": clean, "updated_at": to_iso(utcnow())}
        done, row = await self._write(chat_id, [self._entry("update_chat", payload, chat_id)],
                                      lambda: self.cloud.update_chat(chat_id, **clean))
        if done and row is not None:
            self._remember("chat", [row])
            return row
        chat = await self.get_chat(chat_id)
        if chat is None:
            raise NotFoundError("store.chat_not_found", chat_id=chat_id)
        return chat

    async def archive_chat(self, chat_id: str) -> bool:
        await self.update_chat(chat_id, is_archived=True)
        return True

    async def delete_chat(self, chat_id: str) -> bool:
        chat_id = canonical_uuid(chat_id, "chat_id")
        await self._write(chat_id, [self._entry("delete_chat", {"id": chat_id}, chat_id)],
                                    lambda: self.cloud.delete_chat(chat_id))
        if self.cache is not None:
            self.cache.drop_chat(chat_id)
        return True

    # ==========================================================================================
    # Messages
    # ==========================================================================================
    async def add_message(self, chat_id: str, role: str, content: str, message_type: str = "text",
                          model: str | None = None, metadata: Any = None, *, id: str | None = None) -> str:
        chat_id = canonical_uuid(chat_id, "chat_id")
        [row] = as_dicts(MESSAGE_COLUMNS, message_rows(chat_id, [{
            "id": id, "role": role, "content": content, "message_type": message_type, "model": model,
            "metadata": metadata}], _iso_stamps(1), json_value))

        async def call() -> str:
            return await self.cloud.add_message(chat_id, row["role"], row["content"], row["message_type"],
                                                row["model"], row["metadata"], id=row["id"])

        await self._write(chat_id, [self._entry("add_message", row, chat_id)], call)
        self._remember("message", [row])
        return row["id"]

    async def add_messages_bulk(self, chat_id: str, messages: Sequence[Mapping[str, Any]]) -> list[str]:
        chat_id = canonical_uuid(chat_id, "chat_id")
        items = row_list(messages)
        if not items:
            return []
        rows = as_dicts(MESSAGE_COLUMNS, message_rows(chat_id, items, _iso_stamps(len(items)), json_value))
        cloud_rows = [{k: r[k] for k in ("id", "role", "content", "message_type", "model", "metadata")} for r in rows]
        await self._write(chat_id, [self._entry("add_message", r, chat_id) for r in rows],
                          lambda: self.cloud.add_messages_bulk(chat_id, cloud_rows))
        self._remember("message", rows)
        return [r["id"] for r in rows]

    async def _history_parts(self, chat_id: str, limit: int | None
                             ) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[dict[str, Any]],
                                        list[dict[str, Any]]]:
        """The cloud's (or the cache's) chat, messages, images and results of a chat."""
        try:
            online, hist = await self._cloud(lambda: self.cloud.get_chat_history(chat_id, limit=limit))
        except NotFoundError:
            if self.cache is not None:
                self.cache.drop_chat(chat_id)
            return None, [], [], []
        if online and hist is not None:
            msgs = hist["messages"]
            imgs = [i for m in msgs for i in m.get("images") or []]
            ress = [r for m in msgs for r in m.get("search_results") or []]
            self._remember("chat", [hist["chat"]])
            self._remember("message", msgs)
            self._remember("image", imgs)
            self._remember("result", ress)
            return hist["chat"], msgs, imgs, ress
        if self.cache is None:
            return None, [], [], []
        return (self.cache.get("chat", chat_id), self.cache.of_chat("message", chat_id),
                self.cache.of_chat("image", chat_id), self.cache.of_chat("result", chat_id))

    def _fix_urls(self, imgs: Iterable[dict[str, Any]]) -> None:
        """Images whose file was kept locally: their state; uploaded since: their S3 URL."""
        imgs = list(imgs)
        states = self.journal.file_states([i["s3_path"] for i in imgs]) if imgs else {}
        for img in imgs:
            state = states.get(img["s3_path"])
            if state is None:
                continue
            if state[0] == "uploaded" and state[1]:
                img["s3_url"], img["sync_state"] = state[1], "synced"
            elif state[0] == "pending":
                img["sync_state"] = "pending"

    async def _view(self, chat_id: str, limit: int | None) -> ChatView:
        chat, msgs, imgs, ress = await self._history_parts(chat_id, limit)
        view = overlay(chat, msgs, imgs, ress, self.journal.pending_for_chat(chat_id))
        if view.chat is None:
            if view.messages and not view.deleted:
                # Messages journalled for a chat this device has never seen (no cache): show them.
                view.chat = {"id": chat_id}
            else:
                raise NotFoundError("store.chat_not_found", chat_id=chat_id)
        return view

    async def get_chat_messages(self, chat_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        chat_id = canonical_uuid(chat_id, "chat_id")
        limit = validate.limit(limit, optional=True)
        online, rows = None, None
        entries = self.journal.pending_for_chat(chat_id)
        if not entries and self.link.online:
            online, rows = await self._cloud(lambda: self.cloud.get_chat_messages(chat_id, limit=limit))
            if online:
                self._remember("message", rows or [])
                return rows or []
        view = await self._view(chat_id, limit)
        out = ordered(view.messages.values(), "created_at")
        return out[-limit:] if limit else out

    # ==========================================================================================
    # Images
    # ==========================================================================================
    async def _write_images(self, rows: list[dict[str, Any]]) -> None:
        # Files kept locally: the record says so; files uploaded since: the record gets the S3 URL.
        self._fix_urls(rows)
        pending_keys = [r["s3_path"] for r in rows if r["sync_state"] == "pending"]
        by_chat: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            by_chat.setdefault(r["chat_id"], []).append(r)
        for chat_id, chat_rows in by_chat.items():
            cloud_rows = [{k: v for k, v in r.items() if k != "uploaded_at"} for r in chat_rows]
            done, _ = await self._write(chat_id, [self._entry("add_image", r, chat_id) for r in chat_rows],
                                        functools.partial(self.cloud.add_images_bulk, cloud_rows))
            self._remember("image", chat_rows)
            if done and pending_keys:
                # The upload may have finished while the record was being written: queue the URL
                # update again (idempotent) so the record cannot keep the local URL.
                states = self.journal.file_states(pending_keys)
                marks = [NewEntry("mark_uploaded", {"key": k, "url": s[1]}, DB_QUEUE, entity_id=k)
                         for k, s in states.items() if s[0] == "uploaded" and s[1]]
                if marks:
                    await self._journal(marks)

    async def add_image_to_message(self, chat_id: str, message_id: str, image_name: str, s3_path: str,
                                   s3_url: str | None, image_type: str = "viewport",
                                   description: str | None = None, width: int | None = None,
                                   height: int | None = None, file_size: int | None = None,
                                   page_number: int | None = None, coords_norm: Any = None, *,
                                   id: str | None = None, sync_state: str = "synced") -> str:
        [row] = as_dicts(IMAGE_COLUMNS, image_rows([{
            "id": id, "chat_id": chat_id, "message_id": message_id, "image_name": image_name,
            "s3_path": s3_path, "s3_url": s3_url, "image_type": image_type, "description": description,
            "width": width, "height": height, "file_size": file_size, "page_number": page_number,
            "coords_norm": coords_norm, "sync_state": sync_state,
        }], _iso_stamps(1), json_value))
        await self._write_images([row])
        return row["id"]

    async def add_images_bulk(self, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        items = row_list(rows)
        if not items:
            return []
        out = as_dicts(IMAGE_COLUMNS, image_rows(items, _iso_stamps(len(items)), json_value))
        await self._write_images(out)
        return [r["id"] for r in out]

    async def get_message_images(self, message_id: str) -> list[dict[str, Any]]:
        message_id = canonical_uuid(message_id, "message_id")
        online, rows = await self._cloud(lambda: self.cloud.get_message_images(message_id))
        chat_id = None
        if online and rows:
            chat_id = rows[0]["chat_id"]
        if chat_id is None:
            cached = self.cache.get("message", message_id) if self.cache is not None else None
            chat_id = cached["chat_id"] if cached else self._journal_chat_of(message_id)
        if chat_id is None:
            if online:
                return rows or []
            raise NotFoundError("store.message_not_found_any", message_id=message_id)
        view = await self._view(chat_id, None)
        out = [i for i in view.images.values() if i["message_id"] == message_id]
        self._fix_urls(out)
        return ordered(out, "uploaded_at")

    def _journal_chat_of(self, message_id: str) -> str | None:
        for e in self.journal.pending_chat_ops():
            if e.op == "add_message" and e.payload["id"] == message_id:
                return e.chat_id
        return None

    async def get_chat_images(self, chat_id: str) -> list[dict[str, Any]]:
        chat_id = canonical_uuid(chat_id, "chat_id")
        view = await self._view(chat_id, None)
        out = list(view.images.values())
        self._fix_urls(out)
        return ordered(out, "uploaded_at")

    # ==========================================================================================
    # Search results
    # ==========================================================================================
    async def _write_results(self, rows: list[dict[str, Any]]) -> None:
        by_chat: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            by_chat.setdefault(r["chat_id"], []).append(r)
        for chat_id, chat_rows in by_chat.items():
            cloud_rows = [{k: v for k, v in r.items() if k != "created_at"} for r in chat_rows]
            await self._write(chat_id, [self._entry("add_result", r, chat_id) for r in chat_rows],
                              functools.partial(self.cloud.add_search_results_bulk, cloud_rows))
            self._remember("result", chat_rows)

    async def add_search_result(self, chat_id: str, message_id: str, block_id: str, page_number: int | None,
                                block_text: str, coords_norm: Any, coords_px: Any,
                                document_id: str | None = None, score: float | None = None, *,
                                id: str | None = None) -> str:
        [row] = as_dicts(RESULT_COLUMNS, result_rows([{
            "id": id, "chat_id": chat_id, "message_id": message_id, "block_id": block_id,
            "page_number": page_number, "block_text": block_text, "coords_norm": coords_norm,
            "coords_px": coords_px, "document_id": document_id, "score": score,
        }], _iso_stamps(1), json_value))
        await self._write_results([row])
        return row["id"]

    async def add_search_results_bulk(self, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        items = row_list(rows)
        if not items:
            return []
        out = as_dicts(RESULT_COLUMNS, result_rows(items, _iso_stamps(len(items)), json_value))
        await self._write_results(out)
        return [r["id"] for r in out]

    async def get_search_results(self, chat_id: str, message_id: str | None = None) -> list[dict[str, Any]]:
        chat_id = canonical_uuid(chat_id, "chat_id")
        mid = None if message_id is None else canonical_uuid(message_id, "message_id")
        view = await self._view(chat_id, None)
        out = [r for r in view.results.values() if mid is None or r["message_id"] == mid]
        if mid is not None and not out and mid not in view.messages:
            raise NotFoundError("store.message_not_found", chat_id=chat_id, message_id=mid)
        return ordered(out, "created_at")

    # ==========================================================================================
    # A whole chat
    # ==========================================================================================
    async def get_chat_history(self, chat_id: str, limit: int | None = None) -> dict[str, Any]:
        chat_id = canonical_uuid(chat_id, "chat_id")
        limit = validate.limit(limit, optional=True)
        view = await self._view(chat_id, limit)
        msgs = ordered(view.messages.values(), "created_at")
        if limit:
            msgs = msgs[-limit:]
        by_id: dict[str, dict[str, Any]] = {}
        for m in msgs:
            m = dict(m)
            m["images"], m["search_results"] = [], []
            by_id[m["id"]] = m
        imgs = list(view.images.values())
        self._fix_urls(imgs)
        for img in ordered(imgs, "uploaded_at"):
            if img["message_id"] in by_id:
                by_id[img["message_id"]]["images"].append(img)
        for res in ordered(view.results.values(), "created_at"):
            if res["message_id"] in by_id:
                by_id[res["message_id"]]["search_results"].append(res)
        return {"chat": view.chat, "messages": list(by_id.values())}


__all__ = ["ResilientChatStore"]
