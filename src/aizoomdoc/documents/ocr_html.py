r"""Format C: OCR HTML, first (C1) and second (C2) generation.

A sequence of ``<div class="block block-type-{text|table|image}">`` each with a header
``Блок #k (стр. N) | Тип: T | ID: …`` (1-based page) and a content div starting with
``<p>BLOCK: FULL-ID</p>``. Block contents are raw OCR HTML and may themselves be whole HTML
documents with unbalanced tags, so the file is split on the block openings (regex) and each
block's content is converted with the tolerant :func:`~aizoomdoc.documents.text.html_to_text`.

Every pattern runs in linear time on hostile input: tag attributes are bounded (``[^>]{0,N}``),
a lazy ``(.*?)</x>`` is searched only up to the last ``</x>`` (an opener with no closer after it
would otherwise scan to the end, once per opener), labels take no optional whitespace before a
fixed delimiter (``([^<]+?)\s*</p>`` is quadratic on a long space run), and the block's closing
tags are stripped from the end with string operations (a ``(\s*</div>){1,2}…$`` substitution was
quadratic on a long whitespace run: 14 s for a 120 KB file).

C2 adds ``Linked block``/``Created`` lines, a ``stamp-info`` div and labelled image fields.
The HTML carries no coordinates: blocks get the whole page and ``has_coords=False`` (a JSON
companion can supply them, see :mod:`aizoomdoc.documents.bundle`).
"""

from __future__ import annotations

import html as htmllib
import logging
import re
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
from aizoomdoc.documents.read_warnings import add as add_warnings
from aizoomdoc.documents.read_warnings import warning
from aizoomdoc.documents.text import (
    analysis_text,
    entities_list,
    has_table,
    html_to_text,
    parse_json_objects,
    squash,
    unwrap_analysis,
)
from aizoomdoc.errors import DocumentError
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

#: Longest tag attribute text considered (real ones are tens of characters).
_ATTRS = r"[^>]{0,2000}"
_BLOCK_OPEN = re.compile(r'<div\s+class="block\s+block-type-(\w+)"' + _ATTRS + ">", re.IGNORECASE)
_HEADER = re.compile(r'<div\s+class="block-header"' + _ATTRS + r">(.*?)</div>", re.IGNORECASE | re.DOTALL)
_CONTENT_OPEN = re.compile(r'<div\s+class="block-content"' + _ATTRS + ">", re.IGNORECASE)
_PAGE = re.compile(r"стр\.\s*(\d+)", re.IGNORECASE)
_TYPE = re.compile(r"Тип:\s*(\w+)", re.IGNORECASE)
_HEADER_ID = re.compile(r"ID:\s*([\w-]+)(\.\.\.|…)?", re.IGNORECASE)
_BLOCK_ID = re.compile(r"<p>\s*BLOCK:\s*([^<\s]+)\s*</p>", re.IGNORECASE)
_LINKED = re.compile(r"<p>\s*+<b>\s*+Linked block:\s*+</b>\s*+([^<]+)</p>", re.IGNORECASE)
_CREATED = re.compile(r"<p>\s*+<b>\s*+Created:\s*+</b>\s*+([^<]+)</p>", re.IGNORECASE)
_STAMP = re.compile(r'<div\s+class="stamp-info"' + _ATTRS + r">(.*?)</div>", re.IGNORECASE | re.DOTALL)
_LINK_P = re.compile(r'<p>\s*+<a\s' + _ATTRS.replace("2000", "1000") + r'href="([^"]+)"' + _ATTRS + r">(.*?)</a>\s*</p>",
                     re.IGNORECASE | re.DOTALL)
_PRE = re.compile(r"<pre" + _ATTRS + r">(.*?)</pre>", re.IGNORECASE | re.DOTALL)
_LABELLED = re.compile(r"<p>\s*+<b>\s*+([^<:]+):\s*+</b>\s*(.*?)</p>", re.IGNORECASE | re.DOTALL)
_IMAGE_KIND = re.compile(r"<p>\s*+<b>\s*+\[ИЗОБРАЖЕНИЕ\]\s*+</b>(.*?)</p>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(r"<h1" + _ATTRS + r">(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_TITLE = re.compile(r"<title" + _ATTRS + r">(.*?)</title>", re.IGNORECASE | re.DOTALL)
#: Everything up to the last closing tag (greedy, then one backtrack pass: linear).
_UP_TO_LAST = {tag: re.compile(r"(?is).*</" + tag + ">") for tag in ("div", "p", "pre", "h1", "title")}
_TAGS = re.compile(r"<[^<>]+>")  # not [^>]: a run of "<" without ">" made it quadratic

#: Labels of C2 image fields -> keys in ``block.extra``.
IMAGE_FIELDS = {
    "краткое описание": "summary",
    "описание": "description",
    "текст на чертеже": "drawing_text",
    "сущности": "entities",
}
_STAMP_LABELS = {
    "шифр": "document_code",
    "стадия": "stage",
    "лист": "sheet_number",
    "объект": "object_name",
    "наименование": "sheet_name",
    "организация": "organization",
}
_TYPES: dict[str, BlockType] = {"text": "text", "table": "table", "image": "image"}


def _end(text: str, tag: str) -> int:
    """Where the last ``</tag>`` of ``text`` ends (0: none) — the ``endpos`` for a lazy
    ``(.*?)</tag>`` search, so openers after it are never tried (each would scan to the end)."""
    m = _UP_TO_LAST[tag].match(text)
    return m.end() if m else 0


def _strip_suffix(text: str, suffix: str) -> str | None:
    """``text`` without ``suffix`` (any case) and the whitespace before it, or None."""
    if len(text) >= len(suffix) and text[-len(suffix):].lower() == suffix:
        return text[: -len(suffix)].rstrip()
    return None


def split_tail(content: str) -> tuple[str, int]:
    """``content`` without its closing ``</div>`` tags (at most two) and a final
    ``</body></html>``, and how many ``</div>`` were removed (0: ``content`` unchanged)."""
    rest = content.rstrip()
    html = _strip_suffix(rest, "</html>")
    body = _strip_suffix(html, "</body>") if html is not None else None
    if body is not None:
        rest = body
    count = 0
    while count < 2 and (shorter := _strip_suffix(rest, "</div>")) is not None:
        rest, count = shorter, count + 1
    return (rest, count) if count else (content, 0)


def _plain(fragment: str) -> str:
    return " ".join(htmllib.unescape(_TAGS.sub(" ", fragment)).split())


def parse_stamp_info(fragment: str) -> SheetInfo | None:
    """``<b>Шифр:</b> X | <b>Стадия:</b> Р | …`` -> SheetInfo."""
    values: dict[str, str] = {}
    for m in re.finditer(r"<b>\s*+([^<:]+):\s*+</b>(.*?)(?=<b>|$)", fragment, re.DOTALL):
        key = _STAMP_LABELS.get(m.group(1).strip().lower())
        value = _plain(m.group(2)).strip(" |")
        if key and value:
            values[key] = value
    info = SheetInfo(**values)
    return None if info.is_empty() else info


def parse_image_kind(value: str) -> dict[str, str]:
    """``| Тип: План этажа | Оси: А-Г/1-5`` -> {"kind": …, "axes": …}."""
    out: dict[str, str] = {}
    for part in _plain(value).split("|"):
        label, _, v = part.partition(":")
        label, v = label.strip().lower(), v.strip()
        if label == "тип" and v:
            out["kind"] = v
        elif label == "оси" and v:
            out["axes"] = v
    return out


def split_entities(value: str) -> list[str]:
    return [e.strip() for e in value.split(",") if e.strip()]


def compose_image_text(fields: dict[str, Any]) -> str:
    """Searchable text of labelled image fields (C2 HTML, D1 Markdown)."""
    lines: list[str] = []
    kind = " ".join(x for x in (fields.get("kind"), f"Оси: {fields['axes']}" if fields.get("axes") else None) if x)
    if kind:
        lines.append(kind)
    for key in ("summary", "description", "drawing_text"):
        if fields.get(key):
            lines.append(str(fields[key]))
    if fields.get("entities"):
        lines.append(", ".join(fields["entities"]))
    return "\n".join(lines)


def _title(text: str, first_block: int, source: Source) -> str | None:
    head = text[:first_block]
    m = _H1.search(head, 0, _end(head, "h1")) or _TITLE.search(head, 0, _end(head, "title"))
    if not m:
        return None
    title = _plain(m.group(1))
    title = title.split(" / ")[-1].strip()
    title = re.sub(r"\s*-\s*OCR$", "", title)
    title = re.sub(r"\.pdf$", "", title, flags=re.IGNORECASE).strip()
    if title.lower() in ("document", ""):
        return None
    return title


class OcrHtmlReader:
    format: ClassVar[str] = "ocr_html"
    extensions: ClassVar[tuple[str, ...]] = (".html", ".htm")

    def sniff(self, source: Source, head: str) -> bool:
        return 'class="block-header"' in head or bool(_BLOCK_OPEN.search(head))

    def read(self, source: Source) -> Document:
        text, cut = source.text_cut()
        path = str(source.path)
        if not text.strip():
            raise DocumentError("documents.empty", path=path)
        opens = list(_BLOCK_OPEN.finditer(text))
        if not opens:
            raise DocumentError("documents.html_invalid", path=path, detail=t("documents.html.no_blocks"))
        doc = new_document(source, "ocr_html", title=_title(text, opens[0].start(), source))
        pages: dict[int, Page] = {}
        seen: set[str] = set()
        problems: list[dict[str, Any]] = []
        generation = "C1"
        previous_page = 0
        for i, m in enumerate(opens):
            end = opens[i + 1].start() if i + 1 < len(opens) else len(text)
            chunk = text[m.end():end]
            line = text.count("\n", 0, m.start()) + 1
            block, c2, page_known = self._block(chunk, m.group(1), i, seen, previous_page)
            if c2:
                generation = "C2"
            if not page_known:
                problems.append(warning("page_missing", line=line, block=block.id))
            if block.extra.pop("duplicate_id", False):
                problems.append(warning("duplicate_id", line=line, block=block.id))
            is_last = i + 1 == len(opens)
            if is_last and (cut or not re.search(r"</div>\s*</div>\s*(</body>\s*</html>)?\s*$", chunk, re.IGNORECASE)):
                # The file was cut inside its last block: what it holds is kept.
                problems.append(warning("truncated", line=line, block=block.id))
                block.extra["warnings"] = ["truncated"]
            previous_page = block.page_index
            page = pages.setdefault(block.page_index, Page(block.page_index, 0.0, 0.0, unit="px"))
            page.blocks.append(block)
        doc.pages = list(pages.values())
        doc.metadata["generation"] = generation
        add_warnings(doc.metadata, problems)
        return finish_document(doc)

    def _block(self, chunk: str, css_type: str, i: int, seen: set[str],
               previous_page: int) -> tuple[Block, bool, bool]:
        """(block, is C2, page known). A block without a header or a page number in it takes the
        page of the block before it."""
        header_m = _HEADER.search(chunk, 0, _end(chunk, "div"))
        header = _plain(header_m.group(1)) if header_m is not None else ""
        page_m = _PAGE.search(header)
        page_known = page_m is not None and int(page_m.group(1)) >= 1
        page_index = int(page_m.group(1)) - 1 if page_known and page_m is not None else previous_page
        type_m = _TYPE.search(header)
        block_type = _TYPES.get((type_m.group(1) if type_m else css_type).lower(), _TYPES.get(css_type.lower(), "text"))
        after = header_m.end() if header_m is not None else 0
        content_m = _CONTENT_OPEN.search(chunk, after)
        content = chunk[content_m.end():] if content_m else chunk[after:]
        content = split_tail(content)[0]

        id_m = _BLOCK_ID.search(content)
        if id_m:
            block_id = id_m.group(1).strip()
            content = content[: id_m.start()] + content[id_m.end():]
        else:
            hid = _HEADER_ID.search(header)
            block_id = hid.group(1) if hid and not hid.group(2) else f"p{page_index + 1}-b{i + 1}"
        duplicate = block_id in seen
        if duplicate:
            block_id = f"{block_id}#{i + 1}"
        seen.add(block_id)

        block = Block(
            id=block_id, page_index=page_index, block_type=block_type, text="",
            coords_norm=FULL_PAGE, has_coords=False,
        )
        if duplicate:
            block.extra["duplicate_id"] = True
        c2 = False
        if (lm := _LINKED.search(content, 0, _end(content, "p"))) is not None:
            block.links.append(_plain(lm.group(1)))
            content = content[: lm.start()] + content[lm.end():]
            c2 = True
        if (cm := _CREATED.search(content, 0, _end(content, "p"))) is not None:
            block.extra["created"] = _plain(cm.group(1))
            content = content[: cm.start()] + content[cm.end():]
            c2 = True
        if (sm := _STAMP.search(content, 0, _end(content, "div"))) is not None:
            block.sheet = parse_stamp_info(sm.group(1))
            content = content[: sm.start()] + content[sm.end():]
            c2 = True
        for lk in list(_LINK_P.finditer(content, 0, _end(content, "p"))):
            href = htmllib.unescape(lk.group(1))
            label = _plain(lk.group(2)).lower()
            if "изображ" in label or "кроп" in label or href.lower().endswith((".pdf", ".png", ".jpg", ".jpeg")):
                block.crop_ref = block.crop_ref or href
                content = content.replace(lk.group(0), "")
        parts: list[str] = []
        if block_type == "image":
            parts.extend(self._image_parts(block, content))
        else:
            if has_table(content):
                block.extra["has_table"] = True
            parts.append(html_to_text(content))
        block.text = squash("\n".join(p for p in parts if p))
        return block, c2, page_known

    def _image_parts(self, block: Block, content: str) -> list[str]:
        parts: list[str] = []
        pres = list(_PRE.finditer(content, 0, _end(content, "pre")))
        for pm in pres:
            objects = parse_json_objects(htmllib.unescape(pm.group(1)))
            if not objects:
                parts.append(html_to_text(pm.group(0)))
            for obj in objects:
                parts.append(analysis_text(obj))
                analysis = unwrap_analysis(obj)
                if is_stamp_dict(analysis):
                    sheet = sheet_from_mapping(analysis)
                    block.sheet = (block.sheet.merged(sheet) if block.sheet else sheet)
                    block.extra["stamp"] = True
                elif analysis is not None:
                    block.extra.setdefault("analysis", analysis)
                    if ents := entities_list(analysis):
                        block.extra.setdefault("entities", ents)
        for pm in reversed(pres):
            content = content[: pm.start()] + content[pm.end():]
        fields: dict[str, Any] = {}
        km = _IMAGE_KIND.search(content, 0, _end(content, "p"))
        if km is not None:
            fields.update(parse_image_kind(km.group(1)))
            content = content[: km.start()] + content[km.end():]
        for lm in reversed(list(_LABELLED.finditer(content, 0, _end(content, "p")))):
            key = IMAGE_FIELDS.get(_plain(lm.group(1)).lower())
            if key is None:
                continue
            value = _plain(lm.group(2))
            fields[key] = split_entities(value) if key == "entities" else value
            content = content[: lm.start()] + content[lm.end():]
        if fields:
            block.extra.update({k: v for k, v in fields.items()})
            parts.append(compose_image_text(fields))
        rest = html_to_text(content)
        if rest:
            parts.append(rest)
        return parts
