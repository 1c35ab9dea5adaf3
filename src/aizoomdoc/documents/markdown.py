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
from aizoomdoc.documents.json_repair import json_values_text, loads_tolerant
from aizoomdoc.documents.model import Block, BlockType, Document, Page, SheetInfo
from aizoomdoc.documents.ocr_html import IMAGE_FIELDS, compose_image_text, parse_image_kind, split_entities
from aizoomdoc.documents.read_warnings import add as add_warnings
from aizoomdoc.documents.read_warnings import warning
from aizoomdoc.documents.text import analysis_text, entities_list, parse_json_objects, squash, unwrap_analysis
from aizoomdoc.errors import DocumentError

log = logging.getLogger(__name__)

_PAGE = re.compile(r"^#{1,4}\s*СТРАНИЦА\s+(\d+)\b", re.IGNORECASE)
_STAMP = re.compile(r"^\*\*\s*Штамп:?\s*\*\*:?\s*(.*)$", re.IGNORECASE)
_SHEET_NO = re.compile(r"^\*\*\s*Лист:?\s*\*\*:?\s*(\d+(?:\.\d+)?)\s*(?:\(\s*из\s*(\d+)\s*\))?", re.IGNORECASE)
_SHEET_NAME = re.compile(r"^\*\*\s*Наименование листа:?\s*\*\*:?\s*(.*)$", re.IGNORECASE)
_SHEET_NONE = re.compile(r"^\*\*\s*+Лист:?\s*+\*\*:?\s*+(?:(?:None|null|—|-)\s*+)?(?:\(\s*+из\s*+\w*+\s*+\)\s*+)?$",
                         re.IGNORECASE)
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
    line: int = 0  # 1-based line of the block's marker (0: none)

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
        self.warnings: list[dict[str, Any]] = []

    # --- block bookkeeping --------------------------------------------------------------
    def flush(self) -> None:
        if self.current is not None and not self.current.empty():
            self.drafts.append(self.current)
        self.current = None

    def text_block(self) -> _Draft:
        if self.current is None:
            self.current = _Draft(None, None, self.page, explicit=False)
        return self.current

    def warn(self, kind: str, lineno: int, block: str | None = None) -> None:
        self.warnings.append(warning(kind, line=lineno or None, block=block))

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
                self.current is None or not self.current.explicit or "sheet_number" in self.page_sheets[self.page]
            ):
                self.flush()
                self.heading_lost(i, "sheet_number")
                self.page_sheets[self.page]["sheet_number"] = m.group(1)
            elif (m := _SHEET_NAME.match(s)) and self.page is not None:
                self.flush()
                self.heading_lost(i, "sheet_name")
                i = self.sheet_name(i, m.group(1).strip())
                continue
            elif _SHEET_NONE.match(s) and self.page is not None and (self.current is None or not self.current.explicit):
                pass  # «**Лист:** None»: the pipeline found no sheet number
            elif m := _BLOCK.match(s):
                self.flush()
                self.current = _Draft(m.group(2), _TYPES[m.group(1).lower()], self.page, explicit=True, line=i + 1)
                self.dialects.add("D1")
            elif m := _MARKER.match(s):
                self.flush()
                hint = m.group(2).lower()
                btype = next((t for k, t in _TYPES.items() if k in hint), None)
                self.current = _Draft(m.group(1), btype, self.page, explicit=True, line=i + 1)
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

    def heading_lost(self, i: int, key: str) -> None:
        """A second «Лист» or «Наименование листа» on one page: the next page's heading is missing
        — the next page starts here."""
        assert self.page is not None
        if key in self.page_sheets[self.page]:
            self.page += 1
            while self.page in self.page_sheets:  # a page number the file uses later
                self.page += 1
            self.page_sheets.setdefault(self.page, {})
            self.warn("page_missing", i + 1)

    def sheet_name(self, i: int, first: str) -> int:
        """«**Наименование листа:** A» and the plain lines right under it (the rest of a long sheet
        name: «План -2 этажа с системами В1.1,Т3.1,Т4.1») are the page's sheet name."""
        parts = [first] if first else []
        i += 1
        while i < len(self.lines):
            s = self.lines[i].strip()
            if not s or s.startswith(("#", "**", "|", "<!--", "```", "→", "!", "*")):
                break
            parts.append(s)
            i += 1
        assert self.page is not None
        self.page_sheets[self.page]["sheet_name"] = ". ".join(p.rstrip(". ") for p in parts)
        return i

    def implicit_line(self, line: str) -> None:
        """A plain line; outside explicit blocks a table starts or ends a text block."""
        cur = self.current
        if cur is not None and not cur.explicit:
            last = next((ln for ln in reversed(cur.lines) if ln.strip()), None)
            if last is not None and last.lstrip().startswith("|") != line.lstrip().startswith("|"):
                self.flush()
        self.text_block().lines.append(line)

    def structural(self, line: str) -> bool:
        """A line that starts something new (a page, a block, an image record): a JSON object or a
        code fence still open there was cut off."""
        s = line.strip()
        return bool(_PAGE.match(s) or _BLOCK.match(s) or _MARKER.match(s) or _D3_IMAGE.match(s)
                    or (_IMG_LINK.search(s) and s.startswith("!")))

    def fence(self, i: int, lang: str) -> int:
        start = i
        i += 1
        body: list[str] = []
        while i < len(self.lines) and not _FENCE.match(self.lines[i].strip()):
            if self.structural(self.lines[i]):
                break
            body.append(self.lines[i])
            i += 1
        closed = i < len(self.lines) and bool(_FENCE.match(self.lines[i].strip()))
        raw = "\n".join(body)
        if not closed:
            self.warn("fence_unclosed", start + 1)
        if lang in ("json", "") and raw.lstrip().startswith("{"):
            self.json_text(raw, start + 2, closed)
        elif closed:
            self.text_block().lines.extend(["```", *body, "```"])
        else:
            self.text_block().lines.extend(body)  # a stray fence: the lines are plain text
        return i + 1 if closed else i

    def json_text(self, raw: str, lineno: int, complete: bool = True) -> None:
        """A JSON object of the file (fenced or not): parsed, repaired, or kept as raw text."""
        objs: list[Any] = []
        how = "ok"
        try:
            objs = [json.loads(raw)]
        except json.JSONDecodeError:
            objs = parse_json_objects(raw) if complete else []
            if not objs:
                repaired = loads_tolerant(raw)
                if repaired is not None and repaired[0]:
                    objs, how = [repaired[0]], repaired[1]
                else:
                    how = "raw"
        if how != "ok":
            self.warn("json_broken", lineno)
        if how == "raw":
            draft = self.text_block() if self.current is not None and self.current.explicit else None
            if draft is None:
                self.flush()
                draft = _Draft(None, "image", self.page, explicit=False)
                self.drafts.append(draft)
            draft.lines.append(json_values_text(raw))
            draft.extra["warnings"] = ["json_broken"]
            return
        for obj in objs[:1]:
            self.json_object(obj)
            if how != "ok":
                target = self.drafts[-1] if not (self.current and self.current.explicit) else self.current
                target.extra["warnings"] = ["json_broken"]

    def json_object(self, obj: Any) -> None:
        if isinstance(obj, dict) and ("image" in obj or "doc_metadata" in obj):
            # D2 image record.
            self.flush()
            self.dialects.add("D2")
            meta = found if isinstance(found := obj.get("doc_metadata"), dict) else {}
            image = found if isinstance(found := obj.get("image"), dict) else {}
            uri = str(image.get("uri") or "")
            block_id = PurePosixPath(uri.replace("\\", "/")).stem if uri else None
            page = meta.get("page")
            page_index = self.page  # a record without its page is on the page it is written on
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
        """``*Изображение:*``, an unfenced JSON object, then ``![…](…/image_<uuid>.pdf)``.

        The object ends where it closes — or, cut off by the OCR model, at the next image link,
        caption or heading: what was written before the cut is kept (see json_repair), or the raw
        text when nothing can be parsed."""
        start = i
        self.flush()
        self.dialects.add("D3")
        i += 1
        while i < len(self.lines) and not self.lines[i].strip():
            i += 1
        if i >= len(self.lines) or not self.lines[i].lstrip().startswith("{"):
            # A caption without JSON: keep the caption as text.
            self.text_block().lines.append(self.lines[start])
            return start + 1
        first = i
        buf: list[str] = []
        obj: Any = None
        decoder = json.JSONDecoder()
        while i < len(self.lines):
            if buf and self.structural(self.lines[i]):
                break
            buf.append(self.lines[i])
            i += 1
            if buf[-1].rstrip().endswith("}"):
                try:
                    obj, _end = decoder.raw_decode("\n".join(buf).strip())
                    break
                except json.JSONDecodeError:
                    continue
        draft = _Draft(None, "image", self.page, explicit=False)
        if obj is not None:
            draft.analyses.append(obj)
        else:
            raw = "\n".join(buf)
            repaired = loads_tolerant(raw)
            self.warn("json_broken", first + 1)
            draft.extra["warnings"] = ["json_broken"]
            if repaired is not None and isinstance(repaired[0], dict) and repaired[0]:
                draft.analyses.append(repaired[0])
            draft.lines.append(json_values_text(raw))
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
        text, cut = source.text_cut()
        if not text.strip():
            raise DocumentError("documents.empty", path=str(source.path))
        parser = _Parser(source, text)
        parser.run()
        if cut:
            parser.warn("truncated", len(parser.lines))
        doc_title = Path(parser.doc_name).stem if parser.doc_name else None
        doc = new_document(source, "markdown", title=doc_title)
        doc.metadata["dialects"] = sorted(parser.dialects) or ["plain"]
        # D2 page numbers are 1-based; a file that uses page 0 counts from 0.
        shift = 1 if parser.d2_pages and min(parser.d2_pages) == 0 else 0
        drafts = parser.drafts
        for d in drafts:
            if shift and d.page_index is not None and "D2" in parser.dialects and d.explicit:
                d.page_index += shift
        if parser.page_sheets:
            for d in drafts:
                if d.page_index is None and d.explicit:
                    parser.warn("page_missing", d.line, d.id)
        _infer_pages(drafts)
        pages: dict[int, Page] = {}
        seen: set[str] = set()
        crops_dir = source.path.parent / "crops"
        for n, d in enumerate(drafts, 1):
            if d.id and d.id in seen:
                parser.warn("duplicate_id", d.line, d.id)
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
        add_warnings(doc.metadata, parser.warnings)
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
