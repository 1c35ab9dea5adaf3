"""The agent layer: LLM providers behind one interface, the tool loop, prompts, history.

Imports only config, errors, texts and the pure domain; never the pipeline or the store.
"""

from __future__ import annotations

from typing import Any

from aizoomdoc.llm.base import AssistantMessage, LLMProvider, Message, ToolCall, Usage, uses_model
from aizoomdoc.llm.loop import LoopLimits, LoopResult, run_tool_loop
from aizoomdoc.llm.tools import ToolExecutor, ToolImage, ToolResult


def provider_from_settings(settings: Any) -> LLMProvider | None:
    """The configured HTTP provider, or None when no LLM_API_KEY is set (no language model:
    :func:`answering_provider` gives the direct answerer then).

    A key of ``none`` (any case) means "a local server that needs no key" (Ollama, LM Studio).
    """
    from aizoomdoc.llm.openai_compat import OpenAICompatProvider

    key = settings.secret("llm_api_key")
    if not key:
        return None
    if key.strip().lower() == "none":
        return OpenAICompatProvider.from_settings(settings, api_key=None)
    return OpenAICompatProvider.from_settings(settings)


def answering_provider(provider: LLMProvider | None) -> LLMProvider:
    """``provider``, or the direct answerer (no language model) for None."""
    if provider is not None:
        return provider
    from aizoomdoc.llm.direct import DirectProvider

    return DirectProvider()


__all__ = [
    "AssistantMessage", "LLMProvider", "LoopLimits", "LoopResult", "Message", "ToolCall",
    "ToolExecutor", "ToolImage", "ToolResult", "Usage", "answering_provider", "provider_from_settings",
    "run_tool_loop", "uses_model",
]
