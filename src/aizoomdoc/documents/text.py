"""Text helpers shared by the bundle readers: HTML to plain text, embedded analysis JSON."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

from aizoomdoc.documents.base import is_stamp_dict

_BLOCK_TAGS = {
    "p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "tr", "table",
    "thead", "tbody", "pre", "section", "article", "blockquote", "hr", "dt", "dd", "caption",
}
_SKIP_TAGS = {"style", "script", "head", "title"}
_WS = re.compile(r"\s+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip = 0
        self.in_cell = False

    def _flush(self) -> None:
        line = _WS.sub(" ", "".join(self.current)).strip(" |")
        if line:
            self.lines.append(line.strip())
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag in ("td", "th"):
            if self.current and "".join(self.current).strip():
                self.current.append(" | ")
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in ("td", "th"):
            self.current.append(" ")
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.current.append(data)

    def text(self) -> str:
        self._flush()
        return "\n".join(self.lines)


def html_to_text(fragment: str | None) -> str:
    """Plain text of an HTML fragment (tolerates stray closing tags and unclosed elements).

    Block elements become line breaks, table cells are joined with `` | ``, whitespace inside a
    line is collapsed.
    """
    if not fragment:
        return ""
    if "<" not in fragment and "&" not in fragment:
        return "\n".join(_WS.sub(" ", ln).strip() for ln in fragment.splitlines() if ln.strip())
    parser = _TextExtractor()
    parser.feed(fragment)
    parser.close()
    return parser.text()


def has_table(fragment: str | None) -> bool:
    return bool(fragment) and "<table" in fragment.lower()  # type: ignore[union-attr]


_FENCE = re.compile(r"```(?:json)?", re.IGNORECASE)


def parse_json_objects(text: str) -> list[Any]:
    """Every JSON object in ``text``: one, several concatenated, or inside ```json fences."""
    text = _FENCE.sub(" ", text)
    decoder = json.JSONDecoder()
    out: list[Any] = []
    pos = 0
    n = len(text)
    while pos < n:
        start = text.find("{", pos)
        if start < 0:
            break
        try:
            obj, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            pos = start + 1
            continue
        out.append(obj)
        pos = end
    return out


_UNDEFINED = {"", "не определены", "не определено", "нет", "null", "none", "-", "—"}


def _clean(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(s for s in (_clean(v) for v in value) if s)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {s}" for k, v in value.items() if (s := _clean(v)))
    s = str(value).strip()
    return "" if s.lower() in _UNDEFINED else s


def unwrap_analysis(obj: Any) -> dict[str, Any] | None:
    """The analysis dict of an image block (flat, or nested under ``"analysis"``)."""
    if not isinstance(obj, dict):
        return None
    inner = obj.get("analysis")
    if isinstance(inner, dict):
        return inner
    return obj


def analysis_text(obj: Any) -> str:
    """Searchable text of an image block's drawing analysis (or of a stamp dict)."""
    analysis = unwrap_analysis(obj)
    if analysis is None:
        return _clean(obj)
    if is_stamp_dict(analysis):
        return stamp_text(analysis)
    lines: list[str] = []
    location = analysis.get("location")
    if isinstance(location, dict):
        zone = _clean(location.get("zone_name"))
        grid = _clean(location.get("grid_lines"))
        if zone or grid:
            lines.append(" ".join(x for x in (zone, f"Оси: {grid}" if grid else "") if x))
    for key in ("content_summary", "detailed_description", "clean_ocr_text", "ocr_text"):
        v = _clean(analysis.get(key))
        if v:
            lines.append(v)
    entities = _clean(analysis.get("key_entities"))
    if entities:
        lines.append(entities)
    known = {"location", "content_summary", "detailed_description", "clean_ocr_text", "ocr_text",
             "key_entities", "analysis"}
    for key, value in analysis.items():
        if key not in known and (v := _clean(value)):
            lines.append(v)
    return "\n".join(lines)


def stamp_text(stamp: dict[str, Any]) -> str:
    labels = [
        ("document_code", "Шифр"), ("stage", "Стадия"), ("sheet_number", "Лист"),
        ("total_sheets", "Листов"), ("sheet_name", "Наименование"), ("project_name", "Объект"),
        ("organization", "Организация"),
    ]
    parts = [f"{label}: {v}" for key, label in labels if (v := _clean(stamp.get(key)))]
    return "Штамп. " + " | ".join(parts) if parts else "Штамп"


def entities_list(obj: Any) -> list[str]:
    analysis = unwrap_analysis(obj)
    if not analysis:
        return []
    ents = analysis.get("key_entities")
    if isinstance(ents, list):
        return [str(e).strip() for e in ents if str(e).strip()]
    return []


def squash(text: str) -> str:
    """Lines stripped, empty lines dropped."""
    return "\n".join(ln.strip() for ln in text.splitlines() if ln.strip())
