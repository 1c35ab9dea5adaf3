"""Comparison keys for words and lines: what counts as "the same text" in two versions.

A PDF text layer is exact, so :func:`word_key` only folds case, ``ё``, Latin/Cyrillic look-alikes,
dashes, quotes and the decimal separator. OCR output is not exact: with ``ocr=True`` the key keeps
only letters and digits and folds the usual OCR confusions next to digits (``З``/``3``,
``О``/``0``), and :func:`close_enough` accepts misread characters and a slip or two in a longer
word — but never a different number.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Latin letters that look like Cyrillic ones (after lower-casing): the key uses the Cyrillic one.
_HOMOGLYPHS = str.maketrans({
    "a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "k": "к", "m": "м", "o": "о", "p": "р",
    "t": "т", "x": "х", "y": "у", "ё": "е", "×": "х", "–": "-", "—": "-", "−": "-", "‐": "-",
    "‑": "-", "«": '"', "»": '"', "„": '"', "“": '"', "”": '"', "’": "'", "‘": "'", "`": "'",
})
# OCR confusions (applied after the homoglyphs): letters that an OCR engine reads for digits.
_OCR = str.maketrans({"з": "3", "о": "0", "l": "1", "i": "1", "б": "6", "ч": "4", ";": ".", ":": ".", ",": "."})
# What OCR models write for formulas: LaTeX commands and braces («\\lambda_b=0,041 \\text{ Вт}»).
_LATEX = re.compile(r"\\[a-zA-Z]+|[{}^_$±]")
_EDGE_PUNCT = ".,;:!?()[]{}\"'*_#~"
_DECIMAL = re.compile(r"(?<=\d),(?=\d)")
_SPACE = re.compile(r"\s+")
_TOKEN_SPLIT = re.compile(r"[\s|]+")
_HAS_DIGIT = re.compile(r"\d")
_NON_ALNUM = re.compile(r"[\W_]+")
_NUMBER_SIGN = re.compile(r"^[nн№](?=\d)")
_SIGN_BEFORE_DIGIT = re.compile(r"№(?=\s*\d)")
_LETTERS = re.compile(r"[^\W\d_]")
_LATIN = re.compile(r"[A-Za-z]")


def word_key(text: str, *, ocr: bool = False) -> str:
    """The comparison key of one word (empty for punctuation alone)."""
    s = unicodedata.normalize("NFKC", _SIGN_BEFORE_DIGIT.sub("N", text) if ocr else text)  # NFKC: «№» → «No»
    if ocr:
        s = _LATEX.sub("", s)
    s = s.lower().translate(_HOMOGLYPHS)
    s = s.strip(_EDGE_PUNCT)
    s = _DECIMAL.sub(".", s)
    if ocr:
        # OCR loses and invents separators («10.13130.2020» / «1013130-2020», «№184-$ФЗ»,
        # «Н.контр.» / «Нконтр»): a word is its letters and digits. Next to digits only, the
        # letters read for digits are digits: «З» in «АРЗ-1», «О» in «1О0».
        s = _NON_ALNUM.sub("", s.translate(_OCR) if _HAS_DIGIT.search(s) else s)
        s = _NUMBER_SIGN.sub("", s)  # «№1», «N1», «1»: drawings write the sign either way or not at all
    return s


def tokens(text: str, *, ocr: bool = False) -> list[str]:
    """The keys of the words of ``text`` (table cells split at ``|``), empty ones dropped."""
    out = []
    for raw in _TOKEN_SPLIT.split(text):
        key = word_key(raw, ocr=ocr)
        if key:
            out.append(key)
    return out


def squash_key(text: str, *, ocr: bool = False) -> str:
    """All the keys of ``text`` glued together: equal for the same text split differently into
    words ("300 мм" / "300мм")."""
    return "".join(tokens(text, ocr=ocr)).replace("-", "")


def has_digit(text: str) -> bool:
    return bool(_HAS_DIGIT.search(text))


def is_foreign_prose(line: str) -> bool:
    """A sentence in English inside a Russian set: an OCR model describing a stamp or a
    signature ("A blue circular official stamp…"), not text of the sheet."""
    words = [w for w in line.split() if _LETTERS.search(w)]
    if len(words) < 4:
        return False
    latin = sum(1 for w in words if _LATIN.search(w) and not re.search(r"[А-Яа-яЁё]", w))
    return latin >= 0.7 * len(words)


def levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance of ``a`` and ``b``; any value above ``limit`` is returned as ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        best = i
        for j, cb in enumerate(b, 1):
            v = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            current.append(v)
            best = min(best, v)
        if best > limit:
            return limit + 1
        previous = current
    return previous[-1]


# Pairs of characters one OCR reading takes for the other (after the keys' folding).
_CONFUSED = {frozenset(p) for p in ("з3", "о0", "л1", "l1", "i1", "б6", "ч4", "э3", "в8", "s5")}


def _misread_only(a: str, b: str) -> bool:
    """Equal but for letters read in the other alphabet («Т/F» and «Т/Ф») or for characters an OCR
    confuses («П1» and «ПЛ», «м3/ч» and «мз/ч»); same length."""
    return all(x == y or (x.isalpha() and y.isalpha() and (_LATIN.match(x) is None) != (_LATIN.match(y) is None))
               or frozenset((x, y)) in _CONFUSED for x, y in zip(a, b, strict=True))


def _one_edit(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by at most one substitution, insertion or deletion."""
    if len(a) < len(b):
        a, b = b, a
    if len(a) - len(b) > 1:
        return False
    i = 0
    while i < len(b) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:]
    return a[i + 1:] == b[i:]


@lru_cache(maxsize=1 << 16)
def close_enough(a: str, b: str) -> bool:
    """Two OCR keys that are one reading of the same word: equal; equal but for the alphabet of a
    letter or for characters an OCR confuses; or — words without digits — one slip in a word of
    four or five letters, two in a longer one. Numbers and codes must otherwise be equal."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 2 or min(la, lb) < 2:
        return False
    if la == lb and _misread_only(a, b):
        return True
    n = min(la, lb)
    if n < 4 or has_digit(a) or has_digit(b):
        return False
    if n < 6:
        return _one_edit(a, b)
    return levenshtein(a, b, 2) <= 2


def similarity(a: list[str], b: list[str]) -> float:
    """Dice coefficient of two token lists (as multisets): 1.0 equal, 0.0 nothing in common."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    from collections import Counter

    ca, cb = Counter(a), Counter(b)
    common = sum((ca & cb).values())
    return 2.0 * common / (len(a) + len(b))


def clean_title(title: str | None) -> str:
    """A sheet title for matching: the format note ("Формат А1", "А3х3") dropped, keys joined."""
    if not title:
        return ""
    s = re.sub(r"формат\s+[аa]\d+(?:\s*[хx]\s*\d+)?", " ", title, flags=re.IGNORECASE)
    return " ".join(tokens(s, ocr=True))


def sheet_number_key(number: str | None) -> str:
    """``"5"``, ``"5.1"``, ``"8.2"`` as written; ``"05"`` → ``"5"``; spaces and a trailing dot dropped."""
    if not number:
        return ""
    s = _SPACE.sub("", unicodedata.normalize("NFKC", str(number))).strip(".").replace(",", ".")
    parts = s.split(".")
    return ".".join(p.lstrip("0") or "0" if p.isdigit() else p.lower() for p in parts)


def code_key(code: str | None) -> str:
    """A шифр for matching: spaces dropped, look-alike letters folded, З/3 folded."""
    if not code:
        return ""
    return _SPACE.sub("", word_key(code, ocr=True))
