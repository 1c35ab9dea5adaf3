"""Zoom requests from the model: validate, map to a page region, or refuse with advice.

A request names either a page (``page`` 1-based, optional ``document_id``) plus ``bbox`` in page
coords_norm, or a shown image (``image_id``) plus a ``bbox`` inside that image (the image's own
[0, 1] coordinates, ruler margins included) or a grid ``cell`` (``B2``, ``A1:B2``; the cells
divide the drawing inside the ruler). The image's frame and stored ``coords_norm`` map the box
back to the page. Anything wrong is a :class:`ZoomRefusal` whose ``message`` tells
the model what to do instead; it is sent back as the tool result, never raised to the user.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aizoomdoc.texts import t
from aizoomdoc.zoom.overlay import Grid, cell_to_local, local_to_page
from aizoomdoc.zoom.plan import Box

#: A zoom is never smaller than this fraction of the page side (rendering deeper than that only
#: magnifies pixels).
MIN_ZOOM_SIDE = 0.01
_EPS = 1e-6


@dataclass(frozen=True)
class ImageRef:
    """What the pipeline remembers of an image shown to the model."""

    id: str  # the label the model sees ("v1", "z2") — the database id is accepted too
    document_id: str
    page_index: int
    bbox_norm: Box  # the region of the page the image shows
    grid: Grid | None = None
    dpi: float | None = None
    db_id: str | None = None
    #: The drawing inside the image (its own [0, 1] coordinates): inside the ruler margins.
    frame: Box = (0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class ZoomTarget:
    document_id: str
    page_index: int
    bbox_norm: Box
    source_image: str | None = None  # label of the image zoomed into, if any
    min_dpi: float | None = None  # render at least as deep as the source image


@dataclass(frozen=True)
class ZoomRefusal:
    message: str


def _as_box(value: Any) -> Box | None:
    if isinstance(value, Mapping):
        keys = ("x1", "y1", "x2", "y2")
        if all(k in value for k in keys):
            value = [value[k] for k in keys]
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 4:
        return None
    try:
        x1, y1, x2, y2 = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return (x1, y1, x2, y2)


def _check_box(box: Box, where: str) -> ZoomRefusal | None:
    x1, y1, x2, y2 = box
    if not all(-_EPS <= v <= 1 + _EPS for v in box):
        return ZoomRefusal(t("zoom.refuse.outside", where=where, box=_fmt(box)))
    if x2 - x1 <= _EPS or y2 - y1 <= _EPS:
        return ZoomRefusal(t("zoom.refuse.empty", box=_fmt(box)))
    return None


def _fmt(box: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:.3g}" for v in box) + "]"


def _min_size(box: Box) -> Box:
    x1, y1, x2, y2 = (min(1.0, max(0.0, v)) for v in box)
    if x2 - x1 < MIN_ZOOM_SIDE:
        c = (x1 + x2) / 2
        x1, x2 = max(0.0, c - MIN_ZOOM_SIDE / 2), min(1.0, c + MIN_ZOOM_SIDE / 2)
    if y2 - y1 < MIN_ZOOM_SIDE:
        c = (y1 + y2) / 2
        y1, y2 = max(0.0, c - MIN_ZOOM_SIDE / 2), min(1.0, c + MIN_ZOOM_SIDE / 2)
    return (x1, y1, x2, y2)


def _inside_frame(box: Box, frame: Box) -> Box | None:
    """A box in image coordinates as a box of the drawing inside ``frame`` (clipped to it);
    None when it lies wholly on the ruler margins."""
    fw, fh = frame[2] - frame[0], frame[3] - frame[1]
    if fw <= 0 or fh <= 0:
        return box
    x1, y1, x2, y2 = ((box[0] - frame[0]) / fw, (box[1] - frame[1]) / fh,
                      (box[2] - frame[0]) / fw, (box[3] - frame[1]) / fh)
    x1, y1, x2, y2 = max(0.0, x1), max(0.0, y1), min(1.0, x2), min(1.0, y2)
    if x2 - x1 <= _EPS or y2 - y1 <= _EPS:
        return None
    return (x1, y1, x2, y2)


def resolve_zoom(
    args: Mapping[str, Any],
    images: Mapping[str, ImageRef],
    page_counts: Mapping[str, int],
    default_document_id: str | None = None,
) -> ZoomTarget | ZoomRefusal:
    """Turn the model's zoom arguments into a page region, or a refusal it can act on.

    ``page_counts`` maps each document id the model may look at to its number of pages.
    """
    image_id = args.get("image_id")
    cell = args.get("cell")
    raw_box = args.get("bbox")
    if image_id not in (None, ""):
        image_id = str(image_id).strip()
        ref = images.get(image_id) or next(
            (r for r in images.values() if r.db_id == image_id), None)
        if ref is None:
            known = ", ".join(sorted(images)) or "—"
            return ZoomRefusal(t("zoom.refuse.unknown_image", image_id=image_id, known=known))
        local: Box | None
        if cell:
            grid = ref.grid or Grid()
            try:
                local = cell_to_local(str(cell), grid)
            except ValueError:
                return ZoomRefusal(t("zoom.refuse.bad_cell", cell=cell, image_id=ref.id,
                                     last=grid.last_cell))
        elif raw_box is not None:
            box = _as_box(raw_box)
            if box is None:
                return ZoomRefusal(t("zoom.refuse.bad_bbox", value=str(raw_box)[:80]))
            bad = _check_box(box, t("zoom.where.image", image_id=ref.id))
            if bad:
                return bad
            local = _inside_frame(box, ref.frame)
            if local is None:
                return ZoomRefusal(t("zoom.refuse.outside", where=t("zoom.where.image", image_id=ref.id),
                                     box=_fmt(box)))
        else:
            return ZoomRefusal(t("zoom.refuse.need_box", image_id=ref.id))
        page_box = _min_size(local_to_page(local, ref.bbox_norm))
        return ZoomTarget(ref.document_id, ref.page_index, page_box, source_image=ref.id,
                          min_dpi=ref.dpi)

    # page + bbox
    doc_id = args.get("document_id") or default_document_id
    if doc_id is None and len(page_counts) == 1:
        doc_id = next(iter(page_counts))
    if not isinstance(doc_id, str) or doc_id not in page_counts:
        known = ", ".join(sorted(page_counts)) or "—"
        return ZoomRefusal(t("zoom.refuse.unknown_document", document_id=doc_id, known=known))
    page = args.get("page")
    try:
        page_no = int(page)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ZoomRefusal(t("zoom.refuse.need_page"))
    n = page_counts[doc_id]
    if not 1 <= page_no <= n:
        return ZoomRefusal(t("zoom.refuse.page_range", page=page_no, count=n))
    if raw_box is None:
        return ZoomRefusal(t("zoom.refuse.need_bbox"))
    box = _as_box(raw_box)
    if box is None:
        return ZoomRefusal(t("zoom.refuse.bad_bbox", value=str(raw_box)[:80]))
    bad = _check_box(box, t("zoom.where.page", page=page_no))
    if bad:
        return bad
    return ZoomTarget(str(doc_id), page_no - 1, _min_size(box))
