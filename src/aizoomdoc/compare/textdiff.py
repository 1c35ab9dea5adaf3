"""Text changes between two versions of a sheet read from PDF text layers (words mode).

1. The whole sheet may have shifted (a re-export with another margin): the median displacement
   of words that occur once on both sheets is taken as the sheet's offset.
2. A word is unchanged when the other version has the same word at the same place (within a
   tolerance of a few points).
3. Runs of leftover words that reappear elsewhere with the same text moved (``text_moved``); a
   group of runs moved by one displacement is one move (the rows under an inserted table row).
4. The remaining words are grouped by proximity, old and new together: each group is one change —
   ``text_changed`` (both versions have words there), ``text_added`` or ``text_removed``. A group
   whose letters are the same on both sides (words split differently) is no change.
5. Groups inside a table row become one ``table_row_changed`` (cell by cell), ``table_row_added``
   or ``table_row_removed``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

from aizoomdoc.compare.content import Row, SheetText, Word, union
from aizoomdoc.compare.model import Box, CellChange, Change
from aizoomdoc.compare.normalize import squash_key

#: Same word within this many points (or half its height) of its place: not moved.
TOLERANCE_PT = 3.0
#: Words closer than this many word heights (horizontally; half of it vertically) are one change.
GROUP_GAP = 1.2


@dataclass
class Offset:
    dx: float = 0.0
    dy: float = 0.0

    def fwd(self, b: Box) -> Box:
        return (b[0] + self.dx, b[1] + self.dy, b[2] + self.dx, b[3] + self.dy)

    def back(self, b: Box) -> Box:
        return (b[0] - self.dx, b[1] - self.dy, b[2] - self.dx, b[3] - self.dy)


def estimate_offset(old: list[Word], new: list[Word]) -> Offset:
    """The displacement of the whole sheet from words that occur exactly once in both versions."""
    once_old = _once(old)
    once_new = _once(new)
    pairs = [(once_old[k], once_new[k]) for k in once_old.keys() & once_new.keys()]
    if len(pairs) < 5:
        return Offset()
    dx = statistics.median(n.cx - o.cx for o, n in pairs)
    dy = statistics.median(n.cy - o.cy for o, n in pairs)
    if abs(dx) < 1e-4 and abs(dy) < 1e-4:
        return Offset()
    return Offset(dx, dy)


def _once(words: list[Word]) -> dict[str, Word]:
    seen: dict[str, Word | None] = {}
    for w in words:
        seen[w.key] = None if w.key in seen else w
    return {k: w for k, w in seen.items() if w is not None}


def _tolerance(sheet: SheetText, w: Word) -> tuple[float, float]:
    width, height = sheet.size_pt or (1000.0, 1000.0)
    return max(TOLERANCE_PT / width, 0.5 * (w.box[2] - w.box[0]) / max(len(w.text), 1)), max(TOLERANCE_PT / height, 0.5 * w.h)


def match_in_place(old: SheetText, new: SheetText, off: Offset) -> tuple[set[int], set[int]]:
    """Indexes (into ``old.words``/``new.words``) of the words found at their place."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for j, w in enumerate(new.words):
        by_key[w.key].append(j)
    candidates: list[tuple[float, int, int]] = []
    for i, w in enumerate(old.words):
        js = by_key.get(w.key)
        if not js:
            continue
        tx, ty = _tolerance(old, w)
        for j in js:
            n = new.words[j]
            ex, ey = n.cx - w.cx - off.dx, n.cy - w.cy - off.dy
            if abs(ex) <= tx and abs(ey) <= ty:
                candidates.append((ex * ex + ey * ey, i, j))
    candidates.sort()
    used_old: set[int] = set()
    used_new: set[int] = set()
    for _d, i, j in candidates:
        if i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
    return used_old, used_new


def _runs(words: list[Word], idx: set[int]) -> dict[int, list[int]]:
    """Leftover word indexes by run, in reading order."""
    out: dict[int, list[int]] = defaultdict(list)
    for i in sorted(idx, key=lambda i: words[i].order):
        out[words[i].run].append(i)
    return out


def match_moved(old: SheetText, new: SheetText, left_old: set[int], left_new: set[int],
                off: Offset) -> list[tuple[list[int], list[int]]]:
    """Leftover runs that reappear elsewhere with the same text: (old indexes, new indexes)."""
    runs_new: dict[str, list[list[int]]] = defaultdict(list)
    for ids in _runs(new.words, left_new).values():
        runs_new[" ".join(new.words[j].key for j in ids)].append(ids)
    pairs: list[tuple[float, list[int], list[int]]] = []
    for ids in _runs(old.words, left_old).values():
        key = " ".join(old.words[i].key for i in ids)
        ob = off.fwd(union([old.words[i].box for i in ids]))  # type: ignore[arg-type]
        for cand in runs_new.get(key, ()):
            nb = union([new.words[j].box for j in cand])
            assert nb is not None
            d = (nb[0] - ob[0]) ** 2 + (nb[1] - ob[1]) ** 2
            pairs.append((d, ids, cand))
    pairs.sort(key=lambda p: p[0])
    taken_old: set[int] = set()
    taken_new: set[int] = set()
    out = []
    for _d, ids, cand in pairs:
        if ids[0] in taken_old or cand[0] in taken_new:
            continue
        taken_old.update(ids)
        taken_new.update(cand)
        out.append((ids, cand))
    return out


def _moves(old: SheetText, new: SheetText, moved: list[tuple[list[int], list[int]]], off: Offset) -> list[Change]:
    """Moved runs grouped by a shared displacement and adjacency: one change per group."""
    items = []
    for ids, cand in moved:
        ob = union([old.words[i].box for i in ids])
        nb = union([new.words[j].box for j in cand])
        assert ob is not None and nb is not None
        items.append((ids, cand, ob, nb, nb[0] - ob[0] - off.dx, nb[1] - ob[1] - off.dy))
    parent = list(range(len(items)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a in range(len(items)):
        for b in range(a + 1, len(items)):
            ia, ib = items[a], items[b]
            h = max(ia[2][3] - ia[2][1], ib[2][3] - ib[2][1])
            same_shift = abs(ia[4] - ib[4]) <= h and abs(ia[5] - ib[5]) <= h
            if same_shift and _near(ia[2], ib[2], 3 * h, 3 * h):
                parent[find(a)] = find(b)
    groups: dict[int, list[int]] = defaultdict(list)
    for k in range(len(items)):
        groups[find(k)].append(k)
    out = []
    for members in groups.values():
        ids = [i for k in members for i in items[k][0]]
        cand = [j for k in members for j in items[k][1]]
        text_old = _text([old.words[i] for i in ids])
        out.append(Change("text_moved", text_old, _text([new.words[j] for j in cand]),
                          union([old.words[i].box for i in ids]), union([new.words[j].box for j in cand]),
                          _first_block([old.words[i] for i in ids]), _first_block([new.words[j] for j in cand])))
    return out


def _near(a: Box, b: Box, gx: float, gy: float) -> bool:
    return a[0] - gx <= b[2] and b[0] - gx <= a[2] and a[1] - gy <= b[3] and b[1] - gy <= a[3]


def reading_order(words: list[Word]) -> list[Word]:
    """Words by line (centres within half a word height), lines top to bottom, left to right."""
    lines: list[list[Word]] = []
    for w in sorted(words, key=lambda w: w.cy):
        if lines and abs(w.cy - sum(x.cy for x in lines[-1]) / len(lines[-1])) <= 0.5 * max(w.h, lines[-1][0].h):
            lines[-1].append(w)
        else:
            lines.append([w])
    return [w for line in lines for w in sorted(line, key=lambda w: w.box[0])]


def _text(words: list[Word]) -> str:
    return " ".join(w.text for w in reading_order(words))


def _first_block(words: list[Word]) -> str | None:
    return next((w.block for w in words if w.block), None)


def group_leftovers(old: SheetText, new: SheetText, left_old: set[int], left_new: set[int],
                    off: Offset) -> list[tuple[list[Word], list[Word]]]:
    """Leftover words of both versions grouped by proximity (old boxes in the new sheet's frame)."""
    items: list[tuple[str, Word, Box]] = [("old", old.words[i], off.fwd(old.words[i].box)) for i in left_old]
    items += [("new", new.words[j], new.words[j].box) for j in left_new]
    parent = list(range(len(items)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    # Bucket by a coarse grid so that large pages stay fast.
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    n = 64
    for k, (_side, _w, box) in enumerate(items):
        for i in range(max(0, int(box[0] * n) - 1), min(n, int(box[2] * n) + 2)):
            for j in range(max(0, int(box[1] * n) - 1), min(n, int(box[3] * n) + 2)):
                cells[(i, j)].append(k)
    for members in cells.values():
        for x in range(len(members)):
            a = members[x]
            ba, ha = items[a][2], items[a][1].h
            for y in range(x + 1, len(members)):
                b = members[y]
                if find(a) == find(b):
                    continue
                bb, hb = items[b][2], items[b][1].h
                h = max(ha, hb)
                if _near(ba, bb, GROUP_GAP * h * _aspect(old), 0.6 * h):
                    parent[find(a)] = find(b)
    groups: dict[int, tuple[list[Word], list[Word]]] = {}
    for k, (side, w, _b) in enumerate(items):
        g = groups.setdefault(find(k), ([], []))
        (g[0] if side == "old" else g[1]).append(w)
    return list(groups.values())


def _aspect(sheet: SheetText) -> float:
    """Word heights are fractions of the page height; a horizontal gap of one height is this
    fraction of the page width."""
    if not sheet.size_pt:
        return 1.0
    w, h = sheet.size_pt
    return h / w if w else 1.0


def diff_words(old: SheetText, new: SheetText) -> tuple[list[Change], Offset]:
    """The text changes of a sheet (both versions in words mode) and the sheet's offset."""
    off = estimate_offset(old.words, new.words)
    in_old, in_new = match_in_place(old, new, off)
    left_old = set(range(len(old.words))) - in_old
    left_new = set(range(len(new.words))) - in_new
    moved = match_moved(old, new, left_old, left_new, off)
    for ids, cand in moved:
        left_old.difference_update(ids)
        left_new.difference_update(cand)
    changes = _moves(old, new, moved, off)
    groups = [g for g in group_leftovers(old, new, left_old, left_new, off)
              if squash_key(" ".join(w.text for w in g[0])) != squash_key(" ".join(w.text for w in g[1]))]
    changes += _table_changes(old, new, groups, off)
    return changes, off


# --- tables -----------------------------------------------------------------------------------


def _row_pairs(old: SheetText, new: SheetText, off: Offset) -> dict[str, str]:
    """Old row id -> the new row at the same place."""
    out: dict[str, str] = {}
    new_rows = list(new.rows.values())
    for rid, row in old.rows.items():
        ob = off.fwd(row.box)
        best: tuple[float, str] | None = None
        for nr in new_rows:
            nb = nr.box
            vy = min(ob[3], nb[3]) - max(ob[1], nb[1])
            vx = min(ob[2], nb[2]) - max(ob[0], nb[0])
            if vy <= 0 or vx <= 0:
                continue
            score = vy / max(ob[3] - ob[1], nb[3] - nb[1], 1e-9)
            if score >= 0.5 and (best is None or score > best[0]):
                best = (score, nr.id)
        if best is not None:
            out[rid] = best[1]
    return out


def _table_changes(old: SheetText, new: SheetText, groups: list[tuple[list[Word], list[Word]]],
                   off: Offset) -> list[Change]:
    pairs = _row_pairs(old, new, off) if old.rows or new.rows else {}
    back = {v: k for k, v in pairs.items()}
    # Groups touching the same row pair become one change.
    by_row: dict[tuple[str | None, str | None], list[tuple[list[Word], list[Word]]]] = defaultdict(list)
    plain: list[Change] = []
    for g in groups:
        rows_old = {w.row for w in g[0] if w.row}
        rows_new = {w.row for w in g[1] if w.row}
        keys = {(r, pairs.get(r)) for r in rows_old} | {(back.get(r), r) for r in rows_new}
        if len(keys) == 1:
            by_row[next(iter(keys))].append(g)
        else:
            plain.append(_plain_change(g))
    out = []
    for (ro, rn), gs in by_row.items():
        words_old = [w for g in gs for w in g[0]]
        words_new = [w for g in gs for w in g[1]]
        row_old = old.rows.get(ro) if ro else None
        row_new = new.rows.get(rn) if rn else None
        all_new_left = row_new is not None and _all_words_in(new, row_new, words_new)
        all_old_left = row_old is not None and _all_words_in(old, row_old, words_old)
        if row_old is None and row_new is not None and all_new_left:
            out.append(Change("table_row_added", None, row_new.text, None, row_new.box,
                              None, _first_block(words_new)))
        elif row_new is None and row_old is not None and all_old_left:
            out.append(Change("table_row_removed", row_old.text, None, row_old.box, None,
                              _first_block(words_old), None))
        else:
            out.append(_row_change(old, new, row_old, row_new, words_old, words_new, off))
    return out + plain


def _all_words_in(sheet: SheetText, row: Row, words: list[Word]) -> bool:
    mine = {id(w) for w in words}
    return all(id(w) in mine for w in sheet.words if w.row == row.id)


def _plain_change(g: tuple[list[Word], list[Word]]) -> Change:
    wo, wn = g
    kind = "text_changed" if wo and wn else "text_removed" if wo else "text_added"
    bo, bn = union([w.box for w in wo]), union([w.box for w in wn])
    return Change(kind, _text(wo) if wo else None, _text(wn) if wn else None, bo, bn,
                  _first_block(wo), _first_block(wn))


def _row_change(old: SheetText, new: SheetText, row_old: Row | None, row_new: Row | None,
                words_old: list[Word], words_new: list[Word], off: Offset) -> Change:
    """A changed table row, cell by cell: columns from both versions' cells, text from the words
    inside the row band of each version."""
    ob = row_old.box if row_old else off.back(row_new.box)  # type: ignore[union-attr]
    nb = row_new.box if row_new else off.fwd(ob)
    spans: list[tuple[float, float]] = []
    for row, shift in ((row_old, off.dx), (row_new, 0.0)):
        for box, _t in row.cells if row else ():
            spans.append((box[0] + shift, box[2] + shift))
    for w in words_new:
        spans.append((w.box[0], w.box[2]))
    for w in words_old:
        spans.append((w.box[0] + off.dx, w.box[2] + off.dx))
    columns = _merge_spans(spans)
    cells_old = _cells(old.words, ob, columns, off.dx)
    cells_new = _cells(new.words, nb, columns, 0.0)
    cells = [CellChange(k + 1, a, b) for k, (a, b) in enumerate(zip(cells_old, cells_new, strict=True))
             if squash_key(a) != squash_key(b)]
    text_old = " | ".join(c for c in cells_old if c)
    text_new = " | ".join(c for c in cells_new if c)
    return Change("table_row_changed", text_old, text_new, ob, nb, _first_block(words_old) or
                  _first_block([w for w in old.words if row_old and w.row == row_old.id]),
                  _first_block(words_new) or _first_block([w for w in new.words if row_new and w.row == row_new.id]),
                  cells)


def _merge_spans(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _cells(words: list[Word], band: Box, columns: list[tuple[float, float]], shift: float) -> list[str]:
    """The text of each column inside the row band ``band`` (x shifted into the columns' frame)."""
    y0, y1 = band[1], band[3]
    found: list[list[Word]] = [[] for _ in columns]
    for w in words:
        if not (y0 <= w.cy <= y1):
            continue
        cx = w.cx + shift
        for k, (a, b) in enumerate(columns):
            if a <= cx <= b:
                found[k].append(w)
                break
    return [_text(ws) for ws in found]
