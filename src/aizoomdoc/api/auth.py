"""Who is calling: local single-user mode, or Supabase JWTs / API tokens in server mode.

``AUTH_MODE=local`` (the default): no login; every request is ``DEFAULT_USER_ID``. The server
refuses to listen on anything but loopback (``aizoomdoc serve``), and as a second line of defence
a request from a non-loopback client is refused (403) even if someone started uvicorn by hand on
``0.0.0.0``.

``AUTH_MODE=server``: every ``/api`` request carries a bearer token, either

* a Supabase access token — HS256 signed with ``SUPABASE_JWT_SECRET``, audience
  ``authenticated``, ``exp`` required, the user id in ``sub``; or
* an API token (``azd_…``) created with ``aizoomdoc token create USER`` and stored hashed
  (``api_tokens``; lookups are cached for :data:`TOKEN_CACHE_SECONDS` per worker, so a revoked
  token stops working within that time).

Browsers cannot put headers on ``EventSource`` or ``<img>`` requests, so the web UI exchanges the
token once for an HttpOnly, SameSite=Strict cookie (``POST /api/auth/session``). Unsafe requests
authenticated by that cookie must also send ``X-AIZoomDoc: 1`` (a header other sites cannot set
without CORS approval), which closes the CSRF door.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from typing import Any

import jwt
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from aizoomdoc.api.deps import AppState, Ctx, User, get_ctx, get_state
from aizoomdoc.errors import AuthError, ConfigError, ForbiddenError
from aizoomdoc.store.events import TOKEN_PREFIX
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

COOKIE_NAME = "aizoomdoc_token"
CSRF_HEADER = "x-aizoomdoc"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_CACHE_SECONDS = 60.0
JWT_AUDIENCE = "authenticated"
JWT_LEEWAY = 30

_token_cache: dict[str, tuple[float, str]] = {}


def is_loopback(host: str | None) -> bool:
    if not host:
        return True  # a Unix socket: only local processes can reach it
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _bearer(request: Request) -> tuple[str | None, bool]:
    """The request's token and whether it came from the session cookie."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip(), False
        raise AuthError("api.auth.required")
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        return cookie, True
    return None, False


def verify_jwt(token: str, secret: str | None) -> dict[str, Any]:
    """The claims of a valid Supabase access token, or :class:`AuthError` saying why not."""
    if not secret:
        raise ConfigError("api.auth.no_secret")
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=JWT_AUDIENCE, leeway=JWT_LEEWAY,
                            options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise AuthError("api.auth.invalid", reason=t("api.auth.reason.expired")) from None
    except jwt.InvalidAudienceError:
        raise AuthError("api.auth.invalid", reason=t("api.auth.reason.audience")) from None
    except jwt.InvalidSignatureError:
        raise AuthError("api.auth.invalid", reason=t("api.auth.reason.signature")) from None
    except jwt.MissingRequiredClaimError as exc:
        reason = "api.auth.reason.no_sub" if exc.claim == "sub" else "api.auth.reason.malformed"
        raise AuthError("api.auth.invalid", reason=t(reason)) from None
    except jwt.PyJWTError:
        raise AuthError("api.auth.invalid", reason=t("api.auth.reason.malformed")) from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise AuthError("api.auth.invalid", reason=t("api.auth.reason.no_sub"))
    return claims


async def user_for_token(state: AppState, token: str) -> User:
    if token.startswith(TOKEN_PREFIX):
        now = time.monotonic()
        cached = _token_cache.get(token)
        if cached is not None and cached[0] > now:
            return User(cached[1], "token")
        user_id = await state.tokens.lookup(token)
        if user_id is None:
            _token_cache.pop(token, None)
            raise AuthError("api.auth.invalid", reason=t("api.auth.reason.unknown_token"))
        if len(_token_cache) > 10_000:
            _token_cache.clear()
        _token_cache[token] = (now + TOKEN_CACHE_SECONDS, user_id)
        return User(user_id, "token")
    claims = verify_jwt(token, state.settings.secret("supabase_jwt_secret"))
    return User(str(claims["sub"]), "jwt", claims)


async def authenticate(request: Request, state: AppState) -> User:
    settings = state.settings
    if settings.auth_mode == "local":
        client = request.client
        if client is not None and not is_loopback(client.host):
            raise ForbiddenError("api.auth.local_only")
        return User(settings.default_user_id, "local")
    token, from_cookie = _bearer(request)
    if token is None:
        raise AuthError("api.auth.required")
    if from_cookie and request.method not in SAFE_METHODS and not request.headers.get(CSRF_HEADER):
        raise ForbiddenError("api.auth.csrf")
    return await user_for_token(state, token)


# --- routes ------------------------------------------------------------------------------------
router = APIRouter(prefix="/api/auth", tags=["auth"])


class SessionIn(BaseModel):
    token: str


@router.get("/me", summary=t("api.auth.me.summary"))
async def me(ctx: Ctx = Depends(get_ctx)) -> dict[str, Any]:
    return {"user_id": ctx.user_id, "via": ctx.user.via, "auth_mode": ctx.settings.auth_mode}


@router.post("/session", summary=t("api.auth.create_session.summary"))
async def create_session(body: SessionIn, request: Request, response: Response,
                         state: AppState = Depends(get_state)) -> dict[str, Any]:
    if state.settings.auth_mode == "local":
        return {"user_id": state.settings.default_user_id, "via": "local", "auth_mode": "local"}
    token = body.token.strip()
    user = await user_for_token(state, token)
    max_age = 30 * 24 * 3600
    if user.via == "jwt":
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
        if isinstance(exp, (int, float)):
            max_age = max(1, int(exp - time.time()))
    response.set_cookie(COOKIE_NAME, token, max_age=max_age, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return {"user_id": user.id, "via": user.via, "auth_mode": "server"}


@router.delete("/session", summary=t("api.auth.delete_session.summary"))
async def delete_session(response: Response) -> dict[str, Any]:
    response.delete_cookie(COOKIE_NAME, path="/")
    return {"ok": True}


__all__ = ["COOKIE_NAME", "CSRF_HEADER", "authenticate", "is_loopback", "router", "verify_jwt"]
