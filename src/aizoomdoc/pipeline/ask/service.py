"""The flow of one question, steps 1–14 (see the package docstring): :class:`AskService` takes its
parts from :mod:`~aizoomdoc.pipeline.ask.wiring` and runs the steps in order, each in the module
of its job (attachments, views, answer, citations, records); on a failure after the user message
is stored it saves an error message instead of raising.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aizoomdoc.config import Settings, get_settings
from aizoomdoc.documents.model import Document
from aizoomdoc.errors import AizoomdocError, InvalidInputError, NotFoundError
from aizoomdoc.llm import LLMProvider, uses_model
from aizoomdoc.llm.context import shorten
from aizoomdoc.pipeline.ask.answer import provider_answer, shown_hits, turn_notes
from aizoomdoc.pipeline.ask.attachments import Attachment, Upload, check_attachment, store_attachments
from aizoomdoc.pipeline.ask.citations import citations
from aizoomdoc.pipeline.ask.hits import hit_context, hit_dict
from aizoomdoc.pipeline.ask.records import TurnRecords
from aizoomdoc.pipeline.ask.tools import Executor
from aizoomdoc.pipeline.ask.turn import Emit, EventCallback, Turn, emitter
from aizoomdoc.pipeline.ask.views import Views
from aizoomdoc.pipeline.ask.wiring import AUTO, build_parts, close_owned
from aizoomdoc.pipeline.compare_chat import revision_turn
from aizoomdoc.pipeline.document_rows import is_document_id
from aizoomdoc.pipeline.events import AnswerEvent, AskEvent, AskResult, ErrorEvent, HitsEvent, ImageEvent, StageEvent
from aizoomdoc.pipeline.render_cache import current_counters
from aizoomdoc.pipeline.sources import DocumentSource, FoundBlock
from aizoomdoc.pipeline.table_hits import rows_for_hits
from aizoomdoc.search import is_list_question
from aizoomdoc.store.files import FileStorage
from aizoomdoc.store.protocol import ChatStoreProtocol
from aizoomdoc.texts import t

log = logging.getLogger(__name__)


class AskService:
    """The ask pipeline bound to a store, a file storage, a document source and a provider.

    Create one per process (or per request with shared parts); call :meth:`aclose` at the end.
    ``provider``: omit to use the configured one (the direct answerer when ``LLM_API_KEY`` is
    unset), pass ``None`` to force the direct answerer, or pass any :class:`LLMProvider`.
    """

    def __init__(self, settings: Settings | None = None, *, store: ChatStoreProtocol | None = None,
                 files: FileStorage | None = None, documents: DocumentSource | None = None,
                 provider: LLMProvider | None = AUTO) -> None:
        parts = build_parts(settings or get_settings(), store=store, files=files, documents=documents,
                            provider=provider)
        self.settings = parts.settings
        self.store, self.files, self.documents = parts.store, parts.files, parts.documents
        self.provider: LLMProvider = parts.provider
        self.renderer, self.render_options = parts.renderer, parts.render_options
        self.layout_options, self.render_cache, self.usage = parts.layout_options, parts.render_cache, parts.usage
        self.records = TurnRecords(self.store)
        self.views = Views(self.settings, renderer=self.renderer, render_options=self.render_options,
                           layout_options=self.layout_options, render_cache=self.render_cache,
                           files=self.files, store=self.store)
        self._own = parts.owned

    async def aclose(self) -> None:
        await close_owned(self._own)

    async def __aenter__(self) -> AskService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def stream(self, question: str, documents: Sequence[str] = (), **kw: Any) -> AsyncIterator[AskEvent]:
        """:meth:`ask` as an async iterator of events; ends after the ``answer``/``error`` event.

        An error raised before anything is stored is yielded as an :class:`ErrorEvent` too.
        """
        queue: asyncio.Queue[AskEvent | None] = asyncio.Queue()

        async def run() -> None:
            try:
                await self.ask(question, documents, on_event=queue.put_nowait, **kw)
            except AizoomdocError as exc:
                queue.put_nowait(ErrorEvent(message=str(exc), key=exc.key, chat_id=kw.get("chat_id")))
            except Exception as exc:  # noqa: BLE001 - reported as an event
                log.exception("ask failed")
                queue.put_nowait(ErrorEvent(message=t("error.unexpected", detail=type(exc).__name__)))
            finally:
                queue.put_nowait(None)

        task = asyncio.create_task(run())
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def ask(self, question: str, documents: Sequence[str] = (), *, chat_id: str | None = None,
                  user_id: str | None = None, attachments: Sequence[Attachment] = (),
                  on_event: EventCallback | None = None) -> AskResult:
        """Answer ``question`` about ``documents`` (paths or document ids), persisting every step.

        ``chat_id`` continues a chat (its documents are reused when ``documents`` is empty).
        Returns the result read back from the store; ``result.error`` is set (and an error
        message saved in the chat) when the question failed after it was stored.
        """
        t_start = time.perf_counter()
        emit = emitter(on_event)
        question = (question or "").strip()
        if not question:
            raise InvalidInputError("ask.error.empty_question")
        user_id = user_id or self.settings.default_user_id
        store = self.store

        # ---- 1. input: the chat to continue, the documents, the attachments ----------------
        chat: dict[str, Any] | None = None
        if chat_id:
            chat = await store.get_chat(chat_id)
            if chat is None:
                raise NotFoundError("ask.error.chat_not_found", chat_id=chat_id)
        refs = [str(r) for r in documents]
        if not refs and chat is not None:
            # The chat's metadata is a column its owner can write: document ids only, never paths.
            refs = [r for r in (chat.get("metadata") or {}).get("document_ids") or [] if is_document_id(r)]
        if not refs:
            raise InvalidInputError("ask.error.no_documents")
        await emit(StageEvent("documents", "start", t("ask.stage.documents")))
        t0 = time.perf_counter()
        docs = await self.documents.resolve(refs, user_id=user_id)
        await emit(StageEvent("documents", "done", t("ask.stage.documents"),
                              {"documents": [{"id": d.id, "title": d.title, "pages": len(d.pages),
                                              "can_render": d.can_render} for d in docs]}))
        turn = Turn(self.settings, user_id, question, docs)
        turn.timings["documents"] = time.perf_counter() - t0
        uploads = [check_attachment(a) for a in attachments]

        # ---- 2. chat created or continued; 3. user message stored ------------------------------
        await emit(StageEvent("chat", "start", t("ask.stage.chat")))
        t0 = time.perf_counter()
        history_rows = await self._open_chat(turn, chat, docs)
        turn.user_message_id = await store.add_message(
            turn.chat_id, "user", question, "text",
            metadata={"document_ids": [d.id for d in docs], "attachments": len(uploads)},
        )
        turn.timings["chat"] = time.perf_counter() - t0
        await emit(StageEvent("chat", "done", t("ask.stage.chat"),
                              {"chat_id": turn.chat_id, "user_message_id": turn.user_message_id}))

        # ---- 4..13 -------------------------------------------------------------------------------
        counters = current_counters.set(turn.renders)
        try:
            result = await self._answer(turn, uploads, history_rows, emit)
        except asyncio.CancelledError:
            await asyncio.shield(self._save_error(turn, t("error.unexpected", detail=t("ask.interrupted")), None, emit))
            raise
        except Exception as exc:  # noqa: BLE001 - saved in the chat, reported as an event
            if turn.answered:  # the answer is stored; only reading it back failed: nothing to add
                raise
            if isinstance(exc, AizoomdocError):
                message, key = str(exc), exc.key
                log.warning("ask failed at stage %s: %s", turn.stage, key)
            else:
                log.exception("ask failed at stage %s", turn.stage)
                message, key = t("error.unexpected", detail=type(exc).__name__), "error.unexpected"
            result = await self._save_error(turn, message, key, emit)
        finally:
            current_counters.reset(counters)
        result.timings = {**turn.timings, "total": time.perf_counter() - t_start}
        await self._record_usage(turn, result)
        return result

    async def _save_error(self, turn: Turn, message: str, key: str | None, emit: Emit) -> AskResult:
        return await self.records.save_error(turn, message, key, emit,
                                             model=self.provider.model if uses_model(self.provider) else None)

    async def _open_chat(self, turn: Turn, chat: dict[str, Any] | None, docs: list[Document]) -> list[dict[str, Any]]:
        """Step 2: create the chat, or continue it (adding new documents); its earlier messages."""
        if chat is None:
            turn.chat_id = await self.store.create_chat(
                title=shorten(turn.question, 80), user_id=turn.user_id,
                document_path="; ".join(d.source_path for d in docs)[:1000] or None,
                metadata={"document_ids": [d.id for d in docs]},
            )
            return []
        turn.chat_id = chat["id"]
        history_rows = await self.store.get_chat_messages(turn.chat_id)
        known = list((chat.get("metadata") or {}).get("document_ids") or [])
        new_ids = [d.id for d in docs if d.id not in known]
        if new_ids:
            meta = dict(chat.get("metadata") or {})
            meta["document_ids"] = known + new_ids
            await self.store.update_chat(turn.chat_id, metadata=meta)
        return history_rows

    async def _record_usage(self, turn: Turn, result: AskResult) -> None:
        if self.store.is_offline:
            return  # the database is down (answered from the offline journal): no analytics row
        await self.usage.question(
            user_id=turn.user_id, chat_id=turn.chat_id, message_id=result.message_id,
            document_ids=[d.id for d in turn.documents], model=result.model,
            direct=not uses_model(self.provider),
            llm_calls=turn.llm_calls, usage=result.usage,
            images=sum(1 for i in turn.images if i.image_type in ("viewport", "zoom_crop")),
            renders=turn.renders, seconds=result.timings["total"], error_kind=turn.error_kind,
            question=turn.question)

    async def _search(self, documents: Sequence[Document], query: str, top_k: int,
                      list_mode: bool = False) -> list[FoundBlock]:
        """Search; a hit in a table cell is its row (one id, the row's text and box, whatever cell matched)."""
        found = await self.documents.search(list(documents), query, top_k)
        return await rows_for_hits(found, query, self.renderer, self.render_options, list_mode)

    async def _answer(self, turn: Turn, uploads: list[Upload], history_rows: list[dict[str, Any]],
                      emit: Emit) -> AskResult:
        s, provider = self.settings, self.provider
        # ---- 4/5/6. attachments stored + recorded ---------------------------------------------
        upload_images = await store_attachments(turn, uploads, self.files, self.store, emit)

        # ---- 7. search; 8. hits stored ------------------------------------------------------------
        turn.stage = "search"
        await emit(StageEvent("search", "start", t("ask.stage.search")))
        t0 = time.perf_counter()
        # "Найди все …", "перечисли …": every matching item, not the best few.
        list_mode = is_list_question(turn.question)
        top_k = max(s.search_list_top_k, s.search_top_k) if list_mode else s.search_top_k
        # «что изменилось на листе 5 между изм.7 и изм.8?»: the changes of both versions are the hits.
        revision = await revision_turn(turn.question, turn.documents, s, self.files)
        list_mode = list_mode and revision is None
        if revision is not None:
            turn.hits = revision.hits
        else:
            turn.hits = await self._search(turn.documents, turn.question, top_k, list_mode)
        turn.timings["search"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        await self.records.store_hits(turn, turn.hits)
        turn.timings["store_hits"] = time.perf_counter() - t0
        await emit(HitsEvent([hit_dict(f) for f in turn.hits]))
        await emit(StageEvent("search", "done", t("ask.stage.search"), {"count": len(turn.hits), "list": list_mode}))

        # ---- 9. viewports planned + rendered; 10. uploaded; 11. recorded -----------------------------
        turn.stage = "viewports"
        await emit(StageEvent("viewports", "start", t("ask.stage.viewports")))
        shown, similar = shown_hits(provider, turn, list_mode)
        view_images, hit_labels = await self.views.viewports(turn, shown, max(0, min(
            s.viewport_max_count, s.llm_max_images_per_call - len(upload_images))))
        for info in turn.images:
            if info.image_type == "viewport":
                await emit(ImageEvent(info))
        await emit(StageEvent("viewports", "done", t("ask.stage.viewports"), {"count": len(view_images)}))

        # ---- 12. the provider answers (a language model, or the direct answerer) --------------------
        turn.stage = "llm"
        model = uses_model(provider)
        await emit(StageEvent("llm", "start", t("ask.stage.llm"),
                              {"offline": not model, "model": provider.model if model else None}))
        t0 = time.perf_counter()
        executor = Executor(turn, emit, views=self.views, records=self.records,
                            search=lambda docs, query: self._search(docs, query, s.search_top_k))
        loop = await provider_answer(
            provider, s, turn, contexts=[hit_context(f, hit_labels.get((f.document.id, f.block.id))) for f in shown],
            similar=[hit_context(f, None) for f in similar], hidden=len(turn.hits) - len(shown) - len(similar),
            view_images=view_images, upload_images=upload_images, notes=turn_notes(provider, turn, revision),
            list_mode=list_mode, revision=revision, history_rows=history_rows, executor=executor, emit=emit)
        turn.timings["llm"] = time.perf_counter() - t0
        turn.llm_calls = loop.steps if model else 0
        await emit(StageEvent("llm", "done", t("ask.stage.llm"), {"steps": loop.steps, "usage": loop.usage.to_dict()}))

        # ---- 13. assistant message stored (+ the zoom records) -------------------------------------------
        turn.stage = "save"
        await emit(StageEvent("save", "start", t("ask.stage.save")))
        t0 = time.perf_counter()
        metadata = {
            "usage": loop.usage.to_dict(),
            "citations": [c.to_dict() for c in citations(turn, loop.answer)],
            "offline": not model,  # the persisted field keeps its name: "answered without a model"
            "steps": loop.steps,
            "llm_calls": [{"step": c.step, "chars": c.chars, "images": c.images} for c in loop.calls],
            "tool_calls": [{k: v for k, v in tc.items() if k != "result"} for tc in loop.tool_calls][:50],
            "document_ids": [d.id for d in turn.documents],
            "images": {i.label: i.id for i in turn.images if i.label},
        }
        await self.store.add_message(turn.chat_id, "assistant", loop.answer, "text", model=loop.model,
                                     metadata=metadata, id=turn.assistant_message_id)
        turn.answered = True
        await self.records.record_pending(turn)
        turn.timings["save"] = time.perf_counter() - t0

        # ---- 14. read back from the store --------------------------------------------------------------
        result = await self.records.read_back(turn)
        result.offline = not model
        await emit(StageEvent("save", "done", t("ask.stage.save"), {"message_id": result.message_id}))
        await emit(AnswerEvent(result))
        return result


async def ask(question: str, documents: Sequence[str] = (), *, settings: Settings | None = None,
              **kw: Any) -> AskResult:
    """One question with a service built from ``settings`` (closed afterwards)."""
    async with AskService(settings) as service:
        return await service.ask(question, documents, **kw)
