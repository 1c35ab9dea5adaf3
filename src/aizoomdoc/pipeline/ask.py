"""The ask pipeline: one question → one persisted answer, in the 14 steps of DESIGN.md.

    1 input → 2 chat created/continued → 3 user message → 4-6 attachments stored + recorded
    → 7 search → 8 hits stored → 9 viewports planned + rendered → 10 uploaded → 11 recorded
    → 12 LLM loop (zooms rendered, uploaded, recorded) → 13 assistant message → 14 read back

Where records hang (a deliberate, documented choice):

* Search results, viewports and user uploads belong to the **user message**: they exist before
  any model runs and survive a model failure.
* Zoom crops (and block images) the model asks for belong to the **assistant message**. Its id is
  generated up front (client-side uuid4); each zoom is rendered and uploaded as it happens, and
  its image record is written right after the assistant message (answer or error) is stored, in
  one bulk insert. The chat therefore never holds a half-written turn: either the user message
  alone (while working), or the user message plus an assistant message of type ``text`` or
  ``error``.

On any failure after the user message is stored, an assistant message with
``message_type="error"`` and a clear Russian text is saved and an :class:`ErrorEvent` emitted;
:meth:`AskService.ask` then returns the result with ``error`` set instead of raising. Failures
before that (unknown chat, unreadable document or attachment, empty question) raise
:class:`~aizoomdoc.errors.AizoomdocError` and write nothing.

The pipeline knows nothing of HTTP: progress goes to an ``on_event`` callback, or use
:meth:`AskService.stream` for an async iterator of events.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import logging
import mimetypes
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from aizoomdoc.config import Settings, get_settings
from aizoomdoc.documents.model import Block, Document
from aizoomdoc.documents.read_warnings import unreadable_note
from aizoomdoc.errors import AizoomdocError, InvalidInputError, NotFoundError, describe_os_error
from aizoomdoc.llm import LLMProvider, LoopLimits, ToolImage, ToolResult, provider_from_settings, run_tool_loop
from aizoomdoc.llm.context import HitContext, ViewImage, build_user_content, clean_text, shorten
from aizoomdoc.llm.history import build_history
from aizoomdoc.llm.offline import offline_answer, split_by_codes, strong_hits
from aizoomdoc.llm.prompts import load_prompt
from aizoomdoc.llm.tools import REQUEST_IMAGES, SEARCH, ZOOM
from aizoomdoc.pipeline.notes import document_notes
from aizoomdoc.pipeline.events import (
    AnswerEvent,
    AskEvent,
    AskResult,
    Citation,
    ErrorEvent,
    HitsEvent,
    ImageEvent,
    ImageInfo,
    StageEvent,
    TokenEvent,
    ToolEvent,
)
from aizoomdoc.pipeline.compare_chat import revision_turn
from aizoomdoc.pipeline.ingest import is_document_id
from aizoomdoc.pipeline.render_cache import RenderCache, RenderCounters, current_counters
from aizoomdoc.pipeline.sources import DocumentSource, FoundBlock
from aizoomdoc.pipeline.usage import UsageRecorder
from aizoomdoc.pipeline.table_hits import hit_text_sizes, rows_for_hits
from aizoomdoc.search import is_list_question
from aizoomdoc.store.cache import shared_cache
from aizoomdoc.store.files import FileStorage, UploadItem
from aizoomdoc.store.protocol import ChatStoreProtocol
from aizoomdoc.texts import t
from aizoomdoc.zoom import (
    HitBox,
    ImageRef,
    PlanOptions,
    RenderedImage,
    ZoomRefusal,
    grid_for,
    resolve_zoom,
)
from aizoomdoc.zoom.isolated import IsolatedRenderer
from aizoomdoc.zoom.layout import LayoutOptions, RowHit, View, layout_views
from aizoomdoc.zoom.plan import pad_box
from aizoomdoc.zoom.render import RenderLimitError

log = logging.getLogger(__name__)

EventCallback = Callable[[AskEvent], "Awaitable[None] | None"]
_AUTO: Any = object()

#: Characters of a block's text stored with a search result.
RESULT_TEXT_CHARS = 4000


@dataclass
class Attachment:
    """An image the user attaches to a question (a crop, a photo of a sheet)."""

    name: str
    data: bytes
    content_type: str | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> Attachment:
        p = Path(path).expanduser()
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise InvalidInputError("ask.error.attachment", name=p.name or str(p),
                                    detail=describe_os_error(exc)) from None
        return cls(p.name, data, mimetypes.guess_type(p.name)[0])


@dataclass
class _Pending:
    """An uploaded image whose record is written with the assistant message."""

    info: ImageInfo
    row: dict[str, Any]


@dataclass
class _Turn:
    settings: Settings
    user_id: str
    question: str
    documents: list[Document]
    chat_id: str = ""
    user_message_id: str = ""
    assistant_message_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    stage: str = "chat"
    hits: list[FoundBlock] = field(default_factory=list)
    found_later: dict[tuple[str, str], FoundBlock] = field(default_factory=dict)
    #: Hits for look-alike codes (named apart in an offline answer, neither shown nor cited).
    similar: set[tuple[str, str]] = field(default_factory=set)
    refs: dict[str, ImageRef] = field(default_factory=dict)
    images: list[ImageInfo] = field(default_factory=list)
    pending: list[_Pending] = field(default_factory=list)
    zooms: int = 0
    answered: bool = False  # the assistant message is stored
    timings: dict[str, float] = field(default_factory=dict)
    renders: RenderCounters = field(default_factory=RenderCounters)  # for the usage analytics
    llm_calls: int = 0
    error_kind: str | None = None

    @property
    def by_id(self) -> dict[str, Document]:
        return {d.id: d for d in self.documents}


def _coords(box: Any) -> list[float] | None:
    if box is None:
        return None
    return [round(float(v), 6) for v in box]


def _display_text(block: Block) -> str:
    """What a hit shows: the whole table row for a cell of one (PDF tables), else the block."""
    return str(block.extra.get("row_text") or block.text) if block.extra else block.text


def _block_sheet_name(doc: Document, block: Block) -> str | None:
    if block.sheet is not None and block.sheet.sheet_name:
        return block.sheet.sheet_name
    page = doc.page(block.page_index)
    if page is not None and page.sheet is not None and page.sheet.sheet_name:
        return page.sheet.sheet_name
    return None


class AskService:
    """The ask pipeline bound to a store, a file storage, a document source and an LLM provider.

    Create one per process (or per request with shared parts); call :meth:`aclose` at the end.
    ``provider``: omit to use the configured one (offline answerer when ``LLM_API_KEY`` is unset),
    pass ``None`` to force the offline answerer, or pass any :class:`LLMProvider`.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: ChatStoreProtocol | None = None,
        files: FileStorage | None = None,
        documents: DocumentSource | None = None,
        provider: LLMProvider | None = _AUTO,
    ) -> None:
        self.settings = settings or get_settings()
        self._own: list[Any] = []
        if store is None:
            from aizoomdoc.store.factory import build_chat_store

            store = build_chat_store(self.settings)  # resilient (offline journal) on PostgreSQL
            self._own.append(store)
        self.store = store
        if files is None:
            from aizoomdoc.store.factory import build_files

            files = build_files(self.settings)  # S3 with a local fallback when S3 is configured
            self._own.append(files)
        self.files = files
        if documents is None:
            from aizoomdoc.pipeline.ingest import DocumentService, ServiceDocumentSource

            db = getattr(store, "db", None)  # share the chat store's engine when it has one
            documents = ServiceDocumentSource(
                self.settings, DocumentService(self.settings, db=db, storage=files))
            self._own.append(documents.service)
            from aizoomdoc.pipeline.offline_source import OfflineFallbackSource

            documents = OfflineFallbackSource(self.settings, documents)  # reads paths from disk while the DB is down
        self.documents = documents
        if provider is _AUTO:
            provider = provider_from_settings(self.settings)
            if provider is not None:
                self._own.append(provider)
        self.provider: LLMProvider | None = provider
        # Documents are untrusted uploads: every render runs in a worker process, bounded.
        self.renderer = IsolatedRenderer(self.settings)
        self.render_options = self.renderer.options(
            target_cap_px=self.settings.viewport_target_cap_px,
            max_dpi=self.settings.viewport_max_dpi,
            max_pixels=self.settings.viewport_max_pixels,
            max_side=self.settings.viewport_max_side,
        )
        self.layout_options = LayoutOptions(
            min_cap_px=self.settings.viewport_min_cap_px, max_side=self.settings.viewport_max_side,
            max_pixels=self.settings.viewport_max_pixels, max_dpi=self.settings.viewport_max_dpi,
        )
        self.render_cache = RenderCache(shared_cache(self.settings))
        self.usage = UsageRecorder(self.settings, getattr(store, "db", None))

    async def aclose(self) -> None:
        for obj in reversed(self._own):
            for name in ("aclose", "close"):
                fn = getattr(obj, name, None)
                if fn is not None:
                    res = fn()
                    if inspect.isawaitable(res):
                        await res
                    break
        self._own.clear()

    async def __aenter__(self) -> AskService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # =========================================================================================
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

    # =========================================================================================
    async def ask(
        self,
        question: str,
        documents: Sequence[str] = (),
        *,
        chat_id: str | None = None,
        user_id: str | None = None,
        attachments: Sequence[Attachment] = (),
        on_event: EventCallback | None = None,
    ) -> AskResult:
        """Answer ``question`` about ``documents`` (paths or document ids), persisting every step.

        ``chat_id`` continues a chat (its documents are reused when ``documents`` is empty).
        Returns the result read back from the store; ``result.error`` is set (and an error
        message saved in the chat) when the question failed after it was stored.
        """
        t_start = time.perf_counter()
        emit = _emitter(on_event)
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
        turn = _Turn(self.settings, user_id, question, docs)
        turn.timings["documents"] = time.perf_counter() - t0
        uploads = [self._check_attachment(a) for a in attachments]

        # ---- 2. chat created or continued; 3. user message stored ------------------------------
        await emit(StageEvent("chat", "start", t("ask.stage.chat")))
        t0 = time.perf_counter()
        history_rows: list[dict[str, Any]] = []
        if chat is None:
            turn.chat_id = await store.create_chat(
                title=shorten(question, 80), user_id=user_id,
                document_path="; ".join(d.source_path for d in docs)[:1000] or None,
                metadata={"document_ids": [d.id for d in docs]},
            )
        else:
            turn.chat_id = chat["id"]
            history_rows = await store.get_chat_messages(turn.chat_id)
            known = list((chat.get("metadata") or {}).get("document_ids") or [])
            new_ids = [d.id for d in docs if d.id not in known]
            if new_ids:
                meta = dict(chat.get("metadata") or {})
                meta["document_ids"] = known + new_ids
                await store.update_chat(turn.chat_id, metadata=meta)
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
            await asyncio.shield(self._save_error(turn, t("error.unexpected", detail="прервано"), None, emit))
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

    async def _record_usage(self, turn: _Turn, result: AskResult) -> None:
        if getattr(self.store, "is_offline", False):
            return  # the database is down (answered from the offline journal): no analytics row
        await self.usage.question(
            user_id=turn.user_id, chat_id=turn.chat_id, message_id=result.message_id,
            document_ids=[d.id for d in turn.documents], model=result.model, offline=self.provider is None,
            llm_calls=turn.llm_calls, usage=result.usage,
            images=sum(1 for i in turn.images if i.image_type in ("viewport", "zoom_crop")),
            renders=turn.renders, seconds=result.timings["total"], error_kind=turn.error_kind,
            question=turn.question)

    # =========================================================================================
    async def _answer(self, turn: _Turn, uploads: list[tuple[Attachment, int, int, str]],
                      history_rows: list[dict[str, Any]], emit: Callable[[AskEvent], Awaitable[None]]) -> AskResult:
        s = self.settings
        # ---- 4/5/6. attachments stored + recorded ---------------------------------------------
        upload_images: list[ViewImage] = []
        if uploads:
            turn.stage = "attachments"
            await emit(StageEvent("attachments", "start", t("ask.stage.attachments")))
            t0 = time.perf_counter()
            rows = []
            for n, (att, w, h, mime) in enumerate(uploads, 1):
                label = f"u{n}"
                key = self.files.generate_s3_path(turn.chat_id, "user_upload", att.name)
                url = await self.files.upload_bytes(att.data, key, content_type=mime)
                info = ImageInfo(id=str(uuid.uuid4()), image_type="user_upload", s3_path=key, s3_url=url,
                                 width=w, height=h, page_number=None, message_id=turn.user_message_id,
                                 label=label, description=f"{label}: {att.name}")
                rows.append(self._image_row(turn, info, turn.user_message_id, len(att.data)))
                upload_images.append(ViewImage(label, att.data, mime, f"вложение пользователя «{att.name}»"))
                turn.images.append(info)
            await self.store.add_images_bulk(rows)
            for info in turn.images:
                await emit(ImageEvent(info))
            turn.timings["attachments"] = time.perf_counter() - t0
            await emit(StageEvent("attachments", "done", t("ask.stage.attachments"), {"count": len(rows)}))

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
            found = await self.documents.search(turn.documents, turn.question, top_k)
            # A hit in a table cell is its row: one id, the row's text and box, whatever cell matched.
            turn.hits = await rows_for_hits(found, turn.question, self.renderer, self.render_options, list_mode)
        turn.timings["search"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        await self._store_hits(turn, turn.hits)
        turn.timings["store_hits"] = time.perf_counter() - t0
        await emit(HitsEvent([self._hit_dict(f) for f in turn.hits]))
        await emit(StageEvent("search", "done", t("ask.stage.search"),
                              {"count": len(turn.hits), "list": list_mode}))

        # ---- 9. viewports planned + rendered; 10. uploaded; 11. recorded -----------------------------
        turn.stage = "viewports"
        await emit(StageEvent("viewports", "start", t("ask.stage.viewports")))
        # A direct offline answer shows only the strong hits (and counts the rest): no viewports or
        # contexts for the ones it hides; hits for other codes than the question's (П1.1 when
        # asked about П1) are named under «Похожие обозначения», without images. The model and
        # list answers see every hit.
        shown, similar = turn.hits, []
        if self.provider is None and not list_mode:
            shown, similar = split_by_codes(strong_hits(turn.hits), turn.question, key=lambda f: _display_text(f.block))
            turn.similar = {(f.document.id, f.block.id) for f in similar}
        view_images, hit_labels = await self._viewports(turn, shown, max(0, min(
            s.viewport_max_count, s.llm_max_images_per_call - len(upload_images))))
        for info in turn.images:
            if info.image_type == "viewport":
                await emit(ImageEvent(info))
        await emit(StageEvent("viewports", "done", t("ask.stage.viewports"),
                              {"count": len(view_images)}))

        # ---- 12. the model (or the offline answerer) ---------------------------------------------------
        turn.stage = "llm"
        notes = [t("ask.text_only", title=d.title) for d in turn.documents if not d.can_render]
        notes += document_notes(turn.documents)  # still processing; pages OCR could not read, and why
        notes += [note for d in turn.documents if (note := unreadable_note(d))]  # pages without text, no OCR
        notes += [revision.summary] if revision and self.provider is not None else []
        contexts = [self._hit_context(f, hit_labels.get((f.document.id, f.block.id))) for f in shown]
        similar_contexts = [self._hit_context(f, None) for f in similar]
        await emit(StageEvent("llm", "start", t("ask.stage.llm"),
                              {"offline": self.provider is None,
                               "model": self.provider.model if self.provider else None}))
        t0 = time.perf_counter()
        if self.provider is None and revision is not None:
            loop = revision.loop()
            await emit(TokenEvent(loop.answer))
        elif self.provider is None:
            loop = offline_answer(turn.question, contexts, [im.label for im in view_images + upload_images],
                                  notes=notes, list_mode=list_mode, similar=similar_contexts,
                                  hidden=len(turn.hits) - len(shown) - len(similar))
            await emit(TokenEvent(loop.answer))
        else:
            system = load_prompt("system_ru")
            summary, history = build_history(history_rows, keep_last=s.llm_history_messages)
            if summary:
                system += "\n\n" + summary
            hist_chars = sum(len(m["content"]) for m in history)
            budget = max(1000, min(s.llm_context_chars, int(s.llm_max_chars_per_call * 0.7) - len(system) - hist_chars))
            content = build_user_content(
                turn.question, contexts, upload_images + view_images, char_budget=budget,
                notes=[*notes, t("ask.list_note")] if list_mode else notes,
                documents=[(d.id, d.title, len(d.pages)) for d in turn.documents],
            )

            async def on_token(text: str) -> None:
                await emit(TokenEvent(text))

            loop = await run_tool_loop(
                self.provider, system_prompt=system, user_content=content,
                executor=_Executor(self, turn, emit), history=history,
                limits=LoopLimits.from_settings(s), on_token=on_token,
            )
            if notes and not any(n in loop.answer for n in notes):
                loop.answer += "\n\n" + "\n".join(notes)
        turn.timings["llm"] = time.perf_counter() - t0
        turn.llm_calls = loop.steps if self.provider is not None else 0
        await emit(StageEvent("llm", "done", t("ask.stage.llm"),
                              {"steps": loop.steps, "usage": loop.usage.to_dict()}))

        # ---- 13. assistant message stored (+ the zoom records) -------------------------------------------
        turn.stage = "save"
        await emit(StageEvent("save", "start", t("ask.stage.save")))
        t0 = time.perf_counter()
        citations = self._citations(turn, loop.answer)
        metadata = {
            "usage": loop.usage.to_dict(),
            "citations": [c.to_dict() for c in citations],
            "offline": self.provider is None,
            "steps": loop.steps,
            "llm_calls": [{"step": c.step, "chars": c.chars, "images": c.images} for c in loop.calls],
            "tool_calls": [{k: v for k, v in tc.items() if k != "result"} for tc in loop.tool_calls][:50],
            "document_ids": [d.id for d in turn.documents],
            "images": {i.label: i.id for i in turn.images if i.label},
        }
        await self.store.add_message(turn.chat_id, "assistant", loop.answer, "text", model=loop.model,
                                     metadata=metadata, id=turn.assistant_message_id)
        turn.answered = True
        await self._record_pending(turn)
        turn.timings["save"] = time.perf_counter() - t0

        # ---- 14. read back from the store --------------------------------------------------------------
        result = await self._read_back(turn)
        result.offline = self.provider is None
        await emit(StageEvent("save", "done", t("ask.stage.save"), {"message_id": result.message_id}))
        await emit(AnswerEvent(result))
        return result

    # =========================================================================================
    def _check_attachment(self, att: Attachment) -> tuple[Attachment, int, int, str]:
        try:
            with Image.open(io.BytesIO(att.data)) as img:
                w, h = img.size
                fmt = (img.format or "PNG").upper()
        except Exception:  # noqa: BLE001 - PIL raises many kinds
            raise InvalidInputError("ask.error.attachment_image", name=att.name) from None
        mime = att.content_type or Image.MIME.get(fmt, "image/png")
        return att, w, h, mime

    def _hit_dict(self, f: FoundBlock) -> dict[str, Any]:
        return {"document_id": f.document.id, "block_id": f.block.id, "page_number": f.block.page_number,
                "coords_norm": _coords(f.block.coords_norm) if f.block.has_coords else None,
                "score": round(float(f.score), 4), "text": shorten(clean_text(_display_text(f.block)), 300)}

    def _hit_context(self, f: FoundBlock, label: str | None) -> HitContext:
        return HitContext(
            document_id=f.document.id, block_id=f.block.id, page_number=f.block.page_number,
            text=_display_text(f.block), block_type=f.block.block_type, score=f.score,
            document_title=f.document.title, sheet_name=_block_sheet_name(f.document, f.block),
            coords_norm=f.block.coords_norm, image_label=label,
        )

    async def _store_hits(self, turn: _Turn, found: Sequence[FoundBlock]) -> None:
        rows = [{
            "chat_id": turn.chat_id, "message_id": turn.user_message_id,
            "document_id": f.document.id, "block_id": f.block.id, "page_number": f.block.page_number,
            "block_text": _display_text(f.block)[:RESULT_TEXT_CHARS],
            "coords_norm": _coords(f.block.coords_norm) if f.block.has_coords else None,
            "coords_px": _coords(f.block.coords_px) if f.block.coords_px and f.block.has_coords else None,
            "score": float(f.score),
        } for f in found]
        if rows:
            await self.store.add_search_results_bulk(rows)

    async def _page_size(self, doc: Document, page_index: int) -> tuple[float, float]:
        page = doc.page(page_index)
        if page is not None and page.width > 0 and page.height > 0:
            return page.width, page.height
        if doc.can_render:
            try:
                sizes = await self.renderer.sheet(doc.render_path)  # type: ignore[arg-type]
                return sizes[page_index]
            except Exception:  # noqa: BLE001
                pass
        return 1.0, 1.0

    async def _page_count(self, doc: Document) -> int:
        if doc.can_render:
            try:
                return len(await self.renderer.sheet(doc.render_path))  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001
                pass
        return max([p.page_index + 1 for p in doc.pages] or [0])

    async def _render(self, doc: Document, page_index: int, box: Any, **kw: Any) -> RenderedImage:
        path = doc.render_path
        assert path is not None
        return await self.render_cache.get_or_render(  # cached by content (pipeline/render_cache.py)
            doc.sha256, page_index, box, self.render_options,
            lambda: self.renderer.render(path, page_index, box, self.render_options, **kw), **kw)

    async def _viewports(self, turn: _Turn, hits: Sequence[FoundBlock],
                         limit: int) -> tuple[list[ViewImage], dict[tuple[str, str], str]]:
        """Steps 9–11 for ``hits`` (of ``turn.hits``). Returns the images for the model and the
        viewport label of each hit."""
        s = self.settings
        usable = [f for f in hits if f.document.can_render and f.block.has_coords]
        boxes = [HitBox(f.document.id, f.block.page_index, f.block.id, tuple(f.block.coords_norm), f.score)  # type: ignore[arg-type]
                 for f in usable]
        if not boxes or limit <= 0:
            return [], {}
        t0 = time.perf_counter()
        sizes: dict[tuple[str, int], tuple[float, float]] = {}
        for b in boxes:
            if (b.document_id, b.page_index) not in sizes:
                sizes[(b.document_id, b.page_index)] = await self._page_size(turn.by_id[b.document_id], b.page_index)
        rows = {}
        for f, b in zip(usable, boxes):
            extra = f.block.extra or {}
            if extra.get("row_of") and extra.get("cell"):
                rows[(b.document_id, b.block_id)] = RowHit(b, tuple(extra["cell"]), tuple(extra["header"])
                                                           if extra.get("header") else None,
                                                           list(extra.get("columns") or []), extra.get("text_pt"))
        text_sizes = await hit_text_sizes(usable, self.renderer, self.render_options)
        regions = layout_views(boxes, rows, sizes, text_sizes, self.layout_options, limit, id_prefix="v")
        sem = asyncio.Semaphore(max(1, min(4, os.cpu_count() or 1)))

        async def render(region: View) -> tuple[View, RenderedImage] | None:
            doc = turn.by_id[region.document_id]
            w, h = sizes[(region.document_id, region.page_index)]
            rw = (region.bbox_norm[2] - region.bbox_norm[0]) * w
            rh = (region.bbox_norm[3] - region.bbox_norm[1]) * h
            async with sem:
                try:
                    img = await self._render(
                        doc, region.page_index, region.bbox_norm,
                        outline=region.outline if s.viewport_outline_hits else [],
                        grid=grid_for(int(rw), int(rh)) if s.viewport_grid else None,
                        min_dpi=region.min_dpi, header=region.header_norm,
                    )
                except RenderLimitError as exc:  # this page stays text-only; the others still render
                    log.warning("viewport %s not rendered: %s", region.id, exc.key)
                    return None
            return region, img

        rendered = [r for r in await asyncio.gather(*(render(r) for r in regions)) if r is not None]
        turn.timings["render"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        items, infos, labels, images = [], [], {}, []
        for region, img in rendered:
            caption = t_caption_viewport(region, img)
            key = self.files.generate_s3_path(turn.chat_id, "viewport",
                                              f"{region.id}_p{region.page_number}.{img.extension}")
            items.append(UploadItem(img.data, key, img.mime))
            infos.append(ImageInfo(id=str(uuid.uuid4()), image_type="viewport", s3_path=key, s3_url=None,
                                   width=img.width, height=img.height, page_number=region.page_number,
                                   message_id=turn.user_message_id, label=region.id,
                                   document_id=region.document_id, coords_norm=_coords(img.bbox_norm),
                                   description=f"{region.id}: {caption}", dpi=round(img.dpi, 1)))
            turn.refs[region.id] = ImageRef(region.id, region.document_id, region.page_index, img.bbox_norm,
                                            img.grid, img.dpi, db_id=infos[-1].id, frame=img.frame)
            for b in region.block_ids:
                labels.setdefault((region.document_id, b), region.id)
            images.append(ViewImage(region.id, img.data, img.mime, caption))
        urls = await self.files.upload_many(items)
        turn.timings["upload"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        rows = []
        for info, url, item in zip(infos, urls, items):
            info.s3_url = url
            rows.append(self._image_row(turn, info, turn.user_message_id, len(item.source)))  # type: ignore[arg-type]
        await self.store.add_images_bulk(rows)
        turn.timings["store_images"] = time.perf_counter() - t0
        turn.images.extend(infos)
        return images, labels

    def _image_row(self, turn: _Turn, info: ImageInfo, message_id: str, size: int) -> dict[str, Any]:
        return {
            "id": info.id, "chat_id": turn.chat_id, "message_id": message_id,
            "image_name": info.s3_path.rsplit("/", 1)[-1], "s3_path": info.s3_path, "s3_url": info.s3_url,
            "image_type": info.image_type, "description": info.description, "width": info.width,
            "height": info.height, "file_size": size, "page_number": info.page_number,
            "coords_norm": info.coords_norm,
        }

    async def _model_image(self, turn: _Turn, doc: Document, page_index: int, box: Any, *,
                           caption: str, min_dpi: float | None, outline: Sequence[Any] = (),
                           emit: Callable[[AskEvent], Awaitable[None]]) -> ToolImage:
        """Render, upload and queue the record of an image the model asked for (a zoom crop)."""
        t0 = time.perf_counter()
        w, h = await self._page_size(doc, page_index)
        rw, rh = (box[2] - box[0]) * w, (box[3] - box[1]) * h
        img = await self._render(doc, page_index, box, min_dpi=min_dpi, outline=list(outline),
                                 grid=grid_for(int(rw), int(rh)) if self.settings.viewport_grid else None)
        turn.zooms += 1
        label = f"z{turn.zooms}"
        key = self.files.generate_s3_path(turn.chat_id, "zoom_crop", f"{label}_p{page_index + 1}.{img.extension}")
        url = await self.files.upload_bytes(img.data, key, content_type=img.mime)
        info = ImageInfo(id=str(uuid.uuid4()), image_type="zoom_crop", s3_path=key, s3_url=url,
                         width=img.width, height=img.height, page_number=page_index + 1,
                         message_id=turn.assistant_message_id, label=label, document_id=doc.id,
                         coords_norm=_coords(img.bbox_norm), description=f"{label}: {caption}",
                         dpi=round(img.dpi, 1))
        turn.pending.append(_Pending(info, self._image_row(turn, info, turn.assistant_message_id, len(img.data))))
        turn.images.append(info)
        turn.refs[label] = ImageRef(label, doc.id, page_index, img.bbox_norm, img.grid, img.dpi, db_id=info.id,
                                    frame=img.frame)
        turn.timings["zoom"] = turn.timings.get("zoom", 0.0) + time.perf_counter() - t0
        await emit(ImageEvent(info))
        return ToolImage(label, img.data, img.mime, caption)

    def _zoom_done_text(self, turn: _Turn, label: str) -> str:
        ref = turn.refs[label]
        info = next(i for i in reversed(turn.images) if i.label == label)
        return t("zoom.done", image_id=label, page=ref.page_index + 1,
                 box="[" + ", ".join(f"{v:.3f}" for v in ref.bbox_norm) + "]",
                 width=info.width, height=info.height, dpi=f"{ref.dpi:.0f}" if ref.dpi else "—",
                 last=ref.grid.last_cell if ref.grid else "—")

    async def _record_pending(self, turn: _Turn) -> None:
        if turn.pending:
            await self.store.add_images_bulk([p.row for p in turn.pending])
            turn.pending.clear()

    def _citations(self, turn: _Turn, answer: str) -> list[Citation]:
        candidates = [f for f in [*turn.hits, *turn.found_later.values()]
                      if (f.document.id, f.block.id) not in turn.similar]
        mentioned = [f for f in candidates if f.block.id and f.block.id in answer]
        chosen = mentioned or candidates[: max(1, min(len(candidates), 5))]
        seen: set[tuple[str, str]] = set()
        out = []
        for f in chosen:
            k = (f.document.id, f.block.id)
            if k in seen:
                continue
            seen.add(k)
            out.append(Citation(f.document.id, f.block.id, f.block.page_number,
                                _coords(f.block.coords_norm) if f.block.has_coords else None,
                                document_title=f.document.title or None))
        return out

    async def _save_error(self, turn: _Turn, message: str, key: str | None,
                          emit: Callable[[AskEvent], Awaitable[None]]) -> AskResult:
        content = t("ask.error.failed", detail=message)
        turn.error_kind = key or "error.unexpected"
        await self.store.add_message(
            turn.chat_id, "assistant", content, "error",
            model=self.provider.model if self.provider else None,
            metadata={"error": {"key": key, "stage": turn.stage}, "citations": [],
                      "document_ids": [d.id for d in turn.documents],
                      "images": {i.label: i.id for i in turn.images if i.label}},
            id=turn.assistant_message_id,
        )
        try:
            await self._record_pending(turn)
        except Exception:  # noqa: BLE001 - the error message itself is what matters
            log.warning("could not record %d zoom images of a failed turn", len(turn.pending))
        result = await self._read_back(turn)
        result.error = message
        await emit(ErrorEvent(message=content, key=key, chat_id=turn.chat_id, message_id=result.message_id))
        return result

    async def _read_back(self, turn: _Turn) -> AskResult:
        """Step 14: the turn as the store has it."""
        hist = await self.store.get_chat_history(turn.chat_id, limit=2)
        by_id = {m["id"]: m for m in hist["messages"]}
        user = by_id.get(turn.user_message_id, {})
        asst = by_id.get(turn.assistant_message_id)
        if asst is None:  # the turn was interleaved with another writer: read the whole chat
            hist = await self.store.get_chat_history(turn.chat_id)
            by_id = {m["id"]: m for m in hist["messages"]}
            user = by_id.get(turn.user_message_id, {})
            asst = by_id[turn.assistant_message_id]
        labels = {i.id: i for i in turn.images}
        images = []
        for row in list(user.get("images") or []) + list(asst.get("images") or []):
            mem = labels.get(row["id"])
            images.append(ImageInfo(
                id=row["id"], image_type=row["image_type"], s3_path=row["s3_path"], s3_url=row.get("s3_url"),
                width=row.get("width"), height=row.get("height"), page_number=row.get("page_number"),
                message_id=row.get("message_id"), label=mem.label if mem else None,
                document_id=mem.document_id if mem else None, coords_norm=row.get("coords_norm"),
                description=row.get("description"), dpi=mem.dpi if mem else None,
            ))
        meta = asst.get("metadata") or {}
        return AskResult(
            chat_id=turn.chat_id, user_message_id=turn.user_message_id, message_id=asst["id"],
            answer=asst["content"], message_type=asst.get("message_type") or "text", model=asst.get("model"),
            citations=[Citation(**c) for c in meta.get("citations") or []],
            images=images, usage=meta.get("usage") or {},
        )


def t_caption_viewport(view: View, img: RenderedImage) -> str:
    blocks = ", ".join(view.block_ids[:6]) + ("…" if len(view.block_ids) > 6 else "")
    if view.header_norm is not None:
        what = f"строка {blocks} с шапкой таблицы над ней (ячейка обведена красным)"
    else:
        what = f"блоки {blocks} (обведены красным)"
    part = {"key": ", ключевые столбцы", "values": ", столбцы значений"}.get(view.part or "", "")
    grid = f", сетка A1…{img.grid.last_cell}" if img.grid else ""
    return f"стр. {view.page_number}, {what}{part}{grid}"


class _Executor:
    """Runs the model's tool calls for one turn: zooms and block images are rendered, uploaded and
    queued for recording against the assistant message; searches are stored as search results."""

    def __init__(self, service: AskService, turn: _Turn, emit: Callable[[AskEvent], Awaitable[None]]) -> None:
        self.service, self.turn, self.emit = service, turn, emit

    async def execute(self, name: str, args: dict[str, Any]) -> ToolResult:
        if name == ZOOM:
            result = await self._zoom(args)
        elif name == REQUEST_IMAGES:
            result = await self._request_images(args)
        elif name == SEARCH:
            result = await self._search(args)
        else:  # the loop filters unknown tools; keep a safe answer anyway
            result = ToolResult(t("tool.error.unknown_tool", name=name, known="zoom, request_images, search"))
        await self.emit(ToolEvent(name, args, result.text[:500]))
        return result

    async def _zoom(self, args: dict[str, Any]) -> ToolResult:
        turn = self.turn
        counts = {d.id: await self.service._page_count(d) for d in turn.documents}
        default = turn.documents[0].id if len(turn.documents) == 1 else None
        target = resolve_zoom(args, turn.refs, counts, default)
        if isinstance(target, ZoomRefusal):
            return ToolResult(target.message)
        doc = turn.by_id[target.document_id]
        if not doc.can_render:
            return ToolResult(t("zoom.refuse.no_pdf", document_id=doc.id))
        min_dpi = target.min_dpi * 1.5 if target.min_dpi else None
        src = f"увеличение {target.source_image}, " if target.source_image else ""
        caption = f"{src}стр. {target.page_index + 1}"
        try:
            image = await self.service._model_image(turn, doc, target.page_index, target.bbox_norm,
                                                    caption=caption, min_dpi=min_dpi, emit=self.emit)
        except RenderLimitError as exc:
            return ToolResult(str(exc))
        except (IndexError, ValueError, RuntimeError) as exc:
            return ToolResult(t("zoom.refuse.render_failed", detail=str(exc)[:100]))
        return ToolResult(self.service._zoom_done_text(turn, image.label), [image])

    async def _request_images(self, args: dict[str, Any]) -> ToolResult:
        turn = self.turn
        ids = args.get("block_ids")
        if isinstance(ids, str):
            ids = [ids]
        if not isinstance(ids, list) or not ids:
            return ToolResult(t("tool.request_images.no_blocks"))
        texts, images = [], []
        for raw in ids[:4]:
            block_id = str(raw).strip()
            # a table row is known by its row id (p3-r2) from the hits
            found = next((f for f in [*turn.hits, *turn.found_later.values()] if f.block.id == block_id), None)
            for d in turn.documents if found is None else ():
                b = d.block(block_id)
                if b is not None:
                    found = FoundBlock(d, b, 0.0)
                    break
            if found is None:
                texts.append(t("tool.request_images.unknown_block", block_id=block_id))
                continue
            turn.found_later.setdefault((found.document.id, found.block.id), found)
            doc, b = found.document, found.block
            texts.append(f"Блок {b.id} (стр. {b.page_number}), полный текст: {shorten(clean_text(b.text), 3000)}")
            if not doc.can_render or not b.has_coords:
                texts.append(t("zoom.refuse.no_pdf", document_id=doc.id))
                continue
            w, h = await self.service._page_size(doc, b.page_index)
            box = pad_box(tuple(b.coords_norm), w / h if h else 1.0, PlanOptions())  # type: ignore[arg-type]
            try:
                img = await self.service._model_image(turn, doc, b.page_index, box,
                                                      caption=f"блок {b.id}, стр. {b.page_number}",
                                                      min_dpi=None, outline=[b.coords_norm], emit=self.emit)
            except RenderLimitError as exc:
                texts.append(str(exc))
                continue
            images.append(img)
            texts.append(self.service._zoom_done_text(turn, img.label))
        if images:
            texts.append(t("tool.request_images.done", ids=", ".join(i.label for i in images)))
        return ToolResult("\n".join(texts), images)

    async def _search(self, args: dict[str, Any]) -> ToolResult:
        turn = self.turn
        query = str(args.get("query") or "").strip()
        if not query:
            return ToolResult(t("tool.search.empty_query"))
        found = await self.service.documents.search(turn.documents, query, self.service.settings.search_top_k)
        found = await rows_for_hits(found, query, self.service.renderer, self.service.render_options)
        if not found:
            return ToolResult(t("tool.search.nothing", query=query))
        await self.service._store_hits(turn, found)
        lines = []
        for n, f in enumerate(found, 1):
            turn.found_later.setdefault((f.document.id, f.block.id), f)
            lines.append(f"[{n}] стр. {f.block.page_number}, блок {f.block.id}: "
                         f"{shorten(clean_text(f.block.text), 300)}")
        return ToolResult("\n".join(lines))


def _emitter(cb: EventCallback | None) -> Callable[[AskEvent], Awaitable[None]]:
    async def emit(event: AskEvent) -> None:
        if cb is None:
            return
        try:
            res = cb(event)
            if inspect.isawaitable(res):
                await res
        except Exception:  # noqa: BLE001 - a broken listener must not break the question
            log.warning("progress listener failed on %s", type(event).__name__, exc_info=True)

    return emit


# -- module-level convenience -----------------------------------------------------------------------

async def ask(question: str, documents: Sequence[str] = (), *, settings: Settings | None = None,
              **kw: Any) -> AskResult:
    """One question with a service built from ``settings`` (closed afterwards)."""
    async with AskService(settings) as service:
        return await service.ask(question, documents, **kw)
