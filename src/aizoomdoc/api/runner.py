"""Questions answered in the background, their events written to the chat's event log.

``POST /api/chats/{id}/messages`` writes a ``question`` event and hands the question to
:class:`AskRunner`, which runs the ask pipeline as an asyncio task in this worker (at most
``API_ASK_CONCURRENCY`` at once; more wait in line). Every pipeline event goes to the
``chat_events`` table through :class:`EventWriter` — the SSE endpoint of any worker reads them from
there — with bursts of ``token`` events merged into one row per :data:`TOKEN_FLUSH_SECONDS`.

Exactly one terminal event (``answer`` or ``error``) ends every question, including questions
that fail before the pipeline stored anything and questions interrupted by a server shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from aizoomdoc.api.deps import AppState, Ctx
from aizoomdoc.api.limits import UserCounter
from aizoomdoc.errors import AizoomdocError, NotFoundError
from aizoomdoc.pipeline.ask import AskService
from aizoomdoc.pipeline.events import AskEvent, ErrorEvent
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

#: Tokens arriving within this many seconds are written as one event.
TOKEN_FLUSH_SECONDS = 0.1
#: Questions waiting per worker beyond the running ones before new ones are refused (503).
QUEUE_FACTOR = 50
TERMINAL = frozenset({"answer", "error"})


class BusyError(AizoomdocError):
    """Too many questions waiting in this worker."""

    status_code = 503


class EventWriter:
    """Writes the events of one question, in order, to the chat's event log.

    :meth:`emit` never waits for the database: events are queued and one background task writes
    whatever has accumulated in one transaction (so a busy database gets fewer, larger writes and
    the pipeline is never slowed by its listeners). Consecutive ``token`` events are merged; a
    batch of tokens alone waits :data:`TOKEN_FLUSH_SECONDS` for more.
    """

    def __init__(self, state: AppState, ctx: Ctx, chat_id: str, question_id: str) -> None:
        self.state, self.ctx, self.chat_id, self.question_id = state, ctx, chat_id, question_id
        self._pending: list[dict[str, Any]] = []
        self._wakeup = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.terminal_written = False
        self.broken = False

    async def emit(self, event: AskEvent | dict[str, Any]) -> None:
        data = event if isinstance(event, dict) else event.to_dict()
        if data.get("type") in TERMINAL:
            self.terminal_written = True
        self._pending.append(data)
        self._wakeup.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"events-{self.question_id}")

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if not self._pending:
                if self._closing:
                    return
                continue
            if not self._closing and all(d.get("type") == "token" for d in self._pending):
                await asyncio.sleep(TOKEN_FLUSH_SECONDS)  # let a burst of tokens gather
            batch, self._pending = self._pending, []
            await self._write(_merge_tokens(batch))
            if self._closing and not self._pending:
                return

    async def _write(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        if self.broken or not items:
            return
        try:
            await self.ctx.events.append(self.chat_id, items, question_id=self.question_id)
        except NotFoundError:
            self.broken = True  # the chat was deleted meanwhile: nobody can watch it any more
            log.info("chat %s is gone; dropping its events", self.chat_id)
            return
        except AizoomdocError as exc:
            log.warning("could not write %d events of chat %s: %s", len(items), self.chat_id, exc.key)
            return
        self.state.notifier.notify(self.chat_id)

    async def close(self) -> None:
        """Write everything still queued (shielded: runs to the end even when cancelled)."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await asyncio.shield(self._task)


def _merge_tokens(batch: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for data in batch:
        if data.get("type") == "token" and out and out[-1][0] == "token":
            out[-1] = ("token", {"type": "token", "text": out[-1][1]["text"] + str(data.get("text") or "")})
        else:
            out.append((str(data["type"]), dict(data)))
    return out


class AskRunner:
    """Runs questions as background tasks of this worker; finishes or interrupts them on shutdown."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.limit = state.settings.api_ask_concurrency
        self._semaphore = asyncio.Semaphore(self.limit)
        self._tasks: set[asyncio.Task[None]] = set()
        #: Questions each user has waiting or running here (API_MAX_QUEUED_QUESTIONS; 429 beyond).
        self.per_user = UserCounter(state.settings.api_max_queued_questions, "api.limit.questions")

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def submit(self, ctx: Ctx, chat_id: str, question: str, document_ids: Sequence[str]) -> dict[str, Any]:
        """Record the question event and start answering it; returns ids for the client."""
        if len(self._tasks) >= self.limit * QUEUE_FACTOR:
            raise BusyError("api.queue_full")
        lease = self.per_user.acquire(ctx.user_id)
        question_id = str(uuid.uuid4())
        data = {"type": "question", "question_id": question_id, "content": question,
                "document_ids": list(document_ids)}
        try:
            [event_id] = await ctx.events.append(chat_id, [("question", data)], question_id=question_id)
        except BaseException:
            lease.release()
            raise
        self.state.notifier.notify(chat_id)
        task = asyncio.create_task(self._run(ctx, chat_id, question, list(document_ids), question_id),
                                   name=f"ask-{question_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _t: lease.release())
        return {"chat_id": chat_id, "question_id": question_id, "event_id": event_id}

    async def _run(self, ctx: Ctx, chat_id: str, question: str, document_ids: list[str], question_id: str) -> None:
        state = self.state
        writer = EventWriter(state, ctx, chat_id, question_id)
        service: AskService | None = None
        try:
            async with self._semaphore:
                service = AskService(state.settings, store=ctx.store, files=state.files, documents=state.source,
                                     provider=state.provider)
                await service.ask(question, document_ids, chat_id=chat_id, user_id=ctx.user_id,
                                  on_event=writer.emit)
        except asyncio.CancelledError:
            if not writer.terminal_written:
                await writer.emit(ErrorEvent(message=t("api.interrupted"), key="api.interrupted", chat_id=chat_id))
            await writer.close()
            raise
        except AizoomdocError as exc:
            log.info("question %s failed before it was stored: %s", question_id, exc.key)
            await writer.emit(ErrorEvent(message=str(exc), key=exc.key, chat_id=chat_id))
        except Exception:  # noqa: BLE001 - reported to the client as an error event
            log.exception("question %s failed", question_id)
            await writer.emit(ErrorEvent(message=t("api.internal"), key="api.internal", chat_id=chat_id))
        finally:
            try:
                if not writer.terminal_written and not writer.broken:
                    await writer.emit(ErrorEvent(message=t("api.internal"), key="api.internal", chat_id=chat_id))
                await writer.close()
            finally:
                if service is not None:
                    await service.aclose()

    async def shutdown(self, grace: float = 10.0) -> None:
        """Let running questions finish for ``grace`` seconds, then interrupt the rest (each gets
        its error message saved and an ``error`` event)."""
        tasks = list(self._tasks)
        if not tasks:
            return
        done, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("interrupted %d unfinished questions at shutdown", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)


__all__ = ["AskRunner", "BusyError", "EventWriter", "TERMINAL"]
