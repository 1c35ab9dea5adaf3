"""Local mode only answers its own pages: loopback Host names, and no cross-site writes.

``AUTH_MODE=local`` has no login, so the server must make sure a request comes from the user's own
browser tab or program, not from a web page of another site:

* **Host**: only ``127.0.0.1``/any loopback address, ``localhost`` and ``[::1]`` (with any port)
  are served. A page of ``attacker.example`` that re-points its DNS name at 127.0.0.1 (DNS
  rebinding) sends ``Host: attacker.example`` and gets 403 on every route.
* **Writes** (POST, PUT, PATCH, DELETE) need the ``X-AIZoomDoc`` header (the web UI sends it on
  every request; other sites cannot add it without a CORS preflight, which this server refuses),
  or an ``Origin`` equal to the server's own. A cross-site ``fetch(…, {mode: "no-cors"})`` or form
  post has neither: 403, nothing happens.

Server mode keeps its own rule (``api/auth.py``): writes authenticated by the session cookie need
``X-AIZoomDoc``; bearer tokens are never sent by a browser on its own.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from aizoomdoc.texts import t

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = b"x-aizoomdoc"


def host_name(host: str) -> str:
    """``127.0.0.1:8000`` -> ``127.0.0.1``; ``[::1]:8000`` -> ``::1``; ``localhost.`` -> ``localhost``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_loopback_host(host: str) -> bool:
    name = host_name(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _refuse(key: str, **params: Any) -> tuple[int, bytes]:
    return 403, json.dumps({"error": t(key, **params), "key": key}, ensure_ascii=False).encode("utf-8")


def check(scope: dict[str, Any]) -> tuple[int, bytes] | None:
    """Why a local-mode request is refused (status, JSON body), or None."""
    headers = {k.lower(): v for k, v in scope.get("headers") or []}
    host = headers.get(b"host", b"").decode("latin-1")
    if not is_loopback_host(host):
        return _refuse("api.host_refused", host=host[:80] or "—")
    if scope.get("method", "GET").upper() in UNSAFE_METHODS and not headers.get(CSRF_HEADER):
        origin = headers.get(b"origin", b"").decode("latin-1").strip().lower()
        own = f"{scope.get('scheme', 'http')}://{host}".lower()
        if origin != own:
            return _refuse("api.csrf_local")
    return None


class LocalRequestGuard:
    """ASGI middleware applying :func:`check` to every HTTP request (local mode)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            refused = check(scope)
            if refused is not None:
                status, body = refused
                await send({"type": "http.response.start", "status": status,
                            "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                        (b"content-length", str(len(body)).encode()),
                                        (b"x-content-type-options", b"nosniff")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


__all__ = ["LocalRequestGuard", "check", "host_name", "is_loopback_host"]
