"""What the model is shown about a question: the hits' text within a character budget, and the
viewport images with their ids. Every hit is included; long texts are shortened fairly."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aizoomdoc.llm.base import image_part, text_part

_WS = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]{0,200}>")


@dataclass
class HitContext:
    """One search hit as the model sees it."""

    document_id: str
    block_id: str
    page_number: int
    text: str
    block_type: str = "text"
    score: float = 0.0
    document_title: str | None = None
    sheet_name: str | None = None
    coords_norm: tuple[float, float, float, float] | None = None
    image_label: str | None = None  # the viewport showing it ("v1"), if any


@dataclass
class ViewImage:
    """An image shown to the model with the question (viewport or user attachment)."""

    label: str
    data: bytes
    mime: str
    caption: str
    extra: dict[str, Any] = field(default_factory=dict)


def clean_text(text: str) -> str:
    """Plain one-line text: HTML tags dropped, whitespace collapsed."""
    if "<" in text and ">" in text:
        text = _TAG.sub(" ", text)
    return _WS.sub(" ", text).strip()


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    if limit <= 1:
        return text[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.7:
        cut = cut[:space]
    return cut + "…"


_SEG = re.compile(r"(?<=[.;:!?|])\s+|\n+|\s{2,}")
_TERM = re.compile(r"[0-9A-Za-zА-Яа-яЁё][0-9A-Za-zА-Яа-яЁё.,*/\-х×]*")


def query_terms(question: str) -> list[str]:
    """Lower-case search terms of a question: codes (with digits) whole, words as stems."""
    terms = []
    for w in _TERM.findall(question.lower().replace("ё", "е")):
        w = w.rstrip(".,-")
        if any(c.isdigit() for c in w):
            terms.append(w)
        elif len(w) >= 3:
            terms.append(w[: max(4, len(w) - 2)] if len(w) > 5 else w)
    return terms


def focus(text: str, terms: Sequence[str], limit: int, head: int = 120) -> str:
    """Shorten ``text`` to ``limit`` keeping what matters for the question: its beginning (what
    the block is), then the segments that contain the query terms, in their original order."""
    if len(text) <= limit:
        return text
    if not terms or limit < head * 2:
        return shorten(text, limit)
    segments = [seg for seg in _SEG.split(text) if seg.strip()]
    low = [seg.lower().replace("ё", "е") for seg in segments]
    scored = sorted(
        ((sum(1 for t in terms if t in seg), -i) for i, seg in enumerate(low)),
        reverse=True,
    )
    chosen: set[int] = set()
    used = 0
    head_text = shorten(text, head)
    budget = limit - len(head_text) - 2
    for score, neg_i in scored:
        i = -neg_i
        if score <= 0:
            break
        seg = segments[i]
        cost = len(seg) + 3
        if cost > budget - used:
            if budget - used > 60:  # a part of a long matching segment
                segments[i] = shorten(seg, budget - used - 3)
                chosen.add(i)
            break
        chosen.add(i)
        used += cost
    if not chosen:
        return shorten(text, limit)
    out = head_text
    for i in sorted(chosen):
        if segments[i] not in head_text:
            out += " … " + segments[i]
    return out[:limit]


def fair_shares(lengths: Sequence[int], budget: int, floor: int = 80) -> list[int]:
    """Split ``budget`` characters among texts: short texts keep all they have, the rest share
    what is left equally (water-filling). Every text gets at least ``floor``."""
    n = len(lengths)
    shares = [0] * n
    remaining = max(budget, floor * n)
    todo = sorted(range(n), key=lambda i: lengths[i])
    for k, i in enumerate(todo):
        fair = remaining // (n - k)
        shares[i] = max(min(lengths[i], fair), min(lengths[i], floor))
        remaining -= shares[i]
    return shares


def hit_line(n: int, h: HitContext, text: str, multi_doc: bool) -> str:
    where = f"стр. {h.page_number}, блок {h.block_id}"
    if multi_doc:
        where = f"документ {h.document_id}, " + where
    extra = f" ({h.block_type})" if h.block_type != "text" else ""
    sheet = f", лист «{h.sheet_name}»" if h.sheet_name else ""
    img = f", на изображении {h.image_label}" if h.image_label else ""
    return f"[{n}] {where}{extra}{sheet}{img}: {text}"


def build_user_content(
    question: str,
    hits: Sequence[HitContext],
    images: Sequence[ViewImage],
    *,
    char_budget: int,
    notes: Sequence[str] = (),
    documents: Sequence[tuple[str, str, int]] = (),
) -> list[dict[str, Any]]:
    """The parts of the first user message of a turn: question, documents, hits, images.

    ``documents`` lists ``(document_id, title, page_count)``. The text never exceeds
    ``char_budget`` unless the hits alone need more than their floor.
    """
    multi = len({h.document_id for h in hits} | {d[0] for d in documents}) > 1
    terms = query_terms(question)
    head = [f"Вопрос: {question.strip()}"]
    if documents:
        head.append("Документы: " + "; ".join(
            f"{doc_id} — «{title}», страниц: {pages}" for doc_id, title, pages in documents))
    head.extend(notes)
    captions = [f"Изображение {im.label}: {im.caption}" for im in images]
    fixed = "\n".join(head) + "\n\nНайденные блоки:\n" + "\n".join(captions)
    texts = [clean_text(h.text) for h in hits]
    prefixes = [hit_line(i + 1, h, "", multi) for i, h in enumerate(hits)]
    budget = char_budget - len(fixed) - sum(len(p) + 1 for p in prefixes)
    shares = fair_shares([len(t) for t in texts], budget)
    lines = [hit_line(i + 1, h, focus(texts[i], terms, shares[i]), multi) for i, h in enumerate(hits)]
    body = "\n".join(head) + "\n\n"
    body += ("Найденные блоки:\n" + "\n".join(lines)) if lines else "Поиск ничего не нашёл."
    parts: list[dict[str, Any]] = [text_part(body)]
    for im in images:
        parts.append(text_part(f"Изображение {im.label}: {im.caption}"))
        parts.append(image_part(im.data, im.mime, im.label))
    return parts
