"""What a reader could not read, kept next to what it could: a broken part costs that part.

Readers note each problem as a warning — a dict ``{"kind", "line", "page", "block"}`` in
``Document.metadata["warnings"]`` (and in the affected block's ``extra["warnings"]`` when a block
survives with its raw text). :func:`summarize` turns them into the one line ingest and the upload
API show: «1 блок с повреждённым JSON (строка 1069); 2 блока с повторяющимся id (…)».
Only a file with no readable block at all is refused.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aizoomdoc.texts import t

#: Kinds, in the order a summary lists them.
KINDS = ("json_broken", "fence_unclosed", "bad_block", "truncated", "page_unreadable", "duplicate_id",
         "page_missing")
#: At most this many places are listed per kind («строки 12, 40, 77 и ещё 3»).
MAX_PLACES = 5


def warning(kind: str, *, line: int | None = None, page: int | None = None, block: str | None = None,
            detail: str | None = None) -> dict[str, Any]:
    """One warning (``page`` is 1-based, what users see)."""
    out: dict[str, Any] = {"kind": kind}
    for key, value in (("line", line), ("page", page), ("block", block), ("detail", detail)):
        if value is not None:
            out[key] = value
    return out


def plural(n: int, one: str, few: str, many: str) -> str:
    """Russian plural: 1 блок, 2 блока, 5 блоков, 21 блок."""
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def _places(items: list[dict[str, Any]]) -> str:
    for key, one, many in (("line", "documents.warn.where.line", "documents.warn.where.lines"),
                           ("page", "documents.warn.where.page", "documents.warn.where.pages"),
                           ("block", "documents.warn.where.block", "documents.warn.where.blocks")):
        values = list(dict.fromkeys(str(w[key]) for w in items if w.get(key) is not None))
        if not values:
            continue
        shown = ", ".join(values[:MAX_PLACES])
        if len(values) > MAX_PLACES:
            shown += t("documents.warn.and_more", count=len(values) - MAX_PLACES)
        if len(values) == 1:
            return t(one, **{key: shown})
        return t(many, **{key + "s": shown})
    return ""


def _word(n: int, word: str) -> str:
    """The Russian word for ``n`` blocks or pages (documents.word.<word>.one|few|many)."""
    return plural(n, *(t(f"documents.word.{word}.{form}") for form in ("one", "few", "many")))


def summarize(warnings: list[dict[str, Any]] | None) -> str:
    """One Russian line for a document's warnings ("" when there are none)."""
    if not warnings:
        return ""
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for w in warnings:
        by_kind[str(w.get("kind"))].append(w)
    parts = []
    for kind in sorted(by_kind, key=lambda k: KINDS.index(k) if k in KINDS else len(KINDS)):
        items = by_kind[kind]
        n = len(items)
        parts.append(t(f"documents.warn.{kind}", count=n, where=_places(items),
                       blocks=_word(n, "block"), pages=_word(n, "page")))
    return "; ".join(parts)


def add(metadata: dict[str, Any], items: list[dict[str, Any]]) -> None:
    """Append warnings to a document's metadata."""
    if items:
        metadata.setdefault("warnings", []).extend(items)


def page_ranges(pages: list[int]) -> str:
    """[2, 3, 4, 6, 9, 10] → «2–4, 6, 9–10»."""
    out: list[str] = []
    nums = sorted(set(pages))
    k = 0
    while k < len(nums):
        j = k
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[k]) if j == k else f"{nums[k]}–{nums[j]}")
        k = j + 1
    return ", ".join(out)


def text_layer_note(metadata: dict[str, Any] | None) -> str:
    """«стр. 3, 5–7 — нет текстового слоя: …» for pages without a usable text layer ("" if none)."""
    layers = (metadata or {}).get("text_layer") or {}
    read = set((metadata or {}).get("ocr_read") or [])  # pages OCR read after all
    parts = []
    for kind in ("garbage", "none"):
        pages = layers.get(kind) or []
        for key, group in (("ingest", [p for p in pages if p not in read]), ("ocr", [p for p in pages if p in read])):
            if group:
                parts.append(t(f"documents.text_layer.{key}",
                               pages=t("documents.warn.where.pages", pages=page_ranges(group)),
                               what=t(f"documents.text_layer.{kind}")))
    return " ".join(parts)


def ingest_notes(metadata: dict[str, Any] | None) -> list[str]:
    """What ingest and the upload API tell about a document read in part: its warnings and its
    pages without a text layer (each a Russian line; [] when all went well)."""
    notes = []
    summary = summarize((metadata or {}).get("warnings"))
    if summary:
        notes.append(t("documents.warned", summary=summary))
    layer = text_layer_note(metadata)
    if layer:
        notes.append(layer)
    return notes


def unreadable_note(doc: Any) -> str:
    """«В документе «…» не прочитаны стр. 3, 5 (…)» for a Document with pages without a usable text
    layer — what an answer built from search must say it could not see ("" when none)."""
    # Pages OCR read (their blocks say so) are read; pages OCR could not read are told with
    # their reason by the OCR notes (pipeline/notes.py, ``metadata["unreadable_pages"]``).
    told = set((getattr(doc, "metadata", None) or {}).get("unreadable_pages") or [])
    flagged = [p for p in getattr(doc, "pages", []) if getattr(p, "text_layer", "ok") in ("none", "garbage")
               and p.page_number not in told
               and not any((b.extra or {}).get("source") == "ocr" for b in p.blocks)]
    pages = [p.page_number for p in flagged]
    if not pages:
        return ""
    kinds = {p.text_layer for p in flagged}
    what = t("documents.text_layer.garbage") if kinds == {"garbage"} else t("documents.text_layer.none")
    return t("documents.unreadable_pages", title=doc.title, pages=page_ranges(pages), what=what)
