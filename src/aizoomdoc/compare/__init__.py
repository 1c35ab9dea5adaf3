"""Revision compare: what changed between two editions of a drawing set.

Pure domain code (no database, no network): :func:`compare_documents` takes two
:class:`~aizoomdoc.documents.model.Document` objects (PDF, OCR bundle, or a bundle with its PDF)
and returns a :class:`Comparison` — sheets aligned by шифр, number, title and content; per sheet
``same | changed | added | removed`` and the changes (text, table rows, drawing regions) with
boxes in both versions; the register of changes of the new version checked against them.
"""

from aizoomdoc.compare.engine import CompareOptions, compare_documents
from aizoomdoc.compare.model import CellChange, Change, Comparison, RegisterCheck, RegisterEntry, SheetDiff
from aizoomdoc.compare.visual import VisualOptions

__all__ = [
    "CellChange", "Change", "CompareOptions", "Comparison", "RegisterCheck", "RegisterEntry", "SheetDiff",
    "VisualOptions", "compare_documents",
]
