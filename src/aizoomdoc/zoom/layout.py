"""What each viewport image shows, and at what resolution at least: the legibility floor.

- A **table row** (a hit made a row by :mod:`aizoomdoc.zoom.rows`) is shown whole, from the key
  column to the last, with the table's header row above it and the matched cell outlined. When
  the row would be wider than ``max_side`` pixels with its text at the floor, it is split at a
  column border into parts that fit (the key columns first, then the value columns), each with
  its part of the header — two readable images rather than one unreadable one.
- **Other hits** are clustered (:func:`~aizoomdoc.zoom.plan.plan_viewports`); a cluster that
  cannot show its smallest hit text at the floor within the pixel budget is split into its hits,
  and a single hit's context is shrunk until it fits.

The floor: the cap height of the hit's text is at least ``min_cap_px`` pixels. It was chosen with a
reader (Tesseract, rus+eng) on ruled specification rows (bench/bench_viewports.py ``--floor``):
words of the rows are read back at 97 % from 12 px on, but codes such as «П1.1» keep their «.1»
only from 16 px and are read whole from 20 px — the floor; below 12 px both fall apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aizoomdoc.zoom.plan import Box, HitBox, HitsOnPage, PlanOptions, clamp_box, pad_box, plan_viewports

#: Cap height of Latin/Cyrillic capitals as a fraction of the font size (see render.CAP_RATIO).
CAP_RATIO = 0.7


@dataclass(frozen=True)
class LayoutOptions:
    #: The legibility floor: cap height of a hit's text in pixels.
    min_cap_px: float = 20.0
    #: No side of an image longer than this (vision models downscale larger images).
    max_side: int = 2000
    max_pixels: int = 4_000_000
    #: Text size assumed when the page has no text layer (points).
    default_text_pt: float = 7.0
    max_dpi: float = 600.0


@dataclass
class RowHit:
    """A hit that is a table row: its box, matched cell, header and column borders (page norm)."""

    hit: HitBox
    cell: Box
    header: Box | None
    columns: list[float]
    text_pt: float | None = None


@dataclass
class View(HitsOnPage):
    """One image to render: ``bbox_norm`` of a page (the drawing under the ruler), the boxes to
    outline, an optional header strip above it, and the lowest resolution that keeps the hit
    text at the floor."""

    document_id: str
    page_index: int
    bbox_norm: Box
    hits: list[HitBox]
    outline: list[Box]
    header_norm: Box | None = None
    min_dpi: float | None = None
    part: str | None = None  # "key" | "values" for the parts of a split row
    id: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def floor_dpi(text_pt: float | None, opts: LayoutOptions) -> float:
    """The resolution at which text of ``text_pt`` points has a cap height of ``min_cap_px``."""
    size = text_pt if text_pt and text_pt > 0.5 else opts.default_text_pt
    return min(opts.max_dpi, opts.min_cap_px * 72.0 / (CAP_RATIO * size))


def _fits(w_pt: float, h_pt: float, dpi: float, opts: LayoutOptions) -> bool:
    w, h = w_pt * dpi / 72.0, h_pt * dpi / 72.0
    return w <= opts.max_side and h <= opts.max_side and w * h <= opts.max_pixels


def _split_columns(cols: Sequence[float], key_col: int, limit: float) -> list[tuple[float, float]]:
    """Column borders (ascending) grouped into consecutive parts no wider than ``limit`` (same
    units); the part holding ``key_col`` (the matched column) comes first when it can."""
    parts: list[tuple[float, float]] = []
    start = cols[0]
    for k in range(1, len(cols)):
        if cols[k] - start > limit and cols[k - 1] > start:
            parts.append((start, cols[k - 1]))
            start = cols[k - 1]
    parts.append((start, cols[-1]))
    # keep the matched column's part first (key columns), the rest in reading order
    key_x = (cols[key_col] + cols[min(key_col + 1, len(cols) - 1)]) / 2
    first = next((p for p in parts if p[0] <= key_x <= p[1]), parts[0])
    return [first] + [p for p in parts if p is not first]


def row_views(r: RowHit, page_size: tuple[float, float], opts: LayoutOptions) -> list[View]:
    """The images of a table row: one, or several parts when it is too wide at the floor."""
    w_pt, h_pt = page_size
    box = clamp_box(r.hit.bbox_norm)
    dpi = floor_dpi(r.text_pt, opts)
    pad_y = 2.0 / h_pt if h_pt > 0 else 0.0
    pad_x = 2.0 / w_pt if w_pt > 0 else 0.0
    head = r.header
    row_h = (box[3] - box[1]) * h_pt + (((head[3] - head[1]) * h_pt) if head else 0.0)

    def view(x0: float, x1: float, part: str | None) -> View:
        bbox = clamp_box((x0 - pad_x, box[1] - pad_y, x1 + pad_x, box[3] + pad_y))
        header = clamp_box((bbox[0], head[1] - pad_y, bbox[2], head[3])) if head else None
        cell = r.cell
        outline = [cell] if cell[2] > bbox[0] and cell[0] < bbox[2] else [box]
        return View(r.hit.document_id, r.hit.page_index, bbox, [r.hit], outline, header, dpi, part)

    if _fits((box[2] - box[0]) * w_pt, row_h, dpi, opts) or len(r.columns) < 3:
        return [view(box[0], box[2], None)]
    cols = sorted(c for c in r.columns if box[0] - 1e-4 <= c <= box[2] + 1e-4)
    if len(cols) < 3:
        return [view(box[0], box[2], None)]
    cx = (r.cell[0] + r.cell[2]) / 2
    key_col = max(0, max((k for k, c in enumerate(cols[:-1]) if c <= cx), default=0))
    limit = opts.max_side * 72.0 / dpi / w_pt if w_pt > 0 else 1.0
    parts = _split_columns(cols, key_col, limit)
    return [view(a, b, "key" if k == 0 else "values") for k, (a, b) in enumerate(parts)]


def _hit_view(members: list[HitBox], aspect: float, plan: PlanOptions, sizes: Mapping[tuple[str, str], float | None],
              page_size: tuple[float, float], opts: LayoutOptions) -> list[View]:
    """A cluster as one view when its smallest text fits at the floor, else its hits one by one
    (each with its context shrunk until it fits)."""
    w_pt, h_pt = page_size
    dpi = max(floor_dpi(sizes.get((m.document_id, m.block_id)), opts) for m in members)
    box = members[0].bbox_norm
    for m in members[1:]:
        box = (min(box[0], m.bbox_norm[0]), min(box[1], m.bbox_norm[1]),
               max(box[2], m.bbox_norm[2]), max(box[3], m.bbox_norm[3]))
    region = pad_box(clamp_box(box), aspect, plan)
    doc, page = members[0].document_id, members[0].page_index
    if _fits((region[2] - region[0]) * w_pt, (region[3] - region[1]) * h_pt, dpi, opts):
        return [View(doc, page, region, members, [m.bbox_norm for m in members], None, dpi)]
    if len(members) > 1:
        out: list[View] = []
        for m in members:
            out.extend(_hit_view([m], aspect, plan, sizes, page_size, opts))
        return out
    m = members[0]
    for pad_ratio, min_side in ((0.08, 0.04), (0.03, 0.02), (0.0, 0.0)):
        tight = PlanOptions(pad_ratio=pad_ratio, min_pad=plan.min_pad / 3, min_side=min_side)
        region = pad_box(clamp_box(m.bbox_norm), aspect, tight)
        if _fits((region[2] - region[0]) * w_pt, (region[3] - region[1]) * h_pt, dpi, opts):
            break
    return [View(doc, page, region, [m], [m.bbox_norm], None, dpi)]


def layout_views(
    hits: Sequence[HitBox],
    rows: Mapping[tuple[str, str], RowHit],
    page_sizes: Mapping[tuple[str, int], tuple[float, float]],
    text_sizes: Mapping[tuple[str, str], float | None],
    opts: LayoutOptions,
    max_views: int,
    id_prefix: str = "v",
) -> list[View]:
    """Views for ``hits`` (best first): rows by :func:`row_views`, the rest clustered and held to
    the floor; at most ``max_views``, labelled ``v1``, ``v2``, … (in the order of the hits)."""
    views: list[tuple[int, View]] = []
    plain: list[HitBox] = []
    order = {(h.document_id, h.block_id): n for n, h in enumerate(hits)}
    for h in hits:
        r = rows.get((h.document_id, h.block_id))
        if r is None:
            plain.append(h)
            continue
        size = page_sizes.get((h.document_id, h.page_index), (1.0, 1.0))
        for v in row_views(r, size, opts):
            views.append((order[(h.document_id, h.block_id)], v))
    plan = PlanOptions(max_regions=max(1, max_views))
    for region in plan_viewports(plain, page_sizes, plan):
        size = page_sizes.get((region.document_id, region.page_index), (1.0, 1.0))
        aspect = size[0] / size[1] if size[0] > 0 and size[1] > 0 else 1.0
        rank = min(order[(m.document_id, m.block_id)] for m in region.hits)
        for v in _hit_view(list(region.hits), aspect, plan, text_sizes, size, opts):
            views.append((rank, v))
    views.sort(key=lambda p: p[0])
    out = [v for _, v in views][: max(0, max_views)]
    for n, v in enumerate(out, 1):
        v.id = f"{id_prefix}{n}"
    return out
