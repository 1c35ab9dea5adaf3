"""What every request needs: the application state (shared services) and the caller's context.

:class:`AppState` is built once per worker process by the app's lifespan: one database engine,
one file storage, one document service, one LLM provider, the event log and the ask runner.
Nothing request-specific lives there, so any number of workers can share one database and one
bucket (the server is stateless; live events go through the ``chat_events`` table).

:class:`Ctx` is the caller: their user id, and the stores *as that user* (``for_user``), so on
PostgreSQL every statement of the request runs under RLS even if an endpoint forgot to check
ownership. Endpoints still check it (:meth:`Ctx.chat`): another user's chat is a 404.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from aizoomdoc.config import Settings
from aizoomdoc.errors import NotFoundError
from aizoomdoc.store.database import Database
from aizoomdoc.store.events import ApiTokenStore, ChatEventLog
from aizoomdoc.store.files import FileStorage
from aizoomdoc.store.files.paths import key_under
from aizoomdoc.store.protocol import ChatStoreProtocol

log = logging.getLogger(__name__)

#: Safety-net poll of a stream while PostgreSQL LISTEN/NOTIFY is delivering wake-ups.
LISTENING_POLL_SECONDS = 3.0


class Notifier:
    """Wakes this worker's SSE streams of a chat as soon as an event is written here.

    Each chat has a version number bumped by :meth:`notify`; a stream takes the version before it
    reads the log and waits only if nothing was written since, so no wake-up is ever lost between
    the read and the wait. Events written by other workers are found by polling
    (``API_EVENTS_POLL_INTERVAL``).
    """

    MAX_CHATS = 10_000

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._versions: dict[str, int] = {}

    def version(self, chat_id: str) -> int:
        return self._versions.get(chat_id, 0)

    def notify(self, chat_id: str) -> None:
        if len(self._versions) > self.MAX_CHATS:
            self._versions.clear()  # waiters then see a changed version and read once more
        self._versions[chat_id] = self._versions.get(chat_id, 0) + 1
        for ev in list(self._waiters.get(chat_id, ())):
            ev.set()

    async def wait(self, chat_id: str, seen: int, timeout: float) -> None:
        """Return when the chat's version differs from ``seen``, or after ``timeout`` seconds."""
        if self.version(chat_id) != seen:
            return
        ev = asyncio.Event()
        waiters = self._waiters.setdefault(chat_id, set())
        waiters.add(ev)
        try:
            await asyncio.wait_for(ev.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            waiters.discard(ev)
            if not waiters:
                self._waiters.pop(chat_id, None)


@dataclass
class AppState:
    settings: Settings
    db: Database
    store: ChatStoreProtocol  # ChatStore, or the offline-resilient wrapper with the same interface
    files: FileStorage
    documents: Any  # pipeline.ingest.DocumentService
    source: Any  # pipeline.ingest.ServiceDocumentSource
    provider: Any  # llm.LLMProvider | None (None: offline answerer)
    events: ChatEventLog
    tokens: ApiTokenStore
    notifier: Notifier = field(default_factory=Notifier)
    runner: Any = None  # api.runner.AskRunner
    streams: Any = None  # api.limits.UserCounter: open event streams per user
    listener: Any = None  # store.events.PgEventListener (PostgreSQL) or None
    jobs: Any = None  # pipeline.queue.QueueJobs | LocalJobs: where uploaded documents are processed
    _status: tuple[float, dict[str, Any]] | None = None

    # --- links ----------------------------------------------------------------------------
    def link(self, key: str | None, expires_in: int | None = None) -> str | None:
        """A fresh signed link to a stored file; relative (``/files/…``) for the local backend so
        it works whatever host and port the browser used."""
        if not key:
            return None
        url = self.files.get_signed_url(key, expires_in=expires_in or self.settings.s3_url_expiration)
        if self.files.backend == "local":
            base = self.settings.public_base_url.rstrip("/")
            if url.startswith(base):
                url = url[len(base):]
        return url

    def poll_interval(self) -> float:
        """How often a stream re-reads the log when nothing woke it: rarely while PostgreSQL
        notifications flow (they wake it), ``API_EVENTS_POLL_INTERVAL`` otherwise."""
        if self.listener is not None and self.listener.active:
            return max(LISTENING_POLL_SECONDS, self.settings.api_events_poll_interval)
        return self.settings.api_events_poll_interval

    def chat_file_link(self, key: Any, chat_id: str) -> str | None:
        """A signed link to ``key`` only if it lies in this chat's folder (``chats/{chat_id}/``).

        Image keys are read back from columns and events the user can write (through Supabase's
        Data API, say): a key of another chat — another user's image — is never signed."""
        if not key_under(key, f"chats/{chat_id}/"):
            if key:
                log.warning("refused to sign a key outside chat %s", chat_id)
            return None
        return self.link(key)

    def image_out(self, row: dict[str, Any], chat_id: str) -> dict[str, Any]:
        """An image record of chat ``chat_id`` as the API shows it: the record plus ``url``
        (signed, fresh; None for a key outside the chat's folder)."""
        out = dict(row)
        try:
            out["url"] = self.chat_file_link(row.get("s3_path"), chat_id)
        except Exception:  # noqa: BLE001 - a bad key must not break a whole history
            log.warning("could not sign a link for image %s", row.get("id"))
            out["url"] = None
        return out


@dataclass
class User:
    id: str
    via: str  # "local" | "jwt" | "token"
    claims: dict[str, Any] = field(default_factory=dict)  # a JWT's claims (roles for the admin check)


@dataclass
class Ctx:
    """The caller of one request and the stores acting as them."""

    state: AppState
    user: User
    store: ChatStoreProtocol
    events: ChatEventLog

    @property
    def user_id(self) -> str:
        return self.user.id

    @property
    def settings(self) -> Settings:
        return self.state.settings

    async def chat(self, chat_id: str) -> dict[str, Any]:
        """The caller's chat, or 404 (also for someone else's chat and for malformed ids)."""
        try:
            chat = await self.store.get_chat(chat_id)
        except NotFoundError:
            chat = None
        except Exception as exc:  # noqa: BLE001 - a malformed id is "not found", not 422
            if getattr(exc, "key", "") == "store.bad_id":
                chat = None
            else:
                raise
        if chat is None or str(chat.get("user_id")) != self.user_id:
            raise NotFoundError("api.chat_not_found", chat_id=str(chat_id)[:60])
        return chat


def make_ctx(state: AppState, user: User) -> Ctx:
    return Ctx(state=state, user=user, store=state.store.for_user(user.id), events=state.events.for_user(user.id))


def get_state(request: Request) -> AppState:
    return request.app.state.aizoomdoc


async def get_ctx(request: Request) -> Ctx:
    """FastAPI dependency: authenticate the request and build its context."""
    from aizoomdoc.api.auth import authenticate

    state = get_state(request)
    user = await authenticate(request, state)
    request.state.user_id = user.id
    return make_ctx(state, user)


async def cached_status(state: AppState, compute: Any, ttl: float = 3.0) -> dict[str, Any]:
    now = time.monotonic()
    if state._status is not None and now - state._status[0] < ttl:
        return state._status[1]
    value = await compute()
    state._status = (now, value)
    return value


__all__ = ["AppState", "Ctx", "Notifier", "User", "cached_status", "get_ctx", "get_state", "make_ctx"]
