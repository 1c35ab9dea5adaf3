"""Helpers for the HTTP API tests: an in-process client, JWTs, SSE parsing, a real uvicorn server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

from tests.support.services import free_port, port_open

JWT_SECRET = "test-jwt-secret-for-aizoomdoc-api-tests"
QUESTION = "Какая толщина утеплителя кровли П-1?"


def sign_jwt(sub: str, *, secret: str = JWT_SECRET, exp_in: int = 3600, aud: str = "authenticated",
             **claims: Any) -> str:
    now = int(time.time())
    payload = {"sub": sub, "aud": aud, "role": "authenticated", "iat": now, "exp": now + exp_in, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def api_client(settings: Any, *, client_host: str = "127.0.0.1", **overrides: Any
                     ) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """The app for ``settings`` with its lifespan running, and an httpx client talking to it."""
    from aizoomdoc.api import create_app

    app = create_app(settings, **overrides)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(client_host, 50000))
        # Like the web UI, every request carries X-AIZoomDoc (local mode refuses writes without it).
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000", timeout=60,
                                     headers={"X-AIZoomDoc": "1"}) as client:
            yield app, client


@dataclass
class SSE:
    id: int | None
    event: str
    data: dict[str, Any]


def parse_sse(text: str) -> list[SSE]:
    out: list[SSE] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        data_lines: list[str] = []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data_lines.append(value)
            else:
                fields[name] = value
        if data_lines:
            out.append(SSE(int(fields["id"]) if fields.get("id") else None, fields.get("event", "message"),
                           json.loads("\n".join(data_lines))))
    return out


async def wait_answer(client: httpx.AsyncClient, chat_id: str, accepted: dict[str, Any],
                      headers: dict[str, str] | None = None) -> list[SSE]:
    """The events of one question, read until its answer/error (the stream closes itself)."""
    r = await client.get(f"/api/chats/{chat_id}/events",
                         params={"after": accepted["event_id"] - 1, "until": accepted["question_id"]},
                         headers=headers or {})
    assert r.status_code == 200, r.text
    return parse_sse(r.text)


class LiveServer:
    """``aizoomdoc serve`` in a subprocess on a free loopback port (real uvicorn, real sockets)."""

    def __init__(self, env: dict[str, str], workers: int = 1, log: Path | None = None) -> None:
        self.port = free_port()
        self.env = env
        self.workers = workers
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> LiveServer:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SUPABASE_", "S3_", "LLM_", "DATABASE_URL", "USE_", "DATA_DIR", "AUTH_"))}
        env.update(self.env)
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aizoomdoc", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers), "--no-access-log"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            if port_open("127.0.0.1", self.port):
                try:
                    if httpx.get(self.url + "/api/status", timeout=2).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError("the API server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            import signal

            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
