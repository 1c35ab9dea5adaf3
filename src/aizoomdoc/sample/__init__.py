"""A sample drawing set made on demand: the PDF (with a real Cyrillic text layer), scans of it and
every OCR bundle format describing it, for ``aizoomdoc sample-set``, the demo, tests and benchmarks.

Not a reader: :mod:`aizoomdoc.documents` reads what this package writes.
"""

from __future__ import annotations

from aizoomdoc.sample.bundles import BUNDLE_FORMATS, ocr_html, write_bundle_fixtures
from aizoomdoc.sample.drawing import build_drawing_set, write_drawing_set
from aizoomdoc.sample.model import EQUIPMENT, Label, Region, SheetSpec, SyntheticSet
from aizoomdoc.sample.scans import rasterised_pdf, scanned_pdf_bytes

__all__ = [
    "BUNDLE_FORMATS",
    "EQUIPMENT",
    "Label",
    "Region",
    "SheetSpec",
    "SyntheticSet",
    "build_drawing_set",
    "ocr_html",
    "rasterised_pdf",
    "scanned_pdf_bytes",
    "write_bundle_fixtures",
    "write_drawing_set",
]
