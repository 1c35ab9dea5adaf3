"""Reading returned images with Tesseract (rus + eng) as a stand-in for a vision model.

Used by the viewport test and ``bench/bench_viewports.py``: does one image show a code and its
value together, and how much of a hit's text can be read back at all. Tesseract runs as the
Debian ``tesseract`` command (scripts/test.sh installs ``tesseract-ocr`` and ``tesseract-ocr-rus``).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable

_LATIN_TO_CYR = str.maketrans({
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О", "P": "Р",
    "T": "Т", "X": "Х", "Y": "У", "×": "Х", "Ё": "Е", "\u2013": "-", "\u2212": "-", "\u2014": "-",
})
_WORD = re.compile(r"[0-9A-ZА-Я][0-9A-ZА-Я.,/\-*]*[0-9A-ZА-Я*]|[0-9A-ZА-Я]")


def ocr(png: bytes, psms: Iterable[int] = (11, 3), timeout: float = 60.0) -> str:
    """The text Tesseract reads in an image, with every page segmentation mode in ``psms``
    (sparse text finds labels on drawings, automatic finds table rows); joined."""
    out = []
    for psm in psms:
        proc = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", "rus+eng", "--psm", str(psm)],
            input=png, capture_output=True, timeout=timeout, check=False,
        )
        out.append(proc.stdout.decode("utf-8", "replace"))
    return "\n".join(out)


def norm(text: str) -> str:
    """Upper case, Latin look-alikes as Cyrillic, decimal commas as points, spaces collapsed."""
    text = text.upper().translate(_LATIN_TO_CYR)
    text = re.sub(r"(?<=\d),(?=\d)", ".", text)
    return " ".join(text.split())


def has_code(text: str, code: str) -> bool:
    """``code`` as a whole token of the normalised ``text``: П1 is not found in П1.1 or П11.

    One known confusion of Tesseract is forgiven: a Cyrillic «П» in front of a digit, in the sans
    fonts of drawings, is read as Latin «m»/«n» (it reads «П1» as «m1» at any size); the rest of
    the code must be exact."""
    c = re.escape(norm(code))
    if norm(code).startswith("П"):
        c = "[ПМN]" + c[1:]
    return re.search(rf"(?<![0-9A-ZА-Я.]){c}(?![0-9A-ZА-Я]|\.\d)", norm(text)) is not None


def has_value(text: str, value: str) -> bool:
    v = norm(value)
    t = norm(text)
    return v in t or v.replace(" ", "") in t.replace(" ", "")


def tokens(text: str) -> list[str]:
    """Words of 3+ letters and codes (with digits) of a hit text, normalised."""
    out = []
    for w in _WORD.findall(norm(text)):
        if any(ch.isdigit() for ch in w) or len(w) >= 3:
            out.append(w)
    return out


def recall(hit_text: str, read: str) -> float:
    """Share of the hit text's tokens found in what was read."""
    want = tokens(hit_text)
    if not want:
        return 1.0
    got = norm(read)
    return sum(1 for w in want if w in got) / len(want)
