"""Formats A and B: the JSON skeleton shared by annotation JSON and result JSON.

``{pdf_path, pages: [{page_number, width, height (px at 300 DPI), blocks: [...]}]}``.
Annotation JSON carries geometry only (``ocr_text`` is usually null); result JSON adds the OCR
(see :mod:`aizoomdoc.documents.result_json`). One reader handles both and names the format by
content, and also:

- the early flat variant of result JSON: a list of blocks ``[{block_id, text, type, page_index,
  category}, …]`` (or ``{"blocks": [...]}`` with text) without pages;
- page numbering: JSON counts pages from 0 — except some pipelines that count from 1 (every page
  listed, numbered 1..N); a companion PDF settles it when in doubt (:mod:`.bundle`);
- damage: a file cut off keeps the blocks before the cut; a page or block that is not an object is
  skipped; both are reported as warnings (:mod:`.read_warnings`);
- files that are no documents get one clear line: a ``_blocks.json`` crop index (ids and crop
  links only), and markup without any text (layout only) unless its PDF lies next to it.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import PureWindowsPath
from typing import Any, ClassVar

from aizoomdoc.documents.base import (
    FULL_PAGE,
    Source,
    as_box,
    bundle_stem,
    finish_document,
    new_document,
    norm_box,
    sheet_from_mapping,
)
from aizoomdoc.documents.json_repair import loads_tolerant
from aizoomdoc.documents.model import Block, BlockType, Document, Page
from aizoomdoc.documents.read_warnings import add as add_warnings
from aizoomdoc.documents.read_warnings import warning
from aizoomdoc.errors import DocumentError
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

_BLOCK_TYPES: dict[str, BlockType] = {"text": "text", "table": "table", "image": "image"}
_RESULT_KEYS = ("ocr_html", "ocr_meta", "ocr_json", "crop_url", "pdfplumber_text", "stamp_data")


def load_json(source: Source, problems: list[dict[str, Any]] | None = None) -> Any:
    """The parsed JSON of ``source``; a file cut off is closed at its last complete value when
    ``problems`` collects warnings (the caller refuses it when no block survives)."""
    text, cut = source.text_cut()
    if not text.strip():
        raise DocumentError("documents.empty", path=str(source.path))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        detail = t("documents.json_invalid.where", line=exc.lineno, column=exc.colno, msg=exc.msg)
        error = DocumentError("documents.json_invalid", path=str(source.path), detail=detail)
        repaired = loads_tolerant(text) if problems is not None else None
        if repaired is None or problems is None:
            raise error from exc
        problems.append(warning("truncated" if repaired[1] == "truncated" or cut else "json_broken",
                                line=exc.lineno))
        return _Salvaged(repaired[0], error)


class _Salvaged:
    """JSON recovered from a damaged file, with the error to raise if it holds no block."""

    def __init__(self, data: Any, error: DocumentError) -> None:
        self.data = data
        self.error = error


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


def page_base(data: dict[str, Any]) -> int:
    """1 when the pages are counted from 1 (every page listed, numbered 1..N, no page or block
    numbered 0), else 0 (the format's own rule)."""
    numbers: list[int] = []
    for n, raw_page in enumerate(data["pages"]):
        if not isinstance(raw_page, dict):
            continue
        value = raw_page.get("page_number", raw_page.get("page_index", n))
        if not isinstance(value, (int, float)):
            return 0
        numbers.append(int(value))
        for raw in raw_page.get("blocks") or [] if isinstance(raw_page.get("blocks"), list) else []:
            if isinstance(raw, dict) and raw.get("page_index") == 0:
                return 0
    return 1 if numbers and sorted(numbers) == list(range(1, len(numbers) + 1)) else 0


def read_bundle_json(source: Source, data: Any, problems: list[dict[str, Any]] | None = None) -> Document:
    from aizoomdoc.documents.result_json import apply_ocr_fields

    problems = [] if problems is None else problems
    if not looks_like_bundle(data):
        raise _structure_error(source, t("documents.structure.no_pages"))
    kind = bundle_kind(data)
    pdf_name = pdf_name_inside(data)
    title = PureWindowsPath(pdf_name).stem if pdf_name else None
    doc = new_document(source, kind, title=title)
    if pdf_name:
        doc.metadata["pdf_name"] = pdf_name
    base = page_base(data)
    doc.metadata["page_base"] = base
    pages: dict[int, Page] = {}
    seen_ids: set[str] = set()
    for n, raw_page in enumerate(data["pages"]):
        if not isinstance(raw_page, dict):
            problems.append(warning("bad_block", page=n + 1, detail="page"))
            continue
        width, height = _num(raw_page.get("width")), _num(raw_page.get("height"))
        page_no = raw_page.get("page_number", raw_page.get("page_index", n + base))
        page_index = int(page_no) - base if isinstance(page_no, (int, float)) else n
        page = pages.setdefault(page_index, Page(page_index, width, height, unit="px"))
        raw_blocks = raw_page.get("blocks") or []
        if not isinstance(raw_blocks, list):
            problems.append(warning("bad_block", page=page_index + 1))
            continue
        for k, raw in enumerate(raw_blocks):
            if not isinstance(raw, dict) or not raw:
                problems.append(warning("bad_block", page=page_index + 1))
                continue
            block = _block(raw, page, k, seen_ids, base)
            if block.extra.pop("duplicate_id", False):
                problems.append(warning("duplicate_id", page=page_index + 1, block=block.id))
            apply_ocr_fields(block, raw)
            target = page
            if block.page_index != page.page_index:
                target = pages.setdefault(block.page_index, Page(block.page_index, width, height, unit="px"))
            target.blocks.append(block)
    doc.pages = list(pages.values())
    if not doc.blocks:
        raise DocumentError("documents.no_blocks", path=str(source.path))
    if not any(b.text.strip() for b in doc.blocks):
        doc.metadata["layout_only"] = True
    add_warnings(doc.metadata, problems)
    return finish_document(doc)


_TEXT_KEYS = ("text", "ocr_text", "content", "markdown")


def _flat_text(raw: dict[str, Any]) -> str:
    for key in _TEXT_KEYS:
        value = raw.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def read_flat_list(source: Source, items: list[Any], problems: list[dict[str, Any]]) -> Document:
    """The early result JSON: a flat list of blocks ``{block_id, text, type, page_index, category}``."""
    from aizoomdoc.documents.text import html_to_text, squash

    numbers = [int(r["page_index"]) for r in items if isinstance(r, dict) and isinstance(r.get("page_index"), (int, float))]
    base = 1 if numbers and min(numbers) >= 1 and sorted(set(numbers)) == list(range(1, max(numbers) + 1)) else 0
    doc = new_document(source, "result_json")
    doc.metadata["variant"] = "flat_list"
    doc.metadata["page_base"] = base
    pages: dict[int, Page] = {}
    seen: set[str] = set()
    for k, raw in enumerate(items):
        if not isinstance(raw, dict):
            problems.append(warning("bad_block", block=f"№{k + 1}"))
            continue
        page_no = raw.get("page_index", raw.get("page", raw.get("page_number")))
        page_index = int(page_no) - base if isinstance(page_no, (int, float)) else 0
        block_id = str(raw.get("block_id") or raw.get("id") or f"p{page_index + 1}-b{k + 1}").strip()
        if block_id in seen:
            problems.append(warning("duplicate_id", page=page_index + 1, block=block_id))
            block_id = f"{block_id}#{k + 1}"
        seen.add(block_id)
        kind = str(raw.get("type") or raw.get("block_type") or "text").lower()
        block = Block(id=block_id, page_index=max(page_index, 0), block_type=_BLOCK_TYPES.get(kind, "text"),
                      text=squash(html_to_text(_flat_text(raw))), coords_norm=FULL_PAGE, has_coords=False)
        box = as_box(raw.get("coords_norm"))
        if box is not None:
            block.coords_norm, block.has_coords = norm_box(*box, 1.0, 1.0), True
        for key in ("category", "category_code"):
            if raw.get(key) not in (None, ""):
                block.extra[key] = raw[key]
        if str(raw.get("category") or "").lower() == "stamp":
            block.extra["stamp"] = True
        pages.setdefault(block.page_index, Page(block.page_index, 0.0, 0.0, unit="px")).blocks.append(block)
    doc.pages = list(pages.values())
    if not any(b.text for b in doc.blocks):
        raise DocumentError("documents.flat_list_empty", path=str(source.path))
    add_warnings(doc.metadata, problems)
    return finish_document(doc)


def _refuse_non_document(source: Source, data: dict[str, Any]) -> DocumentError:
    """A ``{"blocks": [...]}`` without text: a crop index, or layout only."""
    blocks = [b for b in data.get("blocks") or [] if isinstance(b, dict)]
    if any(b.get("crop_url") for b in blocks):
        stem = bundle_stem(source.path.name)
        return DocumentError("documents.crop_index", path=str(source.path), hint=f"{stem}_document.md")
    pages = len({b.get("page_index") for b in blocks}) or 1
    return DocumentError("documents.layout_only", path=str(source.path), pages=pages,
                         blocks=t("documents.count.blocks", count=len(blocks)))


def read_json(source: Source) -> Document:
    """Any JSON markup: a bundle with pages, the flat list variant; refuses what is no document."""
    problems: list[dict[str, Any]] = []
    loaded = load_json(source, problems)
    salvaged = isinstance(loaded, _Salvaged)
    data = loaded.data if salvaged else loaded
    try:
        if looks_like_bundle(data):
            doc = read_bundle_json(source, data, problems)
            if salvaged and doc.metadata.get("layout_only"):
                raise loaded.error  # what survived the damage holds no text
            return doc
        if isinstance(data, list) and any(isinstance(x, dict) for x in data):
            return read_flat_list(source, data, problems)
        if isinstance(data, dict) and isinstance(data.get("blocks"), list):
            items = data["blocks"]
            if any(isinstance(x, dict) and _flat_text(x) for x in items):
                return read_flat_list(source, items, problems)
            raise _refuse_non_document(source, data)
    except DocumentError as exc:
        if salvaged and exc.key in ("documents.no_blocks", "documents.json_structure", "documents.flat_list_empty"):
            raise loaded.error from exc
        raise
    if salvaged:
        raise loaded.error
    raise _structure_error(source, t("documents.structure.no_pages"))


def _block(raw: dict[str, Any], page: Page, k: int, seen: set[str], base: int = 0) -> Block:
    block_id = str(raw.get("id") or f"p{page.page_number}-b{k + 1}").strip()
    duplicate = block_id in seen
    if duplicate:
        block_id = f"{block_id}#{k + 1}"
    seen.add(block_id)
    page_index = raw.get("page_index")
    page_index = int(page_index) - base if isinstance(page_index, (int, float)) else page.page_index
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
    if duplicate:
        block.extra["duplicate_id"] = True
    return block


class JsonBundleReader:
    """Formats A and B (``*_annotation.json``, ``*_result.json``)."""

    format: ClassVar[str] = "json_bundle"
    extensions: ClassVar[tuple[str, ...]] = (".json",)

    def sniff(self, source: Source, head: str) -> bool:
        stripped = head.lstrip()
        if stripped.startswith("[") and re.match(r'\[\s*\{\s*"', stripped):
            return '"block_id"' in head or '"page_index"' in head
        return stripped.startswith("{") and '"pages"' in head or (
            stripped.startswith("{") and source.path.suffix.lower() == ".json"
        )

    def read(self, source: Source) -> Document:
        return read_json(source)
