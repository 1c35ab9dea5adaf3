"""Hostile inputs for tests/test_hostile.py, generated (small, deterministic, nothing from outside).

Each reproduces one finding of issue 11 against the code before the fix: a 1.4 KB PDF whose page
takes tens of seconds to render, a 20 KB PNG of 13000×13000 pixels, an OCR HTML whose whitespace
run made a regex quadratic, JSON nested 200,000 deep, a PNG header claiming 30000×30000 pixels.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pymupdf

from aizoomdoc import sample


def vector_bomb_pdf(path: Path, strokes: int = 20_000) -> Path:
    """One A4 page drawing the same long diagonal ``strokes`` times (Flate: ~1.4 KB for 20,000)."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((10, 10), " ")  # gives the page a content stream to replace
    doc.update_stream(page.get_contents()[0], b"0 0 m 500 500 l S\n" * strokes)
    doc.save(path, deflate=True, garbage=4)
    doc.close()
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bitonal_png(path: Path, width: int, height: int, *, rows: int | None = None) -> Path:
    """A 1-bit PNG of ``width``×``height``, white with a black line every 1000 rows, written row
    by row (13000×13000: about 40 KB). ``rows`` < ``height`` writes only that many rows of pixel
    data (the header still claims ``height``: enough for Pillow's size checks, not a valid image)."""
    stride = (width + 7) // 8
    white, black = b"\x00" + b"\xff" * stride, b"\x00" + b"\x00" * stride
    comp = zlib.compressobj(9)
    body = bytearray()
    for y in range(height if rows is None else rows):
        body += comp.compress(black if y % 1000 == 500 else white)
    body += comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", bytes(body))
                     + _chunk(b"IEND", b""))
    return path


def whitespace_run_html(path: Path, run: int = 120_000) -> Path:
    """A valid OCR HTML (C1) whose last block holds a ``run`` of spaces not followed by ``</div>``."""
    html = sample.ocr_html(sample.build_drawing_set(2), "C1", "Комплект")
    end = html.rindex("</div>", 0, html.rindex("</div>"))  # the last block's content closes here
    path.write_text(html[:end] + " " * run + "конец" + html[end:], encoding="utf-8")
    return path


def deep_json(path: Path, depth: int = 200_000) -> Path:
    """An OCR bundle-looking JSON whose ``pages`` nest ``depth`` lists deep."""
    path.write_text('{"pages": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
    return path


def truncated_multipart(filename: str, data: bytes, boundary: str = "azdtestboundary") -> tuple[bytes, str]:
    """A multipart/form-data body with one file, cut off before its closing boundary."""
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode()
    return head + data, f"multipart/form-data; boundary={boundary}"
