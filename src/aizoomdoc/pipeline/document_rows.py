"""Documents as database rows and back, and what the search index keeps of stored blocks.

Pure shaping, no I/O: the ingest service, the jobs that finish a queued document and the search
index all turn a :class:`~aizoomdoc.documents.model.Document` into ``documents`` /
``document_blocks`` rows (or back) the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aizoomdoc.documents.model import Block, Document, Page, SheetInfo
from aizoomdoc.documents.title import display_title
from aizoomdoc.search import IndexedBlock
from aizoomdoc.search.index import indexed_block
from aizoomdoc.store.validate import is_uuid


def _sheet(info: SheetInfo | None) -> dict[str, str] | None:
    return info.to_dict() if info is not None and not info.is_empty() else None


def document_rows(doc: Document) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``documents`` row and ``document_blocks`` rows of a document."""
    pages = [
        {"page_index": p.page_index, "width": p.width, "height": p.height, "unit": p.unit,
         "is_scanned": p.is_scanned, "sheet": _sheet(p.sheet), "text_layer": p.text_layer}
        for p in doc.pages
    ]
    row = {
        "id": doc.id, "sha256": doc.sha256, "title": display_title(doc), "filename": Path(doc.source_path).name,
        "source_path": doc.source_path, "source_format": doc.source_format, "page_count": len(doc.pages),
        "pages": pages, "sheet": _sheet(doc.sheet), "metadata": dict(doc.metadata),
    }
    # Boxes stay the blocks' own tuples (JSON arrays all the same): no new objects per block.
    block_rows = [
        {"block_id": b.id, "page_index": b.page_index, "block_type": b.block_type, "text": b.text,
         "coords_norm": b.coords_norm, "coords_px": b.coords_px or None,
         "has_coords": b.has_coords, "links": b.links or None, "crop_ref": b.crop_ref,
         "sheet": _sheet(b.sheet) if b.sheet else None, "extra": b.extra or None}
        for p in doc.pages for b in p.blocks
    ]
    return row, block_rows


def document_from_rows(row: dict[str, Any], block_rows: Iterable[dict[str, Any]] | None = None,
                       render_path: str | None = None) -> Document:
    """A :class:`Document` from its stored rows (``block_rows=None``: pages without blocks)."""
    doc = Document(
        id=str(row["id"]), title=row["title"], source_path=row.get("source_path") or row["filename"],
        source_format=row["source_format"], sha256=row["sha256"], render_path=render_path,
        sheet=SheetInfo.from_dict(row.get("sheet")), metadata=dict(row.get("metadata") or {}),
    )
    if row.get("status") not in (None, "ready"):
        doc.metadata["status"] = row["status"]
    pages: dict[int, Page] = {}
    for p in row.get("pages") or []:
        pages[int(p["page_index"])] = Page(
            int(p["page_index"]), float(p.get("width") or 0), float(p.get("height") or 0),
            unit=p.get("unit") or "pt", is_scanned=bool(p.get("is_scanned")), sheet=SheetInfo.from_dict(p.get("sheet")),
            text_layer=p.get("text_layer") or "ok",
        )
    for b in block_rows or []:
        page_index = int(b["page_index"])
        page = pages.setdefault(page_index, Page(page_index, 0.0, 0.0, unit="px"))
        page.blocks.append(Block(
            id=b["block_id"], page_index=page_index, block_type=b["block_type"], text=b["text"] or "",
            coords_norm=tuple(b["coords_norm"] or (0.0, 0.0, 1.0, 1.0)),
            coords_px=tuple(b["coords_px"]) if b.get("coords_px") else None,
            links=list(b.get("links") or []), crop_ref=b.get("crop_ref"), sheet=SheetInfo.from_dict(b.get("sheet")),
            extra=dict(b.get("extra") or {}), has_coords=bool(b.get("has_coords", True)),
        ))
    doc.pages = [pages[k] for k in sorted(pages)]
    return doc


def page_sheets(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    """(document id, page index) -> the page's title-block info, from ``documents`` rows."""
    return {(str(r["id"]), int(p["page_index"])): p["sheet"]
            for r in rows for p in (r.get("pages") or []) if p.get("sheet")}


def indexed_blocks(block_rows: Iterable[dict[str, Any]],
                   sheets: dict[tuple[str, int], dict[str, Any]] | None = None) -> list[IndexedBlock]:
    """What the search index keeps of stored blocks (``sheets``: see :func:`page_sheets`)."""
    sheets = sheets or {}
    return [
        indexed_block(str(b["document_id"]), b["block_id"], int(b["page_index"]), b["block_type"], b["text"] or "",
                      tuple(b["coords_norm"] or (0.0, 0.0, 1.0, 1.0)), bool(b.get("has_coords", True)),
                      b.get("extra"), sheets.get((str(b["document_id"]), int(b["page_index"]))))
        for b in block_rows
    ]


def is_document_id(ref: object) -> bool:
    """Whether ``ref`` is a document id (a uuid), as opposed to a path or anything else."""
    return isinstance(ref, str) and is_uuid(ref)


def index_version(row: dict[str, Any]) -> str:
    """What the cached index of a document depends on: its content, and its blocks (a queued
    document has none yet; they arrive with ``ready``)."""
    return f"{row['sha256']}:{row.get('status') or 'ready'}:{row.get('block_count') or 0}"


def file_stat(path: Path) -> list[int] | None:
    """(size, mtime_ns) of a file: whether a path still holds the pixels a row was made from."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]
