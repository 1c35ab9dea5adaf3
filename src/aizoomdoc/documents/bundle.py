"""An OCR bundle read together with what lies next to it.

- Its PDF (same stem — ``X_result.json`` next to ``X.pdf`` — or the file named by ``pdf_path``
  inside the JSON): the PDF supplies ``render_path`` (pixels for crops), every page and the page
  sizes in points. A PDF whose page count cannot hold the bundle's pages is not attached (it is
  another document); that is logged and noted in ``metadata["companion_warning"]``.
- For OCR HTML and Markdown (no coordinates): a JSON bundle of the same document
  (``X_result.json``/``X_annotation.json``) supplies ``coords_norm``/``coords_px`` by block id.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from aizoomdoc.documents.base import Source, bundle_stem, px_box_from_norm, sha256_bytes
from aizoomdoc.documents.model import Document, Page
from aizoomdoc.errors import DocumentError
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

BUNDLE_FORMATS = ("annotation_json", "result_json", "ocr_html", "markdown")


def _find(directory: Path, names: list[str]) -> Path | None:
    try:
        entries = {p.name.lower(): p for p in directory.iterdir() if p.is_file()}
    except OSError:
        return None
    for name in names:
        hit = entries.get(name.lower())
        if hit is not None:
            return hit
    return None


def _stems(source_path: Path) -> list[str]:
    """``X_v6_ocr.html`` -> ["X_v6", "X"]: the bundle stem with and without a version suffix."""
    stem = bundle_stem(source_path.name)
    out = [stem]
    m = re.search(r"[_ .-]v\d+$", stem, re.IGNORECASE)
    if m:
        out.append(stem[: m.start()])
    return out


def find_companion_pdf(doc: Document, source_path: Path) -> Path | None:
    names = [f"{stem}.pdf" for stem in _stems(source_path)]
    if doc.metadata.get("pdf_name"):
        names.append(str(doc.metadata["pdf_name"]))
    found = _find(source_path.parent, names)
    return found if found is not None and found.resolve() != source_path.resolve() else None


def attach_pdf(doc: Document, pdf_path: Path) -> bool:
    """Take render_path, page list and page sizes (points) from the bundle's PDF."""
    from aizoomdoc.documents.pdf import page_sizes

    try:
        data = pdf_path.read_bytes()
        sizes = page_sizes(data, str(pdf_path))
    except (OSError, DocumentError) as exc:
        log.warning("companion PDF %s of %s not used: %s", pdf_path, doc.source_path, exc)
        doc.metadata["companion_warning"] = str(exc)
        return False
    used = [p.page_index for p in doc.pages if p.blocks]
    max_index = max(used, default=-1)
    if max_index == len(sizes) and min(used) >= 1 and doc.metadata.get("page_base") == 0:
        # The bundle counts pages from 1 (the PDF has one page fewer than its numbers say).
        _shift_pages(doc, -1)
        doc.metadata["page_base"] = 1
        max_index -= 1
    if max_index >= len(sizes):
        message = t(
            "documents.bundle_pdf_mismatch", pdf=str(pdf_path), path=doc.source_path,
            pdf_pages=len(sizes), bundle_pages=max_index + 1,
        )
        log.warning("%s", message)
        doc.metadata["companion_warning"] = message
        return False
    by_index = {p.page_index: p for p in doc.pages}
    pages: list[Page] = []
    for index, (w, h) in enumerate(sizes):
        page = by_index.get(index) or Page(index, w, h)
        page.width, page.height, page.unit = w, h, "pt"
        for block in page.blocks:
            if block.coords_px is None and block.has_coords:
                block.coords_px = px_box_from_norm(block.coords_norm, w, h)
        pages.append(page)
    doc.pages = pages
    doc.render_path = str(pdf_path)
    doc.metadata["pdf_path"] = str(pdf_path)
    doc.metadata["pdf_sha256"] = sha256_bytes(data)
    if doc.metadata.get("layout_only"):
        _fill_from_pdf(doc, data, pdf_path)
    return True


def _shift_pages(doc: Document, delta: int) -> None:
    for page in doc.pages:
        page.page_index += delta
        for block in page.blocks:
            block.page_index += delta


def _fill_from_pdf(doc: Document, data: bytes, pdf_path: Path) -> None:
    """Markup without text read with its PDF: each block takes the PDF's text inside its box."""
    from aizoomdoc.documents.pdf import texts_in_boxes

    boxes = {(b.page_index, b.id): b.coords_norm for b in doc.blocks if b.has_coords}
    try:
        texts = texts_in_boxes(data, str(pdf_path), boxes)
    except DocumentError as exc:
        log.warning("text of %s from %s not taken: %s", doc.source_path, pdf_path, exc)
        return
    for b in doc.blocks:
        text = texts.get((b.page_index, b.id), "")
        if text:
            b.text = text
            b.extra["text_from"] = "pdf"
    if any(b.text for b in doc.blocks):
        doc.metadata.pop("layout_only", None)


def find_coordinate_companion(doc: Document, source_path: Path) -> Path | None:
    names = [f"{stem}{suffix}" for stem in _stems(source_path) for suffix in ("_result.json", "_annotation.json")]
    return _find(source_path.parent, names)


def attach_coordinates(doc: Document, json_path: Path) -> bool:
    """Copy block boxes (and page sizes) from a JSON bundle with the same block ids."""
    from aizoomdoc.documents.annotation_json import load_json, read_bundle_json

    try:
        src = Source(json_path, json_path.read_bytes())
        other = read_bundle_json(src, load_json(src))
    except (OSError, DocumentError) as exc:
        log.warning("coordinate companion %s of %s not used: %s", json_path, doc.source_path, exc)
        return False
    boxes = {b.id: b for b in other.blocks if b.has_coords}
    blocks = [b for b in doc.blocks if not b.extra.get("synthetic_id")]
    matched = [b for b in blocks if b.id in boxes]
    if not blocks or len(matched) * 2 < len(blocks):
        log.info("%s: only %d of %d block ids match %s; coordinates not taken", doc.source_path,
                 len(matched), len(blocks), json_path)
        return False
    for b in matched:
        o = boxes[b.id]
        if o.page_index != b.page_index:
            continue
        b.coords_norm, b.coords_px, b.has_coords = o.coords_norm, o.coords_px, True
        for key in ("polygon_points", "group_name"):
            if key in o.extra:
                b.extra.setdefault(key, o.extra[key])
    sizes = {p.page_index: p for p in other.pages}
    for page in doc.pages:
        known = sizes.get(page.page_index)
        if known is not None and not page.size_known:
            page.width, page.height, page.unit = known.width, known.height, known.unit
    doc.metadata["coords_from"] = str(json_path)
    if "pdf_name" in other.metadata:
        doc.metadata.setdefault("pdf_name", other.metadata["pdf_name"])
    return True


def read_with_companions(doc: Document, source_path: Path) -> Document:
    """Attach the companions of a bundle document found next to ``source_path``."""
    if doc.source_format not in BUNDLE_FORMATS:
        return doc
    if doc.source_format in ("ocr_html", "markdown") and not any(b.has_coords for b in doc.blocks):
        companion = find_coordinate_companion(doc, source_path)
        if companion is not None:
            attach_coordinates(doc, companion)
    pdf = find_companion_pdf(doc, source_path)
    if pdf is not None:
        attach_pdf(doc, pdf)
    return doc
