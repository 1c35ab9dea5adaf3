"""Tokens for search: Russian words stemmed (Snowball), codes kept whole and exact.

A *chunk* is a run of characters between spaces and hard punctuation. A chunk with a digit is a
**code** — equipment and system marks (П1, П1.1, П11, В21, АОВ8), lintels (А3-13, А3-13*),
шифры (133/23-ГК-АР1), elevations (-7,650, +3.300, 0.000), scales (1:100), sizes (500х300,
1000х2000х1000) — and becomes one token, matched exactly:

- Latin letters that look like Cyrillic ones (A, B, C, E, H, K, M, O, P, T, X, Y and a, c, e, o,
  p, x, y) become Cyrillic, "×" becomes "х": OCR mixes them up inside codes.
- Signed decimals: "," and "." are one separator ("-7,650" = "-7.650"); "+" and "±" are dropped
  ("+3.300" = "3.300", "±0.000" = "0.000"); "-" is kept (-7,650 ≠ 7,650).
- A trailing "*" stays part of the code (А3-13 ≠ А3-13*); trailing ".,:;-" do not.
- A шифр (a code with "/" and letters) also yields its parts split at "-" and ".", so "КР3" finds
  "133/23-ГК-КР3.П3"; other codes yield no parts (П1 never matches П1.1).
- A product series mark — a number glued to 2–3 capitals, like the lintels "2ПБ", "3ПП" — also
  yields its series as a word ("пб"), so "перемычки ПБ" finds "2ПБ 13-1"; the code stays exact.

Other chunks split into words at non-letters; words are lower-cased, "ё" → "е", mixed-script words
get their Latin look-alikes replaced, and Cyrillic words are stemmed with the Russian Snowball
stemmer (English for Latin words): "утеплитель", "утеплителя", "утеплителем" → "утеплител".
Abbreviations — words of 2–4 capitals (АОВ, ИТП, ГВС) — are not stemmed (Snowball makes "а" of
"АОВ"); in the index they also keep their stem, so "ПОЛЫ" in a heading still matches "полы".

Queries are expanded with the construction thesaurus (:mod:`aizoomdoc.search.thesaurus`): each
query word carries weighted alternatives ("вентиляционное" → "вентилятор", "приточная установка",
…) that the index scores below the word itself. Codes are never expanded.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

from aizoomdoc.search.lookalike import lookalike_tokens, model_prefixes
from aizoomdoc.search.numbers import (
    bound_tokens,
    mark_list,
    normalize_diameters,
    ordinal_numbers,
    range_codes,
    size_forms,
)

#: Bump when tokens change: saved indexes built with another version are rebuilt.
ANALYZER_VERSION = 3

_LATIN_TO_CYR = str.maketrans({
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О", "P": "Р",
    "T": "Т", "X": "Х", "Y": "У", "a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х",
    "y": "у", "×": "х",
})
_DASHES = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2212": "-", "\u00a0": " ",
    "\u202f": " ", "\u2009": " ", "ё": "е", "Ё": "Е", "\u00ad": "",
})
# Hard separators end a chunk; code connectors (. , / : - * + ± = ×) may sit inside one.
_CHUNK = re.compile(r"[^\s;()\[\]{}<>«»\"'“”„|!?~`#$%^&@\\—…№]+")
_WORD = re.compile(r"[^\W\d_]+")
_SIGNED_DECIMAL = re.compile(r"^[+±-]?\d+(?:[.,]\d+)?$")
_LEAD_STRIP = ".,:;/=*_-"
_TRAIL_STRIP = ".,:;/=_-+"
# «П-3.1,П-3.2»: a comma before a letter separates two marks (a decimal comma has digits around it).
_LIST_COMMA = re.compile(r",(?=[^\W\d_])")
_SERIES = re.compile(r"^\d{1,2}([А-ЯЁA-Z]{2,3})$")
_CYRILLIC = re.compile(r"[а-яА-Я]")
_DIGIT = re.compile(r"\d")
_LATIN = re.compile(r"[a-zA-Z]")

#: Words that carry no meaning for search (documents and queries).
STOPWORDS = frozenset(
    """и в во на по с со к ко о об от до из за для при а но или не ни же ли бы то это как
    так что чтобы также the of and or to in on for a an""".split()
)
#: Extra words ignored in queries only (how people phrase questions).
QUERY_STOPWORDS = frozenset(
    """найди найти покажи показать где какой какая какое какие каков какова сколько есть
    все всё всю весь всех нужно надо мне пожалуйста перечисли перечислите покажите найдите""".split()
)

_QUERY_STOP = STOPWORDS | QUERY_STOPWORDS

_ru = Stemmer.Stemmer("russian")
_en = Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Stem of one lower-case word (Russian Snowball for Cyrillic, English for Latin)."""
    if _CYRILLIC.search(word):
        return _ru.stemWord(word)
    if _LATIN.search(word):
        return _en.stemWord(word)
    return word


def normalize(text: str) -> str:
    return unicodedata.normalize("NFC", text).translate(_DASHES)


def _code(chunk: str) -> str:
    """The canonical form of a code chunk (look-alikes, decimal separator, sign)."""
    code = chunk.translate(_LATIN_TO_CYR).lower()
    if _SIGNED_DECIMAL.match(code):
        code = code.replace(",", ".").lstrip("+±")
        if code.startswith("-") and code.strip("-0.") == "":
            code = code.lstrip("-")  # -0.000 is 0.000
    return code


def _clean_chunk(chunk: str) -> str:
    chunk = chunk.rstrip(_TRAIL_STRIP)
    if chunk.endswith("*"):
        core = chunk.rstrip("*")
        chunk = core.rstrip(_TRAIL_STRIP) + "*" if core and core[-1].isalnum() else core.rstrip(_TRAIL_STRIP)
    # A leading sign belongs to a number ("-7,650", "+3.300", "±0.000").
    if len(chunk) > 1 and chunk[0] in "+-±" and chunk[1].isdigit():
        return chunk
    return chunk.lstrip(_LEAD_STRIP + "+±")


def _is_cipher(code: str) -> bool:
    return "/" in code and any(ch.isalpha() for ch in code)


def _word_token(word: str) -> str:
    w = word
    if _CYRILLIC.search(w) and _LATIN.search(w):
        w = w.translate(_LATIN_TO_CYR)
    return stem(w.lower())


def is_abbreviation(word: str) -> bool:
    """АОВ, ИТП, ГВС, XPS: 2–4 capital letters (kept whole, not stemmed)."""
    return 2 <= len(word) <= 4 and word.isupper()


#: One alternative of a query word: the tokens a block must all contain, and its weight (< 1).
Alternative = tuple[tuple[str, ...], float]


@dataclass(frozen=True)
class QueryTokens:
    """A query split into plain tokens (stemmed words, short numbers) and boosted codes.

    ``expansions[i]``: the alternatives of ``words[i]`` — thesaurus terms, or the other floors of
    a range («3-5 этаж») — empty when none or when the query was analysed with ``expand=False``.
    ``lookalikes[j]``: the look-alike tokens of ``codes[j]`` (see :mod:`aizoomdoc.search.lookalike`).
    """

    words: tuple[str, ...]
    codes: tuple[str, ...]
    expansions: tuple[tuple[Alternative, ...], ...] = ()
    lookalikes: tuple[tuple[str, ...], ...] = ()

    @property
    def all(self) -> list[str]:
        return [*self.words, *self.codes]

    def __bool__(self) -> bool:
        return bool(self.words or self.codes)


# Token kinds of _iter_tokens.
WORD, CODE, LOOKALIKE, BOUND, NEAR = "word", "code", "lookalike", "bound", "near"
#: Weight of the bare number standing in for «стенка 4» in a block without «стенка №4».
NEAR_WEIGHT = 0.6


def _iter_tokens(text: str, stopwords: frozenset[str], parts: bool = True,
                 abbreviations: frozenset[str] = frozenset()) -> list[tuple[str, str, tuple[str, ...]]]:
    """(token, kind, alternatives) for every token of ``text``; kinds: WORD, CODE, LOOKALIKE, BOUND.

    ``parts``: the index side (шифр parts, size forms, look-alike skeletons, an abbreviation's stem
    next to it); a query keeps a шифр whole and an abbreviation unstemmed, and drops the numbers a
    bound token stands for («5» of «5 этажа»). ``abbreviations``: lower-case words that are
    abbreviations however they are typed ("аов"). ``alternatives``: the other tokens of a bound
    expression (the other floors of «3-5 этаж»).
    """
    text = _LIST_COMMA.sub(", ", normalize_diameters(normalize(text)))
    out: list[tuple[str, str, tuple[str, ...]]] = []
    bound = bound_tokens(text, query=not parts)
    consumed: list[tuple[int, int]] = []
    for kind, span, tokens in bound:
        if kind == "near":  # a query's «стенки 4»: the bound token, or the bare number at a lower weight
            out.append((tokens[0], NEAR, (text[span[0]:span[1]],)))
        else:
            out.append((tokens[0], BOUND, tuple(tokens[1:])))
            if parts:
                out.extend((tok, BOUND, ()) for tok in tokens[1:])
        if not parts:
            consumed.append(span)
    out.extend((code, CODE, ()) for code in range_codes(text))
    if parts:
        for mark in mark_list(text):
            code = _code(mark)
            out.append((code, CODE, ()))
            out.extend((alike, LOOKALIKE, ()) for alike in lookalike_tokens(code, mark))
    for m in _CHUNK.finditer(text):
        if consumed and any(a <= m.start() and m.end() <= b for a, b in consumed):
            continue
        chunk = _clean_chunk(m.group(0))
        if not chunk:
            continue
        if _DIGIT.search(chunk):
            numbers = ordinal_numbers(chunk)
            if numbers is not None:
                out.extend((number, CODE, ()) for number in numbers)
                continue
            code = _code(chunk)
            out.append((code, CODE, ()))
            series = _SERIES.match(chunk)
            if series:
                out.append((series.group(1).translate(_LATIN_TO_CYR).lower(), WORD, ()))
                continue
            cipher = _is_cipher(code)
            if not parts:
                if not cipher and (alikes := lookalike_tokens(code, chunk)):
                    out.append((code, LOOKALIKE, tuple(alikes)))
                continue
            if cipher:
                for part in re.split(r"[-.]", code):
                    part = part.strip("/*")
                    if part and part != code:
                        has_digit = any(ch.isdigit() for ch in part)
                        out.append((part if has_digit else stem(part), CODE if has_digit else WORD, ()))
            elif "_" in code:
                for part in code.split("_"):
                    if part:
                        out.append((part if any(ch.isdigit() for ch in part) else stem(part), CODE, ()))
            for form in size_forms(code):
                out.append((form, CODE, ()))
            if not cipher:
                out.extend((alike, LOOKALIKE, ()) for alike in lookalike_tokens(code, chunk))
                out.extend((alike, LOOKALIKE, ()) for alike in model_prefixes(code))
            continue
        for w in _WORD.findall(chunk):
            lw = w.lower()
            if lw in stopwords:
                continue
            if is_abbreviation(w) or lw in abbreviations:
                raw = lw.translate(_LATIN_TO_CYR) if _CYRILLIC.search(w) else lw
                out.append((raw, WORD, ()))
                if parts:
                    stemmed = _word_token(w)
                    if stemmed != raw:
                        out.append((stemmed, WORD, ()))
                continue
            out.append((_word_token(w), WORD, ()))
    return out


def analyze(text: str) -> list[str]:
    """The tokens of a block's text (what the index stores).

    Short texts repeat a lot on drawing sets (title blocks on every sheet, labels, dimensions):
    their tokens are memoised.
    """
    if len(text) <= 200:
        return list(_analyze_short(text))
    return [tok for tok, _kind, _alts in _iter_tokens(text, STOPWORDS)]


@lru_cache(maxsize=65_536)
def _analyze_short(text: str) -> tuple[str, ...]:
    return tuple(tok for tok, _kind, _alts in _iter_tokens(text, STOPWORDS))


#: Units: they have digits but are no marks («м3/ч» is on every ventilation sheet).
_UNITS = re.compile(r"^(?:к?вт|м|мм|см|дм|кв\.?м)?(?:[23²³])(?:/ч|/с|/сут)?$|^м/с$|^м3/ч$")


def is_boosted_code(token: str) -> bool:
    """Codes that outrank words: anything with a letter or a separator, or 3+ digits.

    Bare short numbers ("2", "13") are everywhere on drawings (sheet numbers, counts) and rank
    like words; so do units («м2», «м3/ч»).
    """
    if _UNITS.match(token):
        return False
    if any(not ch.isdigit() for ch in token):
        return True
    return len(token) >= 3


def analyze_query(text: str, expand: bool = True) -> QueryTokens:
    """Split a query into words and codes (duplicates removed, order kept), each word with its
    alternatives when ``expand`` (thesaurus terms; the other floors of a range always).

    A шифр in a query stays whole (its parts are indexed, not searched), so "133/23-ГК-АР1"
    finds that шифр only, while "КР3" alone still finds "133/23-ГК-КР3".
    """
    thesaurus = None
    abbreviations: frozenset[str] = frozenset()
    if expand:
        from aizoomdoc.search.thesaurus import default_thesaurus

        thesaurus = default_thesaurus()
        abbreviations = thesaurus.abbreviations
    words: list[str] = []
    codes: list[str] = []
    alike: dict[str, tuple[str, ...]] = {}
    bound_alts: dict[str, tuple[Alternative, ...]] = {}
    for tok, kind, alts in _iter_tokens(text, _QUERY_STOP, parts=False, abbreviations=abbreviations):
        if kind == LOOKALIKE:  # the query's own code: its look-alike tokens
            alike.setdefault(tok, alts)
            continue
        if kind in (BOUND, NEAR):
            if tok not in words:
                words.append(tok)
                weight = 1.0 if kind == BOUND else NEAR_WEIGHT
                bound_alts[tok] = tuple(((alt,), weight) for alt in alts)
            continue
        target = codes if kind == CODE and is_boosted_code(tok) else words
        if tok not in target:
            target.append(tok)
    lookalikes = tuple(alike.get(c, ()) for c in codes)
    if not any(lookalikes):
        lookalikes = ()
    if not words:
        return QueryTokens(tuple(words), tuple(codes), (), lookalikes)
    expansions = tuple(
        bound_alts[w] if w in bound_alts else (thesaurus.expand(w) if thesaurus is not None else ())
        for w in words
    )
    return QueryTokens(tuple(words), tuple(codes), expansions if any(expansions) else (), lookalikes)
