"""Plain PNG/JPG sheets: one page, one image block over the whole picture.

The page size is the picture in pixels (``unit="px"``); ``render_path`` is the image itself, so
crops come straight from its pixels. There is no text layer: the block text is the file name
(a user may name scans "План 3 этажа.png"), and the picture is what the LLM reads.
"""

from __future__ import annotations

import io
import re
import warnings
from typing import IO, ClassVar

from PIL import Image, UnidentifiedImageError

from aizoomdoc.documents.base import FULL_PAGE, Source, new_document
from aizoomdoc.documents.model import Block, Document, Page
from aizoomdoc.errors import DocumentError
from aizoomdoc.texts import t

_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}

#: Pixels of one picture that may be decoded (``MAX_IMAGE_PIXELS``; worker jobs set it per job).
PIXEL_BUDGET = 180_000_000
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


def open_bounded(fp: str | IO[bytes], path: str, budget: int | None = None) -> Image.Image:
    """``Image.open`` (header only) that refuses a picture of more than ``budget`` pixels before
    anything is decoded — a 20 KB PNG can hold 13000×13000 pixels (169 MB decoded, 507 MB as RGB)."""
    limit = budget or PIXEL_BUDGET
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(fp)
    except Image.DecompressionBombError as exc:  # past Pillow's own limit
        m = _BOMB_PIXELS.search(str(exc))
        size = t("documents.image_size.mp", mp=f"{int(m.group(1)) / 1e6:.0f}") if m else "?"
        raise DocumentError("documents.image_too_large", path=path, size=size,
                            limit_mp=f"{limit / 1e6:.0f}") from None
    width, height = img.size
    if width * height > limit:
        img.close()
        raise DocumentError("documents.image_too_large", path=path,
                            size=t("documents.image_size.pixels", width=width, height=height),
                            limit_mp=f"{limit / 1e6:.0f}")
    return img


class ImageReader:
    format: ClassVar[str] = "image"
    extensions: ClassVar[tuple[str, ...]] = (".png", ".jpg", ".jpeg")

    def sniff(self, source: Source, head: str) -> bool:
        return any(source.data.startswith(m) for m in _MAGIC)

    def read(self, source: Source) -> Document:
        path = str(source.path)
        if not source.data:
            raise DocumentError("documents.empty", path=path)
        try:
            with open_bounded(io.BytesIO(source.data), path) as img:
                img.verify()
            with open_bounded(io.BytesIO(source.data), path) as img:
                img.load()  # verify() does not decode; a truncated file fails here
                width, height = img.size
                fmt = img.format or "?"
                dpi = img.info.get("dpi")
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise DocumentError("documents.image_invalid", path=path, detail=str(exc) or type(exc).__name__) from exc
        doc = new_document(source, "image")
        doc.render_path = path
        doc.metadata.update({"image_format": fmt, "width_px": width, "height_px": height})
        if dpi:
            doc.metadata["dpi"] = [float(d) for d in dpi]
        page = Page(0, float(width), float(height), unit="px", is_scanned=True)
        page.blocks.append(
            Block(
                id="p1-image",
                page_index=0,
                block_type="image",
                text=doc.title,
                coords_norm=FULL_PAGE,
                coords_px=(0.0, 0.0, float(width), float(height)),
                crop_ref=path,
            )
        )
        doc.pages.append(page)
        return doc
