"""The checks of everything a caller hands the chat stores: ids, texts, choices, JSON, numbers, limits.

Each function returns the value to store (normalised where there is one canonical form, e.g. a
uuid's lower-case hyphenated text) or raises :class:`~aizoomdoc.errors.InvalidInputError` whose
Russian message names the field and what is wrong. Every chat store (the SQL one, the resilient
one) and the row builders of :mod:`aizoomdoc.store.rows` use these, so one input is accepted or
refused the same way everywhere.
"""

from __future__ import annotations

import json
import math
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from aizoomdoc.errors import InvalidInputError
from aizoomdoc.texts import t

#: The largest ``limit`` a listing accepts.
MAX_LIMIT = 10_000
#: The chat fields ``update_chat`` may change.
UPDATABLE_CHAT_FIELDS = ("title", "description", "document_path", "is_archived", "metadata")

_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def shorten(value: Any) -> str:
    """``value`` as text short enough for an error message."""
    text_ = str(value)
    return text_ if len(text_) <= 60 else text_[:57] + "..."


# --- ids ------------------------------------------------------------------------------------------
def is_uuid(value: object) -> bool:
    """Whether ``value`` reads as a uuid (any of the forms :class:`uuid.UUID` accepts)."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def canonical_uuid(value: Any, field: str) -> str:
    """``value`` as a canonical (lower-case, hyphenated) uuid string."""
    if isinstance(value, str):
        if _CANONICAL_UUID.match(value):
            return value
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    elif isinstance(value, uuid.UUID):
        return str(value)
    raise InvalidInputError("store.bad_id", field=field, value=shorten(value))


class UuidMemo:
    """:func:`canonical_uuid` remembering its answers: bulk rows repeat the same chat and message ids."""

    def __init__(self) -> None:
        self._seen: dict[Any, str] = {}

    def __call__(self, value: Any, field: str) -> str:
        try:
            return self._seen[value]
        except KeyError:
            result = self._seen[value] = canonical_uuid(value, field)
            return result
        except TypeError:  # unhashable: certainly not an id
            return canonical_uuid(value, field)


def new_ids(count: int) -> list[str]:
    """``count`` random uuid4 strings (one urandom call; several times faster than uuid.uuid4())."""
    raw = bytearray(os.urandom(16 * count))
    out = []
    for i in range(0, 16 * count, 16):
        raw[i + 6] = (raw[i + 6] & 0x0F) | 0x40  # version 4
        raw[i + 8] = (raw[i + 8] & 0x3F) | 0x80  # RFC 4122 variant
        h = raw[i:i + 16].hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def given_or_new_id(value: Any) -> str:
    """The caller's id (checked) or a new uuid4."""
    return new_ids(1)[0] if value is None else canonical_uuid(value, "id")


def reference_text(value: Any) -> Any:
    """Block and document ids may come as numbers (or uuids) from readers; they are stored as text."""
    if isinstance(value, (int, uuid.UUID)) and not isinstance(value, bool):
        return str(value)
    return value


# --- values ---------------------------------------------------------------------------------------
def text(value: Any, field: str, *, required: bool = True, allow_empty: bool = False) -> str | None:
    """A string; ``required``: not None; unless ``allow_empty``: not blank."""
    if value is None:
        if required:
            raise InvalidInputError("store.empty", field=field)
        return None
    if not isinstance(value, str):
        raise InvalidInputError("store.bad_type", field=field,
                                expected=t("store.type.string"), got=type(value).__name__)
    if not allow_empty and not value.strip():
        raise InvalidInputError("store.empty", field=field)
    return value


def choice(value: Any, allowed: tuple[str, ...], key: str) -> str:
    """One of ``allowed`` (``key``: the text of the error, which lists them)."""
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInputError(key, value=shorten(value), allowed=", ".join(allowed))
    return value


def json_value(value: Any, field: str) -> Any:
    """``value`` itself when it can be stored as JSON (no NaN/Infinity, no sets or objects)."""
    if value is None:
        return None
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("store.not_json", field=field, detail=str(exc)) from None
    return value


def json_text(value: Any, field: str) -> str | None:
    """``value`` encoded as JSON text (the form a driver takes), checked like :func:`json_value`."""
    if value is None:
        return None
    try:
        return _JSON.encode(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("store.not_json", field=field, detail=str(exc)) from None


def integer(value: Any, field: str, minimum: int = 0) -> int | None:
    """None or an int (not a bool) of at least ``minimum``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError("store.bad_number", field=field, minimum=minimum, value=shorten(value))
    return value


def score(value: Any) -> float | None:
    """None or a finite number, as a float."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInputError("store.bad_type", field="score", expected=t("store.type.number"), got=shorten(value))
    return float(value)


def limit(value: Any, *, optional: bool) -> int | None:
    """A listing limit, 1…:data:`MAX_LIMIT` (or None when ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise InvalidInputError("store.bad_limit", maximum=MAX_LIMIT, value=shorten(value))
    return value


# --- bulk input -----------------------------------------------------------------------------------
def row_list(rows: Any) -> list[Mapping[str, Any]]:
    """The rows of a bulk call: an iterable of mappings (not a string, not one mapping)."""
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
        raise InvalidInputError("store.bulk_not_list", got=type(rows).__name__)
    out = list(rows)
    for row in out:
        if not isinstance(row, Mapping):
            raise InvalidInputError("store.bulk_not_list", got=type(row).__name__)
    return out


def required(row: Mapping[str, Any], index: int, field: str) -> Any:
    """``row[field]``; a row of a bulk call without it is refused naming the row's number."""
    if field not in row:
        raise InvalidInputError("store.missing_field", index=index, field=field)
    return row[field]


def chat_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an ``update_chat`` call, checked and normalised."""
    if not fields:
        raise InvalidInputError("store.no_fields")
    unknown = sorted(set(fields) - set(UPDATABLE_CHAT_FIELDS))
    if unknown:
        raise InvalidInputError("store.unknown_fields", fields=", ".join(unknown),
                                allowed=", ".join(UPDATABLE_CHAT_FIELDS))
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "title":
            value = text(value, "title")
        elif name == "is_archived":
            if not isinstance(value, bool):
                raise InvalidInputError("store.bad_type", field=name, expected="true/false",
                                        got=type(value).__name__)
        elif name == "metadata":
            value = json_value(value, "metadata")
        else:
            value = text(value, name, required=False, allow_empty=True)
        values[name] = value
    return values


__all__ = [
    "MAX_LIMIT", "UPDATABLE_CHAT_FIELDS", "UuidMemo", "canonical_uuid", "chat_fields", "choice",
    "given_or_new_id", "integer", "json_text", "json_value", "limit", "new_ids", "reference_text",
    "required", "row_list", "score", "shorten", "text",
]
