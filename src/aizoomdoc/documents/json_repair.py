"""JSON as OCR pipelines leave it: cut off mid-object, keys without quotes, trailing commas.

:func:`loads_tolerant` parses strict JSON first; when that fails it tries, in order, quoting bare
keys and dropping trailing commas, then closing a cut-off document at its last complete value —
so the fields written before the cut are kept. It says which repair it made; callers record a
warning and keep going.
"""

from __future__ import annotations

import json
import re
from collections import deque
from typing import Any, Literal

Repair = Literal["ok", "repaired", "truncated"]

_BARE_KEY = re.compile(r'([{,]\s*)([A-Za-zА-Яа-яЁё_][\wА-Яа-яЁё-]*)(\s*:)')
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
#: At most this many cut points are tried when closing a cut-off document.
MAX_CUTS = 64


def loads_tolerant(text: str) -> tuple[Any, Repair] | None:
    """(object, how) for ``text``, or None when nothing usable can be recovered."""
    try:
        return json.loads(text), "ok"
    except json.JSONDecodeError:
        pass
    fixed = _TRAILING_COMMA.sub(r"\1", _BARE_KEY.sub(r'\1"\2"\3', text))
    if fixed != text:
        try:
            return json.loads(fixed), "repaired"
        except json.JSONDecodeError:
            pass
    closed = close_truncated(fixed)
    if closed is not None:
        return closed, "truncated"
    return None


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null')


def close_truncated(text: str) -> Any:
    """The longest prefix of a cut-off JSON document that closes into valid JSON, parsed; None.

    Cut points are the places right after a complete value or an opening bracket; the tail after
    the cut is dropped and the open brackets are closed. The scan runs on regex tokens (strings
    whole), so a cut-off file of megabytes is closed in a fraction of a second.
    """
    closers = ""  # the open brackets' closing characters, innermost first
    cuts: deque[tuple[int, str]] = deque(maxlen=MAX_CUTS)  # after a complete value
    opens: deque[tuple[int, str]] = deque(maxlen=MAX_CUTS)  # after an opening bracket (an empty container)
    starts = [p for p in (text.find("{"), text.find("[")) if p >= 0]
    if not starts:
        return None
    start = min(starts)
    after_key = False
    for m in _TOKEN.finditer(text, start):
        tok = m.group(0)
        ch = tok[0]
        if ch == "{" or ch == "[":
            closers = ("}" if ch == "{" else "]") + closers
            after_key = False
            opens.append((m.end(), closers))
        elif ch == "}" or ch == "]":
            if not closers:
                break
            closers = closers[1:]
            if not closers:
                return _parse(text[start:m.end()])
            cuts.append((m.end(), closers))
            after_key = False
        elif ch == ":":
            after_key = True
        elif ch == ",":
            after_key = False
        elif closers and (after_key or closers[0] == "]"):  # a complete string, number or literal value
            cuts.append((m.end(), closers))
            after_key = False
    for end, closers in [*reversed(cuts), *reversed(opens)]:
        body = text[start:end].rstrip().rstrip(",")
        parsed = _parse(body + closers)
        if parsed is not None:
            return parsed
    return None


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def json_values_text(fragment: str) -> str:
    """The words of a JSON fragment without its syntax: what a broken block keeps as its text."""
    text = re.sub(r'"([\w]+)"\s*:', " ", fragment)
    text = re.sub(r'[{}\[\]",]+', " ", text)
    return " ".join(text.split())
