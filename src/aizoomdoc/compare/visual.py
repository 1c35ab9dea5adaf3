"""Changes of the drawing itself: the rendered sheets of both versions compared pixel by pixel.

Both pages are rendered at one resolution (through :mod:`aizoomdoc.zoom.render`, the renderer
the rest of the application uses), in grey. A pixel counts as changed only when the other version
has nothing as dark within ``radius`` pixels of it — anti-aliasing and a re-export that moves
lines by a fraction of a millimetre are not changes. Text is compared as text, so the boxes of
the words are masked out. What remains is counted on a coarse grid; neighbouring cells are
joined into regions and specks smaller than ``min_pixels`` are dropped.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from aizoomdoc.compare.model import Box
from aizoomdoc.zoom.render import RenderOptions, SheetRenderer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VisualOptions:
    max_pixels: int = 3_000_000  # per rendered page
    max_dpi: float = 150.0
    radius: int = 2  # px of tolerance for displaced lines
    threshold: int = 64  # grey levels darker than the other version's darkest neighbour
    cell: int = 4  # px of the counting grid
    cell_min: int = 2  # changed pixels that make a cell count
    bridge: int = 3  # cells: regions closer than this are one region
    min_pixels: int = 8  # regions with fewer changed pixels are noise
    max_regions: int = 12  # more than this: neighbours are merged until there are not
    #: Changed cells over this share of the page: the sheet was redrawn as a whole.
    whole_page_share: float = 0.25


@dataclass
class Region:
    box: Box  # coords_norm on the new sheet
    removed: int  # pixels of ink only in the old version
    added: int  # pixels of ink only in the new version


def page_dpi(sizes: Sequence[tuple[float, float]], opts: VisualOptions) -> float:
    """One resolution for both versions of a page (points), within the pixel budget."""
    area = max(w * h for w, h in sizes) or 1.0
    return max(10.0, min(opts.max_dpi, 72.0 * math.sqrt(opts.max_pixels / area)))


def render_grey(renderer: SheetRenderer, page_index: int, dpi: float, max_pixels: int) -> np.ndarray:
    """The whole page in grey (0 black .. 255 white) at ``dpi`` (no overlays, no encoding)."""
    renderer.opts = RenderOptions(min_dpi=dpi, max_dpi=dpi, default_dpi=dpi, max_pixels=max_pixels)
    raster = renderer.rasterize(page_index, (0.0, 0.0, 1.0, 1.0))
    return np.asarray(raster.img.convert("L"))


def _min_filter(a: np.ndarray, r: int) -> np.ndarray:
    """Grey erosion with a (2r+1)² square (separable; edges padded white)."""
    if r <= 0:
        return a
    h, w = a.shape
    p = np.pad(a, r, mode="constant", constant_values=255)
    rows = p[:, 0:w].copy()
    for k in range(1, 2 * r + 1):
        np.minimum(rows, p[:, k:k + w], out=rows)
    out = rows[0:h].copy()
    for k in range(1, 2 * r + 1):
        np.minimum(out, rows[k:k + h], out=out)
    return out


def shift(a: np.ndarray, dx_px: int, dy_px: int) -> np.ndarray:
    """``a`` moved by (dx, dy) pixels, white where nothing comes in."""
    if not dx_px and not dy_px:
        return a
    out = np.full_like(a, 255)
    h, w = a.shape
    ys, yd = (slice(0, h - dy_px), slice(dy_px, h)) if dy_px >= 0 else (slice(-dy_px, h), slice(0, h + dy_px))
    xs, xd = (slice(0, w - dx_px), slice(dx_px, w)) if dx_px >= 0 else (slice(-dx_px, w), slice(0, w + dx_px))
    out[yd, xd] = a[ys, xs]
    return out


def diff_pages(old: np.ndarray, new: np.ndarray, masks: Sequence[Box], opts: VisualOptions) -> list[Region]:
    """Changed regions between two grey renders of one page (``new`` already in ``old``'s frame
    and size); ``masks``: boxes (coords_norm) not to look at (text)."""
    if old.shape != new.shape:
        raise ValueError("renders of different sizes")
    if np.array_equal(old, new):
        return []
    h, w = old.shape
    t = opts.threshold
    old_i = old.astype(np.int16)
    new_i = new.astype(np.int16)
    removed = old_i < _min_filter(new, opts.radius).astype(np.int16) - t
    added = new_i < _min_filter(old, opts.radius).astype(np.int16) - t
    for b in masks:
        x0, y0 = max(0, int(b[0] * w) - 1), max(0, int(b[1] * h) - 1)
        x1, y1 = min(w, math.ceil(b[2] * w) + 1), min(h, math.ceil(b[3] * h) + 1)
        removed[y0:y1, x0:x1] = False
        added[y0:y1, x0:x1] = False
    if not removed.any() and not added.any():
        return []
    c = opts.cell
    gh, gw = -(-h // c), -(-w // c)

    def counts(mask: np.ndarray) -> np.ndarray:
        padded = np.zeros((gh * c, gw * c), dtype=np.uint16)
        padded[:h, :w] = mask
        return padded.reshape(gh, c, gw, c).sum(axis=(1, 3))

    rem, add = counts(removed), counts(added)
    on = (rem + add) >= opts.cell_min
    n_on = int(on.sum())
    if n_on == 0:
        return []
    if n_on > opts.whole_page_share * gh * gw:
        ys, xs = np.nonzero(on)
        return [Region(_norm(xs.min(), ys.min(), xs.max() + 1, ys.max() + 1, c, w, h),
                       int(rem.sum()), int(add.sum()))]
    regions = _components(on, rem, add, opts.bridge, c, w, h)
    regions = [r for r in regions if r.removed + r.added >= opts.min_pixels]
    return merge_regions(regions, opts.max_regions)


def _norm(x0: int, y0: int, x1: int, y1: int, c: int, w: int, h: int) -> Box:
    return (min(1.0, x0 * c / w), min(1.0, y0 * c / h), min(1.0, x1 * c / w), min(1.0, y1 * c / h))


def _dilate(on: np.ndarray, r: int) -> np.ndarray:
    """Binary dilation with a (2r+1)² square (separable shifts)."""
    if r <= 0:
        return on
    h, w = on.shape
    p = np.pad(on, r)
    rows = np.zeros((h + 2 * r, w), dtype=bool)
    for k in range(2 * r + 1):
        rows |= p[:, k:k + w]
    out = np.zeros((h, w), dtype=bool)
    for k in range(2 * r + 1):
        out |= rows[k:k + h]
    return out


def _components(on: np.ndarray, rem: np.ndarray, add: np.ndarray, bridge: int, c: int, w: int, h: int) -> list[Region]:
    """Changed cells joined when within ``bridge`` cells of each other: connected runs of the
    dilated grid (row by row, runs of touching rows united), boxes and counts of the cells inside."""
    grown = _dilate(on, bridge)
    parent: list[int] = []

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    runs: list[tuple[int, int, int]] = []  # (row, start, end) with end exclusive
    previous: list[int] = []
    for y in range(grown.shape[0]):
        row = grown[y]
        if not row.any():
            previous = []
            continue
        edges = np.flatnonzero(np.diff(np.concatenate(([0], row.view(np.int8), [0]))))
        current = []
        for a, b in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
            k = len(runs)
            runs.append((y, a, b))
            parent.append(k)
            for q in previous:
                _, pa, pb = runs[q]
                if pa < b + 1 and a < pb + 1:  # touching, diagonals included
                    ra, rb = find(k), find(q)
                    if ra != rb:
                        parent[ra] = rb
            current.append(k)
        previous = current
    boxes: dict[int, list[int]] = {}
    for k, (y, a, b) in enumerate(runs):
        cells = on[y, a:b]
        if not cells.any():
            continue
        xs = np.flatnonzero(cells)
        root = find(k)
        box = boxes.setdefault(root, [a + int(xs[0]), y, a + int(xs[-1]) + 1, y + 1, 0, 0])
        box[0], box[1] = min(box[0], a + int(xs[0])), min(box[1], y)
        box[2], box[3] = max(box[2], a + int(xs[-1]) + 1), max(box[3], y + 1)
        box[4] += int(rem[y, a:b].sum())
        box[5] += int(add[y, a:b].sum())
    return [Region(_norm(x0, y0, x1, y1, c, w, h), r, a) for x0, y0, x1, y1, r, a in boxes.values()]


def merge_regions(regions: list[Region], max_regions: int) -> list[Region]:
    """Overlapping regions joined; while there are more than ``max_regions``, the closest ones too."""
    gap = 0.0
    while True:
        merged = _merge_once(regions, gap)
        if len(merged) <= max_regions or gap >= 1.0:
            return merged
        regions = merged
        gap = max(0.01, gap * 2)


def _find(parent: list[int], a: int) -> int:
    """The root of ``a`` in the union-find forest ``parent`` (paths halved on the way)."""
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


def _merge_once(regions: list[Region], gap: float) -> list[Region]:
    """Regions within ``gap`` of each other united (repeated until no two are that close)."""
    out = list(regions)
    while True:
        parent = list(range(len(out)))
        find = functools.partial(_find, parent)
        order = sorted(range(len(out)), key=lambda k: out[k].box[0])
        for n, i in enumerate(order):  # sweep along x: only boxes starting before this one ends
            a = out[i].box
            for j in order[n + 1:]:
                b = out[j].box
                if b[0] - gap > a[2]:
                    break
                if a[1] - gap <= b[3] and b[1] - gap <= a[3]:
                    parent[find(i)] = find(j)
        groups: dict[int, list[Region]] = {}
        for k, r in enumerate(out):
            groups.setdefault(find(k), []).append(r)
        if len(groups) == len(out):
            return out
        out = [Region((min(r.box[0] for r in g), min(r.box[1] for r in g), max(r.box[2] for r in g),
                       max(r.box[3] for r in g)), sum(r.removed for r in g), sum(r.added for r in g))
               for g in groups.values()]


def align_to(old: np.ndarray, new: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``new`` resized to ``old``'s size and moved back by the sheet offset (coords_norm)."""
    if new.shape != old.shape:
        new = np.asarray(Image.fromarray(new).resize((old.shape[1], old.shape[0]), Image.Resampling.BILINEAR))
    h, w = old.shape
    return shift(new, -round(dx * w), -round(dy * h))
