"""Which sheet of the old version is which sheet of the new one.

Not by page position: sheets are added, removed and split (5 → 5.1 and 5.2) between editions.
Each page gets a key from its title block (шифр, sheet number, sheet title) and the words on it;
the two page sequences are aligned like two texts (Needleman–Wunsch: order is kept, a page may
stay unpaired), with a pair scored by

- the sheet number (equal: strong; "5" against "5.1": a little; different: against),
- the шифр (equal or not, when both are known),
- the sheet title (word overlap, the «Формат А1» note ignored),
- the words on the sheet (overlap of distinct words) — this pairs pages without a title block
  (covers, registers) and sheets renumbered with their content intact.

A pair must score above :data:`MIN_SCORE`; an old page left alone was removed, a new one added.
New sheets ``N.k`` whose ``N`` is gone were split from ``N``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aizoomdoc.compare.content import page_tokens
from aizoomdoc.compare.normalize import clean_title, code_key, sheet_number_key, similarity
from aizoomdoc.documents.model import Document, Page

MIN_SCORE = 1.0


@dataclass
class PageKey:
    page_index: int
    number: str  # normalised sheet number, "" when unknown
    code: str
    title_tokens: list[str]
    words: set[str]
    number_raw: str | None = None
    title: str | None = None


@dataclass
class Pair:
    old: int | None  # page index
    new: int | None
    split_from: str | None = None


def page_key(doc: Document, page: Page) -> PageKey:
    sheet = page.sheet
    number = sheet.sheet_number if sheet else None
    title = sheet.sheet_name if sheet else None
    code = (sheet.document_code if sheet else None) or (doc.sheet.document_code if doc.sheet else None)
    return PageKey(page.page_index, sheet_number_key(number), code_key(code), clean_title(title).split(),
                   page_tokens(doc, page), number, title)


def score(a: PageKey, b: PageKey) -> float:
    s = 0.0
    if a.number and b.number:
        if a.number == b.number:
            s += 2.5
        elif a.number.split(".")[0] == b.number.split(".")[0]:
            s += 0.5
        else:
            s -= 1.5
    if a.code and b.code:
        s += 0.3 if a.code == b.code else -0.5
    if a.title_tokens and b.title_tokens:
        s += 1.5 * similarity(a.title_tokens, b.title_tokens) - 0.3
    if a.words and b.words:
        jac = len(a.words & b.words) / len(a.words | b.words)
        s += 3.0 * jac
    else:  # a blank page, or one the OCR failed on: nothing to tell them apart
        s += 0.3
    return s


#: Pages at the same place (counted from the start or from the end) are a little more alike:
#: this pairs pages that say nothing else (blank, unreadable) and orders the ties.
SAME_PLACE = 0.8


def align_pages(old: list[PageKey], new: list[PageKey]) -> list[Pair]:
    """The aligned sequence: pairs, old-only (removed) and new-only (added) pages, in order."""
    n, m = len(old), len(new)
    scores = [[score(a, b) + (SAME_PLACE if i == j or n - i == m - j else 0.0) for j, b in enumerate(new)]
              for i, a in enumerate(old)]
    # best[i][j]: best total for old[:i] and new[:j]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    move = [[0] * (m + 1) for _ in range(n + 1)]  # 1 pair, 2 skip old, 3 skip new
    for i in range(1, n + 1):
        move[i][0] = 2
    for j in range(1, m + 1):
        move[0][j] = 3
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            options = [(best[i - 1][j], 2), (best[i][j - 1], 3)]
            s = scores[i - 1][j - 1]
            if s >= MIN_SCORE:
                options.append((best[i - 1][j - 1] + s, 1))
            best[i][j], move[i][j] = max(options, key=lambda o: (o[0], o[1] == 1))
    out: list[Pair] = []
    i, j = n, m
    while i > 0 or j > 0:
        mv = move[i][j]
        if mv == 1:
            out.append(Pair(old[i - 1].page_index, new[j - 1].page_index))
            i, j = i - 1, j - 1
        elif mv == 2:
            out.append(Pair(old[i - 1].page_index, None))
            i -= 1
        else:
            out.append(Pair(None, new[j - 1].page_index))
            j -= 1
    out.reverse()
    _mark_splits(out, {k.page_index: k for k in old}, {k.page_index: k for k in new})
    return out


def _mark_splits(pairs: list[Pair], old: dict[int, PageKey], new: dict[int, PageKey]) -> None:
    """New sheets ``N.k`` (paired or added) when the new version has no sheet ``N`` but the old one had."""
    new_numbers = {k.number for k in new.values() if k.number}
    old_numbers = {k.number for k in old.values() if k.number}
    for p in pairs:
        if p.new is None:
            continue
        number = new[p.new].number
        if "." not in number:
            continue
        base = number.rsplit(".", 1)[0]
        if base in old_numbers and base not in new_numbers and number not in old_numbers:
            p.split_from = next((k.number_raw or k.number for k in old.values() if k.number == base), base)
