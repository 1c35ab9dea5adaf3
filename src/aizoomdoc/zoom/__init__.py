"""Viewports: plan regions around hits, render them legibly, draw overlays, resolve zooms.

Pure domain code: no database, no network.
"""

from aizoomdoc.zoom.overlay import Grid, add_ruler, cell_to_bbox_norm, grid_for, outline_boxes
from aizoomdoc.zoom.plan import HitBox, PlanOptions, Region, plan_viewports
from aizoomdoc.zoom.render import RenderedImage, RenderOptions, SheetRenderer, choose_dpi
from aizoomdoc.zoom.request import ImageRef, ZoomRefusal, ZoomTarget, resolve_zoom

__all__ = [
    "Grid", "HitBox", "ImageRef", "PlanOptions", "Region", "RenderOptions", "RenderedImage",
    "SheetRenderer", "ZoomRefusal", "ZoomTarget", "add_ruler", "cell_to_bbox_norm", "choose_dpi",
    "grid_for", "outline_boxes", "plan_viewports", "resolve_zoom",
]
