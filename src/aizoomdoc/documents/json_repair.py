"""JSON as OCR pipelines leave it: cut off mid-object, keys without quotes, trailing commas.

:func:`loads_tolerant` parses strict JSON first; when that fails it tries, in order, quoting bare
keys and dropping trailing commas, then closing a cut-off document at its last complete value —
so the fields written before the cut are kept. It says which repair it made; callers record a
warning and keep going.
"""

from __future__ import annotations

import json
import re
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


def close_truncated(text: str) -> Any:
    """The longest prefix of a cut-off JSON document that closes into valid JSON, parsed; None.

    Cut points are the places right after a complete value or an opening bracket; the tail after
    the cut is dropped and the open brackets are closed.
    """
    stack: list[str] = []
    cuts: list[tuple[int, str]] = []  # after a complete value
    opens: list[tuple[int, str]] = []  # right after an opening bracket (keeps an empty container)
    in_string = escape = False
    after_key = False
    starts = [p for p in (text.find("{"), text.find("[")) if p >= 0]
    if not starts:
        return None
    start = min(starts)
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_string = False
                if stack and (stack[-1] == "]" or after_key):  # a complete string value
                    cuts.append((i + 1, "".join(reversed(stack))))
                    after_key = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
            after_key = False
            opens.append((i + 1, "".join(reversed(stack))))
        elif ch in "}]":
            if not stack:
                break
            stack.pop()
            if not stack:
                return _parse(text[start:i + 1])
            cuts.append((i + 1, "".join(reversed(stack))))
        elif ch == ":":
            after_key = True
        elif ch == ",":
            after_key = False
        elif (ch.isdigit() or ch in "-tfn") and (after_key or (stack and stack[-1] == "]")):
            m = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null").match(text, i)
            if m and (m.end() == len(text) or text[m.end()] in " \t\r\n,}]"):
                cuts.append((m.end(), "".join(reversed(stack))))
    for end, closers in [*reversed(cuts[-MAX_CUTS:]), *reversed(opens[-MAX_CUTS:])]:
        body = text[start:end].rstrip()
        body = re.sub(r'(,\s*)?("[^"\\]*"\s*:\s*)?$', "", body) if body.endswith(":") else body.rstrip(",")
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
