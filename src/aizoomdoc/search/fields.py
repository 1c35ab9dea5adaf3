"""What search weighs besides a block's body: its title, its sheet, and whether it is an index.

- **Title**: the caption or heading that names the block — a table's caption line («Ведомость
  решеток 3-го этажа на отм. +8,400»), a text block's heading, an image's kind and the first
  sentence of its summary («План этажа. Маркировочный план 5-го этажа жилого здания»). A block
  whose title names the thing outranks one that mentions it in passing.
- **Sheet**: the name (and number) of the sheet the block is on, from the title block or the
  bundle's page header: a block of the sheet «Кабельный журнал» is about the cable log even when
  its own text never says so.
- **Index-like blocks**: tables of contents and registers — «Ведомость рабочих чертежей»,
  «Ведомость спецификаций», «Содержание», change registers, title blocks (штампы) — list every
  sheet and table title, so they match queries about any of them; search demotes them when
  another block matches as well (:mod:`aizoomdoc.search.ranking`).
"""

from __future__ import annotations

import re
from typing import Any

#: ``IndexedBlock.flags`` bits: an index-like block, a title block, a drawing (an image of a plan,
#: scheme, section, elevation or detail), the block that stands for its sheet (its drawings, or
#: its longest block when it has none; set by the index).
INDEX_LIKE = 1
STAMP = 2
DRAWING = 4
MAIN = 8

#: A title is a caption, not a paragraph.
MAX_TITLE = 160

# OCR of the pipeline's own block label: «BLOCK: 9X3U-4HQ-A-CUD», «БЛОК-7АТД-…», «ВЛОК:…».
_LABEL_JUNK = re.compile(r"^\s*(?:BLOCK|БЛОК|ВЛОК|BLOOK|BLOK|БЛОOK)\b[\s:\-]*[\w.:\-]*\s*", re.IGNORECASE)
_MD_JUNK = re.compile(r"^\s*\d{0,3}\s*#+\s*")
_SENTENCE = re.compile(r"(?<=[а-яa-z0-9)»])\.\s+(?=[А-ЯA-Z])")
_DRAWING_KINDS = ("план", "схема", "разрез", "фасад", "узел", "фрагмент", "сечение", "развертка", "вид")
_INDEX = re.compile(
    r"^(?:\d+[\s.]*)?(?:"
    r"ведомость (?:[\w.]+ ){0,2}(?:чертежей|комплектов|спецификаций|документов|листов|изменений|графической части)"
    r"|ведомость (?:ссылочных|прилагаемых|опросных листов)"
    r"|содержание\b|оглавление|состав (?:проекта|проектной|тома|рабочей|комплекта)"
    r"|(?:таблица|лист) регистрации изменений|разрешение\b)",
    re.IGNORECASE,
)


def _strip(line: str) -> str:
    line = _MD_JUNK.sub("", _LABEL_JUNK.sub("", line)).strip(" |#")
    return re.sub(r"^\*\*\s*|\s*\*\*$", "", line).strip()  # bold markers, not a mark's star


def _caption(lines: list[str]) -> str:
    """The heading lines at the top of a text or table block (up to two, before the table)."""
    out: list[str] = []
    for raw in lines[:3]:
        line = raw.strip()
        if not line:
            continue
        cells = [c.strip() for c in line.strip("| ").split("|") if c.strip()]
        if "|" in line and not cells:
            continue  # an empty table row
        if line.startswith("|") or (line.count(" | ") >= 2 and not line.split(" | ", 1)[0].strip()):
            # A caption in a merged cell of the table's first row: «| | | Экспликация помещений … | | |».
            if not out and len(cells) == 1 and 8 <= len(cells[0]) <= MAX_TITLE and _strip(cells[0]):
                out.append(_strip(cells[0]))
            break
        if out and " | " in line:
            break  # the table's header row, under its caption
        head, sep, _rest = line.partition(" | ")
        head = _strip(head)
        if not head:
            if sep:
                break
            continue
        if len(head) > MAX_TITLE:
            break
        out.append(head)
        if sep or len(out) == 2:
            break
    return " ".join(out)


def first_sentence(text: str) -> str:
    text = " ".join(text.split())
    parts = _SENTENCE.split(text, maxsplit=1)
    return parts[0][:MAX_TITLE * 2]


def block_flags(text: str, title: str, extra: dict[str, Any] | None) -> int:
    flags = 0
    extra = extra or {}
    if extra.get("stamp") or extra.get("category_code") == "stamp":
        flags |= STAMP
    head = title or _strip(text[:200])
    if _INDEX.match(head.replace("ё", "е")):
        flags |= INDEX_LIKE
    kind = extra.get("kind")
    if isinstance(kind, str) and kind.strip().lower().startswith(_DRAWING_KINDS) and not flags & STAMP:
        flags |= DRAWING
    return flags


def block_title(text: str, block_type: str, extra: dict[str, Any] | None) -> str:
    """The caption or heading that names the block ("" when it has none)."""
    extra = extra or {}
    if extra.get("stamp"):
        return ""
    if isinstance(extra.get("title"), str) and extra["title"].strip():
        return extra["title"].strip()[:MAX_TITLE]
    if block_type == "image":
        analysis = found if isinstance(found := extra.get("analysis"), dict) else {}
        summary = extra.get("summary") or analysis.get("content_summary")
        kind = extra.get("kind")
        if isinstance(summary, str) and summary.strip():
            return " ".join(x for x in (kind if isinstance(kind, str) else "", first_sentence(summary)) if x)
    return _caption(text.splitlines())


#: What a block is, by the first word of its title («Ведомость …», «Спецификация …», an image of
#: kind «План этажа»): stems of the type words a query may name.
TYPE_STEMS = frozenset({
    "ведом", "спецификац", "экспликац", "таблиц", "перечен", "план", "схем", "разрез", "сечен", "узел",
    "узл", "фасад", "фрагмент", "развертк", "детал", "легенд",
})


def title_type(title_tokens: list[str]) -> str:
    """The type word of a block («ведом» for «Ведомость решеток 3-го этажа»), "" when none."""
    words = [tok for tok in title_tokens if "§" not in tok and not any(ch.isdigit() for ch in tok)]
    for tok in words[:2]:
        if tok in TYPE_STEMS:
            return "узел" if tok == "узл" else tok
    return ""


def sheet_title(sheet: Any) -> str:
    """«<sheet name> Лист <n>» of a page's title block (a SheetInfo or its dict), "" when none."""
    if sheet is None:
        return ""
    data = sheet if isinstance(sheet, dict) else getattr(sheet, "to_dict", lambda: {})()
    name = str(data.get("sheet_name") or "").strip()
    number = str(data.get("sheet_number") or "").strip()
    return " ".join(x for x in (name, f"Лист {number}" if number else "") if x)
