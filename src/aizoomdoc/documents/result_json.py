"""Format B: the OCR fields of result JSON blocks, turned into searchable text and sheet info.

Text blocks: ``ocr_text`` is an HTML fragment. Image blocks: ``ocr_json`` (or the JSON inside
``ocr_text``) is a drawing analysis — flat, nested under ``"analysis"``, or a stamp dict — and
``pdfplumber_text`` is the PDF text layer of the crop (exact codes). ``crop_url`` is the crop.
"""

from __future__ import annotations

from typing import Any

from aizoomdoc.documents.base import is_stamp_dict, sheet_from_mapping
from aizoomdoc.documents.model import Block
from aizoomdoc.documents.text import (
    analysis_text,
    entities_list,
    has_table,
    html_to_text,
    parse_json_objects,
    squash,
    unwrap_analysis,
)


def image_analysis(raw: dict[str, Any]) -> list[Any]:
    """The analysis objects of an image block: ``ocr_json`` or the JSON found in ``ocr_text``."""
    oj = raw.get("ocr_json")
    if isinstance(oj, dict) and oj:
        return [oj]
    if isinstance(oj, str) and oj.strip():
        found = parse_json_objects(oj)
        if found:
            return found
    text = raw.get("ocr_text")
    if isinstance(text, str) and "{" in text:
        return parse_json_objects(text)
    return []


def apply_ocr_fields(block: Block, raw: dict[str, Any]) -> None:
    """Set ``block.text`` (and sheet, crop, analysis extras) from a JSON block's OCR fields."""
    parts: list[str] = []
    if block.block_type == "image":
        objects = image_analysis(raw)
        for obj in objects:
            parts.append(analysis_text(obj))
            analysis = unwrap_analysis(obj)
            if is_stamp_dict(analysis):
                sheet = sheet_from_mapping(analysis)
                block.sheet = sheet.merged(block.sheet) if sheet and block.sheet else sheet or block.sheet
                block.extra["stamp"] = True
            elif analysis is not None:
                block.extra.setdefault("analysis", analysis)
                ents = entities_list(analysis)
                if ents:
                    block.extra.setdefault("entities", ents)
        if not objects and isinstance(raw.get("ocr_text"), str):
            parts.append(html_to_text(raw["ocr_text"]))
        plumber = raw.get("pdfplumber_text")
        if isinstance(plumber, str) and plumber.strip():
            parts.append(" ".join(plumber.split()))
    else:
        html = raw.get("ocr_text") or raw.get("ocr_html")
        if isinstance(html, str):
            parts.append(html_to_text(html))
            if has_table(html):
                block.extra["has_table"] = True
    for key in ("hint", "group_name"):
        v = raw.get(key)
        if isinstance(v, str) and v.strip():
            parts.append(v.strip())
    crop = raw.get("crop_url")
    if isinstance(crop, str) and crop.strip():
        block.crop_ref = crop.strip()
    block.text = squash("\n".join(p for p in parts if p))
