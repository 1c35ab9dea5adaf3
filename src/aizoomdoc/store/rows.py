"""The row model of the chat stores: validate what a caller gives and build the database row.

One builder per table, used by every store for single and bulk writes alike (the SQL
:class:`~aizoomdoc.store.chats.ChatStore` and the offline-resilient store), so a row is accepted,
refused and shaped the same way everywhere:

- rows are tuples in the order of ``*_COLUMNS`` (:func:`as_dicts` names them);
- ids are the caller's (checked, canonical) or new uuid4 strings;
- timestamps are taken from ``stamps`` as given: the caller picks the form its writer wants (a
  datetime for SQLAlchemy and asyncpg, SQLite's text for the sqlite3 driver, ISO text for the
  journal); see :mod:`aizoomdoc.store.clock`;
- JSON fields go through ``encode``: :func:`~aizoomdoc.store.validate.json_value` keeps the checked
  Python value (SQLAlchemy statements, journal payloads), :func:`~aizoomdoc.store.validate.json_text`
  gives the JSON text a driver takes.

The image and search-result builders check the usual row (plain strings, small ints, known
choices) with a few type tests and send anything else through the full checks, which raise the
precise :class:`~aizoomdoc.errors.InvalidInputError`: for bulk writes this loop is the store's own
cost next to the database's (bench/bench_store.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aizoomdoc.store.models import IMAGE_TYPES, MESSAGE_ROLES, SYNC_STATES
from aizoomdoc.store.validate import (
    UuidMemo,
    canonical_uuid,
    choice,
    given_or_new_id,
    integer,
    json_value,
    new_ids,
    reference_text,
    required,
    score,
    text,
)

CHAT_COLUMNS = ("id", "user_id", "title", "description", "document_path", "is_archived", "metadata",
                "created_at", "updated_at")
MESSAGE_COLUMNS = ("id", "chat_id", "role", "content", "message_type", "model", "metadata", "created_at")
IMAGE_COLUMNS = ("id", "chat_id", "message_id", "image_name", "s3_path", "s3_url", "image_type", "description",
                 "width", "height", "file_size", "page_number", "coords_norm", "uploaded_at", "sync_state")
RESULT_COLUMNS = ("id", "chat_id", "message_id", "document_id", "block_id", "page_number", "block_text",
                  "coords_norm", "coords_px", "score", "created_at")

#: ``encode(value, field)`` of a JSON field: json_value or json_text (see the module docstring).
Encode = Callable[[Any, str], Any]

_IMAGE_TYPES = frozenset(IMAGE_TYPES)
_SYNC_STATES = frozenset(SYNC_STATES)


def as_dicts(columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """The rows as dicts keyed by ``columns``."""
    return [dict(zip(columns, row, strict=True)) for row in rows]


def chat_row(title: Any, user_id: Any, description: Any, document_path: Any, metadata: Any, id_: Any,
             now: Any) -> dict[str, Any]:
    """A new chat (``now`` as created_at and updated_at), keyed like :data:`CHAT_COLUMNS`."""
    return {
        "id": given_or_new_id(id_),
        "user_id": text(user_id, "user_id"),
        "title": text(title, "title"),
        "description": text(description, "description", required=False, allow_empty=True),
        "document_path": text(document_path, "document_path", required=False, allow_empty=True),
        "is_archived": False,
        "metadata": json_value(metadata, "metadata"),
        "created_at": now,
        "updated_at": now,
    }


def message_rows(chat_id: str, items: Sequence[Mapping[str, Any]], stamps: Sequence[Any],
                 encode: Encode) -> list[tuple[Any, ...]]:
    """Messages of one chat (``chat_id`` already checked): each item has ``role`` and ``content``
    and optionally ``message_type`` (default ``text``), ``model``, ``metadata``, ``id``."""
    ids = new_ids(len(items))
    out = []
    for i, m in enumerate(items):
        given = m.get("id")
        out.append((
            ids[i] if given is None else canonical_uuid(given, "id"), chat_id,
            choice(required(m, i, "role"), MESSAGE_ROLES, "store.bad_role"),
            text(required(m, i, "content"), "content"),
            text(m.get("message_type", "text"), "message_type"),
            text(m.get("model"), "model", required=False, allow_empty=True),
            encode(m.get("metadata"), "metadata"),
            stamps[i],
        ))
    return out


def _check_image(row: Mapping[str, Any]) -> None:
    """Every field of an image row through its full check (raises on the first bad one)."""
    if row.get("id") is not None:
        canonical_uuid(row["id"], "id")
    canonical_uuid(row.get("chat_id"), "chat_id")
    canonical_uuid(row.get("message_id"), "message_id")
    text(row.get("image_name"), "image_name")
    text(row.get("s3_path"), "s3_path")
    text(row.get("s3_url"), "s3_url", required=False, allow_empty=True)
    choice(row.get("image_type", "viewport"), IMAGE_TYPES, "store.bad_image_type")
    text(row.get("description"), "description", required=False, allow_empty=True)
    for field in ("width", "height", "file_size", "page_number"):
        integer(row.get(field), field)
    choice(row.get("sync_state", "synced"), SYNC_STATES, "store.bad_sync_state")


def image_rows(items: Sequence[Mapping[str, Any]], stamps: Sequence[Any], encode: Encode) -> list[tuple[Any, ...]]:
    """Images: each item has ``chat_id``, ``message_id``, ``image_name``, ``s3_path`` and optionally
    ``s3_url``, ``image_type`` (default ``viewport``), ``description``, ``width``, ``height``,
    ``file_size``, ``page_number``, ``coords_norm``, ``sync_state`` (default ``synced``), ``id``."""
    ids = new_ids(len(items))
    uid: Callable[[Any, str], str] = UuidMemo() if len(items) > 1 else canonical_uuid
    image_types, sync_states = _IMAGE_TYPES, _SYNC_STATES
    out = []
    for i, row in enumerate(items):
        for field in ("chat_id", "message_id", "image_name", "s3_path"):
            required(row, i, field)
        get = row.get
        image_name, s3_path, s3_url = get("image_name"), get("s3_path"), get("s3_url")
        description, image_type = get("description"), get("image_type", "viewport")
        sync_state = get("sync_state", "synced")
        numbers = (get("width"), get("height"), get("file_size"), get("page_number"))
        usual = (type(image_name) is str and image_name.strip() != "" and type(s3_path) is str
                 and s3_path.strip() != "" and (s3_url is None or type(s3_url) is str)
                 and (description is None or type(description) is str) and image_type in image_types
                 and sync_state in sync_states
                 and all(n is None or (type(n) is int and n >= 0) for n in numbers))
        if not usual:
            _check_image(row)
        given = get("id")
        out.append((
            ids[i] if given is None else canonical_uuid(given, "id"), uid(get("chat_id"), "chat_id"),
            uid(get("message_id"), "message_id"), image_name, s3_path, s3_url, image_type, description,
            *numbers, encode(get("coords_norm"), "coords_norm"), stamps[i], sync_state,
        ))
    return out


def result_rows(items: Sequence[Mapping[str, Any]], stamps: Sequence[Any], encode: Encode) -> list[tuple[Any, ...]]:
    """Search hits: each item has ``chat_id``, ``message_id``, ``block_id`` and optionally
    ``document_id``, ``page_number``, ``block_text`` (default empty), ``coords_norm``,
    ``coords_px``, ``score``, ``id``. Numeric block and document ids are stored as text."""
    ids = new_ids(len(items))
    uid: Callable[[Any, str], str] = UuidMemo() if len(items) > 1 else canonical_uuid
    isfinite = math.isfinite
    out = []
    for i, row in enumerate(items):
        for field in ("chat_id", "message_id", "block_id"):
            required(row, i, field)
        get = row.get
        given = get("id")
        block_id = get("block_id")
        if type(block_id) is not str or not block_id.strip():
            block_id = text(reference_text(block_id), "block_id")
        document_id = get("document_id")
        if document_id is not None and (type(document_id) is not str or not document_id.strip()):
            document_id = text(reference_text(document_id), "document_id", required=False)
        page = get("page_number")
        if page is not None and (type(page) is not int or page < 0):
            page = integer(page, "page_number")
        block_text = get("block_text", "")
        if type(block_text) is not str:
            block_text = text(block_text, "block_text", allow_empty=True)
        hit_score = get("score")
        if hit_score is not None and (type(hit_score) is not float or not isfinite(hit_score)):
            hit_score = score(hit_score)
        out.append((
            ids[i] if given is None else canonical_uuid(given, "id"), uid(get("chat_id"), "chat_id"),
            uid(get("message_id"), "message_id"), document_id, block_id, page, block_text,
            encode(get("coords_norm"), "coords_norm"), encode(get("coords_px"), "coords_px"), hit_score, stamps[i],
        ))
    return out


__all__ = ["CHAT_COLUMNS", "IMAGE_COLUMNS", "MESSAGE_COLUMNS", "RESULT_COLUMNS", "Encode", "as_dicts", "chat_row",
           "image_rows", "message_rows", "result_rows"]
