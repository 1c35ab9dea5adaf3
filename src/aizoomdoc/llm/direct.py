"""The direct answerer, the default when no LLM_API_KEY is set: an extractive answer built from
the hits — in Russian, citing page and block, pointing at the viewports, and saying plainly that
no language model was used. "Direct" (no language model) is not "offline" (the cloud is down,
``store/resilient.py``): the two are independent.

:class:`DirectProvider` puts it behind the provider interface of :mod:`aizoomdoc.llm.base`, so the
pipeline always has a provider and asks it ``uses_model`` where the two genuinely differ.

A direct question about codes ("Какая мощность П1?") leads with one line per code asked about:
the code, its value (the rest of its table row, else the text of its best hit) and where it was
found («П1: Приточная установка, L=3500 м³/ч, N=2,2 кВт — стр. 3, спецификация; стр. 2, план»).
Hits for other codes that merely look alike (П1.1, П11 when asked about П1) are named under
«Похожие обозначения», without images (:func:`split_by_codes`).

A list question ("Найди все …", ``list_mode``) gets every hit as a list grouped by page (in the
order of the sheet, top to bottom): a table cell shows its whole row, a table block the rows that
match the question, and a text repeated on several sheets (the title block) is listed once."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from aizoomdoc.errors import LLMError
from aizoomdoc.llm.base import AssistantMessage, Message, TokenCallback, Usage
from aizoomdoc.llm.context import HitContext, clean_text, shorten
from aizoomdoc.llm.loop import LoopResult
from aizoomdoc.search import analyze, analyze_query, matching_rows
from aizoomdoc.texts import t

#: The model name stored with a direct answer (a persisted value: kept as it always was).
DIRECT_MODEL = "offline-extractive"
# A hit scoring below this share of the best hit is a stray word match (a table row that only
# shares "Кровля" with the question); a direct answer names it only as a count.
WEAK_SHARE = 0.1


class Scored(Protocol):
    score: float


S = TypeVar("S", bound=Scored)


def strong_hits(hits: Sequence[S]) -> list[S]:
    """The hits a direct (not list) answer without a model shows and renders viewports for: those scoring
    at least WEAK_SHARE of the best one, in their order. The caller passes the rest as ``hidden``."""
    if not hits:
        return []
    floor = max(h.score for h in hits) * WEAK_SHARE
    return [h for h in hits if h.score >= floor]


T = TypeVar("T")


def _codes_of(text: str) -> set[str]:
    return {tok for tok in analyze(text) if any(c.isdigit() for c in tok)}


def _looks_like(code: str, other: str) -> bool:
    """``other`` is another code that a reader could take for ``code``: it extends it (П1.1, П11,
    П1а for П1), is its beginning (П1 for П1.1) or differs only by a separator (П11 for П1.1)."""
    if other == code:
        return False
    bare = lambda c: c.replace(".", "").replace("-", "")  # noqa: E731
    return other.startswith(code) or code.startswith(other) or bare(other) == bare(code)


def split_by_codes(hits: Sequence[T], question: str, key: Callable[[T], str]) -> tuple[list[T], list[T]]:
    """(hits to show, hits for look-alike codes): a hit that holds none of the question's codes
    but a code like one of them (П1.1 when asked about П1) is a look-alike; everything else —
    hits with the code, hits without codes — is shown. ``key`` gives a hit's text."""
    codes = set(analyze_query(question, expand=False).codes)
    if not codes:
        return list(hits), []
    shown, similar = [], []
    for h in hits:
        found = _codes_of(key(h))
        if not (found & codes) and any(_looks_like(c, o) for c in codes for o in found):
            similar.append(h)
        else:
            shown.append(h)
    return shown, similar


# Domain vocabulary, not user text: stems of Russian sheet names that tell the kind of a sheet
# (read from the drawings); the kind shown to the user is the text key paired with each stem.
_KINDS = (("специфик", "direct.kind.spec"), ("ведомост", "direct.kind.statement"),
          ("общие данные", "direct.kind.general"), ("план", "direct.kind.plan"), ("разрез", "direct.kind.section"),
          ("схем", "direct.kind.scheme"), ("фасад", "direct.kind.facade"), ("узл", "direct.kind.details"))


def _where(h: HitContext) -> str:
    """«стр. 3, спецификация»: the page and what kind of sheet (or table) it is."""
    name = (h.sheet_name or "").lower()
    kind = next((t(k) for needle, k in _KINDS if needle in name), None)
    if kind is None:
        kind = t("direct.kind.table") if h.block_type == "table" and " | " in h.text \
            else (h.sheet_name or t("direct.kind.drawing"))
    return t("direct.where", page=h.page_number, kind=shorten(kind, 40))


def _value(code: str, h: HitContext, limit: int) -> str:
    """What a hit says about ``code``: its table row without the code's cell, else its text."""
    text = clean_text(h.text)
    if " | " in text:
        cells = [c.strip() for c in text.split(" | ")]
        rest = [c for c in cells if code not in _codes_of(c) or len(cells) == 1]
        if rest and len(rest) < len(cells):
            return shorten(" | ".join(rest), limit)
    return shorten(text, limit)


def _code_lines(question: str, hits: Sequence[HitContext], hit_chars: int) -> list[str]:
    """One line per code of the question that the hits hold (in the question's order)."""
    q = analyze_query(question, expand=False)
    lines = []
    for code in q.codes:
        with_code = [h for h in hits if code in _codes_of(h.text)]
        if not with_code:
            continue
        best = next((h for h in with_code if h.block_type == "table" and " | " in h.text), with_code[0])
        places: list[str] = []
        for h in [best, *[h for h in with_code if h is not best]]:
            where = _where(h)
            if where not in places:
                places.append(where)
        shown = re.sub(r"\s+", " ", next((w for w in question.split() if code in _codes_of(w)), code)).strip(" ?,.:;!")
        lines.append(t("direct.code_line", code=shown, value=_value(code, best, hit_chars) or "—",
                       where="; ".join(places[:4])))
    return lines


def direct_answer(
    question: str,
    hits: Sequence[HitContext],
    image_labels: Sequence[str] = (),
    *,
    notes: Sequence[str] = (),
    hidden: int = 0,
    max_hits: int = 8,
    hit_chars: int = 400,
    list_mode: bool = False,
    similar: Sequence[HitContext] = (),
) -> LoopResult:
    """The whole answer from the hits: ``notes`` first, then the code lines, the hits (or, in
    ``list_mode``, every hit grouped by page), the look-alike codes and the image labels."""
    lines = [t("direct.notice")]
    lines.extend(notes)
    if not hits and similar and not list_mode:
        lines.append(t("direct.only_similar", question=question.strip()))
        lines.append(_similar(similar, hit_chars))
        return LoopResult(answer="\n\n".join(lines), model=DIRECT_MODEL, usage=Usage())
    if not hits:
        lines.append(t("direct.nothing", question=question.strip()))
        return LoopResult(answer="\n\n".join(lines), model=DIRECT_MODEL, usage=Usage())
    if list_mode:
        lines.extend(_list(question, hits, hit_chars))
        if image_labels:
            lines.append(t("direct.images", ids=", ".join(image_labels)))
        return LoopResult(answer="\n\n".join(lines), model=DIRECT_MODEL, usage=Usage())
    code_lines = _code_lines(question, hits, 200)
    if code_lines:
        lines.append("\n".join(code_lines))
    pages = sorted({h.page_number for h in hits})
    lines.append(t("direct.found", count=len(hits), pages=", ".join(map(str, pages))))
    items = []
    multi = len({h.document_id for h in hits}) > 1
    for n, h in enumerate(hits[:max_hits], 1):
        sheet = t("direct.sheet", name=h.sheet_name) if h.sheet_name else ""
        if multi:
            sheet += t("direct.document", title=h.document_title or h.document_id)
        if h.image_label:
            sheet += t("direct.image", label=h.image_label)
        items.append(t("direct.hit", n=n, page=h.page_number, block_id=h.block_id, sheet=sheet,
                       text=shorten(clean_text(h.text), hit_chars) or "—"))
    if len(hits) > max_hits:
        items.append(t("direct.more", count=len(hits) - max_hits))
    if hidden:
        items.append(t("direct.weak", count=hidden))
    lines.append("\n".join(items))
    if similar:
        lines.append(_similar(similar, hit_chars))
    if image_labels:
        lines.append(t("direct.images", ids=", ".join(image_labels)))
    return LoopResult(answer="\n\n".join(lines), model=DIRECT_MODEL, usage=Usage())


def _similar(hits: Sequence[HitContext], hit_chars: int) -> str:
    items = [t("direct.similar")]
    for h in hits[:8]:
        items.append(t("direct.similar_item", page=h.page_number, block_id=h.block_id,
                       text=shorten(clean_text(h.text), min(hit_chars, 200)) or "—"))
    if len(hits) > 8:
        items.append(t("direct.more", count=len(hits) - 8))
    return "\n".join(items)


@dataclass
class _Item:
    hit: HitContext
    text: str
    order: tuple[int, float, float, int]
    from_table: bool = False
    also: list[int] = field(default_factory=list)


def _list(question: str, hits: Sequence[HitContext], hit_chars: int) -> list[str]:
    """Every hit as an item, grouped by (document, page); one paragraph per page."""
    q = analyze_query(question)
    docs: dict[str, int] = {}
    items: list[_Item] = []
    seen: dict[tuple[str, str], _Item] = {}
    for rank, h in enumerate(hits):
        doc = docs.setdefault(h.document_id, len(docs))
        rows = matching_rows(h.text, q) if h.block_type == "table" or "\n" in h.text else []
        box = h.coords_norm or (1.0, 1.0, 1.0, 1.0)
        for k, text in enumerate(rows or [h.text]):
            text = shorten(clean_text(text), hit_chars) or "—"
            earlier = seen.get((h.document_id, text))
            if earlier is not None:  # the same text on another sheet (title block, notes)
                if h.page_number != earlier.hit.page_number and h.page_number not in earlier.also:
                    earlier.also.append(h.page_number)
                continue
            item = _Item(h, text, (doc, float(box[1]), float(box[0]), rank * 1000 + k), from_table=bool(rows))
            seen[(h.document_id, text)] = item
            items.append(item)
    items.sort(key=lambda it: (it.order[0], it.hit.page_number, *it.order[1:]))
    pages = sorted({it.hit.page_number for it in items})
    out = [t("direct.list_found", count=len(items), pages=", ".join(map(str, pages)))]
    multi = len(docs) > 1
    group: list[str] = []
    current: tuple[int, int] | None = None
    for it in items:
        key = (it.order[0], it.hit.page_number)
        if key != current:
            if group:
                out.append("\n".join(group))
            current = key
            h = it.hit
            sheet = t("direct.sheet", name=h.sheet_name) if h.sheet_name else ""
            if multi:
                sheet += t("direct.document", title=h.document_title or h.document_id)
            group = [t("direct.list_page", page=h.page_number, sheet=sheet)]
        where = []
        if it.from_table:
            where.append(t("direct.list_row"))
        if it.hit.image_label:
            where.append(t("direct.list_image", label=it.hit.image_label))
        if it.also:
            where.append(t("direct.list_also", pages=", ".join(map(str, sorted(it.also)))))
        group.append(t("direct.list_item", text=it.text, block_id=it.hit.block_id,
                       where=f" ({'; '.join(where)})" if where else ""))
    if group:
        out.append("\n".join(group))
    return out


class DirectProvider:
    """The direct answerer as a provider: same ``name``/``model``/``chat``/``aclose`` as an LLM
    provider, ``uses_model = False``. It reads no conversation — :meth:`answer` builds the answer
    from the hits — so :meth:`chat` refuses (the tool loop is only for language models)."""

    name = "direct"
    model = DIRECT_MODEL
    uses_model = False

    async def chat(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] | None = None,
        *,
        stream: bool = False,
        on_token: TokenCallback | None = None,
        tool_choice: str | None = None,
    ) -> AssistantMessage:
        raise LLMError("llm.error.no_model")

    def answer(self, question: str, hits: Sequence[HitContext], image_labels: Sequence[str] = (),
               **kw: Any) -> LoopResult:
        """:func:`direct_answer` (same arguments)."""
        return direct_answer(question, hits, image_labels, **kw)

    async def aclose(self) -> None:
        return None
