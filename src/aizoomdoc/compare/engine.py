"""Compare two versions of a drawing set: sheets aligned, each aligned pair diffed.

    comparison = compare_documents(read_document("АР3.pdf"), read_document("АР3_изм8.pdf"))
    comparison.to_dict()   # the JSON of `aizoomdoc compare --json`

Per pair of sheets: the text (words of the PDF text layers, or lines of OCR bundles), the table
rows, and — when both versions have a PDF — the drawing itself (:mod:`~aizoomdoc.compare.visual`).
Pixel changes that lie on a text change are that change (a retyped value leaves a white patch in
the drawing); the others are ``drawing_changed``. Pure CPU work: run it off the event loop.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from aizoomdoc.compare.align import align_pages, page_key
from aizoomdoc.compare.content import PdfText, SheetText, as_lines, block_at, ocr_sheet, pdf_path_of
from aizoomdoc.compare.linediff import diff_image_blocks, diff_lines
from aizoomdoc.compare.model import KINDS, Box, Change, Comparison, SheetDiff, VersionInfo
from aizoomdoc.compare.register import check_register, current_entries, read_register
from aizoomdoc.compare.textdiff import Offset, diff_words
from aizoomdoc.compare.visual import VisualOptions, align_to, diff_pages, page_dpi, render_grey
from aizoomdoc.documents.model import Document
from aizoomdoc.texts import t
from aizoomdoc.zoom.render import SheetRenderer

log = logging.getLogger(__name__)

#: A pixel change this close to a text change (share of the page) belongs to it.
ABSORB_MARGIN = 0.006


@dataclass(frozen=True)
class CompareOptions:
    visual: bool = True
    visual_options: VisualOptions = field(default_factory=VisualOptions)
    #: Changes listed per sheet at most (the rest are counted in a note).
    max_changes: int = 300


class _Version:
    """One version being compared: the document, its PDF text and its renderer (opened lazily)."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        path = pdf_path_of(doc)
        self.pdf = PdfText(path, doc) if path else None
        self._renderer: SheetRenderer | None = None

    @property
    def renderer(self) -> SheetRenderer | None:
        if self._renderer is None and self.doc.render_path and Path(self.doc.render_path).is_file():
            self._renderer = SheetRenderer(self.doc.render_path)
        return self._renderer

    def sheet(self, page_index: int) -> SheetText:
        if self.pdf is not None and page_index < self.pdf.page_count and not self.scanned(page_index):
            sheet = self.pdf.sheet(page_index)
            if sheet.words:
                return sheet
        return ocr_sheet(self.doc, page_index)

    def size(self, page_index: int) -> tuple[float, float] | None:
        page = self.doc.page(page_index)
        if page is not None and page.size_known and page.unit == "pt":
            return page.width, page.height
        if self.pdf is not None and page_index < self.pdf.page_count:
            r = self.pdf.pdf[page_index].rect
            return r.width, r.height
        return None

    def scanned(self, page_index: int) -> bool:
        page = self.doc.page(page_index)
        return page is not None and page.is_scanned

    def close(self) -> None:
        if self.pdf is not None:
            self.pdf.close()
        if self._renderer is not None:
            self._renderer.close()


def version_info(doc: Document) -> VersionInfo:
    return VersionInfo(doc.title, doc.source_format, doc.sha256, doc.page_count, doc.id, doc.source_path)


def compare_documents(old: Document, new: Document, options: CompareOptions | None = None) -> Comparison:
    """The comparison of ``old`` and ``new`` (see the module docstring)."""
    opts = options or CompareOptions()
    timings: dict[str, float] = {"align": 0.0, "text": 0.0, "visual": 0.0, "register": 0.0}
    t0 = time.perf_counter()
    a, b = _Version(old), _Version(new)
    try:
        pairs = align_pages([page_key(old, p) for p in old.pages], [page_key(new, p) for p in new.pages])
        timings["align"] = time.perf_counter() - t0
        sheets: list[SheetDiff] = []
        for pair in pairs:
            if pair.old is None:
                sheets.append(_lone(new, pair.new, "added", pair.split_from))  # type: ignore[arg-type]
            elif pair.new is None:
                sheets.append(_lone(old, pair.old, "removed", None))
            else:
                sheets.append(_compare_pair(a, b, pair.old, pair.new, pair.split_from, opts, timings))
        t1 = time.perf_counter()
        register = None
        entries_new = read_register(new, b.pdf)
        if entries_new:
            current, updated = current_entries(entries_new, read_register(old, a.pdf))
            register = check_register(current, sheets, pages={e.page for e in entries_new}, updated=updated)
        timings["register"] = time.perf_counter() - t1
    finally:
        a.close()
        b.close()
    timings["total"] = time.perf_counter() - t0
    log.info("compared %s with %s: %d sheets in %.2fs", old.title, new.title, len(sheets), timings["total"])
    return Comparison(version_info(old), version_info(new), sheets, register, timings)


def _sheet_label(doc: Document, page_index: int) -> tuple[str | None, str | None]:
    page = doc.page(page_index)
    info = page.sheet if page is not None else None
    return (info.sheet_number if info else None), (info.sheet_name if info else None)


def _lone(doc: Document, page_index: int, status: str, split_from: str | None) -> SheetDiff:
    number, title = _sheet_label(doc, page_index)
    page = page_index + 1
    return SheetDiff(page if status == "removed" else None, page if status == "added" else None,
                     number, title, status, split_from=split_from)  # type: ignore[arg-type]


def _compare_pair(a: _Version, b: _Version, pi_old: int, pi_new: int, split_from: str | None,
                  opts: CompareOptions, timings: dict[str, float]) -> SheetDiff:
    number, title = _sheet_label(b.doc, pi_new)
    old_number, old_title = _sheet_label(a.doc, pi_old)
    diff = SheetDiff(pi_old + 1, pi_new + 1, number or old_number, title or old_title, "same", split_from=split_from)
    t0 = time.perf_counter()
    so, sn = a.sheet(pi_old), b.sheet(pi_new)
    off = Offset()
    if so.mode == "words" and sn.mode == "words":
        changes, off = diff_words(so, sn)
    else:
        changes = diff_lines(as_lines(so), as_lines(sn)) + diff_image_blocks(so, sn)
        if (so.skipped_images or sn.skipped_images) and (a.renderer is None or b.renderer is None):
            diff.notes.append(t("compare.note.images_not_compared", count=max(so.skipped_images, sn.skipped_images)))
        for s, version in ((so, "old"), (sn, "new")):
            if s.ocr_failures:
                diff.notes.append(t("compare.note.ocr_failures", count=s.ocr_failures, version=t(f"compare.{version}")))
    timings["text"] += time.perf_counter() - t0
    if opts.visual:
        t1 = time.perf_counter()
        changes += _visual_changes(a, b, pi_old, pi_new, so, sn, off, changes, opts.visual_options, diff)
        timings["visual"] += time.perf_counter() - t1
    _name_blocks(changes, so, sn)
    changes.sort(key=lambda c: (KINDS.index(c.kind), (c.box or (0, 0, 0, 0))[1], (c.box or (0, 0, 0, 0))[0]))
    if len(changes) > opts.max_changes:
        diff.notes.append(t("compare.note.truncated", shown=opts.max_changes, total=len(changes)))
        changes = changes[: opts.max_changes]
    diff.changes = changes
    diff.status = "changed" if changes else "same"
    return diff


def _visual_changes(a: _Version, b: _Version, pi_old: int, pi_new: int, so: SheetText, sn: SheetText,
                    off: Offset, text_changes: list[Change], vo: VisualOptions, diff: SheetDiff) -> list[Change]:
    ra, rb = a.renderer, b.renderer
    if ra is None or rb is None:
        if ra is not None or rb is not None:
            diff.notes.append(t("compare.note.no_pdf_one"))
        return []
    if a.scanned(pi_old) or b.scanned(pi_new):
        diff.notes.append(t("compare.note.scanned"))
        vo = replace(vo, radius=max(vo.radius, 3))  # two scans of one sheet never match pixel for pixel
    sizes = [s for s in (a.size(pi_old), b.size(pi_new)) if s]
    dpi = page_dpi(sizes or [(842.0, 595.0)], vo)
    try:
        old_img = render_grey(ra, pi_old, dpi, vo.max_pixels * 2)
        new_img = render_grey(rb, pi_new, dpi, vo.max_pixels * 2)
    except (RuntimeError, ValueError, IndexError, OSError) as exc:
        log.warning("could not render page %d/%d for the visual comparison: %s", pi_old + 1, pi_new + 1, exc)
        diff.notes.append(t("compare.note.render_failed"))
        return []
    new_img = align_to(old_img, new_img, off.dx, off.dy)
    masks: list[Box] = [w.box for w in so.words] + [off.back(w.box) for w in sn.words]
    regions = diff_pages(old_img, new_img, masks, vo)
    taken = [_grow(c.bbox_norm_old, ABSORB_MARGIN) for c in text_changes if c.bbox_norm_old] + \
            [_grow(off.back(c.bbox_norm_new), ABSORB_MARGIN) for c in text_changes if c.bbox_norm_new]
    out = []
    for r in regions:
        if any(_overlap(r.box, tb) for tb in taken):
            continue
        out.append(Change("drawing_changed", None, None, r.box, off.fwd(r.box)))
    return out


def _grow(b: Box, m: float) -> Box:
    return (b[0] - m, b[1] - m, b[2] + m, b[3] + m)


def _overlap(a: Box, b: Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _name_blocks(changes: list[Change], so: SheetText, sn: SheetText) -> None:
    for c in changes:
        if c.block_old is None:
            c.block_old = block_at(so, c.bbox_norm_old)
        if c.block_new is None:
            c.block_new = block_at(sn, c.bbox_norm_new)
