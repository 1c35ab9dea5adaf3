"""Follow-up turns: the last few messages verbatim plus a short summary of what came before —
never the whole document again (hits and images of earlier turns are not re-sent)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aizoomdoc.llm.base import Message
from aizoomdoc.llm.context import clean_text, shorten
from aizoomdoc.texts import t


def build_history(
    stored: Sequence[Mapping[str, Any]],
    *,
    keep_last: int = 4,
    message_chars: int = 1500,
    summary_chars: int = 800,
) -> tuple[str, list[Message]]:
    """From stored messages (oldest first; ``role``, ``content``, ``message_type``) build
    ``(summary, recent)``: a short summary of older exchanges (empty when none) and the last
    ``keep_last`` user/assistant messages, each shortened to ``message_chars``.

    Error messages are left out; images of earlier turns are not carried.
    """
    usable = [
        m for m in stored
        if m.get("role") in ("user", "assistant")
        and (m.get("message_type") or "text") not in ("error", "system", "tool")
        and (m.get("content") or "").strip()
    ]
    recent = usable[-keep_last:] if keep_last > 0 else []
    older = usable[: len(usable) - len(recent)]
    # the history must start with a user message for some providers
    while recent and recent[0].get("role") != "user":
        older.append(recent.pop(0))
    messages: list[Message] = [
        {"role": m["role"], "content": shorten(clean_text(m["content"]), message_chars)} for m in recent
    ]
    if not older:
        return "", messages
    lines: list[str] = []
    budget = summary_chars
    # newest older exchanges are the most relevant: fill from the end, print in order
    for m in reversed(older):
        key = "ask.summary.user" if m["role"] == "user" else "ask.summary.assistant"
        limit = 160 if m["role"] == "user" else 220
        line = "- " + t(key, text=shorten(clean_text(m["content"]), limit))
        if len(line) + 1 > budget:
            break
        lines.append(line)
        budget -= len(line) + 1
    if not lines:
        return "", messages
    return t("ask.summary.title") + "\n" + "\n".join(reversed(lines)), messages
