"""The one model every reader produces: Document -> Page -> Block.

Coordinates: ``coords_norm`` is ``(x1, y1, x2, y2)`` in [0, 1] with the origin at the top-left of
the page; it is the stable field. ``coords_px`` are pixels of a 300 DPI raster when the source
gave them. ``page_index`` is 0-based, ``page_number`` (what users see) is 1-based.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

BlockType = Literal["text", "table", "image"]
Box = tuple[float, float, float, float]

#: Raster resolution of OCR bundle pixel coordinates.
BUNDLE_DPI = 300


@dataclass(frozen=True)
class SheetInfo:
    """What the title block (штамп) of a sheet says, where it was found."""

    document_code: str | None = None  # шифр, e.g. "133/23-ГК-АР1"
    sheet_number: str | None = None
    sheet_name: str | None = None
    stage: str | None = None  # стадия: П, Р, РД
    object_name: str | None = None
    organization: str | None = None

    def is_empty(self) -> bool:
        return not any(vars(self).values())

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> SheetInfo | None:
        """The inverse of :meth:`to_dict`; None for an empty or missing dict."""
        if not data:
            return None
        names = {"document_code", "sheet_number", "sheet_name", "stage", "object_name", "organization"}
        info = cls(**{k: str(v) for k, v in data.items() if k in names and v not in (None, "")})
        return None if info.is_empty() else info

    def merged(self, other: SheetInfo | None) -> SheetInfo:
        """This info with the gaps filled from ``other``."""
        if other is None:
            return self
        return SheetInfo(**{k: v or getattr(other, k) for k, v in vars(self).items()})


@dataclass
class Block:
    id: str
    page_index: int
    block_type: BlockType
    text: str
    coords_norm: Box
    coords_px: Box | None = None
    links: list[str] = field(default_factory=list)
    crop_ref: str | None = None  # URL or path of a crop of this block, when the bundle has one
    sheet: SheetInfo | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: False when the source gave no coordinates (OCR HTML, Markdown without a JSON companion):
    #: ``coords_norm`` is then the whole page (0, 0, 1, 1) and must not be drawn as a highlight.
    has_coords: bool = True

    @property
    def page_number(self) -> int:
        return self.page_index + 1


@dataclass
class Page:
    page_index: int
    width: float  # points (PDF) or pixels (bundle/raster), see ``unit``
    height: float
    unit: Literal["pt", "px"] = "pt"
    blocks: list[Block] = field(default_factory=list)
    is_scanned: bool = False
    sheet: SheetInfo | None = None
    #: ``ok`` | ``none`` | ``garbage`` (see documents/text_layer.py); bundles are always ``ok``.
    text_layer: str = "ok"

    @property
    def page_number(self) -> int:
        return self.page_index + 1

    @property
    def size_known(self) -> bool:
        """False for bundles without a PDF or page sizes (width = height = 0)."""
        return self.width > 0 and self.height > 0


@dataclass
class Document:
    id: str
    title: str
    source_path: str
    source_format: str  # "pdf", "annotation_json", "result_json", "ocr_html", "markdown", "image"
    sha256: str
    pages: list[Page] = field(default_factory=list)
    #: The file that supplies pixels for crops (the PDF, or the PNG/JPG sheet); None when an OCR
    #: bundle came without its PDF (text and coordinates only).
    render_path: str | None = None
    sheet: SheetInfo | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def blocks(self) -> list[Block]:
        return [b for p in self.pages for b in p.blocks]

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def can_render(self) -> bool:
        return self.render_path is not None

    def page(self, page_index: int) -> Page | None:
        for p in self.pages:
            if p.page_index == page_index:
                return p
        return None

    def block(self, block_id: str) -> Block | None:
        for b in self.blocks:
            if b.id == block_id:
                return b
        return None
