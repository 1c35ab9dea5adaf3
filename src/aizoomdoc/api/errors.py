"""Errors as JSON: ``{"error": "<Russian message>"}`` with the error class's status code.

Every :class:`~aizoomdoc.errors.AizoomdocError` keeps its ``status_code``; request validation
errors become 422 with a readable message; anything unexpected is logged (with its traceback, in
the server log only) and answered with a generic 500 — a client never sees a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from aizoomdoc.api.limits import RETRY_AFTER_SECONDS
from aizoomdoc.errors import AizoomdocError, AuthError
from aizoomdoc.texts import t

log = logging.getLogger(__name__)


def error_response(status: int, message: str, *, key: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if key:
        body["key"] = key
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{loc or t('api.bad_request.whole')}: {err.get('msg', '')}")
    return t("api.bad_request", detail="; ".join(parts))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AizoomdocError)
    async def _aizoomdoc(request: Request, exc: AizoomdocError) -> JSONResponse:
        if exc.status_code >= 500:
            log.warning("%s %s -> %d %s", request.method, request.url.path, exc.status_code, exc.key)
        headers = {"WWW-Authenticate": "Bearer"} if type(exc) is AuthError else None
        if exc.status_code == 429:
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return error_response(exc.status_code, str(exc), key=exc.key, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, _validation_message(exc), key="api.bad_request")

    @app.exception_handler(RecursionError)
    async def _too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        return error_response(422, t("api.too_deep"), key="api.too_deep")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, RecursionError):  # FastAPI wraps body parse errors in a 400
            return error_response(422, t("api.too_deep"), key="api.too_deep")
        if exc.status_code == 404:
            message = t("api.not_found", what=request.url.path)
        elif isinstance(exc.detail, str) and exc.detail:
            message = exc.detail
        else:
            message = t("api.bad_request", detail=str(exc.status_code))
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, t("api.internal"), key="api.internal")


__all__ = ["error_response", "install_error_handlers"]
