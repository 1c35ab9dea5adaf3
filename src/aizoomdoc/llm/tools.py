"""The tools the model may call, as OpenAI function schemas, and the executor interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

ZOOM = "zoom"
REQUEST_IMAGES = "request_images"
SEARCH = "search"

TOOL_SPECS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": ZOOM,
            "description": (
                "Показать область листа крупнее (в большем разрешении). Укажите либо image_id "
                "показанного изображения и cell (ячейку сетки, например «B2» или «A1:B2») или bbox "
                "внутри этого изображения, либо page (номер страницы с 1) и bbox на странице. "
                "bbox — [x1, y1, x2, y2] в долях от 0 до 1, начало в левом верхнем углу."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "image_id": {"type": "string", "description": "id изображения, например v1 или z2"},
                    "cell": {"type": "string", "description": "ячейка сетки изображения: B2 или A1:B2"},
                    "bbox": {
                        "type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
                        "description": "[x1, y1, x2, y2], доли от 0 до 1",
                    },
                    "page": {"type": "integer", "description": "номер страницы (с 1), если без image_id"},
                    "document_id": {"type": "string", "description": "id документа, если их несколько"},
                    "reason": {"type": "string", "description": "что нужно прочитать"},
                },
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": REQUEST_IMAGES,
            "description": "Показать изображения блоков документа по их идентификаторам (block_id).",
            "parameters": {
                "type": "object",
                "properties": {
                    "block_ids": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["block_ids"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": SEARCH,
            "description": (
                "Искать в документах ещё раз (другие слова, шифр, обозначение, отметка). "
                "Возвращает найденные блоки с текстом, страницей и block_id."
            ),
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
        },
    },
]

TOOL_NAMES = [spec["function"]["name"] for spec in TOOL_SPECS]


@dataclass
class ToolImage:
    label: str  # the id the model uses to refer to the image ("z1")
    data: bytes
    mime: str
    caption: str  # one line describing what the image shows


@dataclass
class ToolResult:
    text: str
    images: list[ToolImage] = field(default_factory=list)


class ToolExecutor(Protocol):
    """Runs a tool call for the loop (the pipeline renders, stores and records)."""

    async def execute(self, name: str, args: dict[str, Any]) -> ToolResult: ...
