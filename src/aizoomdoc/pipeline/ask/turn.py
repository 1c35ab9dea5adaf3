"""The state of one question while it is answered, passed between the steps of the flow.

One :class:`Turn` per question: which chat and messages it writes, what it found, the images it
made (and the labels the model knows them by), the records still to write with the assistant
message, and the timings and counters for the usage analytics. It holds no services, so every
module of the flow can take it without depending on the others.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aizoomdoc.config import Settings
from aizoomdoc.documents.model import Document
from aizoomdoc.pipeline.events import AskEvent, ImageInfo
from aizoomdoc.pipeline.render_cache import RenderCounters
from aizoomdoc.pipeline.sources import FoundBlock
from aizoomdoc.zoom import ImageRef

log = logging.getLogger(__name__)

#: What the caller of :meth:`AskService.ask` passes to follow the progress (sync or async).
EventCallback = Callable[[AskEvent], "Awaitable[None] | None"]
#: What the steps call to report progress (always async, never raises).
Emit = Callable[[AskEvent], Awaitable[None]]


@dataclass
class Pending:
    """An uploaded image whose record is written with the assistant message."""

    info: ImageInfo
    row: dict[str, Any]


@dataclass
class Turn:
    """One question being answered (see the module docstring)."""

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
    #: Hits for look-alike codes (named apart in a direct answer, neither shown nor cited).
    similar: set[tuple[str, str]] = field(default_factory=set)
    refs: dict[str, ImageRef] = field(default_factory=dict)
    images: list[ImageInfo] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    zooms: int = 0
    answered: bool = False  # the assistant message is stored
    timings: dict[str, float] = field(default_factory=dict)
    renders: RenderCounters = field(default_factory=RenderCounters)  # for the usage analytics
    llm_calls: int = 0
    error_kind: str | None = None

    @property
    def by_id(self) -> dict[str, Document]:
        return {d.id: d for d in self.documents}


def emitter(cb: EventCallback | None) -> Emit:
    """``cb`` as an :data:`Emit`: awaited when it returns an awaitable; a failing listener is
    logged, never allowed to break the question."""
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
