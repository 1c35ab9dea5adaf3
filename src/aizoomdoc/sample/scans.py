"""Image-only PDFs: a scanned sheet, and a scanner's copy of a drawn set (for OCR tests)."""

from __future__ import annotations

import pymupdf

from aizoomdoc.sample.model import A3_LANDSCAPE


def scanned_pdf_bytes(text: str = "") -> bytes:
    """One A3 page that is only a picture (a scan), optionally with a few characters of text."""
    w, h = A3_LANDSCAPE
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 420, 297), False)
    pix.set_rect(pix.irect, (235, 235, 235))
    pix.set_rect(pymupdf.IRect(50, 50, 300, 60), (20, 20, 20))
    pdf = pymupdf.open()
    page = pdf.new_page(width=w, height=h)
    page.insert_image(page.rect, pixmap=pix)
    if text:
        page.insert_text((20, 20), text, fontsize=6)
    data = pdf.tobytes()
    pdf.close()
    return data


def rasterised_pdf(data: bytes, dpi: float = 200.0, pages: list[int] | None = None) -> bytes:
    """An image-only copy of a PDF (what a scanner makes of a printed set): each page (all, or
    the 0-based ``pages``) rendered in grayscale at ``dpi`` and placed as a picture on a page of the
    same size, with no text layer at all."""
    src = pymupdf.open(stream=data, filetype="pdf")
    out = pymupdf.open()
    try:
        for index in pages if pages is not None else range(src.page_count):
            page = src[index]
            pix = page.get_pixmap(dpi=int(dpi), colorspace=pymupdf.csGRAY, alpha=False)
            target = out.new_page(width=page.rect.width, height=page.rect.height)
            target.insert_image(target.rect, stream=pix.tobytes("png"))
        return out.tobytes(garbage=3, deflate=True)
    finally:
        src.close()
        out.close()
