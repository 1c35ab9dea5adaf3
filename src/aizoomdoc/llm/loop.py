"""The tool loop: ask the model, run the tools it calls, show it what they produced, repeat until
it answers — within the step limit and the per-call image and character limits.

The loop knows nothing of storage: tools run through a :class:`~aizoomdoc.llm.tools.ToolExecutor`
given by the pipeline, which renders, stores and records whatever the model asks for.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aizoomdoc.errors import LLMError
from aizoomdoc.llm.base import (
    LLMProvider,
    Message,
    TokenCallback,
    Usage,
    count_chars,
    count_images,
    image_part,
    text_part,
)
from aizoomdoc.llm.tools import TOOL_NAMES, TOOL_SPECS, ToolExecutor
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

StepCallback = Callable[[int, list[str]], "Awaitable[None] | None"]


@dataclass(frozen=True)
class LoopLimits:
    max_steps: int = 10
    max_images: int = 6
    max_chars: int = 24000
    stream: bool = True

    @classmethod
    def from_settings(cls, settings: Any) -> LoopLimits:
        return cls(
            max_steps=settings.llm_max_steps,
            max_images=settings.llm_max_images_per_call,
            max_chars=settings.llm_max_chars_per_call,
            stream=getattr(settings, "llm_stream", True),
        )


@dataclass
class CallStats:
    step: int
    chars: int
    images: int


@dataclass
class LoopResult:
    answer: str
    model: str
    usage: Usage = field(default_factory=Usage)
    steps: int = 0
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    calls: list[CallStats] = field(default_factory=list)


def fit_messages(messages: Sequence[Message], max_images: int, max_chars: int) -> list[Message]:
    """A copy of ``messages`` within the limits.

    Images: the newest ``max_images`` are kept; older ones become a short text saying so.
    Characters: tool results and earlier turns are shortened oldest first, then — only if still
    needed — the longest text part. The system message and the current question are kept.
    """
    msgs = copy.deepcopy(list(messages))
    # --- images -------------------------------------------------------------------------------
    seen = 0
    for m in reversed(msgs):
        content = m.get("content")
        if not isinstance(content, list):
            continue
        for i in range(len(content) - 1, -1, -1):
            p = content[i]
            if p.get("type") != "image_url":
                continue
            seen += 1
            if seen > max_images:
                content[i] = text_part(t("tool.image_omitted", image_id=p.get("_label", "?")))
    # --- characters ---------------------------------------------------------------------------
    total = count_chars(msgs)
    if total <= max_chars:
        return msgs
    omitted = t("tool.text_omitted")
    # oldest-first: tool results and history (everything but the system prompt and the first
    # user message of the current turn, which carries the hits)
    anchor = next((i for i, m in enumerate(msgs) if m.get("_anchor")), None)
    for i, m in enumerate(msgs):
        if total <= max_chars:
            break
        if m.get("role") == "system" or i == anchor:
            continue
        if i >= len(msgs) - 1:
            break  # never cut the newest message
        content = m.get("content")
        if isinstance(content, str) and len(content) > len(omitted) * 2:
            keep = max(len(omitted) * 2, len(content) - (total - max_chars))
            new = content[: keep - len(omitted)] + omitted if keep < len(content) else content
            total -= len(content) - len(new)
            m["content"] = new
        elif isinstance(content, list):
            for p in content:
                if p.get("type") == "text" and len(p["text"]) > len(omitted) * 2 and total > max_chars:
                    keep = max(len(omitted) * 2, len(p["text"]) - (total - max_chars))
                    new = p["text"][: keep - len(omitted)] + omitted
                    total -= len(p["text"]) - len(new)
                    p["text"] = new
    while total > max_chars:
        # last resort: cut the longest text part anywhere (keeps the structure valid)
        best: tuple[int, dict[str, Any], str] | None = None
        for m in msgs:
            c = m.get("content")
            holders = [(m, "content")] if isinstance(c, str) else (
                [(p, "text") for p in c if p.get("type") == "text"] if isinstance(c, list) else [])
            for h, key in holders:
                if best is None or len(h[key]) > best[0]:
                    best = (len(h[key]), h, key)
        if best is None or best[0] <= len(omitted) + 1:
            break
        length, holder, key = best
        cut = min(total - max_chars, length - len(omitted) - 1)
        holder[key] = holder[key][: length - cut - len(omitted)] + omitted
        total = count_chars(msgs)
    return msgs


async def _maybe_await(result: Any) -> None:
    if hasattr(result, "__await__"):
        await result


async def run_tool_loop(
    provider: LLMProvider,
    *,
    system_prompt: str,
    user_content: list[dict[str, Any]],
    executor: ToolExecutor,
    history: Sequence[Message] = (),
    limits: LoopLimits = LoopLimits(),
    on_token: TokenCallback | None = None,
    on_step: StepCallback | None = None,
) -> LoopResult:
    """Run one turn. Raises :class:`LLMError` on provider failures, on a second malformed tool
    call in a row, and on an empty answer."""
    messages: list[Message] = [{"role": "system", "content": system_prompt}, *history,
                               {"role": "user", "content": user_content, "_anchor": True}]
    result = LoopResult(answer="", model=provider.model)
    bad_in_a_row = 0
    for step in range(1, limits.max_steps + 1):
        final = step == limits.max_steps
        if final and step > 1:
            messages.append({"role": "user", "content": t("llm.final_step")})
        wire = fit_messages(messages, limits.max_images, limits.max_chars)
        result.calls.append(CallStats(step, count_chars(wire), count_images(wire)))
        reply = await provider.chat(
            wire,
            tools=TOOL_SPECS,
            tool_choice="none" if final else "auto",
            stream=limits.stream,
            on_token=on_token,
        )
        result.steps = step
        result.usage.add(reply.usage)
        if reply.model:
            result.model = reply.model
        if not reply.tool_calls or final:
            answer = (reply.content or "").strip()
            if not answer:
                if reply.tool_calls:
                    raise LLMError("llm.error.bad_tool_call", detail=t("llm.error.detail.tool_after_limit"))
                raise LLMError("llm.error.empty")
            result.answer = answer
            return result

        messages.append(reply.to_message())
        images = []
        bad: list[str] = []
        names = []
        for call in reply.tool_calls:
            names.append(call.name or "?")
            if call.name not in TOOL_NAMES:
                text = t("tool.error.unknown_tool", name=call.name or "—", known=", ".join(TOOL_NAMES))
                bad.append(t("llm.error.detail.unknown_tool", name=call.name))
            else:
                try:
                    args = call.parse_arguments()
                except (ValueError, json.JSONDecodeError) as exc:
                    text = t("tool.error.bad_json", name=call.name, detail=str(exc)[:120])
                    bad.append(t("llm.error.detail.bad_json", name=call.name))
                else:
                    res = await executor.execute(call.name, args)
                    text = res.text
                    images.extend(res.images)
                    result.tool_calls.append({"step": step, "name": call.name, "arguments": args,
                                              "result": text[:500],
                                              "images": [im.label for im in res.images]})
            messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
        if on_step is not None:
            await _maybe_await(on_step(step, names))
        if bad:
            bad_in_a_row += 1
            log.warning("malformed tool call at step %d: %s", step, "; ".join(bad))
            if bad_in_a_row > 1:
                raise LLMError("llm.error.bad_tool_call", detail="; ".join(bad))
            messages.append({"role": "user", "content": t("llm.corrective")})
        else:
            bad_in_a_row = 0
        if images:
            parts: list[dict[str, Any]] = []
            for im in images:
                parts.append(text_part(t("llm.image_caption", label=im.label, caption=im.caption)))
                parts.append(image_part(im.data, im.mime, im.label))
            messages.append({"role": "user", "content": parts})
    raise AssertionError("unreachable")  # the final step always returns or raises
