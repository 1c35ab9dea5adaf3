"""Text changes between two OCR readings of a sheet (lines mode), with OCR noise suppressed.

Two OCR runs over the same sheet never agree letter for letter: «Колясочная» comes back as
«Классочная», ``159,8`` as ``159.8``, «АР3» as «АРЗ», a table loses an empty column, a paragraph
is cut into lines elsewhere, a block fails («[ошибка: контекст превышен]»). So:

1. Lines equal after normalisation (:func:`~aizoomdoc.compare.normalize.tokens` with OCR folding)
   are unchanged.
2. The other lines are paired by word overlap (Dice ≥ :data:`PAIR_MIN`); a pair is a change only
   when a *significant* word differs beyond an OCR slip (:func:`close_enough`): any number or
   code, or a word of four letters or more.
3. A line left without a partner is a change only when its significant words are not found among
   the other version's unpaired lines (a paragraph cut into lines differently is no change).
4. Table lines (cells) become ``table_row_*`` changes, cell by cell.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict

from aizoomdoc.compare.content import Line, SheetText
from aizoomdoc.compare.model import CellChange, Change
from aizoomdoc.compare.normalize import close_enough, has_digit, similarity, squash_key, tokens

PAIR_MIN = 0.5


def _significant(key: str) -> bool:
    """A word whose change matters: a number or code, or a word of four letters or more (shorter
    ones are mostly OCR slips: «отм»/«опм»)."""
    return has_digit(key) or len(key) >= 4


def _fuzzy_left(a: list[str], b: list[str]) -> tuple[list[str], list[str]]:
    """Words of ``a`` and of ``b`` without a counterpart (exact first, then an OCR slip)."""
    ca, cb = Counter(a), Counter(b)
    common = ca & cb
    ra = list((ca - common).elements())
    rb = list((cb - common).elements())
    left_b = list(rb)
    out_a = []
    for x in ra:
        hit = next((k for k, y in enumerate(left_b) if close_enough(x, y)), None)
        if hit is None:
            out_a.append(x)
        else:
            del left_b[hit]
    return out_a, left_b


def fuzzy_dice(a: list[str], b: list[str]) -> float:
    """Dice coefficient of two word lists where an OCR slip counts as equal."""
    if not a or not b:
        return 0.0
    exact = similarity(a, b)
    if exact >= 1.0 or exact < PAIR_MIN - 0.3:  # slips rarely lift a line by more than that
        return exact
    la, lb = _fuzzy_left(a, b)
    return ((len(a) - len(la)) + (len(b) - len(lb))) / (len(a) + len(b))


class _Pool:
    """The words of the lines left without a partner on one side, to be claimed by the other
    side's leftovers (a line cut in two, a word read into the neighbouring line)."""

    def __init__(self, lines: list[Line]) -> None:
        self.left: list[list[str]] = [list(line.keys) for line in lines]
        self._where: dict[str, list[int]] = defaultdict(list)
        # One slip in a word of four letters or more leaves its first or its last two letters.
        self._ends: dict[str, set[str]] = defaultdict(set)
        for n, words in enumerate(self.left):
            for w in words:
                self._where[w].append(n)
                if len(w) >= 4 and not has_digit(w):
                    self._ends["<" + w[:2]].add(w)
                    self._ends[w[-2:] + ">"].add(w)

    def _take(self, word: str) -> bool:
        lines = self._where.get(word)
        while lines:
            n = lines.pop()
            if word in self.left[n]:
                self.left[n].remove(word)
                return True
        return False

    def claim(self, keys: list[str]) -> list[str]:
        """``keys`` not found in the pool (found ones are taken out of it)."""
        out = []
        for k in keys:
            if self._take(k):
                continue
            if len(k) >= 4 and not has_digit(k):
                near = (w for w in self._ends.get("<" + k[:2], set()) | self._ends.get(k[-2:] + ">", set())
                        if self._where.get(w) and close_enough(k, w))
                w = next(near, None)
                if w is not None and self._take(w):
                    continue
            out.append(k)
        return out


def diff_lines(old: SheetText, new: SheetText) -> list[Change]:
    lo = list(old.lines)
    ln = list(new.lines)
    # 1. equal lines
    by_key: dict[str, list[int]] = defaultdict(list)
    for j, line in enumerate(ln):
        by_key[squash_key(line.text, ocr=True)].append(j)
    used_new: set[int] = set()
    rest_old: list[Line] = []
    for line in lo:
        js = by_key.get(squash_key(line.text, ocr=True))
        if js:
            used_new.add(js.pop())
        else:
            rest_old.append(line)
    rest_new = [line for j, line in enumerate(ln) if j not in used_new]
    # 2. pairs by word overlap (only lines sharing a word are scored)
    index: dict[str, set[int]] = defaultdict(set)
    for j, line in enumerate(rest_new):
        for k in set(line.keys):
            if _significant(k):
                index[k].add(j)
    common = max(20, len(rest_new) // 10)  # words on this many lines pair nothing by themselves
    scored: list[tuple[float, int, int]] = []
    for i, line in enumerate(rest_old):
        cands: set[int] = set()
        for k in set(line.keys):
            found = index.get(k)
            if found and len(found) <= common:
                cands |= found
        for j in cands:
            s = fuzzy_dice(line.keys, rest_new[j].keys)
            if s >= PAIR_MIN:
                scored.append((s, i, j))
    scored.sort(key=lambda x: -x[0])
    pairs: list[tuple[Line, Line]] = []
    paired_old: set[int] = set()
    paired_new: set[int] = set()
    for _s, i, j in scored:
        if i not in paired_old and j not in paired_new:
            paired_old.add(i)
            paired_new.add(j)
            pairs.append((rest_old[i], rest_new[j]))
    alone_old = [rest_old[i] for i in range(len(rest_old)) if i not in paired_old]
    alone_new = [rest_new[j] for j in range(len(rest_new)) if j not in paired_new]
    pool_old, pool_new = _Pool(alone_old), _Pool(alone_new)
    # 3. a pair is a change when a significant word differs and is not in a line left alone
    gone = _Deficit(old, new)  # words the old page has more of than the new one
    came = _Deficit(new, old)
    changes: list[Change] = []
    for a, b in pairs:
        la, lb = _fuzzy_left(a.keys, b.keys)
        la, lb = pool_new.claim(la), pool_old.claim(lb)
        if gone.real(la, came) or came.real(lb, gone):
            changes.append(_pair_change(a, b))
    # 4. lines alone: a change when their words are nowhere else in the other version
    extra_new = _Pool([Line("", [k for w in pool_new.left for k in w] + new.extra_keys, None, "")])
    extra_old = _Pool([Line("", [k for w in pool_old.left for k in w] + old.extra_keys, None, "")])
    if not new.ocr_failures:
        for line, words in zip(alone_old, pool_old.left, strict=True):
            if gone.real(extra_new.claim(words), came):
                kind = "table_row_removed" if line.cells else "text_removed"
                changes.append(Change(kind, line.text, None, line.box, None, line.block, None))
    if not old.ocr_failures:
        for line, words in zip(alone_new, pool_new.left, strict=True):
            if came.real(extra_old.claim(words), gone):
                kind = "table_row_added" if line.cells else "text_added"
                changes.append(Change(kind, None, line.text, None, line.box, None, line.block))
    return changes


class _Deficit:
    """The words one page has more of than the other (counted over all its text). A word a
    line lost is really gone only when the page as a whole has fewer of it — otherwise the OCR
    only put it into another line — and when the other page did not gain a misreading of it."""

    def __init__(self, this: SheetText, other: SheetText) -> None:
        mine = Counter(k for line in this.lines for k in line.keys) + Counter(this.extra_keys)
        theirs = Counter(k for line in other.lines for k in line.keys) + Counter(other.extra_keys)
        self.words = {k: n - theirs.get(k, 0) for k, n in mine.items() if n > theirs.get(k, 0)}
        self._ends: dict[str, set[str]] = defaultdict(set)
        for k in self.words:
            if len(k) >= 2:
                self._ends["<" + k[:2]].add(k)
                self._ends[k[-2:] + ">"].add(k)
                self._ends[f"#{len(k)}"].add(k)

    def has_variant(self, key: str) -> bool:
        """A word close enough to ``key`` (another reading of it) is in excess here."""
        near = self._ends.get("<" + key[:2], set()) | self._ends.get(key[-2:] + ">", set()) \
            | self._ends.get(f"#{len(key)}", set())
        return any(w != key and close_enough(key, w) for w in near)

    def real(self, keys: list[str], other: _Deficit) -> bool:
        """Some significant word of ``keys`` is in excess on this page and not a misreading of a
        word in excess on the other page."""
        return any(_significant(k) and self.words.get(k, 0) > 0 and not other.has_variant(k) for k in keys)


def _pair_change(a: Line, b: Line) -> Change:
    if a.cells is not None and b.cells is not None and len(a.cells) > 1 and len(b.cells) > 1:
        return Change("table_row_changed", a.text, b.text, a.box, b.box, a.block, b.block, cell_changes(a.cells, b.cells))
    return Change("text_changed", a.text, b.text, a.box, b.box, a.block, b.block)


def cell_changes(old: list[str], new: list[str]) -> list[CellChange]:
    """Cells that differ (beyond an OCR slip), numbered by the new row's columns."""
    ko = [squash_key(c, ocr=True) for c in old]
    kn = [squash_key(c, ocr=True) for c in new]
    out: list[CellChange] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=ko, b=kn, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            a = old[i1 + k] if i1 + k < i2 else ""
            b = new[j1 + k] if j1 + k < j2 else ""
            la, lb = _fuzzy_left(tokens(a, ocr=True), tokens(b, ocr=True))
            if any(_significant(x) for x in la + lb):
                out.append(CellChange(min(j1 + k, max(len(new) - 1, 0)) + 1, a, b))
    return out


#: An image block read again by an OCR model is described anew (Dice of its words far below this);
#: the same description with a value edited stays above it.
SAME_DESCRIPTION = 0.85


def diff_image_blocks(old: SheetText, new: SheetText) -> list[Change]:
    """Image blocks present in both versions (same block id) whose text is the same description
    with a few words different: those words are changes; a block described anew is not compared."""
    out: list[Change] = []
    for block_id, lines_old in old.image_lines.items():
        lines_new = new.image_lines.get(block_id)
        if not lines_new:
            continue
        ko = [k for line in lines_old for k in line.keys]
        kn = [k for line in lines_new for k in line.keys]
        if ko == kn or similarity(ko, kn) < SAME_DESCRIPTION:
            continue
        found = diff_lines(SheetText(old.page_index, "lines", lines=lines_old),
                           SheetText(new.page_index, "lines", lines=lines_new))
        if len(found) > 1:  # one block, one change: what it said and what it says
            def joined(texts: list[str | None]) -> str | None:
                return " … ".join(x for x in texts if x) or None

            found = [Change("text_changed", joined([c.old_text for c in found]), joined([c.new_text for c in found]),
                            lines_old[0].box, lines_new[0].box, block_id, block_id)]
        out += found
    return out
