"""Overlays drawn on rendered regions: hit outlines and a labelled grid (A1…C3).

Grid convention (also told to the model): the letter is the column, left to right (A, B, C, …);
the digit is the row, top to bottom (1, 2, 3, …). ``A1`` is the top-left cell. A range
``A1:B2`` covers the rectangle between two cells.
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

    def cell_names(self) -> list[str]:
        return [f"{string.ascii_uppercase[c]}{r + 1}" for r in range(self.rows) for c in range(self.cols)]

    @property
    def last_cell(self) -> str:
        return f"{string.ascii_uppercase[self.cols - 1]}{self.rows}"


def grid_for(width: int, height: int, base: int = 3) -> Grid:
    """A grid with about square cells: ``base`` cells along the shorter side."""
    if width <= 0 or height <= 0:
        return Grid(base, base)
    if width >= height:
        return Grid(cols=min(26, max(base, round(base * width / height))), rows=base)
    return Grid(cols=base, rows=min(99, max(base, round(base * height / width))))


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
    for b in boxes:
        x1 = (b[0] - region[0]) / rw * img.width
        y1 = (b[1] - region[1]) / rh * img.height
        x2 = (b[2] - region[0]) / rw * img.width
        y2 = (b[3] - region[1]) / rh * img.height
        x1, x2 = max(0, x1), min(img.width - 1, x2)
        y1, y2 = max(0, y1), min(img.height - 1, y2)
        if x2 <= x1 or y2 <= y1:
            continue
        draw.rectangle((x1, y1, x2, y2), outline=color, width=width)


def label_size(img_w: int, img_h: int) -> int:
    """Label font size: about 4% of the shorter side, at least 16 px (legible when a model
    downsizes the image to ~1000 px)."""
    return max(16, round(min(img_w, img_h) * 0.04))


def draw_grid(img: Image.Image, grid: Grid, color: tuple[int, int, int] = GRID_COLOR) -> None:
    """Draw thin grid lines and a boxed label (``A1``…) in the top-left corner of every cell.

    Drawn straight onto the image (no alpha compositing: that costs more than the render on a
    4-megapixel crop); lines are a light tint so the drawing beneath stays readable.
    """
    draw = ImageDraw.Draw(img)
    w, h = img.size
    line_w = max(1, round(min(w, h) / 500))
    light = tuple(int(c + (255 - c) * 0.45) for c in color)
    for c in range(1, grid.cols):
        x = round(c * w / grid.cols)
        draw.line((x, 0, x, h), fill=light, width=line_w)
    for r in range(1, grid.rows):
        y = round(r * h / grid.rows)
        draw.line((0, y, w, y), fill=light, width=line_w)
    size = label_size(w, h)
    font = _font(size)
    pad = max(2, size // 5)
    for r in range(grid.rows):
        for c in range(grid.cols):
            name = f"{string.ascii_uppercase[c]}{r + 1}"
            x, y = round(c * w / grid.cols) + pad, round(r * h / grid.rows) + pad
            tb = draw.textbbox((x, y), name, font=font)
            draw.rectangle((tb[0] - pad, tb[1] - pad, tb[2] + pad, tb[3] + pad),
                           fill=(255, 255, 255), outline=color, width=1)
            draw.text((x, y), name, font=font, fill=color)
