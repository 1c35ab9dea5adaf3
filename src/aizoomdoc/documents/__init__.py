"""Readers for every input format -> Document/Page/Block (pure domain: no DB, no network).

Entry point: :func:`read_document` (path) or :func:`read_source` (bytes already loaded).
"""

from aizoomdoc.documents.base import Source, document_id_for, sha256_bytes
from aizoomdoc.documents.detect import detect_reader, load_source, read_document, read_source
from aizoomdoc.documents.model import BUNDLE_DPI, Block, BlockType, Box, Document, Page, SheetInfo

__all__ = [
    "BUNDLE_DPI", "Block", "BlockType", "Box", "Document", "Page", "SheetInfo", "Source",
    "detect_reader", "document_id_for", "load_source", "read_document", "read_source", "sha256_bytes",
]
