"""The readers, one per format, behind one interface (paperless-style consumers)."""

from __future__ import annotations

from aizoomdoc.documents.annotation_json import JsonBundleReader
from aizoomdoc.documents.base import Reader
from aizoomdoc.documents.image import ImageReader
from aizoomdoc.documents.markdown import MarkdownReader
from aizoomdoc.documents.ocr_html import OcrHtmlReader
from aizoomdoc.documents.pdf import PdfReader

#: Order matters for sniffing: binary magic first, then the text formats.
READERS: tuple[Reader, ...] = (PdfReader(), ImageReader(), JsonBundleReader(), OcrHtmlReader(), MarkdownReader())

#: What a file's content is called in messages (Russian).
FORMAT_NAMES = {
    "pdf": "PDF",
    "image": "изображение PNG/JPG",
    "json_bundle": "разметка OCR в JSON",
    "ocr_html": "OCR HTML",
    "markdown": "Markdown",
}


def reader_for_extension(suffix: str) -> Reader | None:
    suffix = suffix.lower()
    for reader in READERS:
        if suffix in reader.extensions:
            return reader
    return None


def known_extensions() -> set[str]:
    return {ext for r in READERS for ext in r.extensions}
