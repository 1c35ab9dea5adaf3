"""Format D: Markdown made by OCR pipelines, three dialects and the block markers, one parser.

- D1 ``*_document.md``: ``## СТРАНИЦА N`` (1-based) pages with ``**Лист:** k (из n)`` and
  ``**Наименование листа:** …``; ``### BLOCK [TEXT|IMAGE|TABLE]: ID`` blocks; ``→ID`` links;
  labelled image fields (``**[ИЗОБРАЖЕНИЕ]** | Тип: …``, ``**Краткое описание:**`` …); an optional
  ``**Штамп:** Шифр: … | Стадия: … | Объект: …`` line; crops in ``crops/<ID>.pdf|png|jpg``.
- D2 "prepared": plain Markdown plus fenced ```` ```json ```` objects
  ``{doc_metadata{doc_name, page}, image{uri}, raw_pdfplumber_text, analysis{…}}`` (image id =
  stem of ``image.uri``; ``page`` is 1-based). Text outside fences has no ids or pages: it becomes
  text blocks with synthetic ids on the page of the next image (``extra["page_inferred"]``).
- D3 early ``result.md``: text, ``*Изображение:*``, an *unfenced* analysis JSON object, then
  ``![Изображение](…/crops/image_<uuid>.pdf)`` (id = the uuid).
- ``<!-- BLOCK_ID: … -->`` … ``<!-- END_BLOCK -->`` markers (older files).

Markdown has no coordinates: blocks get the whole page and ``has_coords=False``.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from aizoomdoc.documents.base import (
    FULL_PAGE,
    Source,
    finish_document,
    is_stamp_dict,
    new_document,
    sheet_from_mapping,
)
from aizoomdoc.documents.model import Block, BlockType, Document, Page, SheetInfo
from aizoomdoc.documents.ocr_html import IMAGE_FIELDS, compose_image_text, parse_image_kind, split_entities
from aizoomdoc.documents.text import analysis_text, entities_list, parse_json_objects, squash, unwrap_analysis
from aizoomdoc.errors import DocumentError

log = logging.getLogger(__name__)

_PAGE = re.compile(r"^#{1,4}\s*СТРАНИЦА\s+(\d+)\b", re.IGNORECASE)
_STAMP = re.compile(r"^\*\*\s*Штамп:?\s*\*\*:?\s*(.*)$", re.IGNORECASE)
_SHEET_NO = re.compile(r"^\*\*\s*Лист:?\s*\*\*:?\s*(\d+)\s*(?:\(\s*из\s*(\d+)\s*\))?", re.IGNORECASE)
_SHEET_NAME = re.compile(r"^\*\*\s*Наименование листа:?\s*\*\*:?\s*(.*)$", re.IGNORECASE)
# Possessive \s*+ and no optional whitespace before a delimiter: linear on long space runs.
_BLOCK = re.compile(r"^#{2,4}\s*BLOCK\s*\[\s*(TEXT|IMAGE|TABLE)\s*\]\s*+:?\s*+(\S+)", re.IGNORECASE)
_MARKER = re.compile(r"^<!--\s*BLOCK_ID\s*:\s*([^\s|>]+)(.*?)-->", re.IGNORECASE)
_MARKER_END = re.compile(r"^<!--\s*END_BLOCK\s*-->", re.IGNORECASE)
_LINK = re.compile(r"^→\s*(\S+)")
_IMAGE_KIND = re.compile(r"^\*\*\s*\[ИЗОБРАЖЕНИЕ\]\s*\*\*(.*)$", re.IGNORECASE)
_FIELD = re.compile(r"^\*\*\s*+([^*:]+):\s*+\*\*\s*(.*)$")  # group 1 is stripped by the caller
_FENCE = re.compile(r"^```\s*(\w*)\s*$")
_D3_IMAGE = re.compile(r"^\*\s*Изображение:?\s*\*\s*$", re.IGNORECASE)
_IMG_LINK = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
_UUID_IN = re.compile(r"image_([0-9a-fA-F-]{32,36})")
_HEADING = re.compile(r"^#{1,6}\s+\S")
_TYPES: dict[str, BlockType] = {"text": "text", "table": "table", "image": "image"}
_CROP_EXT = (".pdf", ".png", ".jpg", ".jpeg")


@dataclass
class _Draft:
    id: str | None
    block_type: BlockType | None
    page_index: int | None
    explicit: bool
    lines: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    analyses: list[Any] = field(default_factory=list)
    crop: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def empty(self) -> bool:
        return not (any(ln.strip() for ln in self.lines) or self.fields or self.analyses)


def parse_stamp_line(value: str) -> SheetInfo | None:
    values: dict[str, str] = {}
    for part in value.split("|"):
        label, _, v = part.partition(":")
        values[label.strip()] = v.strip()
    return sheet_from_mapping(values)


class _Parser:
    def __init__(self, source: Source, text: str) -> None:
        self.source = source
        self.path = str(source.path)
        self.lines = text.splitlines()
        self.drafts: list[_Draft] = []
        self.current: _Draft | None = None
        self.page: int | None = None
        self.page_sheets: dict[int, dict[str, str]] = {}
        self.doc_sheet: SheetInfo | None = None
        self.doc_name: str | None = None
        self.d2_pages: list[int] = []
        self.dialects: set[str] = set()

    # --- block bookkeeping --------------------------------------------------------------
    def flush(self) -> None:
        if self.current is not None and not self.current.empty():
            self.drafts.append(self.current)
        self.current = None

    def text_block(self) -> _Draft:
        if self.current is None:
            self.current = _Draft(None, None, self.page, explicit=False)
        return self.current

    def error(self, lineno: int, detail: str) -> DocumentError:
        return DocumentError("documents.markdown_invalid", path=self.path, detail=f"строка {lineno}: {detail}")

    # --- the pass -----------------------------------------------------------------------
    def run(self) -> None:
        i = 0
        n = len(self.lines)
        while i < n:
            line = self.lines[i]
            s = line.strip()
            if m := _PAGE.match(s):
                self.flush()
                self.page = int(m.group(1)) - 1
                self.page_sheets.setdefault(self.page, {})
                self.dialects.add("D1")
            elif m := _STAMP.match(s):
                self.doc_sheet = parse_stamp_line(m.group(1))
            elif (m := _SHEET_NO.match(s)) and self.page is not None and (
                self.current is None or not self.current.explicit
            ):
                self.page_sheets[self.page]["sheet_number"] = m.group(1)
            elif (m := _SHEET_NAME.match(s)) and self.page is not None:
                self.page_sheets[self.page]["sheet_name"] = m.group(1).strip()
            elif m := _BLOCK.match(s):
                self.flush()
                self.current = _Draft(m.group(2), _TYPES[m.group(1).lower()], self.page, explicit=True)
                self.dialects.add("D1")
            elif m := _MARKER.match(s):
                self.flush()
                hint = m.group(2).lower()
                btype = next((t for k, t in _TYPES.items() if k in hint), None)
                self.current = _Draft(m.group(1), btype, self.page, explicit=True)
                self.dialects.add("markers")
            elif _MARKER_END.match(s):
                self.flush()
            elif (m := _LINK.match(s)) and self.current is not None and self.current.explicit:
                self.current.links.append(m.group(1))
            elif (m := _IMAGE_KIND.match(s)) and self.current is not None:
                self.current.fields.update(parse_image_kind(m.group(1)))
                self.current.block_type = self.current.block_type or "image"
            elif (m := _FIELD.match(s)) and self.current is not None and m.group(1).strip().lower() in IMAGE_FIELDS:
                key = IMAGE_FIELDS[m.group(1).strip().lower()]
                value = m.group(2).strip()
                self.current.fields[key] = split_entities(value) if key == "entities" else value
            elif m := _FENCE.match(s):
                i = self.fence(i, m.group(1).lower())
                continue
            elif _D3_IMAGE.match(s):
                i = self.d3_image(i)
                continue
            elif (m := _IMG_LINK.search(s)) and self.current is not None and self.current.explicit:
                self.current.crop = self.current.crop or m.group(1)
            elif _HEADING.match(s) and (self.current is None or not self.current.explicit):
                self.flush()
                self.text_block().lines.append(line)
            elif not s:
                if self.current is not None:
                    self.current.lines.append("")
            else:
                self.implicit_line(line)
            i += 1
        self.flush()

    def implicit_line(self, line: str) -> None:
        """A plain line; outside explicit blocks a table starts or ends a text block."""
        cur = self.current
        if cur is not None and not cur.explicit:
            last = next((ln for ln in reversed(cur.lines) if ln.strip()), None)
            if last is not None and last.lstrip().startswith("|") != line.lstrip().startswith("|"):
                self.flush()
        self.text_block().lines.append(line)

    def fence(self, i: int, lang: str) -> int:
        start = i
        i += 1
        body: list[str] = []
        while i < len(self.lines) and not _FENCE.match(self.lines[i].strip()):
            body.append(self.lines[i])
            i += 1
        if i >= len(self.lines):
            raise self.error(start + 1, "блок ``` не закрыт (файл обрезан)")
        raw = "\n".join(body)
        if lang in ("json", "") and raw.lstrip().startswith("{"):
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                objs = parse_json_objects(raw)
                if not objs:
                    raise self.error(start + 2 + exc.lineno - 1, f"неверный JSON ({exc.msg})") from exc
                obj = objs[0]
            self.json_object(obj)
        else:
            self.text_block().lines.extend(["```", *body, "```"])
        return i + 1

    def json_object(self, obj: Any) -> None:
        if isinstance(obj, dict) and ("image" in obj or "doc_metadata" in obj):
            # D2 image record.
            self.flush()
            self.dialects.add("D2")
            meta = obj.get("doc_metadata") if isinstance(obj.get("doc_metadata"), dict) else {}
            image = obj.get("image") if isinstance(obj.get("image"), dict) else {}
            uri = str(image.get("uri") or "")
            block_id = PurePosixPath(uri.replace("\\", "/")).stem if uri else None
            page = meta.get("page")
            page_index = None
            if isinstance(page, (int, float)) or (isinstance(page, str) and page.strip().isdigit()):
                page_index = int(page) - 1
                self.d2_pages.append(int(page))
            if meta.get("doc_name"):
                self.doc_name = str(meta["doc_name"])
            draft = _Draft(block_id, "image", page_index, explicit=True, crop=uri or None)
            if obj.get("analysis") is not None:
                draft.analyses.append(obj["analysis"])
            raw_text = obj.get("raw_pdfplumber_text")
            if isinstance(raw_text, str) and raw_text.strip():
                draft.lines.append(" ".join(raw_text.split()))
            self.drafts.append(draft)
        elif self.current is not None and self.current.explicit:
            self.current.analyses.append(obj)
            self.current.block_type = self.current.block_type or "image"
        else:
            self.flush()
            draft = _Draft(None, "image", self.page, explicit=False)
            draft.analyses.append(obj)
            self.drafts.append(draft)

    def d3_image(self, i: int) -> int:
        """``*Изображение:*``, an unfenced JSON object, then ``![…](…/image_<uuid>.pdf)``."""
        start = i
        self.flush()
        self.dialects.add("D3")
        i += 1
        while i < len(self.lines) and not self.lines[i].strip():
            i += 1
        buf: list[str] = []
        obj: Any = None
        decoder = json.JSONDecoder()
        while i < len(self.lines):
            buf.append(self.lines[i])
            i += 1
            if buf[-1].rstrip().endswith("}"):
                try:
                    obj, _end = decoder.raw_decode("\n".join(buf).strip())
                    break
                except json.JSONDecodeError:
                    continue
        if obj is None:
            if not buf or not buf[0].lstrip().startswith("{"):
                # A caption without JSON: keep the caption as text.
                self.text_block().lines.append(self.lines[start])
                return start + 1 if not buf else start + 1
            raise self.error(start + 1, "JSON описания изображения не закрыт (файл обрезан)")
        draft = _Draft(None, "image", self.page, explicit=False, analyses=[obj])
        j = i
        while j < len(self.lines) and not self.lines[j].strip():
            j += 1
        if j < len(self.lines) and (m := _IMG_LINK.search(self.lines[j])):
            draft.crop = m.group(1)
            u = _UUID_IN.search(m.group(1))
            draft.id = u.group(1) if u else PurePosixPath(m.group(1)).stem
            i = j + 1
        self.drafts.append(draft)
        return i


def _table_like(lines: list[str]) -> bool:
    rows = [ln for ln in lines if ln.strip()]
    return bool(rows) and sum(1 for ln in rows if ln.strip().startswith("|")) >= max(2, len(rows) // 2 + 1)


def _md_text(lines: list[str]) -> str:
    out = []
    for ln in lines:
        s = ln.strip()
        if not s or re.fullmatch(r"\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?", s) or s == "```":
            continue
        s = re.sub(r"^#{1,6}\s*", "", s)
        if s.startswith("|"):
            s = " | ".join(c.strip() for c in s.strip("|").split("|"))
        s = s.replace("**", "")
        out.append(s)
    return "\n".join(out)


class MarkdownReader:
    format: ClassVar[str] = "markdown"
    extensions: ClassVar[tuple[str, ...]] = (".md", ".markdown")

    def sniff(self, source: Source, head: str) -> bool:
        return bool(
            re.search(r"^#{1,4}\s*(СТРАНИЦА|BLOCK\s*\[)", head, re.MULTILINE | re.IGNORECASE)
            or "<!-- BLOCK_ID" in head
            or re.search(r"^\*\s*Изображение:?\s*\*", head, re.MULTILINE)
            or ('"doc_metadata"' in head and "```" in head)
        )

    def read(self, source: Source) -> Document:
        text = source.text()
        if not text.strip():
            raise DocumentError("documents.empty", path=str(source.path))
        parser = _Parser(source, text)
        parser.run()
        doc_title = Path(parser.doc_name).stem if parser.doc_name else None
        doc = new_document(source, "markdown", title=doc_title)
        doc.metadata["dialects"] = sorted(parser.dialects) or ["plain"]
        # D2 page numbers are 1-based; a file that uses page 0 counts from 0.
        shift = 1 if parser.d2_pages and min(parser.d2_pages) == 0 else 0
        drafts = parser.drafts
        for d in drafts:
            if shift and d.page_index is not None and "D2" in parser.dialects and d.explicit:
                d.page_index += shift
        _infer_pages(drafts)
        pages: dict[int, Page] = {}
        seen: set[str] = set()
        crops_dir = source.path.parent / "crops"
        for n, d in enumerate(drafts, 1):
            block = self._block(d, n, seen, crops_dir)
            pages.setdefault(block.page_index, Page(block.page_index, 0.0, 0.0, unit="px")).blocks.append(block)
        for page_index, values in parser.page_sheets.items():
            page = pages.setdefault(page_index, Page(page_index, 0.0, 0.0, unit="px"))
            info = SheetInfo(**values) if values else None
            if info is not None and parser.doc_sheet is not None:
                info = info.merged(parser.doc_sheet)
            page.sheet = info or parser.doc_sheet
        doc.pages = list(pages.values())
        doc.sheet = parser.doc_sheet
        if not doc.blocks:
            raise DocumentError("documents.no_blocks", path=str(source.path))
        return finish_document(doc)

    def _block(self, d: _Draft, n: int, seen: set[str], crops_dir: Path) -> Block:
        page_index = d.page_index if d.page_index is not None else 0
        block_id = d.id or f"p{page_index + 1}-md{n}"
        if d.id is None:
            d.extra["synthetic_id"] = True
        if block_id in seen:
            block_id = f"{block_id}#{n}"
        seen.add(block_id)
        parts: list[str] = []
        sheet: SheetInfo | None = None
        extra = dict(d.extra)
        for obj in d.analyses:
            parts.append(analysis_text(obj))
            analysis = unwrap_analysis(obj)
            stamp = analysis.get("stamp") if isinstance(analysis, dict) and isinstance(analysis.get("stamp"), dict) else analysis
            if is_stamp_dict(stamp):
                sheet = sheet_from_mapping(stamp)
                extra["stamp"] = True
            elif analysis is not None:
                extra.setdefault("analysis", analysis)
                if ents := entities_list(analysis):
                    extra.setdefault("entities", ents)
        if d.fields:
            extra.update(d.fields)
            parts.append(compose_image_text(d.fields))
        body = _md_text(d.lines)
        if body:
            parts.append(body)
        block_type: BlockType = d.block_type or ("table" if _table_like(d.lines) else "text")
        crop = d.crop
        if crop is None and d.id and len(d.id) <= 200 and not any(c in d.id for c in "/\\\0"):
            for ext in _CROP_EXT:  # the id is file text: a plain name only, never a path
                candidate = crops_dir / f"{d.id}{ext}"
                try:
                    if candidate.is_file():
                        crop = str(candidate)
                        break
                except OSError:
                    break
        if d.page_index is None:
            extra["page_inferred"] = True
        return Block(
            id=block_id, page_index=page_index, block_type=block_type, text=squash("\n".join(p for p in parts if p)),
            coords_norm=FULL_PAGE, links=list(d.links), crop_ref=crop, sheet=sheet, extra=extra, has_coords=False,
        )


def _infer_pages(drafts: list[_Draft]) -> None:
    """Blocks without a page (D2/D3 text) take the page of the next block that has one (a
    page-by-page pipeline writes a page's text, then its images), else of the previous one."""
    if not any(d.page_index is not None for d in drafts):
        return
    following: int | None = None
    for d in reversed(drafts):
        if d.page_index is None:
            if following is not None:
                d.page_index = following
                d.extra["page_inferred"] = True
        elif not d.extra.get("page_inferred"):
            following = d.page_index
    previous: int | None = None
    for d in drafts:
        if d.page_index is None:
            d.page_index = previous
            d.extra["page_inferred"] = True
        else:
            previous = d.page_index
