"""The readers, one per format, behind one interface (paperless-style consumers)."""

from __future__ import annotations

from aizoomdoc.documents.annotation_json import JsonBundleReader
from aizoomdoc.documents.base import Reader
from aizoomdoc.documents.image import ImageReader
from aizoomdoc.documents.markdown import MarkdownReader
from aizoomdoc.documents.ocr_html import OcrHtmlReader
from aizoomdoc.documents.pdf import PdfReader
from aizoomdoc.texts import t

#: Order matters for sniffing: binary magic first, then the text formats.
READERS: tuple[Reader, ...] = (PdfReader(), ImageReader(), JsonBundleReader(), OcrHtmlReader(), MarkdownReader())

#: Formats whose name in messages is a text key documents.format.<format>.
FORMAT_NAMES = ("pdf", "image", "json_bundle", "ocr_html", "markdown")


def format_name(fmt: str) -> str:
    """What a file's content is called in messages (Russian); an unknown format as it is."""
    return t(f"documents.format.{fmt}") if fmt in FORMAT_NAMES else fmt


def reader_for_extension(suffix: str) -> Reader | None:
    suffix = suffix.lower()
    for reader in READERS:
        if suffix in reader.extensions:
            return reader
    return None


def known_extensions() -> set[str]:
    return {ext for r in READERS for ext in r.extensions}
