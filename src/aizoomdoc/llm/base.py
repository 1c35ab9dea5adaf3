"""The provider interface every LLM backend implements, and the message shapes it speaks.

Messages use the OpenAI chat format (plain dicts: ``role``, ``content`` as a string or a list of
parts, ``tool_calls``, ``tool_call_id``) because every supported backend speaks it. Keys starting
with ``_`` are ours (e.g. ``_label`` on an image part) and are stripped before sending.
"""

from __future__ import annotations

import base64
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Message = dict[str, Any]
#: Called with every streamed text token (sync or async).
TokenCallback = Callable[[str], "Awaitable[None] | None"]


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # raw JSON text as the model produced it

    def parse_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; ValueError when they are not a JSON object."""
        text = (self.arguments or "").strip() or "{}"
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError("arguments must be a JSON object")
        return value


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def add(self, other: Usage | None) -> None:
        if other is None:
            return
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.total_tokens += other.total_tokens or (other.prompt_tokens + other.completion_tokens)

    @classmethod
    def from_dict(cls, d: Any) -> Usage | None:
        if not isinstance(d, dict):
            return None
        def num(k: str) -> int:
            v = d.get(k)
            return int(v) if isinstance(v, (int, float)) else 0
        u = cls(num("prompt_tokens"), num("completion_tokens"), num("total_tokens"))
        if not u.total_tokens:
            u.total_tokens = u.prompt_tokens + u.completion_tokens
        return u

    def to_dict(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens}


@dataclass
class AssistantMessage:
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None
    model: str | None = None
    finish_reason: str | None = None

    def to_message(self) -> Message:
        msg: Message = {"role": "assistant", "content": self.content or None}
        if self.tool_calls:
            msg["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in self.tool_calls
            ]
        return msg


@runtime_checkable
class LLMProvider(Protocol):
    """What answers a question. Implementations: :class:`~aizoomdoc.llm.openai_compat.OpenAICompatProvider`
    (a language model) and :class:`~aizoomdoc.llm.direct.DirectProvider` (no model: an extractive
    answer from the hits). ``uses_model`` tells them apart where the pipeline's behaviour differs
    (prompt and tool loop, usage records); read it with :func:`uses_model`."""

    name: str
    model: str
    uses_model: bool

    async def chat(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] | None = None,
        *,
        stream: bool = False,
        on_token: TokenCallback | None = None,
        tool_choice: str | None = None,
    ) -> AssistantMessage:
        """One completion. Raises :class:`~aizoomdoc.errors.LLMError` with a clear message."""
        ...

    async def aclose(self) -> None: ...


def uses_model(provider: object) -> bool:
    """Whether ``provider`` is a language model (a provider written before ``uses_model`` existed is)."""
    return bool(getattr(provider, "uses_model", True))


async def call_token_callback(cb: TokenCallback | None, token: str) -> None:
    if cb is None or not token:
        return
    result = cb(token)
    if inspect.isawaitable(result):
        await result


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def image_part(data: bytes, mime: str = "image/png", label: str | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "image_url", "image_url": {"url": data_url(data, mime)}}
    if label:
        part["_label"] = label
    return part


def text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def to_wire(messages: Sequence[Message]) -> list[Message]:
    """A copy of ``messages`` without our private ``_`` keys (what is sent to the server)."""
    out: list[Message] = []
    for m in messages:
        mm = {k: v for k, v in m.items() if not k.startswith("_")}
        if isinstance(mm.get("content"), list):
            mm["content"] = [{k: v for k, v in p.items() if not k.startswith("_")} for p in mm["content"]]
        out.append(mm)
    return out


def count_chars(messages: Sequence[Message]) -> int:
    """Characters of text sent (message texts, text parts, tool-call arguments); images excluded."""
    n = 0
    for m in messages:
        c = m.get("content")
        if isinstance(c, str):
            n += len(c)
        elif isinstance(c, list):
            n += sum(len(p.get("text", "")) for p in c if p.get("type") == "text")
        for tc in m.get("tool_calls") or []:
            n += len(tc.get("function", {}).get("arguments", "") or "")
    return n


def count_images(messages: Sequence[Message]) -> int:
    n = 0
    for m in messages:
        c = m.get("content")
        if isinstance(c, list):
            n += sum(1 for p in c if p.get("type") == "image_url")
    return n
