"""Make a new revision of a real PDF with known edits — the answer key for tests and benchmarks.

    edits = [Retype(2, "+8,400", "+8,450"), AddLine(2, (0.5, 0.5, 0.6, 0.5))]
    answers = make_revision("old.pdf", "new.pdf", edits)   # where each edit is, on the new sheet

Text edits are what an engineer does in a PDF editor: the word is redacted (PyMuPDF redaction,
which blanks it) and new text is written in its place (:class:`Retype`), elsewhere
(:class:`MoveText`) or nowhere (:class:`Erase`); :class:`Write` adds text. Drawing edits add a line
(:class:`AddLine`) or move one: the old line is covered with paper-white and drawn again shifted
(:class:`MoveLine`). Boxes are coords_norm of the displayed page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pymupdf

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Retype:
    page: int  # 0-based
    old: str  # a word on the page: the first one, top to bottom, or the ``nth`` (-1: the last)
    new: str
    nth: int = 0
    near: tuple[float, float] | None = None  # or the one nearest this point (coords_norm)
    kind = "text"


@dataclass(frozen=True)
class Erase:
    page: int
    old: str
    nth: int = 0
    kind = "text"


@dataclass(frozen=True)
class Write:
    page: int
    at: tuple[float, float]  # coords_norm of the baseline start
    new: str
    size: float = 10.0
    kind = "text"


@dataclass(frozen=True)
class MoveText:
    page: int
    old: str
    dx: float  # coords_norm
    dy: float
    nth: int = 0
    kind = "text"


@dataclass(frozen=True)
class AddLine:
    page: int
    line: Box  # x1, y1, x2, y2 in coords_norm
    width: float = 1.0
    kind = "drawing"


@dataclass(frozen=True)
class MoveLine:
    page: int
    line: Box  # the segment to cover (coords_norm), e.g. found with :func:`straight_lines`
    dx: float
    dy: float
    width: float = 1.0
    kind = "drawing"


Edit = Retype | Erase | Write | MoveText | AddLine | MoveLine


@dataclass
class Answer:
    """Where an edit shows: its page and box on the old and/or the new sheet."""

    edit: Edit
    page: int
    box_old: Box | None
    box_new: Box | None

    @property
    def kind(self) -> str:
        return self.edit.kind


def _words(page: pymupdf.Page, text: str) -> list[pymupdf.Rect]:
    hits = [pymupdf.Rect(w[:4]) for w in page.get_text("words") if w[4] == text]
    return sorted(hits, key=lambda r: (r.y0, r.x0))


def _norm(page: pymupdf.Page, r: pymupdf.Rect) -> Box:
    w, h = page.rect.width, page.rect.height
    return (r.x0 / w, r.y0 / h, r.x1 / w, r.y1 / h)


def _rect(page: pymupdf.Page, b: Box) -> pymupdf.Rect:
    w, h = page.rect.width, page.rect.height
    return pymupdf.Rect(b[0] * w, b[1] * h, b[2] * w, b[3] * h)


def _write(page: pymupdf.Page, x: float, y: float, text: str, size: float) -> pymupdf.Rect:
    writer = pymupdf.TextWriter(page.rect)
    font = pymupdf.Font("helv")  # Nimbus Sans: Cyrillic glyphs included
    writer.append((x, y), text, font=font, fontsize=size)
    writer.write_text(page)
    return pymupdf.Rect(x, y - size * 0.8, x + font.text_length(text, fontsize=size), y + size * 0.2)


def _find(page: pymupdf.Page, text: str, nth: int, near: tuple[float, float] | None = None) -> pymupdf.Rect:
    hits = _words(page, text)
    if not -len(hits) <= nth < len(hits):
        raise ValueError(f"no word {text!r} (#{nth}) on page {page.number + 1}")
    if near is not None:
        x, y = near[0] * page.rect.width, near[1] * page.rect.height
        return min(hits, key=lambda r: ((r.x0 + r.x1) / 2 - x) ** 2 + ((r.y0 + r.y1) / 2 - y) ** 2)
    return hits[nth]


def straight_lines(page: pymupdf.Page, min_length: float = 30.0) -> list[Box]:
    """Horizontal or vertical line segments of the drawing (coords_norm), longest first."""
    out: list[tuple[float, Box]] = []
    for d in page.get_drawings():
        for item in d.get("items", ()):
            if item[0] != "l":
                continue
            p, q = item[1], item[2]
            length = abs(p - q)
            if length >= min_length and (abs(p.x - q.x) < 0.5 or abs(p.y - q.y) < 0.5):
                r = pymupdf.Rect(p, q).normalize()
                out.append((length, _norm(page, r)))
    out.sort(key=lambda x: -x[0])
    return [b for _l, b in out]


def apply_edit(pdf: pymupdf.Document, edit: Edit) -> Answer:
    page = pdf[edit.page]
    if not page.is_wrapped:
        # A content stream that leaves its coordinate system changed would move what is added.
        page.wrap_contents()
    if isinstance(edit, (Retype, Erase, MoveText)):
        r = _find(page, edit.old, edit.nth, getattr(edit, "near", None))
        old_box = _norm(page, r)
        page.add_redact_annot(r)
        page.apply_redactions()
        if isinstance(edit, Erase):
            return Answer(edit, edit.page, old_box, None)
        size = r.height * 0.85
        if isinstance(edit, Retype):
            new = _write(page, r.x0, r.y1 - r.height * 0.22, edit.new, size)
            return Answer(edit, edit.page, old_box, _norm(page, new))
        dx, dy = edit.dx * page.rect.width, edit.dy * page.rect.height
        new = _write(page, r.x0 + dx, r.y1 - r.height * 0.22 + dy, edit.old, size)
        return Answer(edit, edit.page, old_box, _norm(page, new))
    if isinstance(edit, Write):
        x, y = edit.at[0] * page.rect.width, edit.at[1] * page.rect.height
        new = _write(page, x, y, edit.new, edit.size)
        return Answer(edit, edit.page, None, _norm(page, new))
    if isinstance(edit, AddLine):
        r = _rect(page, edit.line)
        page.draw_line(r.tl, r.br, color=(0, 0, 0), width=edit.width)
        return Answer(edit, edit.page, None, _norm(page, r.normalize()))
    if isinstance(edit, MoveLine):
        r = _rect(page, edit.line)
        pad = edit.width * 2
        page.draw_rect(pymupdf.Rect(r.x0 - pad, r.y0 - pad, r.x1 + pad, r.y1 + pad), color=None, fill=(1, 1, 1))
        dx, dy = edit.dx * page.rect.width, edit.dy * page.rect.height
        moved = pymupdf.Rect(r.x0 + dx, r.y0 + dy, r.x1 + dx, r.y1 + dy)
        page.draw_line(moved.tl, moved.br, color=(0, 0, 0), width=edit.width)
        return Answer(edit, edit.page, _norm(page, r), _norm(page, moved))
    raise TypeError(f"unknown edit {edit!r}")


def make_revision(src: str | Path, dst: str | Path, edits: list[Edit]) -> list[Answer]:
    """Write ``dst``: ``src`` with ``edits`` applied; the answer key."""
    pdf = pymupdf.open(src)
    try:
        answers = [apply_edit(pdf, e) for e in edits]
        pdf.save(dst, garbage=3, deflate=True)
    finally:
        pdf.close()
    return answers


def resave(src: str | Path, dst: str | Path) -> None:
    """The same drawings written again (objects renumbered, streams recompressed and cleaned):
    a new file, not a new revision."""
    pdf = pymupdf.open(src)
    try:
        for page in pdf.pages():
            page.clean_contents()
        pdf.save(dst, garbage=4, deflate=True, clean=True)
    finally:
        pdf.close()
