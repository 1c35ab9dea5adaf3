"""An OpenAI-compatible chat client over httpx: OpenRouter by default; Ollama, vLLM, LM Studio,
Gemini's OpenAI endpoint and anything else that serves ``POST {base}/chat/completions``.

Streams tokens (server-sent events), retries 429/5xx/timeouts/connection failures with exponential
backoff honouring ``Retry-After``, and turns every failure into an :class:`LLMError` with a clear
Russian message. The API key is sent only in the Authorization header and never logged.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from aizoomdoc.errors import LLMError
from aizoomdoc.llm.base import (
    AssistantMessage,
    Message,
    TokenCallback,
    ToolCall,
    Usage,
    call_token_callback,
    count_chars,
    count_images,
    to_wire,
)
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

RETRY_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504}


class _Retryable(Exception):
    def __init__(self, kind: str, detail: str, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.status, self.retry_after = kind, detail, status, retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, dt.timestamp() - time.time())


def _scrub(text: str, secret: str | None) -> str:
    text = " ".join(text.split())[:300]
    if secret:
        text = text.replace(secret, "***")
    return text


def _error_detail(body: bytes, secret: str | None) -> str:
    try:
        data = json.loads(body)
        err = data.get("error", data) if isinstance(data, dict) else data
        msg = err.get("message") if isinstance(err, dict) else err
        return _scrub(str(msg), secret)
    except (ValueError, AttributeError):
        return _scrub(body.decode("utf-8", "replace"), secret) or "—"


async def iter_sse(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The ``data`` payloads of a server-sent event stream (comments and other fields skipped)."""
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            data.append(value)
    if data:
        yield "\n".join(data)


class _StreamAccumulator:
    def __init__(self) -> None:
        self.content: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.usage: Usage | None = None
        self.model: str | None = None
        self.finish_reason: str | None = None

    def feed(self, chunk: dict[str, Any]) -> str:
        """Take one chunk; return its text delta."""
        if chunk.get("model"):
            self.model = chunk["model"]
        if chunk.get("usage"):
            self.usage = Usage.from_dict(chunk["usage"])
        text = ""
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or choice.get("message") or {}
            if isinstance(delta.get("content"), str):
                text += delta["content"]
            for pos, tc in enumerate(delta.get("tool_calls") or []):
                idx = tc.get("index", pos)
                slot = self.calls.setdefault(idx, {"id": "", "name": "", "arguments": ""})
                if tc.get("id"):
                    slot["id"] = tc["id"]
                fn = tc.get("function") or {}
                if fn.get("name"):
                    slot["name"] = fn["name"]
                args = fn.get("arguments")
                if isinstance(args, dict):  # some servers send an object, not a string
                    slot["arguments"] += json.dumps(args, ensure_ascii=False)
                elif isinstance(args, str):
                    slot["arguments"] += args
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        if text:
            self.content.append(text)
        return text

    def result(self) -> AssistantMessage:
        calls = [
            ToolCall(id=c["id"] or f"call_{i}", name=c["name"], arguments=c["arguments"])
            for i, c in sorted(self.calls.items())
        ]
        return AssistantMessage("".join(self.content), calls, self.usage, self.model, self.finish_reason)


def parse_completion(data: Any) -> AssistantMessage:
    """A non-streamed ``chat.completion`` body -> AssistantMessage (ValueError when malformed)."""
    if not isinstance(data, dict):
        raise ValueError("the body is not a JSON object")
    if "error" in data and not data.get("choices"):
        raise ValueError(str(data["error"])[:200])
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ValueError("no choices in the response")
    msg = choices[0].get("message")
    if not isinstance(msg, dict):
        raise ValueError("no message in the first choice")
    content = msg.get("content")
    if isinstance(content, list):  # some servers return parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    calls = []
    for i, tc in enumerate(msg.get("tool_calls") or []):
        fn = tc.get("function") or {}
        args = fn.get("arguments", "")
        if isinstance(args, dict):
            args = json.dumps(args, ensure_ascii=False)
        calls.append(ToolCall(id=tc.get("id") or f"call_{i}", name=fn.get("name", ""),
                              arguments=args if isinstance(args, str) else ""))
    return AssistantMessage(content if isinstance(content, str) else "", calls,
                            Usage.from_dict(data.get("usage")), data.get("model"),
                            choices[0].get("finish_reason"))


@dataclass(frozen=True)
class EndpointCheck:
    """What :meth:`OpenAICompatProvider.check` found: the endpoint answered and took the key."""

    #: Model ids the server listed (None when the answer had no recognisable list).
    models: tuple[str, ...] | None
    elapsed_ms: float

    def has_model(self, model: str) -> bool | None:
        """Whether ``model`` is listed; None when the server sent no list."""
        return None if self.models is None else model in self.models


def display_url(url: str) -> str:
    """``url`` without user:password (for messages)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _model_ids(data: Any) -> tuple[str, ...] | None:
    """Ids from an OpenAI ``{"data": [{"id": …}]}`` list (Ollama's ``{"models": [{"name": …}]}`` too)."""
    if not isinstance(data, dict):
        return None
    items = data.get("data", data.get("models"))
    if not isinstance(items, list):
        return None
    ids = []
    for item in items:
        if isinstance(item, dict):
            value = item.get("id") or item.get("name") or item.get("model")
            if isinstance(value, str):
                ids.append(value)
        elif isinstance(item, str):
            ids.append(item)
    return tuple(ids)


class OpenAICompatProvider:
    name = "openai_compat"
    uses_model = True  # a language model (the direct answerer is the one that is not)

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_retries: int = 3,
        backoff: float = 1.0,
        backoff_max: float = 30.0,
        temperature: float | None = None,
        extra_headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.temperature = temperature
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if "openrouter.ai" in self.base_url:
            headers.setdefault("HTTP-Referer", "https://github.com/aizoomdoc")
            headers.setdefault("X-Title", "AIZoomDoc")
        headers.update(extra_headers or {})
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(connect_timeout, timeout)),
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> OpenAICompatProvider:
        kw: dict[str, Any] = dict(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.secret("llm_api_key"),
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
            backoff=getattr(settings, "llm_retry_backoff", 1.0),
            backoff_max=getattr(settings, "llm_retry_backoff_max", 30.0),
            temperature=getattr(settings, "llm_temperature", None),
        )
        kw.update(overrides)
        return cls(**kw)

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatProvider(base_url={self.base_url!r}, model={self.model!r})"

    async def aclose(self) -> None:
        await self._client.aclose()

    # -------------------------------------------------------------------------------------
    async def check(self, timeout: float = 5.0) -> EndpointCheck:
        """``GET {base}/models`` once, with a short ``timeout`` and no retries: is the endpoint
        reachable and does it accept the key? (``aizoomdoc doctor``.)

        Raises :class:`LLMError`: ``llm.error.auth`` (401/403: LLM_API_KEY),
        ``llm.check.connect`` / ``llm.check.timeout`` (LLM_BASE_URL), ``llm.check.http`` (any other
        status). The key is sent only in the Authorization header and never appears in a message.
        """
        url = f"{self.base_url}/models"
        shown = display_url(self.base_url)
        started = time.perf_counter()
        limit = httpx.Timeout(timeout, connect=min(timeout, 3.0))
        try:
            async with asyncio.timeout(timeout + 1):
                resp = await self._client.get(url, timeout=limit,
                                              headers={"Accept": "application/json"})
        except (TimeoutError, httpx.TimeoutException):
            raise LLMError("llm.check.timeout", url=shown, timeout=f"{timeout:g}") from None
        except httpx.ConnectError:
            raise LLMError("llm.check.connect", url=shown, detail=t("llm.check.refused")) from None
        except httpx.HTTPError as exc:
            detail = _scrub(str(exc) or type(exc).__name__, self._api_key)
            if self.base_url != shown:
                detail = detail.replace(self.base_url, shown)
            raise LLMError("llm.check.connect", url=shown, detail=detail) from None
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status_code in (401, 403):
            raise LLMError("llm.error.auth", status=resp.status_code)
        if resp.status_code >= 400:
            raise LLMError("llm.check.http", url=shown, status=resp.status_code,
                           detail=_error_detail(resp.content, self._api_key))
        try:
            models = _model_ids(resp.json())
        except ValueError:
            models = None
        log.info("LLM endpoint %s answered in %.0f ms (%s models)", shown, elapsed,
                 "?" if models is None else len(models))
        return EndpointCheck(models, elapsed)

    async def chat(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] | None = None,
        *,
        stream: bool = False,
        on_token: TokenCallback | None = None,
        tool_choice: str | None = None,
    ) -> AssistantMessage:
        body: dict[str, Any] = {"model": self.model, "messages": to_wire(messages)}
        if tools:
            body["tools"] = list(tools)
            if tool_choice:
                body["tool_choice"] = tool_choice
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        url = f"{self.base_url}/chat/completions"
        log.info("LLM call: %s model=%s messages=%d chars=%d images=%d tools=%d stream=%s",
                 url, self.model, len(messages), count_chars(messages), count_images(messages),
                 len(tools or []), stream)

        attempts = 0
        last: _Retryable | None = None
        while True:
            attempts += 1
            emitted = [False]
            try:
                return await self._once(url, body, stream, on_token, emitted)
            except _Retryable as exc:
                last = exc
                if attempts > self.max_retries or emitted[0]:
                    break
                delay = min(self.backoff_max, self.backoff * (2 ** (attempts - 1)))
                if exc.retry_after is not None:
                    delay = min(self.backoff_max, max(delay, exc.retry_after))
                delay *= 1 + random.uniform(0, 0.1)
                log.warning("LLM call failed (%s: %s); retry %d/%d in %.2fs", exc.kind, exc.detail,
                            attempts, self.max_retries, delay)
                await asyncio.sleep(delay)
        assert last is not None
        if last.kind == "timeout":
            raise LLMError("llm.error.timeout", timeout=f"{self.timeout:g}", attempts=attempts)
        if last.kind == "connect":
            raise LLMError("llm.error.connect", url=display_url(self.base_url), detail=last.detail)
        raise LLMError("llm.error.http", status=last.status, attempts=attempts, detail=last.detail)

    async def _once(self, url: str, body: dict[str, Any], stream: bool,
                    on_token: TokenCallback | None, emitted: list[bool]) -> AssistantMessage:
        try:
            # an overall deadline: a server that trickles bytes forever still ends
            async with asyncio.timeout(self.timeout * (5 if stream else 1.5)):
                async with self._client.stream("POST", url, json=body) as resp:
                    if resp.status_code >= 400:
                        raw = await resp.aread()
                        self._raise_status(resp, raw)
                    ctype = resp.headers.get("content-type", "")
                    if stream and "text/event-stream" in ctype:
                        return await self._read_stream(resp, on_token, emitted)
                    raw = await resp.aread()
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise _Retryable("timeout", type(exc).__name__) from None
        except httpx.ConnectError:  # refused, DNS, TLS: said in Russian, without the URL
            raise _Retryable("connect", t("llm.check.refused")) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            raise _Retryable("connect", t("llm.error.dropped")) from None
        try:
            msg = parse_completion(json.loads(raw))
        except ValueError as exc:
            raise LLMError("llm.error.garbage", detail=_scrub(str(exc), self._api_key)) from None
        await call_token_callback(on_token, msg.content)
        return msg

    def _raise_status(self, resp: httpx.Response, raw: bytes) -> None:
        detail = _error_detail(raw, self._api_key)
        status = resp.status_code
        if status in (401, 403):
            raise LLMError("llm.error.auth", status=status)
        if status in RETRY_STATUSES or status >= 500:
            raise _Retryable("http", detail, status, parse_retry_after(resp.headers.get("retry-after")))
        raise LLMError("llm.error.http", status=status, attempts=1, detail=detail)

    async def _read_stream(self, resp: httpx.Response, on_token: TokenCallback | None,
                           emitted: list[bool]) -> AssistantMessage:
        acc = _StreamAccumulator()
        got_any = False
        async for payload in iter_sse(resp.aiter_lines()):
            if payload.strip() == "[DONE]":
                break
            try:
                chunk = json.loads(payload)
            except ValueError:
                raise LLMError("llm.error.garbage",
                               detail=_scrub(t("llm.error.detail.stream_not_json", payload=payload[:80]),
                                             self._api_key)) from None
            if not isinstance(chunk, dict):
                raise LLMError("llm.error.garbage", detail=t("llm.error.detail.stream_not_object"))
            if "error" in chunk:
                err = chunk["error"]
                detail = _scrub(str(err.get("message") if isinstance(err, dict) else err), self._api_key)
                code = err.get("code") if isinstance(err, dict) else None
                if isinstance(code, int) and (code in RETRY_STATUSES or code >= 500) and not emitted[0]:
                    raise _Retryable("http", detail, code)
                raise LLMError("llm.error.http", status=code or "—", attempts=1, detail=detail)
            got_any = True
            text = acc.feed(chunk)
            if text:
                emitted[0] = True
                await call_token_callback(on_token, text)
        if not got_any:
            raise LLMError("llm.error.garbage", detail=t("llm.error.detail.stream_empty"))
        return acc.result()
