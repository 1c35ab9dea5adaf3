"""Progress events of the ask pipeline: typed, JSON-serialisable, transport-agnostic.

The CLI prints them; an HTTP API streams ``event.to_dict()`` as server-sent events
(``event: {type}``, ``data: {json}``). Order within one question::

    stage(chat) → stage(documents) → [stage(attachments)] → stage(search) → hits
    → stage(viewports) → image* → stage(llm) → (token | tool | image)* → stage(save)
    → answer | error

Exactly one terminal event (``answer`` or ``error``) ends every question.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Stage = Literal["chat", "documents", "attachments", "search", "viewports", "llm", "save"]


@dataclass
class Citation:
    document_id: str
    block_id: str
    page_number: int
    coords_norm: list[float] | None = None
    #: The document's title (file name or sheet title) for people; absent in older chats.
    document_title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def public(self) -> dict[str, Any]:
        """The fields of the CLI's --json output."""
        return {k: getattr(self, k) for k in ("document_id", "block_id", "page_number", "coords_norm")}


@dataclass
class ImageInfo:
    """An image stored for the question (as recorded in the store)."""

    id: str
    image_type: str  # viewport | zoom_crop | user_upload
    s3_path: str
    s3_url: str | None
    width: int | None
    height: int | None
    page_number: int | None
    message_id: str | None = None
    label: str | None = None  # the id the model saw: v1, z2, u1
    document_id: str | None = None
    coords_norm: list[float] | None = None
    description: str | None = None
    dpi: float | None = None  # rendering resolution (viewports and zooms)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def public(self) -> dict[str, Any]:
        """The fields of the CLI's --json output."""
        return {k: getattr(self, k) for k in
                ("id", "image_type", "s3_path", "s3_url", "width", "height", "page_number")}


@dataclass
class StageEvent:
    stage: Stage
    status: Literal["start", "done"]
    message: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    type: Literal["stage"] = "stage"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class HitsEvent:
    hits: list[dict[str, Any]]  # {document_id, block_id, page_number, coords_norm, score, text}
    type: Literal["hits"] = "hits"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TokenEvent:
    text: str
    type: Literal["token"] = "token"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ToolEvent:
    name: str
    arguments: dict[str, Any]
    result: str
    type: Literal["tool"] = "tool"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ImageEvent:
    image: ImageInfo
    type: Literal["image"] = "image"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "image": self.image.to_dict()}


@dataclass
class AskResult:
    chat_id: str
    user_message_id: str
    message_id: str  # the assistant message (answer or error)
    answer: str
    message_type: str = "text"  # "text" | "error"
    model: str | None = None
    offline: bool = False  # answered without a language model (the direct answerer); the API's name
    citations: list[Citation] = field(default_factory=list)
    images: list[ImageInfo] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def public(self) -> dict[str, Any]:
        """The CLI's ``--json`` shape."""
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "answer": self.answer,
            "citations": [c.public() for c in self.citations],
            "images": [i.public() for i in self.images],
        }


@dataclass
class AnswerEvent:
    result: AskResult
    type: Literal["answer"] = "answer"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "result": self.result.to_dict()}


@dataclass
class ErrorEvent:
    message: str
    key: str | None = None
    chat_id: str | None = None
    message_id: str | None = None  # the saved error message, when the chat exists
    type: Literal["error"] = "error"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


AskEvent = StageEvent | HitsEvent | TokenEvent | ToolEvent | ImageEvent | AnswerEvent | ErrorEvent
