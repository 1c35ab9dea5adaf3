"""The reader interface and the helpers every reader shares.

A reader turns one file (its bytes, already read) into a :class:`Document`. Readers are pure: no
database, no network; they raise :class:`~aizoomdoc.errors.DocumentError` with a Russian message
naming the file for anything they cannot read.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from aizoomdoc.documents.model import BUNDLE_DPI, Box, Document, SheetInfo
from aizoomdoc.errors import DocumentError

#: Namespace of document ids (uuid5 over the content hash, optionally scoped by user).
DOCUMENT_ID_NAMESPACE = uuid.UUID("6f1d3c2e-5a7b-4c8d-9e0f-a1b2c3d4e5f6")

FULL_PAGE: Box = (0.0, 0.0, 1.0, 1.0)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_id_for(sha256: str, user_id: str | None = None) -> str:
    """The stable id of a document: uuid5 of its content hash (and owner, when given).

    The same file always gets the same id, so ingesting it again is a no-op and offline writes
    replay idempotently; two users ingesting one file get two documents (RLS keeps them apart).
    """
    name = sha256 if user_id is None else f"{user_id}\n{sha256}"
    return str(uuid.uuid5(DOCUMENT_ID_NAMESPACE, name))


@dataclass(frozen=True)
class Source:
    """One input file: where it is and what it contains."""

    path: Path
    data: bytes

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def sha256(self) -> str:
        return sha256_bytes(self.data)

    def text(self) -> str:
        """The content decoded as strict UTF-8 (a BOM is dropped).

        Invalid bytes — another encoding, or a cut in the middle of a multi-byte character — are an
        error, never silently replaced by U+FFFD; see :meth:`text_cut` for a file cut at its end.
        """
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentError("documents.bad_encoding", path=str(self.path), offset=exc.start) from exc

    def text_cut(self) -> tuple[str, bool]:
        """(text, cut): like :meth:`text`, but a file cut in the middle of its *last* character
        loses that character only (``cut`` is True); invalid bytes elsewhere are still an error."""
        try:
            return self.data.decode("utf-8-sig"), False
        except UnicodeDecodeError as exc:
            if exc.reason == "unexpected end of data" and exc.end >= len(self.data) - 3:
                return self.data[: exc.start].decode("utf-8-sig", errors="strict"), True
            raise DocumentError("documents.bad_encoding", path=str(self.path), offset=exc.start) from exc


class Reader(Protocol):
    """One format. ``sniff`` looks at the first bytes; ``read`` builds the document."""

    format: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]

    def sniff(self, source: Source, head: str) -> bool: ...

    def read(self, source: Source) -> Document: ...


#: Suffixes OCR pipelines append to the PDF's stem (``X_result.json`` belongs to ``X.pdf``).
BUNDLE_SUFFIXES = ("_annotation", "_result", "_ocr", "_document", "_prepared", "_blocks", ".result")
_GENERIC_TITLES = {"document", "result", "output", "file", "untitled"}


def bundle_stem(name: str) -> str:
    """``133_23-GK-KR3_result.json`` -> ``133_23-GK-KR3`` (the stem of the PDF it came from)."""
    stem = Path(name).stem
    if stem.lower().endswith(".pdf"):
        stem = stem[:-4]
    lowered = stem.lower()
    for suffix in BUNDLE_SUFFIXES:
        if lowered.endswith(suffix):
            return stem[: -len(suffix)]
    return stem


def new_document(source: Source, source_format: str, title: str | None = None) -> Document:
    sha = source.sha256
    if title and title.strip().lower() in _GENERIC_TITLES:
        title = None
    return Document(
        id=document_id_for(sha),
        title=(title or bundle_stem(source.path.name)).strip() or source.path.name,
        source_path=str(source.path),
        source_format=source_format,
        sha256=sha,
    )


# --- coordinates ------------------------------------------------------------------------------


def clamp01(v: float) -> float:
    return 0.0 if v < 0.0 else 1.0 if v > 1.0 else v


def norm_box(x1: float, y1: float, x2: float, y2: float, width: float, height: float) -> Box:
    """A box in page units divided by the page size, ordered and clamped to [0, 1]."""
    if width <= 0 or height <= 0:
        return FULL_PAGE
    a, c = sorted((x1 / width, x2 / width))
    b, d = sorted((y1 / height, y2 / height))
    return (clamp01(a), clamp01(b), clamp01(c), clamp01(d))


def as_box(value: Any) -> Box | None:
    """``[x1, y1, x2, y2]`` from JSON, or None when absent or malformed."""
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        return None
    try:
        x1, y1, x2, y2 = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return (x1, y1, x2, y2)


def px_box_from_norm(box: Box, width_pt: float, height_pt: float, dpi: int = BUNDLE_DPI) -> Box:
    """Pixels on a ``dpi`` raster of a page ``width_pt`` × ``height_pt`` points."""
    sx, sy = width_pt * dpi / 72.0, height_pt * dpi / 72.0
    return (round(box[0] * sx, 1), round(box[1] * sy, 1), round(box[2] * sx, 1), round(box[3] * sy, 1))


# --- sheet info -------------------------------------------------------------------------------

# Domain vocabulary, not user text: the field names of a title block (штамп) as OCR markup writes
# them, in English or in Russian, mapped to SheetInfo fields.
_STAMP_KEYS = {
    "document_code": "document_code",
    "шифр": "document_code",
    "sheet_number": "sheet_number",
    "лист": "sheet_number",
    "sheet_name": "sheet_name",
    "наименование": "sheet_name",
    "stage": "stage",
    "стадия": "stage",
    "project_name": "object_name",
    "object_name": "object_name",
    "объект": "object_name",
    "organization": "organization",
    "организация": "organization",
}


def sheet_from_mapping(data: Any) -> SheetInfo | None:
    """SheetInfo from a stamp dict (result JSON ``stamp_data``/``ocr_json``) or labelled fields."""
    if not isinstance(data, dict):
        return None
    values: dict[str, str] = {}
    for key, value in data.items():
        field_name = _STAMP_KEYS.get(str(key).strip().lower())
        if field_name and value not in (None, "", [], {}) and not isinstance(value, (dict, list)):
            values.setdefault(field_name, " ".join(str(value).split()))
    info = SheetInfo(**values)
    return None if info.is_empty() else info


def is_stamp_dict(data: Any) -> bool:
    return isinstance(data, dict) and "document_code" in data and "sheet_number" in data


def most_common_sheet(sheets: Iterable[SheetInfo | None]) -> SheetInfo | None:
    """The document-level title block: the most frequent шифр, stage, object and organisation."""
    from collections import Counter

    counters: dict[str, Counter[str]] = {
        k: Counter() for k in ("document_code", "stage", "object_name", "organization")
    }
    for s in sheets:
        if s is None:
            continue
        for k, c in counters.items():
            v = getattr(s, k)
            if v:
                c[v] += 1
    info = SheetInfo(**{k: c.most_common(1)[0][0] for k, c in counters.items() if c})
    return None if info.is_empty() else info


def finish_document(doc: Document) -> Document:
    """Fill the page- and document-level sheet info from the blocks, sort pages."""
    doc.pages.sort(key=lambda p: p.page_index)
    for page in doc.pages:
        block_sheets = [b.sheet for b in page.blocks if b.sheet is not None]
        if block_sheets:
            merged = block_sheets[0]
            for s in block_sheets[1:]:
                merged = merged.merged(s)
            page.sheet = merged.merged(page.sheet) if page.sheet else merged
    if doc.sheet is None:
        doc.sheet = most_common_sheet(p.sheet for p in doc.pages)
    return doc
