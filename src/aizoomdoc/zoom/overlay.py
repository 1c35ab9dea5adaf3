"""Overlays drawn on rendered regions: hit outlines, and a grid (A1…C3) named on a ruler.

Grid convention (also told to the model): the letter is the column, left to right (A, B, C, …);
the digit is the row, top to bottom (1, 2, 3, …). ``A1`` is the top-left cell. A range
``A1:B2`` covers the rectangle between two cells.

The names are written on a ruler in a white margin around the drawing (letters above, digits on
the left), never on the drawing itself; the grid lines inside are light and are interrupted
wherever they would cross text (the hits and every word of the text layer), so no character of
a code is hidden. The cells cover the drawing only: :class:`Framed` tells where it lies inside
the image.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

Box = tuple[float, float, float, float]

#: Bump whenever what is drawn on a render changes (colours, line widths, grid labels): cached
#: renders are keyed by it (pipeline/render_cache.py), so old crops are never served again.
OVERLAY_VERSION = 1

HIT_COLOR = (220, 20, 20)
GRID_COLOR = (0, 90, 220)

_CELL_RE = re.compile(r"^\s*([A-Za-z])\s*(\d{1,2})\s*$")


@dataclass(frozen=True)
class Grid:
    cols: int = 3
    rows: int = 3

    def __post_init__(self) -> None:
        if not (1 <= self.cols <= 26 and 1 <= self.rows <= 99):
            raise ValueError("grid must have 1..26 columns and 1..99 rows")

    @property
    def last_cell(self) -> str:
        return f"{string.ascii_uppercase[self.cols - 1]}{self.rows}"


#: At most this many columns (letters) on a ruler: more would crowd a strip.
MAX_COLS = 16


def grid_for(width: int, height: int, base: int = 3) -> Grid:
    """A grid with about square cells: ``base`` cells along the shorter side, fewer across a thin
    strip (a table row gets one row of cells)."""
    if width <= 0 or height <= 0:
        return Grid(base, base)
    short, long_ = min(width, height), max(width, height)
    across = base if long_ <= 4 * short else max(1, min(base, round(base * 4 * short / long_)))
    # cells about square; across a strip of one cell, three times as long as high
    along = max(base, round(across * long_ / short / (3 if across == 1 else 1)))
    if width >= height:
        return Grid(cols=min(MAX_COLS, along), rows=across)
    return Grid(cols=across, rows=min(99, along))


def _parse_cell(name: str, grid: Grid) -> tuple[int, int]:
    m = _CELL_RE.match(name)
    if not m:
        raise ValueError(f"bad cell name {name!r}")
    col = ord(m.group(1).upper()) - ord("A")
    row = int(m.group(2)) - 1
    if not (0 <= col < grid.cols and 0 <= row < grid.rows):
        raise ValueError(f"cell {name!r} is outside the grid A1…{grid.last_cell}")
    return col, row


def cell_to_local(cell: str, grid: Grid) -> Box:
    """A cell name (``B2``) or range (``A1:B2``) as a box in the image's own [0, 1] coordinates."""
    parts = cell.split(":")
    if len(parts) > 2:
        raise ValueError(f"bad cell range {cell!r}")
    (c1, r1), (c2, r2) = _parse_cell(parts[0], grid), _parse_cell(parts[-1], grid)
    c1, c2 = sorted((c1, c2))
    r1, r2 = sorted((r1, r2))
    return (c1 / grid.cols, r1 / grid.rows, (c2 + 1) / grid.cols, (r2 + 1) / grid.rows)


def local_to_page(local: Sequence[float], region: Sequence[float]) -> Box:
    """Map a box inside a rendered region (its own [0, 1] coordinates) back to page coords_norm."""
    rw, rh = region[2] - region[0], region[3] - region[1]
    return (region[0] + local[0] * rw, region[1] + local[1] * rh,
            region[0] + local[2] * rw, region[1] + local[3] * rh)


def cell_to_bbox_norm(cell: str, grid: Grid, region: Sequence[float]) -> Box:
    """The page coords_norm of a grid cell (or range) of an image that shows ``region``."""
    return local_to_page(cell_to_local(cell, grid), region)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # very old Pillow
        return ImageFont.load_default()


def outline_boxes(img: Image.Image, region: Sequence[float], boxes: Sequence[Sequence[float]],
                  color: tuple[int, int, int] = HIT_COLOR) -> None:
    """Outline ``boxes`` (page coords_norm) on ``img``, which shows ``region`` of the page."""
    draw = ImageDraw.Draw(img)
    rw, rh = region[2] - region[0], region[3] - region[1]
    if rw <= 0 or rh <= 0:
        return
    width = max(2, round(min(img.width, img.height) / 300))
    pad = 3 * width  # clear of the glyphs: a frame touching them hides strokes from a reader
    for b in boxes:
        x1 = (b[0] - region[0]) / rw * img.width - pad
        y1 = (b[1] - region[1]) / rh * img.height - pad
        x2 = (b[2] - region[0]) / rw * img.width + pad
        y2 = (b[3] - region[1]) / rh * img.height + pad
        x1, x2 = max(0, x1), min(img.width - 1, x2)
        y1, y2 = max(0, y1), min(img.height - 1, y2)
        if x2 <= x1 or y2 <= y1:
            continue
        draw.rectangle((x1, y1, x2, y2), outline=color, width=width)


def label_size(img_w: int, img_h: int) -> int:
    """Ruler font size: about 3 % of the shorter side, 16…40 px (legible when a model downsizes
    the image to ~1000 px)."""
    return max(16, min(40, round(min(img_w, img_h) * 0.03)))


@dataclass
class Framed:
    """An image with its ruler: ``frame`` is the drawing inside it, in the image's own [0, 1]
    coordinates (the grid cells divide the frame)."""

    image: Image.Image
    frame: Box


def _free_spans(a: float, b: float, blocked: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The parts of [a, b] outside every blocked interval."""
    spans = [(a, b)]
    for lo, hi in sorted(blocked):
        nxt = []
        for s0, s1 in spans:
            if hi <= s0 or lo >= s1:
                nxt.append((s0, s1))
                continue
            if lo > s0:
                nxt.append((s0, lo))
            if hi < s1:
                nxt.append((hi, s1))
        spans = nxt
    return [(s0, s1) for s0, s1 in spans if s1 - s0 >= 2]


def draw_grid_lines(img: Image.Image, grid: Grid, avoid: Sequence[Sequence[float]] = (),
                    color: tuple[int, int, int] = GRID_COLOR) -> None:
    """Light grid lines over the whole of ``img`` (the drawing), interrupted around every box of
    ``avoid`` (pixels of ``img``, padded a little) so that no line crosses text."""
    draw = ImageDraw.Draw(img)
    w, h = img.size
    line_w = max(1, round(min(w, h) / 800))
    light = tuple(int(c + (255 - c) * 0.6) for c in color)
    pad = max(2, round(min(w, h) / 200))
    boxes = [(b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad) for b in avoid]
    for c in range(1, grid.cols):
        x = round(c * w / grid.cols)
        blocked = [(b[1], b[3]) for b in boxes if b[0] <= x <= b[2]]
        for y0, y1 in _free_spans(0, h, blocked):
            draw.line((x, y0, x, y1), fill=light, width=line_w)
    for r in range(1, grid.rows):
        y = round(r * h / grid.rows)
        blocked = [(b[0], b[2]) for b in boxes if b[1] <= y <= b[3]]
        for x0, x1 in _free_spans(0, w, blocked):
            draw.line((x0, y, x1, y), fill=light, width=line_w)


def add_ruler(img: Image.Image, grid: Grid, *, header: Image.Image | None = None,
              avoid: Sequence[Sequence[float]] = (), color: tuple[int, int, int] = GRID_COLOR) -> Framed:
    """``img`` (the drawing) framed by a ruler: column letters in a margin above, row digits in a
    margin on the left, ticks at the cell borders, light grid lines inside that skip ``avoid``
    (boxes in pixels of ``img``). ``header`` (a strip as wide as ``img``: a table's header row)
    goes between the ruler and the drawing, under a thin rule; it is not part of the grid."""
    draw_grid_lines(img, grid, avoid, color)
    w, h = img.size
    size = label_size(w, h + (header.height if header is not None else 0))
    font = _font(size)
    pad = max(3, size // 4)
    probe = ImageDraw.Draw(img)
    digits_w = max(probe.textlength(str(r + 1), font=font) for r in range(grid.rows))
    left = round(digits_w) + 3 * pad
    top = size + 3 * pad
    gap = max(2, size // 8) if header is not None else 0
    head_h = header.height + gap if header is not None else 0
    right = bottom = pad
    out = Image.new("RGB", (left + w + right, top + head_h + h + bottom), (255, 255, 255))
    if header is not None:
        out.paste(header, (left, top))
    y_draw = top + head_h
    out.paste(img, (left, y_draw))
    draw = ImageDraw.Draw(out)
    if header is not None:
        draw.rectangle((left, top + header.height, left + w - 1, top + header.height + gap - 1), fill=(150, 150, 150))
    tick = max(4, size // 3)
    for c in range(grid.cols + 1):
        x = left + round(c * w / grid.cols)
        draw.line((x, top - tick, x, top - 1), fill=color, width=1)
    for r in range(grid.rows + 1):
        y = y_draw + round(r * h / grid.rows)
        draw.line((left - tick, y, left - 1, y), fill=color, width=1)
    for c in range(grid.cols):
        cx = left + (c + 0.5) * w / grid.cols
        draw.text((cx, top - tick - 1), string.ascii_uppercase[c], font=font, fill=color, anchor="ms")
    for r in range(grid.rows):
        cy = y_draw + (r + 0.5) * h / grid.rows
        draw.text((left - tick - 2, cy), str(r + 1), font=font, fill=color, anchor="rm")
    draw.rectangle((left - 1, y_draw - 1, left + w, y_draw + h), outline=color, width=1)
    W, H = out.size
    return Framed(out, (left / W, y_draw / H, (left + w) / W, (y_draw + h) / H))
