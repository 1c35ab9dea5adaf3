"""Is the text layer of a page usable? ``ok``, ``none`` (no text to speak of) or ``garbage``.

A PDF whose fonts have no Unicode map extracts as control characters, private-use code points,
punctuation runs, Latin-1 mojibake of Cyrillic («Ïðîåêò») or glyph ids that land in unrelated
alphabets (Latin Extended, IPA: «ǝǰȀǸǳȂǰǼǵǳǰ», «Ɋɚɡɪɟɲɟɧɢɟ» — real sheets whose fonts lost their
ToUnicode map read like this). Such a page has, for search, no text
layer at all: every query misses it and nobody is told. The measures below are cheap (one pass
over the characters) and judged on what real drawing sheets look like: many digits and short
tokens (dimensions, elevations, codes), Cyrillic words, a few Latin letters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from aizoomdoc.documents.model import Document

TextLayer = Literal["ok", "none", "garbage"]

#: Fewer visible characters than this: the page has no text layer to speak of.
MIN_CHARS = 12
#: What OCR pipelines write where they read nothing: «[Ошибка Chandra API: 503]», «*(нет данных)*»,
#: «[НеПовторяемая ошибка: контекст превышен …]», «A completely blank white page …».
_PLACEHOLDER = re.compile(
    r"^\s*(?:\[[^\]]*(?:ошибка|error)[^\]]*\]\s*)+$|^\s*\*?\(?нет данных\)?\*?\s*$"
    r"|^\s*(?:a )?(?:completely )?blank (?:white )?page\b",
    re.IGNORECASE,
)


def is_placeholder(text: str) -> bool:
    """True for a block text that only says the pipeline read nothing there."""
    return bool(_PLACEHOLDER.match(text)) if len(text) < 300 else False


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
    foreign: int  # letters outside Cyrillic, ASCII and Latin-1 (glyph ids in stray alphabets)
    words: int
    mean_word_len: float

    def share(self, n: int) -> float:
        return n / self.chars if self.chars else 0.0


def text_stats(text: str) -> TextStats:
    chars = letters = cyr = digits = controls = pua = repl = moji = foreign = 0
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
            elif o > 0xFF:
                foreign += 1
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
    return TextStats(chars, letters, cyr, digits, controls, pua, repl, moji, foreign, len(words), mean)


def assess_text(text: str) -> TextLayer:
    """``ok`` | ``none`` | ``garbage`` for the extracted text of one page."""
    s = text_stats(text)
    if s.chars < MIN_CHARS:
        return "none"
    if s.share(s.controls + s.private_use + s.replacement) > 0.05:
        return "garbage"
    if s.letters and s.mojibake / s.letters > 0.3 and s.cyrillic / s.letters < 0.2:
        return "garbage"
    if s.letters >= MIN_CHARS and s.foreign / s.letters > 0.5:
        return "garbage"  # glyph ids in stray alphabets: the text is no language
    meaningful = s.share(s.letters + s.digits)
    if meaningful < 0.35:
        return "garbage"  # punctuation soup: glyph ids mapped onto ASCII symbols
    if s.words and s.mean_word_len > 40:
        return "garbage"  # one endless "word": spacing lost along with the characters
    return "ok"


def mark_text_layers(doc: Document) -> None:
    """Set the text layer of pages that have none (the PDF reader assesses its own pages): a
    bundle page without a block with text, and a picture sheet, have ``none``; record the pages
    without a usable text layer in ``metadata["text_layer"]`` ({"none": [...], "garbage": [...]},
    1-based), which ingest and the API report."""
    if doc.source_format == "image":
        for page in doc.pages:
            page.text_layer = "none"
    elif doc.source_format != "pdf":
        for page in doc.pages:
            readable = any(b.text.strip() and not is_placeholder(b.text) for b in page.blocks)
            page.text_layer = "ok" if readable else "none"
    bad: dict[str, list[int]] = {}
    for page in doc.pages:
        if page.text_layer in ("none", "garbage"):
            bad.setdefault(page.text_layer, []).append(page.page_number)
    if bad:
        doc.metadata["text_layer"] = bad
    else:
        doc.metadata.pop("text_layer", None)
