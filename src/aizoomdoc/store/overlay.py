"""Merging what the cloud has with what the offline journal still holds, for the resilient store's reads.

A chat is read as the cloud (or, offline, the read cache) returned it, with the journal's pending
entries of that chat applied in order on top (:func:`overlay`): created chats appear, updates and
deletions apply, journalled messages, images and search results join the cloud's rows (by id, so a
row that reached the cloud already is not shown twice) and a journalled message moves the chat's
``updated_at`` forward. :func:`ordered` sorts rows the way the cloud orders them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aizoomdoc.store.clock import parse_utc
from aizoomdoc.store.journal import Entry

#: Where rows without a timestamp sort: first.
_NO_TIME = datetime.min.replace(tzinfo=UTC)


def when(value: Any) -> datetime:
    """A row's timestamp for ordering (missing: before everything)."""
    return parse_utc(value) if value else _NO_TIME


def later(a: Any, b: Any) -> Any:
    """The later of two timestamps (as given)."""
    return b if when(b) > when(a) else a


@dataclass(slots=True)
class ChatView:
    """One chat with its rows by id; ``chat`` None and ``deleted`` when deleted meanwhile."""

    chat: dict[str, Any] | None
    deleted: bool
    messages: dict[str, dict[str, Any]]
    images: dict[str, dict[str, Any]]
    results: dict[str, dict[str, Any]]


def overlay(chat: dict[str, Any] | None, msgs: Iterable[dict[str, Any]], imgs: Iterable[dict[str, Any]],
            ress: Iterable[dict[str, Any]], entries: Sequence[Entry]) -> ChatView:
    """The chat as the cloud had it with the journal's pending ``entries`` applied in order."""
    view = ChatView(dict(chat) if chat else None, False, {m["id"]: dict(m) for m in msgs},
                    {i["id"]: dict(i) for i in imgs}, {r["id"]: dict(r) for r in ress})
    for e in entries:
        p = e.payload
        if e.op == "create_chat":
            if view.chat is None:
                view.chat = dict(p)
            view.deleted = False
        elif e.op == "update_chat":
            if view.chat is not None:
                view.chat.update(p.get("fields") or {})
                view.chat["updated_at"] = later(view.chat.get("updated_at"), p["updated_at"])
        elif e.op == "delete_chat":
            view.chat, view.deleted = None, True
            view.messages.clear()
            view.images.clear()
            view.results.clear()
        elif e.op == "add_message":
            view.messages.setdefault(p["id"], dict(p))
            if view.chat is not None:
                view.chat["updated_at"] = later(view.chat.get("updated_at"), p["created_at"])
        elif e.op == "add_image":
            view.images.setdefault(p["id"], dict(p))
        elif e.op == "add_result":
            view.results.setdefault(p["id"], dict(p))
    return view


def ordered(rows: Iterable[dict[str, Any]], ts: str) -> list[dict[str, Any]]:
    """``rows`` oldest first by their ``ts`` field, ties by id (the cloud's order)."""
    return sorted(rows, key=lambda r: (when(r.get(ts)), str(r["id"])))


__all__ = ["ChatView", "later", "ordered", "overlay", "when"]
