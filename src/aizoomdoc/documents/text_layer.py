"""Is the text layer of a page usable? ``ok``, ``none`` (no text to speak of) or ``garbage``.

A PDF whose fonts have no Unicode map extracts as control characters, private-use code points,
punctuation runs or Latin-1 mojibake of Cyrillic («Ïðîåêò»). Such a page has, for search, no text
layer at all: every query misses it and nobody is told. The measures below are cheap (one pass
over the characters) and judged on what real drawing sheets look like: many digits and short
tokens (dimensions, elevations, codes), Cyrillic words, a few Latin letters.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

TextLayer = Literal["ok", "none", "garbage"]

#: Fewer visible characters than this: the page has no text layer to speak of.
MIN_CHARS = 12


@dataclass(frozen=True)
class TextStats:
    chars: int  # visible (non-space) characters
    letters: int
    cyrillic: int
    digits: int
    controls: int  # C0/C1 controls other than whitespace
    private_use: int
    replacement: int  # U+FFFD
    mojibake: int  # Latin-1 letters À..ÿ (cp1251 Cyrillic read as Latin-1)
    words: int
    mean_word_len: float

    def share(self, n: int) -> float:
        return n / self.chars if self.chars else 0.0


def text_stats(text: str) -> TextStats:
    chars = letters = cyr = digits = controls = pua = repl = moji = 0
    for ch in text:
        if ch.isspace():
            continue
        chars += 1
        o = ord(ch)
        if ch.isalpha():
            letters += 1
            if 0x0400 <= o <= 0x04FF:
                cyr += 1
            elif 0xC0 <= o <= 0xFF:
                moji += 1
        elif ch.isdigit():
            digits += 1
        elif o < 0x20 or 0x7F <= o < 0xA0:
            controls += 1
        elif o == 0xFFFD:
            repl += 1
        elif unicodedata.category(ch) == "Co":
            pua += 1
    words = text.split()
    mean = sum(len(w) for w in words) / len(words) if words else 0.0
    return TextStats(chars, letters, cyr, digits, controls, pua, repl, moji, len(words), mean)


def assess_text(text: str) -> TextLayer:
    """``ok`` | ``none`` | ``garbage`` for the extracted text of one page."""
    s = text_stats(text)
    if s.chars < MIN_CHARS:
        return "none"
    if s.share(s.controls + s.private_use + s.replacement) > 0.05:
        return "garbage"
    if s.letters and s.mojibake / s.letters > 0.3 and s.cyrillic / s.letters < 0.2:
        return "garbage"
    meaningful = s.share(s.letters + s.digits)
    if meaningful < 0.35:
        return "garbage"  # punctuation soup: glyph ids mapped onto ASCII symbols
    if s.words and s.mean_word_len > 40:
        return "garbage"  # one endless "word": spacing lost along with the characters
    return "ok"
