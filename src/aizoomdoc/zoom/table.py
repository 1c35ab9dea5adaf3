"""Table rows on a PDF page, from its ruling lines: the row a hit sits in, the table's header row
and the column borders — what a table-cell viewport shows (the whole row plus the header).

Drawn tables (GOST specifications, sheet lists, references) are ruled: a row is the band between
two horizontal rules that both cross the hit, closed by vertical rules on both sides of the hit.
The table is the run of rules above and below that share the row's extent and are joined by its
outer vertical borders; its header is the first band. Labels on a drawing (a tag on a shelf line,
a dimension between axis lines) are not in a closed cell and give no row.

Pure geometry over ``pymupdf.Page.get_cdrawings`` and the text layer; everything in displayed
page points (rotation applied).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pymupdf

from aizoomdoc.search.analyzer import analyze

log = logging.getLogger(__name__)

Rect = tuple[float, float, float, float]

#: Rules closer than this (points) are one rule; segments closer than GAP along a rule are joined.
TOL = 1.0
GAP = 2.0
#: A row band may be at most this many text heights tall (cells of several lines).
MAX_ROW_LINES = 12


@dataclass(frozen=True)
class Rule:
    """A horizontal (``pos`` = y, span along x) or vertical (``pos`` = x, span along y) rule."""

    pos: float
    a: float
    b: float

    def covers(self, v: float, tol: float = TOL) -> bool:
        return self.a - tol <= v <= self.b + tol


@dataclass
class TableRow:
    """A ruled row around a hit: ``row`` from the table's left border to its right one, the
    table's ``header`` row (None when the hit row is the header), the column borders (x) and the
    table's whole box."""

    row: Rect
    header: Rect | None
    columns: list[float] = field(default_factory=list)
    table: Rect | None = None

    def cells(self) -> list[tuple[float, float]]:
        """The columns as (x0, x1) pairs, left to right."""
        xs = sorted(self.columns)
        return [(a, b) for a, b in itertools.pairwise(xs) if b - a > TOL]


def _merge(segments: Iterable[tuple[float, float, float]]) -> list[Rule]:
    """Collinear segments (pos, a, b) joined into rules: segments within TOL of one position that
    overlap or nearly touch along it."""
    rows: list[list[tuple[float, float, float]]] = []
    for seg in sorted(segments):
        if rows and seg[0] - rows[-1][0][0] <= TOL:
            rows[-1].append(seg)
        else:
            rows.append([seg])
    out: list[Rule] = []
    for group in rows:
        pos = sum(s[0] for s in group) / len(group)
        spans = sorted((a, b) for _p, a, b in group)
        cur_a, cur_b = spans[0]
        for a, b in spans[1:]:
            if a <= cur_b + GAP:
                cur_b = max(cur_b, b)
            else:
                out.append(Rule(pos, cur_a, cur_b))
                cur_a, cur_b = a, b
        out.append(Rule(pos, cur_a, cur_b))
    return out


def page_rules(page: pymupdf.Page) -> tuple[list[Rule], list[Rule]]:
    """Horizontal and vertical rules of a page (stroked lines and thin or outlined rectangles),
    in displayed coordinates."""
    hs: list[tuple[float, float, float]] = []
    vs: list[tuple[float, float, float]] = []
    happend, vappend = hs.append, vs.append

    def add(px: float, py: float, qx: float, qy: float) -> None:
        dx, dy = abs(px - qx), abs(py - qy)
        if dy <= 0.5 and dx > TOL:
            happend(((py + qy) / 2, min(px, qx), max(px, qx)))
        elif dx <= 0.5 and dy > TOL:
            vappend(((px + qx) / 2, min(py, qy), max(py, qy)))

    try:
        paths = page.get_cdrawings()
    except (RuntimeError, ValueError):  # a broken content stream: no rules, no rows
        return [], []
    for path in paths:
        stroked = "s" in path.get("type", "")
        for item in path.get("items", ()):
            kind = item[0]
            if kind == "l":
                if stroked:
                    (px, py), (qx, qy) = item[1], item[2]
                    add(px, py, qx, qy)
            elif kind == "re":
                x0, y0, x1, y1 = item[1]
                w, h = abs(x1 - x0), abs(y1 - y0)
                if h <= 1.5 and w > TOL:  # a filled hairline
                    add(x0, (y0 + y1) / 2, x1, (y0 + y1) / 2)
                elif w <= 1.5 and h > TOL:
                    add((x0 + x1) / 2, y0, (x0 + x1) / 2, y1)
                elif stroked:
                    add(x0, y0, x1, y0)
                    add(x1, y0, x1, y1)
                    add(x0, y1, x1, y1)
                    add(x0, y0, x0, y1)
            elif kind == "qu" and stroked:
                (ax, ay), (bx, by), (cx, cy), (dx_, dy_) = item[1]
                add(ax, ay, bx, by)
                add(bx, by, dx_, dy_)
                add(dx_, dy_, cx, cy)
                add(cx, cy, ax, ay)
    if page.rotation:
        hs, vs = _rotate(page, hs, vs)
    return _merge(hs), _merge(vs)


def _rotate(page: pymupdf.Page, hs: list[tuple[float, float, float]],
            vs: list[tuple[float, float, float]]) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]:
    """Unrotated segments to displayed ones (a quarter turn swaps horizontal and vertical)."""
    rot = page.rotation_matrix
    out_h: list[tuple[float, float, float]] = []
    out_v: list[tuple[float, float, float]] = []
    for segs, horizontal in ((hs, True), (vs, False)):
        for pos, a, b in segs:
            p = pymupdf.Point(a, pos) if horizontal else pymupdf.Point(pos, a)
            q = pymupdf.Point(b, pos) if horizontal else pymupdf.Point(pos, b)
            p, q = p * rot, q * rot
            if abs(p.y - q.y) <= 0.5:
                out_h.append(((p.y + q.y) / 2, min(p.x, q.x), max(p.x, q.x)))
            else:
                out_v.append(((p.x + q.x) / 2, min(p.y, q.y), max(p.y, q.y)))
    return out_h, out_v


def find_row(hrules: Sequence[Rule], vrules: Sequence[Rule], hit: Rect) -> TableRow | None:
    """The ruled row (with its table's header) that holds ``hit``, or None when the hit is not
    inside a closed table cell."""
    x0, y0, x1, y1 = hit
    cx, h = (x0 + x1) / 2, max(y1 - y0, 2.0)
    slack = 0.3 * h
    crossing = [r for r in hrules if r.covers(cx)]
    above = max((r for r in crossing if r.pos <= y0 + slack), key=lambda r: r.pos, default=None)
    below = min((r for r in crossing if r.pos >= y1 - slack), key=lambda r: r.pos, default=None)
    if above is None or below is None or below.pos - above.pos > MAX_ROW_LINES * h \
            or below.pos - above.pos < 0.8 * h:
        return None
    top, bottom = above.pos, below.pos
    left, right = max(above.a, below.a), min(above.b, below.b)
    spanning = [v for v in vrules if left - TOL <= v.pos <= right + TOL
                and v.a <= top + TOL + slack and v.b >= bottom - TOL - slack]
    if not any(v.pos <= x0 + slack for v in spanning) or not any(v.pos >= x1 - slack for v in spanning):
        return None  # not a closed cell: a label between lines of a drawing
    # The table's outer borders: the outermost verticals of the band.
    left_border = min(spanning, key=lambda v: v.pos)
    right_border = max(spanning, key=lambda v: v.pos)
    if right_border.pos - left_border.pos < (x1 - x0) + 2 * TOL:
        return None
    left, right = left_border.pos, right_border.pos
    columns = sorted({round(v.pos, 2) for v in spanning})
    # The table: rules of the same extent, within what both borders cover.
    t_top = max(left_border.a, right_border.a)
    t_bottom = min(left_border.b, right_border.b)
    same = sorted(r.pos for r in hrules
                  if r.a <= left + GAP and r.b >= right - GAP and t_top - TOL <= r.pos <= t_bottom + TOL)
    header = None
    if same:
        first = same[0]
        bands = [p for p in same if p > first + TOL]
        end = bands[0] if bands else None
        # A title band across the whole table (no column rules inside) is not the header: the
        # column names are in the band under it.
        if end is not None and len(bands) > 1 and len(columns) > 2 and not any(
                left + GAP < v.pos < right - GAP and v.a <= first + TOL and v.b >= end - TOL for v in vrules):
            end = bands[1]
        if end is not None and end <= top + TOL:  # the hit row is not in the header
            header = (left, first, right, end)
        t_top, t_bottom = first, same[-1]
    return TableRow(row=(left, top, right, bottom), header=header, columns=columns,
                    table=(left, t_top, right, t_bottom))


def locate(page: pymupdf.Page, clip: Rect, codes: Sequence[str]) -> Rect | None:
    """The box of the first word inside ``clip`` whose search tokens include one of ``codes``
    (analyzer tokens: "П1" finds "П1" and not "П1.1"), in displayed coordinates; None when none
    is there."""
    rect = pymupdf.Rect(clip) * page.derotation_matrix
    try:
        found = page.get_text("words", clip=rect)
    except (RuntimeError, ValueError):
        return None
    found.sort(key=lambda w: (round(w[1]), w[0]))
    wanted = set(codes)
    for w in found if wanted else ():
        if wanted & set(analyze(w[4])):
            r = pymupdf.Rect(w[:4]) * page.rotation_matrix
            return (r.x0, r.y0, r.x1, r.y1)
    return None
