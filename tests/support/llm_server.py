"""A scripted OpenAI-compatible server on 127.0.0.1 for tests.

It replays a script of responses to ``POST /v1/chat/completions`` — text (streamed as SSE when the
request asks for it), tool calls, HTTP errors, garbage, delays — and records every request it
receives so tests can assert on the payloads the client sent.

    with ScriptedLLM([tool_call("zoom", {"image_id": "v1", "cell": "B2"}), text("Ответ")]) as llm:
        settings = Settings(llm_base_url=llm.base_url, llm_api_key="test-key", ...)
        ...
        assert llm.requests[1].images  # the zoom was sent back

Script items are dicts (see the helpers below) or callables ``(request_json) -> dict``. When the
script is exhausted, ``default`` is replayed (e.g. ``error(500)`` for "500 forever"); without a
default the server answers 500 "script exhausted" so a test notices the extra call.

``GET /v1/models`` lists ``models`` (default: ``[model]``) in the OpenAI shape; it does not consume
the script. With ``api_key`` set, any request without ``Authorization: Bearer <api_key>`` gets 401.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Response = dict[str, Any]
ScriptItem = Response | Callable[[dict[str, Any]], Response]


def text(content: str, *, usage: tuple[int, int] = (100, 20), delay: float = 0.0) -> Response:
    return {"kind": "text", "content": content, "usage": usage, "delay": delay}


def tool_call(name: str, arguments: dict[str, Any] | str, *, content: str = "",
              usage: tuple[int, int] = (100, 10), call_id: str | None = None) -> Response:
    return tool_calls([(name, arguments)], content=content, usage=usage,
                      ids=[call_id] if call_id else None)


def tool_calls(calls: list[tuple[str, dict[str, Any] | str]], *, content: str = "",
               usage: tuple[int, int] = (100, 10), ids: list[str] | None = None) -> Response:
    return {"kind": "tools", "calls": calls, "content": content, "usage": usage, "ids": ids}


def error(status: int, message: str = "upstream error", retry_after: str | None = None) -> Response:
    return {"kind": "error", "status": status, "message": message, "retry_after": retry_after}


def garbage(body: str = "<html>502 Bad Gateway… not JSON</html>", *, sse: bool = False) -> Response:
    return {"kind": "garbage", "body": body, "sse": sse}


def delay(seconds: float, then: Response | None = None) -> Response:
    r = dict(then or text("поздно"))
    r["delay"] = seconds
    return r


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    @property
    def image_urls(self) -> list[str]:
        out = []
        for m in self.messages:
            if isinstance(m.get("content"), list):
                out += [p["image_url"]["url"] for p in m["content"] if p.get("type") == "image_url"]
        return out

    @property
    def chars(self) -> int:
        n = 0
        for m in self.messages:
            c = m.get("content")
            if isinstance(c, str):
                n += len(c)
            elif isinstance(c, list):
                n += sum(len(p.get("text", "")) for p in c if p.get("type") == "text")
            for tc in m.get("tool_calls") or []:
                n += len(tc["function"].get("arguments") or "")
        return n

    def all_text(self) -> str:
        parts = []
        for m in self.messages:
            c = m.get("content")
            if isinstance(c, str):
                parts.append(c)
            elif isinstance(c, list):
                parts += [p.get("text", "") for p in c if p.get("type") == "text"]
        return "\n".join(parts)


class ScriptedLLM:
    def __init__(self, script: list[ScriptItem] | None = None, *, default: ScriptItem | None = None,
                 model: str = "scripted/model", models: list[str] | None = None,
                 api_key: str | None = None) -> None:
        self.script: list[ScriptItem] = list(script or [])
        self.default = default
        self.model = model
        self.models = [model] if models is None else list(models)
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> ScriptedLLM:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                with owner._lock:
                    owner.requests.append(RecordedRequest(self.path, dict(self.headers), {}))
                try:
                    if owner._refuse_key(self):
                        return
                    if self.path.rstrip("/") == "/v1/models":
                        body = {"object": "list", "data": [{"id": m, "object": "model"} for m in owner.models]}
                        return owner._send(self, 200, "application/json", json.dumps(body).encode())
                    owner._send(self, 404, "application/json", b'{"error": {"message": "not found"}}')
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                if owner._refuse_key(self):
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                item = owner._next(self.path, dict(self.headers), body)
                try:
                    owner._respond(self, item, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ScriptedLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def push(self, *items: ScriptItem) -> None:
        with self._lock:
            self.script.extend(items)

    # -- internals -----------------------------------------------------------------------
    def _next(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> Response:
        with self._lock:
            self.requests.append(RecordedRequest(path, headers, body))
            item: ScriptItem | None = self.script.pop(0) if self.script else self.default
        if item is None:
            return error(500, "script exhausted")
        return item(body) if callable(item) else item

    def _refuse_key(self, h: BaseHTTPRequestHandler) -> bool:
        """Answer 401 (and return True) when ``api_key`` is set and the request lacks it."""
        if self.api_key is None or h.headers.get("Authorization") == f"Bearer {self.api_key}":
            return False
        self._send(h, 401, "application/json", b'{"error": {"message": "Invalid API key", "code": 401}}')
        return True

    def _respond(self, h: BaseHTTPRequestHandler, item: Response, req: dict[str, Any]) -> None:
        if item.get("delay"):
            time.sleep(item["delay"])
        kind = item["kind"]
        if not h.path.rstrip("/").endswith("/chat/completions"):
            return self._send(h, 404, "application/json", b'{"error": {"message": "not found"}}')
        if kind == "error":
            payload = json.dumps({"error": {"message": item["message"], "code": item["status"]}})
            extra = {"Retry-After": item["retry_after"]} if item.get("retry_after") else {}
            return self._send(h, item["status"], "application/json", payload.encode(), extra)
        if kind == "garbage":
            if item.get("sse"):
                body = f"data: {item['body']}\n\n".encode()
                return self._send(h, 200, "text/event-stream", body)
            return self._send(h, 200, "application/json", item["body"].encode())
        stream = bool(req.get("stream"))
        pt, ct = item.get("usage", (0, 0))
        usage = {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}
        calls = []
        if kind == "tools":
            ids = item.get("ids") or [None] * len(item["calls"])
            for i, (name, args) in enumerate(item["calls"]):
                calls.append({"id": ids[i] or f"call_{len(self.requests)}_{i}", "type": "function",
                              "function": {"name": name, "arguments": args if isinstance(args, str)
                                           else json.dumps(args, ensure_ascii=False)}})
        content = item.get("content", "")
        if not stream:
            msg: dict[str, Any] = {"role": "assistant", "content": content or None}
            if calls:
                msg["tool_calls"] = calls
            body = {"id": "cmpl-1", "object": "chat.completion", "model": self.model,
                    "choices": [{"index": 0, "message": msg,
                                 "finish_reason": "tool_calls" if calls else "stop"}],
                    "usage": usage}
            return self._send(h, 200, "application/json", json.dumps(body).encode())
        # streamed: content word by word, tool-call arguments in two halves
        chunks: list[dict[str, Any]] = [{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
        words = content.split(" ") if content else []
        for i, w in enumerate(words):
            tok = w if i == 0 else " " + w
            chunks.append({"choices": [{"index": 0, "delta": {"content": tok}}]})
        for i, c in enumerate(calls):
            args = c["function"]["arguments"]
            half = len(args) // 2
            chunks.append({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": i, "id": c["id"], "type": "function",
                 "function": {"name": c["function"]["name"], "arguments": args[:half]}}]}}]})
            chunks.append({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": i, "function": {"arguments": args[half:]}}]}}]})
        chunks.append({"choices": [{"index": 0, "delta": {},
                                    "finish_reason": "tool_calls" if calls else "stop"}]})
        chunks.append({"choices": [], "usage": usage})
        out = b": keep-alive\n\n"
        for c in chunks:
            c.update({"id": "cmpl-1", "object": "chat.completion.chunk", "model": self.model})
            out += b"data: " + json.dumps(c, ensure_ascii=False).encode() + b"\n\n"
        out += b"data: [DONE]\n\n"
        return self._send(h, 200, "text/event-stream", out)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, ctype: str, body: bytes,
              extra: dict[str, str] | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
