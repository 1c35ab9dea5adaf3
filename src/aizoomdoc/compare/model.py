"""What a comparison of two versions of a drawing set says: sheets, their status, the changes.

``Comparison.to_dict()`` is the JSON of ``aizoomdoc compare --json`` and of the API::

    {"old": {...}, "new": {...},
     "sheets": [{"old_page", "new_page", "sheet", "title", "status",
                 "changes": [{"kind", "old_text", "new_text", "bbox_norm_old", "bbox_norm_new", ...}]}],
     "register": {...} | null,
     "summary": {...}}

Pages are 1-based (what users see); boxes are ``[x1, y1, x2, y2]`` in 0..1 of the page, or null
where a version has no coordinates (Markdown without a JSON bundle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from aizoomdoc.texts import t

Box = tuple[float, float, float, float]
Status = Literal["same", "changed", "added", "removed"]

#: Every kind of change, in the order a sheet lists them.
KINDS = (
    "text_changed", "text_added", "text_removed", "text_moved",
    "table_row_changed", "table_row_added", "table_row_removed",
    "drawing_changed",
)


def _box(b: Box | None) -> list[float] | None:
    return None if b is None else [round(float(v), 5) for v in b]


@dataclass
class CellChange:
    """One cell of a changed table row (``column`` counts from 1)."""

    column: int
    old_text: str
    new_text: str

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "old_text": self.old_text, "new_text": self.new_text}


@dataclass
class Change:
    kind: str
    old_text: str | None
    new_text: str | None
    bbox_norm_old: Box | None
    bbox_norm_new: Box | None
    #: The blocks of each version the change lies in (for citations), when known.
    block_old: str | None = None
    block_new: str | None = None
    cells: list[CellChange] = field(default_factory=list)

    @property
    def box(self) -> Box | None:
        """The place of the change on the new sheet (else on the old one)."""
        return self.bbox_norm_new or self.bbox_norm_old

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind, "old_text": self.old_text, "new_text": self.new_text,
            "bbox_norm_old": _box(self.bbox_norm_old), "bbox_norm_new": _box(self.bbox_norm_new),
        }
        if self.block_old or self.block_new:
            out["block_old"], out["block_new"] = self.block_old, self.block_new
        if self.cells:
            out["cells"] = [c.to_dict() for c in self.cells]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Change:
        def box(v: Any) -> Box | None:
            return tuple(float(x) for x in v) if v else None  # type: ignore[return-value]

        return cls(d["kind"], d.get("old_text"), d.get("new_text"), box(d.get("bbox_norm_old")),
                   box(d.get("bbox_norm_new")), d.get("block_old"), d.get("block_new"),
                   [CellChange(c["column"], c["old_text"], c["new_text"]) for c in d.get("cells") or []])


@dataclass
class SheetDiff:
    old_page: int | None  # 1-based
    new_page: int | None
    sheet: str | None  # the sheet number as the title block says ("5", "5.1")
    title: str | None
    status: Status
    changes: list[Change] = field(default_factory=list)
    #: New sheets made from one old sheet: "5" for 5.1 and 5.2 when 5 is gone.
    split_from: str | None = None
    #: What could not be compared on this sheet (Russian, for people).
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "old_page": self.old_page, "new_page": self.new_page, "sheet": self.sheet, "title": self.title,
            "status": self.status, "changes": [c.to_dict() for c in self.changes],
        }
        if self.split_from:
            out["split_from"] = self.split_from
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SheetDiff:
        return cls(d.get("old_page"), d.get("new_page"), d.get("sheet"), d.get("title"), d["status"],
                   [Change.from_dict(c) for c in d.get("changes") or []], d.get("split_from"),
                   list(d.get("notes") or []))

    @property
    def label(self) -> str:
        """How people name the sheet: its number, else its page."""
        if self.sheet:
            return self.sheet
        return t("common.page", page=self.new_page or self.old_page)


@dataclass
class RegisterEntry:
    """One row of the register of changes («Изм. | Лист | Содержание изменения»)."""

    revision: str  # "8.1", "Зам", "Нов"
    sheets: list[str]
    text: str
    page: int  # 1-based page of the new version where the row is

    def to_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "sheets": self.sheets, "text": self.text, "page": self.page}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RegisterEntry:
        return cls(d["revision"], list(d["sheets"]), d["text"], d["page"])


@dataclass
class RegisterCheck:
    """The register of the new version set against what the comparison found."""

    entries: list[RegisterEntry]
    #: Sheets the register names that show no change.
    named_unchanged: list[str]
    #: Sheets with changes (or added/removed) that the register does not name.
    changed_unnamed: list[str]
    #: Sheets the register names that are not in the new version at all.
    named_missing: list[str] = field(default_factory=list)
    #: False when the new register has no row the old one did not have (it was not filled in).
    updated: bool = True
    #: Pages (1-based) of the new version the register is on.
    pages: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"entries": [e.to_dict() for e in self.entries], "named_unchanged": self.named_unchanged,
                "changed_unnamed": self.changed_unnamed, "named_missing": self.named_missing,
                "updated": self.updated, "pages": self.pages}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RegisterCheck:
        return cls([RegisterEntry.from_dict(e) for e in d.get("entries") or []], list(d.get("named_unchanged") or []),
                   list(d.get("changed_unnamed") or []), list(d.get("named_missing") or []),
                   bool(d.get("updated", True)), list(d.get("pages") or []))


@dataclass
class VersionInfo:
    title: str
    source_format: str
    sha256: str
    pages: int
    document_id: str | None = None
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "source_format": self.source_format, "sha256": self.sha256,
                "pages": self.pages, "document_id": self.document_id, "path": self.path}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VersionInfo:
        return cls(d["title"], d["source_format"], d["sha256"], d["pages"], d.get("document_id"), d.get("path"))


@dataclass
class Comparison:
    old: VersionInfo
    new: VersionInfo
    sheets: list[SheetDiff]
    register: RegisterCheck | None = None
    #: Seconds spent, by step (not part of equality; for benchmarks and logs).
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        counts = {s: sum(1 for d in self.sheets if d.status == s) for s in ("same", "changed", "added", "removed")}
        kinds: dict[str, int] = {}
        for d in self.sheets:
            for c in d.changes:
                kinds[c.kind] = kinds.get(c.kind, 0) + 1
        return {
            "sheets": len(self.sheets), **counts,
            "changes": sum(kinds.values()), "by_kind": {k: kinds[k] for k in KINDS if k in kinds},
            "changed_sheets": [d.label for d in self.sheets if d.status != "same"],
        }

    def to_dict(self) -> dict[str, Any]:
        return {"old": self.old.to_dict(), "new": self.new.to_dict(), "sheets": [s.to_dict() for s in self.sheets],
                "register": self.register.to_dict() if self.register else None, "summary": self.summary()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Comparison:
        reg = d.get("register")
        return cls(VersionInfo.from_dict(d["old"]), VersionInfo.from_dict(d["new"]),
                   [SheetDiff.from_dict(s) for s in d.get("sheets") or []],
                   RegisterCheck.from_dict(reg) if reg else None)

    def find_sheet(self, sheet: str) -> list[SheetDiff]:
        """The sheets numbered ``sheet`` (old or new number), e.g. "5"."""
        from aizoomdoc.compare.normalize import sheet_number_key

        key = sheet_number_key(sheet)
        return [d for d in self.sheets if d.sheet and sheet_number_key(d.sheet) == key]
