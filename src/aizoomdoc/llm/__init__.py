"""The agent layer: LLM providers behind one interface, the tool loop, prompts, history.

Imports only config, errors, texts and the pure domain; never the pipeline or the store.
"""

from __future__ import annotations

from typing import Any

from aizoomdoc.llm.base import AssistantMessage, LLMProvider, Message, ToolCall, Usage
from aizoomdoc.llm.loop import LoopLimits, LoopResult, run_tool_loop
from aizoomdoc.llm.tools import ToolExecutor, ToolImage, ToolResult


def provider_from_settings(settings: Any) -> LLMProvider | None:
    """The configured HTTP provider, or None when no LLM_API_KEY is set (offline answerer).

    A key of ``none`` (any case) means "a local server that needs no key" (Ollama, LM Studio).
    """
    from aizoomdoc.llm.openai_compat import OpenAICompatProvider

    key = settings.secret("llm_api_key")
    if not key:
        return None
    if key.strip().lower() == "none":
        return OpenAICompatProvider.from_settings(settings, api_key=None)
    return OpenAICompatProvider.from_settings(settings)


__all__ = [
    "AssistantMessage", "LLMProvider", "LoopLimits", "LoopResult", "Message", "ToolCall",
    "ToolExecutor", "ToolImage", "ToolResult", "Usage", "provider_from_settings", "run_tool_loop",
]
