"""Formats A and B: the JSON skeleton shared by annotation JSON and result JSON.

``{pdf_path, pages: [{page_number (0-based), width, height (px at 300 DPI), blocks: [...]}]}``.
Annotation JSON carries geometry only (``ocr_text`` is usually null); result JSON adds the OCR
(see :mod:`aizoomdoc.documents.result_json`). One reader handles both and names the format by
content.
"""

from __future__ import annotations

import json
import logging
from pathlib import PureWindowsPath
from typing import Any, ClassVar

from aizoomdoc.documents.base import (
    FULL_PAGE,
    Source,
    as_box,
    finish_document,
    new_document,
    norm_box,
    sheet_from_mapping,
)
from aizoomdoc.documents.model import Block, BlockType, Document, Page
from aizoomdoc.errors import DocumentError

log = logging.getLogger(__name__)

_BLOCK_TYPES: dict[str, BlockType] = {"text": "text", "table": "table", "image": "image"}
_RESULT_KEYS = ("ocr_html", "ocr_meta", "ocr_json", "crop_url", "pdfplumber_text", "stamp_data")


def load_json(source: Source) -> Any:
    text = source.text()
    if not text.strip():
        raise DocumentError("documents.empty", path=str(source.path))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        detail = f"строка {exc.lineno}, столбец {exc.colno}: {exc.msg}"
        raise DocumentError("documents.json_invalid", path=str(source.path), detail=detail) from exc


def looks_like_bundle(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("pages"), list)


def bundle_kind(data: dict[str, Any]) -> str:
    """``"result_json"`` when any block carries OCR output, else ``"annotation_json"``."""
    for page in data.get("pages") or []:
        for raw in (page.get("blocks") or []) if isinstance(page, dict) else []:
            if isinstance(raw, dict) and (
                any(k in raw for k in _RESULT_KEYS) or raw.get("ocr_text")
            ):
                return "result_json"
    return "annotation_json"


def pdf_name_inside(data: Any) -> str | None:
    """The file name of ``pdf_path`` (Windows or POSIX path) named inside the bundle."""
    if isinstance(data, dict) and isinstance(data.get("pdf_path"), str) and data["pdf_path"].strip():
        return PureWindowsPath(data["pdf_path"].strip()).name
    return None


def _structure_error(source: Source, detail: str) -> DocumentError:
    return DocumentError("documents.json_structure", path=str(source.path), detail=detail)


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def read_bundle_json(source: Source, data: Any) -> Document:
    from aizoomdoc.documents.result_json import apply_ocr_fields

    if not looks_like_bundle(data):
        raise _structure_error(source, "нет списка pages")
    kind = bundle_kind(data)
    pdf_name = pdf_name_inside(data)
    title = PureWindowsPath(pdf_name).stem if pdf_name else None
    doc = new_document(source, kind, title=title)
    if pdf_name:
        doc.metadata["pdf_name"] = pdf_name
    pages: dict[int, Page] = {}
    seen_ids: set[str] = set()
    for n, raw_page in enumerate(data["pages"]):
        if not isinstance(raw_page, dict):
            raise _structure_error(source, f"страница №{n + 1} — не объект")
        width, height = _num(raw_page.get("width")), _num(raw_page.get("height"))
        page_no = raw_page.get("page_number", raw_page.get("page_index", n))
        page_index = int(page_no) if isinstance(page_no, (int, float)) else n
        page = pages.setdefault(page_index, Page(page_index, width, height, unit="px"))
        raw_blocks = raw_page.get("blocks") or []
        if not isinstance(raw_blocks, list):
            raise _structure_error(source, f"blocks страницы {page_index + 1} — не список")
        for k, raw in enumerate(raw_blocks):
            if not isinstance(raw, dict):
                raise _structure_error(source, f"блок №{k + 1} страницы {page_index + 1} — не объект")
            block = _block(raw, page, k, seen_ids)
            apply_ocr_fields(block, raw)
            target = page
            if block.page_index != page.page_index:
                target = pages.setdefault(block.page_index, Page(block.page_index, width, height, unit="px"))
            target.blocks.append(block)
    doc.pages = list(pages.values())
    if not doc.blocks:
        raise DocumentError("documents.no_blocks", path=str(source.path))
    return finish_document(doc)


def _block(raw: dict[str, Any], page: Page, k: int, seen: set[str]) -> Block:
    block_id = str(raw.get("id") or f"p{page.page_number}-b{k + 1}").strip()
    if block_id in seen:
        block_id = f"{block_id}#{k + 1}"
    seen.add(block_id)
    page_index = raw.get("page_index")
    page_index = int(page_index) if isinstance(page_index, (int, float)) else page.page_index
    px = as_box(raw.get("coords_px"))
    norm = as_box(raw.get("coords_norm"))
    has_coords = True
    if norm is not None:
        norm = norm_box(*norm, 1.0, 1.0)
    elif px is not None and page.size_known:
        norm = norm_box(*px, page.width, page.height)
    else:
        norm, has_coords = FULL_PAGE, False
    block_type = _BLOCK_TYPES.get(str(raw.get("block_type", "text")).lower(), "text")
    block = Block(
        id=block_id,
        page_index=page_index,
        block_type=block_type,
        text="",
        coords_norm=norm,
        coords_px=px,
        has_coords=has_coords,
    )
    linked = raw.get("linked_block_id")
    if isinstance(linked, str) and linked.strip():
        block.links.append(linked.strip())
    for key in ("source", "shape_type", "group_id", "group_name", "hint", "category_code"):
        if raw.get(key) not in (None, ""):
            block.extra[key] = raw[key]
    if isinstance(raw.get("polygon_points"), list):
        block.extra["polygon_points"] = raw["polygon_points"]
    if raw.get("image_file"):
        block.extra["image_file"] = raw["image_file"]
    stamp = sheet_from_mapping(raw.get("stamp_data"))
    if stamp is not None:
        block.sheet = stamp
    return block


class JsonBundleReader:
    """Formats A and B (``*_annotation.json``, ``*_result.json``)."""

    format: ClassVar[str] = "json_bundle"
    extensions: ClassVar[tuple[str, ...]] = (".json",)

    def sniff(self, source: Source, head: str) -> bool:
        stripped = head.lstrip()
        return stripped.startswith("{") and '"pages"' in head or (
            stripped.startswith("{") and source.path.suffix.lower() == ".json"
        )

    def read(self, source: Source) -> Document:
        return read_bundle_json(source, load_json(source))
