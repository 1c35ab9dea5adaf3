"""The FastAPI application: ``create_app(settings)``; ``app_factory`` for uvicorn workers.

    uvicorn --factory aizoomdoc.api.app:app_factory --workers 2   # what `aizoomdoc serve` runs

The app is stateless between requests: every worker builds its own :class:`AppState` (engine,
file storage, document service, LLM provider) in the lifespan, and everything a user sees —
chats, messages, images, live events — is read from the database and the file storage. So any
number of workers or machines can share one PostgreSQL and one bucket.

Routes: ``/api/...`` (JSON; OpenAPI at ``/docs``), ``/files/...`` (signed local files), ``/`` and
``/static/...`` (the web UI from ``aizoomdoc/web``, plain files, no build step).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from aizoomdoc.api import (
    auth,
    chats,
    compare,
    document_search,
    documents,
    events,
    examples,
    images,
    library,
    messages,
    pages,
    search,
    stats,
    status,
)
from aizoomdoc.api.deps import AppState
from aizoomdoc.api.errors import install_error_handlers
from aizoomdoc.api.guard import LocalRequestGuard
from aizoomdoc.api.limits import UserCounter
from aizoomdoc.api.runner import AskRunner
from aizoomdoc.config import Settings, get_settings
from aizoomdoc.isolation import worker_pool
from aizoomdoc.store.database import Database
from aizoomdoc.store.events import ApiTokenStore, ChatEventLog
from aizoomdoc.store.factory import build_chat_store, build_files
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
SHUTDOWN_GRACE_SECONDS = 10.0


def _chat_store(settings: Settings, db: Database) -> Any:
    """The chat store of the server: the offline-resilient one on PostgreSQL (it journals writes
    locally while PostgreSQL is down); on SQLite the plain store on the worker's own engine."""
    from aizoomdoc.store.chats import ChatStore

    return build_chat_store(settings) if db.is_postgres else ChatStore(db)


async def build_state(settings: Settings, **overrides: Any) -> AppState:
    """Every shared service of one worker. ``overrides`` replace parts (tests: ``provider=…``)."""
    from aizoomdoc.llm import provider_from_settings
    from aizoomdoc.pipeline.ingest import DocumentService, ServiceDocumentSource

    db = overrides.pop("db", None) or Database(settings)
    files = overrides.pop("files", None) or build_files(settings)
    store = overrides.pop("store", None) or _chat_store(settings, db)
    doc_service = DocumentService(settings, db=db, storage=files)
    provider = overrides.pop("provider") if "provider" in overrides else provider_from_settings(settings)
    state = AppState(
        settings=settings, db=db, store=store, files=files, documents=doc_service,
        source=ServiceDocumentSource(settings, doc_service, allow_paths=False), provider=provider,
        events=ChatEventLog(db), tokens=ApiTokenStore(db, settings.secret("api_token_pepper")),
    )
    state.runner = AskRunner(state)
    state.streams = UserCounter(settings.api_max_streams_per_user, "api.limit.streams")
    from aizoomdoc.pipeline.queue import build_jobs

    state.jobs = build_jobs(settings, doc_service)
    if db.is_postgres and not getattr(db, "_pooler", False):
        from aizoomdoc.store.events import PgEventListener

        state.listener = PgEventListener(db, state.notifier.notify)
        state.listener.start()
    if db.is_sqlite:
        from aizoomdoc.store import migrate

        await migrate.ensure_schema(db)
        await state.jobs.recover()  # documents a stopped server left unfinished
    else:
        await _check_schema(db)
    return state


async def _check_schema(db: Database) -> None:
    from aizoomdoc.store import migrate

    try:
        current, head = await migrate.current_revision(db), migrate.head_revision()
    except Exception as exc:  # noqa: BLE001 - the server starts; requests report the real error
        log.warning("could not read the database revision: %s", getattr(exc, "key", type(exc).__name__))
        return
    if current != head:
        log.warning("database %s is at revision %s, the code expects %s: run `aizoomdoc db upgrade`",
                    db.target, current, head)


async def close_state(state: AppState) -> None:
    if state.runner is not None:
        await state.runner.shutdown(SHUTDOWN_GRACE_SECONDS)
    if state.listener is not None:
        await state.listener.aclose()
    if state.jobs is not None:
        await state.jobs.aclose()
    for obj in (state.provider, state.files, state.store):
        if obj is None:
            continue
        for name in ("aclose", "close"):
            fn = getattr(obj, name, None)
            if fn is not None:
                try:
                    res = fn()
                    if hasattr(res, "__await__"):
                        await res
                except Exception:  # noqa: BLE001 - shutting down anyway
                    log.debug("closing %s failed", type(obj).__name__, exc_info=True)
                break
    await state.db.dispose()


def create_app(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """The application for ``settings`` (default: from the environment / ``.env``)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await build_state(settings, **dict(overrides))
        app.state.aizoomdoc = state
        worker_pool(settings).warm_in_background()  # renders and parsing run there: start them now
        log.info("AIZoomDoc API ready: auth=%s, database=%s, storage=%s, llm=%s", settings.auth_mode,
                 state.db.target if state.db.is_sqlite else state.db.dialect, state.files.backend,
                 "offline" if state.provider is None else getattr(state.provider, "model", "?"))
        try:
            yield
        finally:
            await close_state(state)

    app = FastAPI(
        title="AIZoomDoc",
        description=t("api.app.create_app.description"),
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    if settings.auth_mode == "local":
        app.add_middleware(LocalRequestGuard)  # loopback Host names only, no cross-site writes
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=True,
                           allow_methods=["*"], allow_headers=["Authorization", "Content-Type", "X-AIZoomDoc",
                                                               "Last-Event-ID"])

    csp = _content_security_policy(settings)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith(("/docs", "/openapi.json")):
            response.headers.setdefault("Content-Security-Policy", csp)
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    for module in (auth, chats, messages, events, images, search, document_search, examples, documents, pages,
                   status, library, stats, compare):
        app.include_router(module.router)
    app.include_router(images.files_router)

    if WEB_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")

        @app.get("/", include_in_schema=False)
        async def index() -> FileResponse:
            return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    return app


def _content_security_policy(settings: Settings) -> str:
    img = ["'self'", "data:", "blob:"]
    if settings.use_s3_storage and settings.s3_endpoint_url:
        from urllib.parse import urlsplit

        parts = urlsplit(settings.s3_endpoint_url)
        img.append(f"{parts.scheme}://{parts.netloc}")
        if settings.s3_bucket and settings.s3_addressing_style != "path":
            img.append(f"{parts.scheme}://*.{parts.netloc}")
    if settings.use_s3_storage and not settings.s3_endpoint_url:
        img.append("https://*.amazonaws.com")
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src " + " ".join(img)
            + "; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def app_factory() -> FastAPI:
    """For ``uvicorn --factory``: settings from the environment (each worker builds its own)."""
    return create_app(get_settings())


__all__ = ["app_factory", "build_state", "close_state", "create_app"]
