"""Codes as OCR reads them: one *skeleton* for the characters a recogniser confuses.

A drawing's mark is typed in one field of a block («Б2-13*») and read by OCR in its table
(«Б2-1З*» — the letter З for the digit 3), or a Cyrillic mark comes out in Latin, letter by
look-alike («PB-C16» for «РВ-С16») or by transliteration («PR-1.13» for «ПР-1.13», «П5tex» for
«П5тех»). The skeleton maps each group of look-alike characters to one character: О/O/0, З/3,
Ч/4, б/6, В/B/8, l/I/1, Р/p, Т/t/m, С/c, К/k, У/y/u, Н/h, Х/x, А/a, Е/e; a code with Latin letters
also gets the skeleton of its transliteration. Everything else — digits, separators, a trailing
«*», and letters that only look alike to nobody (П is not Р: П1 ≠ Р1) — stays, so the star and
suffix rules hold for look-alikes too (Б2-13* ≠ Б2-13, П1 ≠ П1.1).

A product model is found by its leading part: «UOS-8H» finds «UOS-8H-2-300-Y2» — the index also
stores the skeletons of the hyphen-prefixes of codes with two hyphens or more (:func:`model_prefixes`),
so the short form counts like a look-alike, below the exact code.

The index stores ``≈skeleton`` next to a code that has a letter; a query code with a letter looks
its skeletons up at a lower weight than the exact code (see :mod:`aizoomdoc.search.ranking`). Codes
made of digits only have no skeleton: «821» never finds «В21».
"""

from __future__ import annotations

import re

PREFIX = "≈"
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_LATIN = re.compile(r"[a-z]")

_GROUPS = {
    "0": "0оo", "3": "3з", "4": "4ч", "6": "6б", "8": "8вb", "1": "1li|",
    "p": "рp", "t": "тtm", "c": "сc", "k": "кk", "y": "уyu", "h": "нh", "x": "хx", "a": "аa", "e": "еeё",
}
_TABLE = str.maketrans({ch: key for key, chars in _GROUPS.items() for ch in chars})
_TRANSLIT = str.maketrans({
    "a": "а", "b": "б", "c": "с", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х", "i": "и", "j": "й",
    "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "r": "р", "s": "с", "t": "т", "u": "у",
    "v": "в", "w": "ш", "x": "х", "y": "у", "z": "з",
})


def skeleton(code: str) -> str | None:
    """The look-alike skeleton of a (lower-case, canonical) code, or None when the code has no
    letter or is too long to be a mark."""
    if len(code) > 24 or not _LETTER.search(code) or not _DIGIT.search(code):
        return None
    return code.translate(_TABLE)


def lookalike_tokens(code: str, original: str) -> list[str]:
    """The look-alike tokens (``≈…``) of a code: its skeleton, and when the ``original`` chunk has
    Latin letters, the skeleton of its transliteration too."""
    out: list[str] = []
    s = skeleton(code)
    if s is not None:
        out.append(PREFIX + s)
        latin = original.lower()
        if _LATIN.search(latin):
            t = skeleton(latin.translate(_TRANSLIT))
            if t is not None and t != s:
                out.append(PREFIX + t)
    return out


def model_prefixes(code: str) -> list[str]:
    """Look-alike tokens of the leading parts of a long model code: «uos-8н-2-300-у2» →
    ≈ of «uos-8н», «uos-8н-2», «uos-8н-2-300» (codes with fewer than two hyphens: none)."""
    parts = code.split("-")
    if len(parts) < 3:
        return []
    out = []
    for k in range(2, len(parts)):
        s = skeleton("-".join(parts[:k]))
        if s is not None:
            out.append(PREFIX + s)
    return out
