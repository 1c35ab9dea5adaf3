"""Plan viewports: cluster hits that lie close together on one page into regions.

Pure: boxes in, regions out. All boxes are ``coords_norm`` (x1, y1, x2, y2) in [0, 1], origin
top-left. Closeness is judged in page units (points or pixels) so that a tall A1 sheet and an A4
page are treated alike; the page aspect is given by ``page_sizes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class HitBox:
    """One search hit to show: a block on a page of a document."""

    document_id: str
    page_index: int
    block_id: str
    bbox_norm: Box
    score: float = 0.0


class HitsOnPage:
    """What a rectangle of a page holding hits tells about them (shared by :class:`Region` and
    the layout's views)."""

    page_index: int
    hits: list[HitBox]

    @property
    def page_number(self) -> int:
        return self.page_index + 1

    @property
    def block_ids(self) -> list[str]:
        return [h.block_id for h in self.hits]

    @property
    def score(self) -> float:
        return max((h.score for h in self.hits), default=0.0)


@dataclass
class Region(HitsOnPage):
    """A viewport: one padded, clamped rectangle on one page holding one or more hits."""

    id: str
    document_id: str
    page_index: int
    bbox_norm: Box
    hits: list[HitBox] = field(default_factory=list)


@dataclass(frozen=True)
class PlanOptions:
    #: Two hits are merged when the gap between their boxes is below this fraction of the page's
    #: longer side.
    merge_gap: float = 0.04
    #: A merged region may not grow beyond this fraction of the page area (then hits stay apart).
    max_region_area: float = 0.35
    #: Context padding around the hits, as a fraction of the region's size ...
    pad_ratio: float = 0.15
    #: ... but at least this fraction of the page's longer side.
    min_pad: float = 0.015
    #: A region is never smaller than this fraction of the page's longer side (context for tiny hits).
    min_side: float = 0.08
    #: At most this many regions (highest scoring first).
    max_regions: int = 8


def clamp_box(box: Sequence[float]) -> Box:
    """Clamp a box to the unit square and order its corners."""
    x1, y1, x2, y2 = (float(v) for v in box)
    x1, x2 = sorted((x1, x2))
    y1, y2 = sorted((y1, y2))
    c = lambda v: min(1.0, max(0.0, v))  # noqa: E731
    return (c(x1), c(y1), c(x2), c(y2))


def union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _gap(a: Box, b: Box, aspect: float) -> float:
    """Distance between two boxes in units of the page's longer side (0 when they overlap)."""
    sx, sy = _scales(aspect)
    dx = max(0.0, max(a[0], b[0]) - min(a[2], b[2])) * sx
    dy = max(0.0, max(a[1], b[1]) - min(a[3], b[3])) * sy
    return (dx * dx + dy * dy) ** 0.5


def _scales(aspect: float) -> tuple[float, float]:
    """Multipliers turning norm units into fractions of the longer side (aspect = w / h)."""
    if aspect >= 1.0:
        return 1.0, 1.0 / aspect
    return aspect, 1.0


def pad_box(box: Box, aspect: float, opts: PlanOptions) -> Box:
    """Pad a box with context and enforce the minimum size, then clamp it to the page."""
    sx, sy = _scales(aspect)
    w, h = box[2] - box[0], box[3] - box[1]
    # padding in norm units of each axis
    px = max(w * opts.pad_ratio, opts.min_pad / sx)
    py = max(h * opts.pad_ratio, opts.min_pad / sy)
    x1, y1, x2, y2 = box[0] - px, box[1] - py, box[2] + px, box[3] + py
    # minimum size
    min_w, min_h = min(1.0, opts.min_side / sx), min(1.0, opts.min_side / sy)
    if x2 - x1 < min_w:
        cx = (x1 + x2) / 2
        x1, x2 = cx - min_w / 2, cx + min_w / 2
    if y2 - y1 < min_h:
        cy = (y1 + y2) / 2
        y1, y2 = cy - min_h / 2, cy + min_h / 2
    # shift back inside the page before clamping so the region keeps its size near edges
    if x1 < 0:
        x2, x1 = x2 - x1, 0.0
    if x2 > 1:
        x1, x2 = x1 - (x2 - 1), 1.0
    if y1 < 0:
        y2, y1 = y2 - y1, 0.0
    if y2 > 1:
        y1, y2 = y1 - (y2 - 1), 1.0
    return clamp_box((x1, y1, x2, y2))


def cluster_page(hits: Sequence[HitBox], aspect: float, opts: PlanOptions) -> list[list[HitBox]]:
    """Greedy agglomerative clustering of the hits of one page.

    Repeatedly merges the two closest clusters whose gap is below ``merge_gap`` and whose union
    stays below ``max_region_area``.
    """
    clusters: list[tuple[Box, list[HitBox]]] = [(clamp_box(h.bbox_norm), [h]) for h in hits]
    while len(clusters) > 1:
        best: tuple[float, int, int] | None = None
        for i in range(len(clusters)):
            for j in range(i + 1, len(clusters)):
                g = _gap(clusters[i][0], clusters[j][0], aspect)
                if g > opts.merge_gap:
                    continue
                if area(union(clusters[i][0], clusters[j][0])) > opts.max_region_area:
                    continue
                if best is None or g < best[0]:
                    best = (g, i, j)
        if best is None:
            break
        _, i, j = best
        merged = (union(clusters[i][0], clusters[j][0]), clusters[i][1] + clusters[j][1])
        clusters = [c for k, c in enumerate(clusters) if k not in (i, j)] + [merged]
    return [members for _, members in clusters]


def plan_viewports(
    hits: Iterable[HitBox],
    page_sizes: Mapping[tuple[str, int], tuple[float, float]],
    opts: PlanOptions | None = None,
    id_prefix: str = "v",
) -> list[Region]:
    """Group hits into padded regions, highest-scoring first, with ids ``v1``, ``v2``, …

    ``page_sizes`` maps ``(document_id, page_index)`` to the page's ``(width, height)`` in any unit;
    pages missing from it are treated as square.
    """
    opts = opts or PlanOptions()
    by_page: dict[tuple[str, int], list[HitBox]] = {}
    for h in hits:
        by_page.setdefault((h.document_id, h.page_index), []).append(h)

    regions: list[Region] = []
    for key, page_hits in by_page.items():
        width, height = page_sizes.get(key, (1.0, 1.0))
        aspect = (width / height) if width > 0 and height > 0 else 1.0
        for members in cluster_page(page_hits, aspect, opts):
            box = members[0].bbox_norm
            for m in members[1:]:
                box = union(box, m.bbox_norm)
            members.sort(key=lambda m: (-m.score, m.bbox_norm[1], m.bbox_norm[0]))
            regions.append(
                Region(id="", document_id=key[0], page_index=key[1],
                       bbox_norm=pad_box(clamp_box(box), aspect, opts), hits=members)
            )
    regions.sort(key=lambda r: (-r.score, r.document_id, r.page_index, r.bbox_norm[1]))
    regions = regions[: opts.max_regions]
    for n, r in enumerate(regions, 1):
        r.id = f"{id_prefix}{n}"
    return regions
