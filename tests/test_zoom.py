"""Viewports: clustering, DPI from text height, overlays, grid mapping, zoom requests."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pymupdf
import pytest
from PIL import Image

from aizoomdoc.zoom import (
    Grid,
    HitBox,
    ImageRef,
    PlanOptions,
    RenderOptions,
    SheetRenderer,
    ZoomRefusal,
    ZoomTarget,
    cell_to_bbox_norm,
    choose_dpi,
    plan_viewports,
    resolve_zoom,
)
from aizoomdoc.zoom.overlay import GRID_COLOR, HIT_COLOR

W, H = 1190.0, 842.0  # A3 landscape, points


@pytest.fixture(scope="module")
def sheet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A drawn sheet: tiny 3 pt text in the top-left, 14 pt text in the bottom-right."""
    path = tmp_path_factory.mktemp("zoom") / "sheet.pdf"
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    page.insert_text((60, 80), "HHHH 3pt", fontsize=3)
    page.insert_text((60, 90), "HHHH 3pt", fontsize=3)
    page.insert_text((800, 700), "HHHH 14pt", fontsize=14)
    page.draw_rect(pymupdf.Rect(40, 60, 200, 120), color=(0, 0, 0), width=0.5)
    doc.new_page(width=W, height=H).insert_text((100, 100), "second", fontsize=10)
    doc.save(path)
    return path


def _ink_rows(img: Image.Image) -> tuple[int, int]:
    a = np.asarray(img.convert("L"))
    rows = np.where((a < 100).any(axis=1))[0]
    return int(rows.min()), int(rows.max())


def _decode(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


# --- planning --------------------------------------------------------------------------------

def test_close_hits_cluster_into_one_region_far_hits_stay_apart() -> None:
    hits = [
        HitBox("d", 0, "A", (0.10, 0.10, 0.20, 0.15), 3.0),
        HitBox("d", 0, "B", (0.21, 0.12, 0.30, 0.16), 2.0),  # 1% gap from A -> same region
        HitBox("d", 0, "C", (0.80, 0.80, 0.90, 0.90), 1.0),  # far away -> own region
        HitBox("d", 1, "D", (0.10, 0.10, 0.20, 0.15), 5.0),  # other page -> own region
    ]
    regions = plan_viewports(hits, {("d", 0): (W, H), ("d", 1): (W, H)})
    assert [r.id for r in regions] == ["v1", "v2", "v3"]
    assert regions[0].block_ids == ["D"]  # highest score first
    ab = regions[1]
    assert sorted(ab.block_ids) == ["A", "B"] and ab.page_index == 0
    # padded around both hits, inside the page
    assert ab.bbox_norm[0] < 0.10 and ab.bbox_norm[2] > 0.30
    assert ab.bbox_norm[1] < 0.10 and ab.bbox_norm[3] > 0.16
    assert regions[2].block_ids == ["C"]


def test_regions_are_clamped_to_the_page_and_tiny_hits_get_context() -> None:
    hits = [HitBox("d", 0, "edge", (0.97, 0.98, 1.0, 1.0)), HitBox("d", 0, "dot", (0.5, 0.5, 0.501, 0.501))]
    regions = plan_viewports(hits, {("d", 0): (W, H)})
    for r in regions:
        assert all(0.0 <= v <= 1.0 for v in r.bbox_norm)
        # at least min_side of the longer side in both directions
        assert (r.bbox_norm[2] - r.bbox_norm[0]) * W >= 0.08 * W - 1e-6
        assert (r.bbox_norm[3] - r.bbox_norm[1]) * H >= 0.08 * W - 1e-6
    edge = next(r for r in regions if r.block_ids == ["edge"])
    assert edge.bbox_norm[2] == 1.0 and edge.bbox_norm[3] == 1.0


def test_merging_stops_when_the_region_would_cover_most_of_the_page() -> None:
    # a chain of touching boxes across the whole page: never one giant region
    hits = [HitBox("d", 0, f"b{i}", (i / 10, 0.0, (i + 1) / 10, 1.0)) for i in range(10)]
    regions = plan_viewports(hits, {("d", 0): (W, H)}, PlanOptions(max_region_area=0.35, max_regions=20))
    assert len(regions) >= 3
    assert sum(len(r.hits) for r in regions) == 10


# --- rendering -------------------------------------------------------------------------------

def test_dpi_follows_text_height_and_respects_the_pixel_cap() -> None:
    opts = RenderOptions(target_cap_px=24, max_pixels=4_000_000, max_dpi=600)
    small = choose_dpi(100, 100, 3.0, opts)
    large = choose_dpi(100, 100, 14.0, opts)
    assert small > large
    assert abs(large - 24 * 72 / (0.7 * 14)) < 1
    # a whole A1 sheet cannot be rendered at 600 dpi within 4 Mpx
    capped = choose_dpi(2384, 1684, 2.0, opts)
    assert (2384 * capped / 72) * (1684 * capped / 72) <= 4_000_000 * 1.001


def test_small_text_is_rendered_legibly(sheet: Path) -> None:
    with SheetRenderer(sheet, RenderOptions(target_cap_px=24)) as r:
        tiny = r.render(0, (30 / W, 70 / H, 220 / W, 100 / H))
        big = r.render(0, (780 / W, 680 / H, 1000 / W, 720 / H))
    assert tiny.text_size_pt == pytest.approx(3.0)
    assert tiny.dpi > big.dpi
    # measured cap height of the 3 pt line: capitals of the line at y=80
    img = _decode(tiny.data)
    k = tiny.dpi / 72
    # x from 55 to 70 pt: the "HHHH" of the first line, away from the frame's vertical lines
    strip = img.crop((int((55 - 30) * k), int((74 - 70) * k), int((70 - 30) * k), int((82 - 70) * k)))
    top, bottom = _ink_rows(strip)
    cap_px = bottom - top + 1
    assert 18 <= cap_px <= 32, cap_px
    assert tiny.width * tiny.height <= 4_000_000


def test_pixel_cap_holds_for_a_whole_page(sheet: Path) -> None:
    with SheetRenderer(sheet, RenderOptions(max_pixels=500_000)) as r:
        whole = r.render(0, (0, 0, 1, 1))
    assert whole.width * whole.height <= 500_000 * 1.01
    assert whole.width > whole.height  # landscape kept


def test_ruler_names_the_grid_outside_the_drawing_and_lines_skip_text(sheet: Path) -> None:
    region = (0.0, 0.0, 0.5, 0.5)
    hit = (0.1, 0.1, 0.2, 0.2)
    with SheetRenderer(sheet) as r:
        out = r.render(0, region, outline=[hit], grid=Grid(3, 3))
    img = np.asarray(_decode(out.data)).astype(int)
    h, w = img.shape[:2]
    assert (out.width, out.height) == (w, h)
    fx0, fy0, fx1, fy1 = (round(v * s) for v, s in zip(out.frame, (w, h, w, h), strict=True))
    assert fx0 > 10 and fy0 > 10  # margins on the left and on top hold the ruler
    dw, dh = fx1 - fx0, fy1 - fy0
    red = (abs(img[..., 0] - HIT_COLOR[0]) < 40) & (img[..., 1] < 80) & (img[..., 2] < 80)
    ys, xs = np.where(red)
    # the outline at 20%..40% of the drawing (hit box inside the half-page region)
    assert abs((xs.min() - fx0) / dw - 0.2) < 0.02 and abs((xs.max() - fx0) / dw - 0.4) < 0.02
    assert abs((ys.min() - fy0) / dh - 0.2) < 0.02 and abs((ys.max() - fy0) / dh - 0.4) < 0.02
    blue = (img[..., 2] > 180) & (img[..., 0] < 60) & (abs(img[..., 1] - GRID_COLOR[1]) < 60)
    # letters A, B, C over the columns in the top margin; digits 1, 2, 3 in the left margin
    for c in range(3):
        assert blue[: fy0, fx0 + c * dw // 3 + dw // 12: fx0 + (c + 1) * dw // 3 - dw // 12].sum() > 20, c
    for rr in range(3):
        assert blue[fy0 + rr * dh // 3 + dh // 12: fy0 + (rr + 1) * dh // 3 - dh // 12, : fx0].sum() > 20, rr
    # no label ink inside the drawing: only thin light lines, never over the text at (60, 80) pt
    inside = img[fy0 + 2: fy1 - 2, fx0 + 2: fx1 - 2]
    strong_blue = (inside[..., 2] > 180) & (inside[..., 0] < 60) & (inside[..., 1] < 140)
    assert strong_blue.sum() == 0
    light = (inside[..., 2] > 200) & (inside[..., 0] < 200) & (inside[..., 0] > 80)
    assert light.sum() > 0  # the grid lines are there ...
    tx0, ty0 = round(55 / (W / 2) * dw), round(74 / (H / 2) * dh)
    tx1, ty1 = round(80 / (W / 2) * dw), round(92 / (H / 2) * dh)
    assert not light[ty0:ty1, tx0:tx1].any()  # ... but do not cross the small text


def test_a_zoom_by_bbox_counts_the_ruler_margins_out() -> None:
    ref = ImageRef("v1", "doc", 0, (0.0, 0.0, 0.5, 0.5), Grid(3, 3), frame=(0.1, 0.2, 0.9, 1.0))
    z = resolve_zoom({"image_id": "v1", "bbox": [0.1, 0.2, 0.5, 0.6]}, {"v1": ref}, {"doc": 1})
    assert isinstance(z, ZoomTarget) and z.bbox_norm == pytest.approx((0.0, 0.0, 0.25, 0.25))
    on_margin = resolve_zoom({"image_id": "v1", "bbox": [0.0, 0.0, 0.05, 0.1]}, {"v1": ref}, {"doc": 1})
    assert isinstance(on_margin, ZoomRefusal)


def test_grid_cell_maps_back_to_page_coordinates() -> None:
    region = (0.2, 0.4, 0.5, 0.7)
    grid = Grid(3, 3)
    assert cell_to_bbox_norm("A1", grid, region) == pytest.approx((0.2, 0.4, 0.3, 0.5))
    assert cell_to_bbox_norm("c3", grid, region) == pytest.approx((0.4, 0.6, 0.5, 0.7))
    assert cell_to_bbox_norm("B1:C2", grid, region) == pytest.approx((0.3, 0.4, 0.5, 0.6))
    with pytest.raises(ValueError):
        cell_to_bbox_norm("D1", grid, region)


def test_raster_sheet_is_cropped_directly(tmp_path: Path) -> None:
    img = Image.new("RGB", (1000, 500), "white")
    img.paste((0, 0, 0), (100, 100, 200, 150))
    path = tmp_path / "sheet.png"
    img.save(path)
    with SheetRenderer(path) as r:
        assert r.page_count == 1 and r.page_size(0) == (1000.0, 500.0)
        out = r.render(0, (0.1, 0.2, 0.2, 0.3))
    crop = _decode(out.data)
    assert crop.size == (100, 50)
    assert np.asarray(crop).max() < 30  # all black: exactly the painted square


# --- zoom requests -----------------------------------------------------------------------------

IMAGES = {"v1": ImageRef("v1", "doc", 2, (0.5, 0.5, 1.0, 1.0), Grid(3, 3), dpi=200, db_id="uuid-1")}


def test_zoom_into_an_image_maps_back_to_the_page() -> None:
    z = resolve_zoom({"image_id": "v1", "bbox": [0, 0, 0.5, 0.5]}, IMAGES, {"doc": 5})
    assert isinstance(z, ZoomTarget)
    assert z.page_index == 2 and z.bbox_norm == pytest.approx((0.5, 0.5, 0.75, 0.75))
    assert z.min_dpi == 200
    by_cell = resolve_zoom({"image_id": "uuid-1", "cell": "C3"}, IMAGES, {"doc": 5})
    assert isinstance(by_cell, ZoomTarget)
    assert by_cell.bbox_norm == pytest.approx((5 / 6, 5 / 6, 1.0, 1.0))


def test_zoom_on_page_box() -> None:
    z = resolve_zoom({"page": 3, "bbox": [0.1, 0.2, 0.3, 0.4]}, IMAGES, {"doc": 5})
    assert isinstance(z, ZoomTarget) and z.page_index == 2 and z.document_id == "doc"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"page": 1, "bbox": [0.5, 0.5, 1.4, 0.9]}, "за пределы"),
        ({"page": 9, "bbox": [0.1, 0.1, 0.2, 0.2]}, "с 1 по 5"),
        ({"image_id": "v7", "bbox": [0, 0, 1, 1]}, "Доступные изображения: v1"),
        ({"image_id": "v1", "cell": "Z9"}, "A1 до C3"),
        ({"image_id": "v1", "bbox": [0.2, 0.2, -0.1, 0.5]}, "за пределы"),
        ({"page": 1, "bbox": "left half"}, "четырёх чисел"),
        ({"page": 1, "bbox": [0.3, 0.3, 0.3, 0.5]}, "пустая"),
        ({"bbox": [0.1, 0.1, 0.2, 0.2]}, "page"),
    ],
)
def test_bad_zoom_is_refused_with_advice(args: dict, needle: str) -> None:
    z = resolve_zoom(args, IMAGES, {"doc": 5})
    assert isinstance(z, ZoomRefusal)
    assert z.message.startswith("Отказ") and needle in z.message
