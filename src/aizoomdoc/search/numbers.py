"""Numbers as people write them on drawings and in queries, brought to one form.

- Pipe diameters: «Ду50», «ДУ 50», «DN50», «d=50», «Ø50», «⌀50», «ф50» are all «Ду50»
  (:func:`normalize_diameters`, applied to the text before it is split into tokens).
- Ordinals: «14-го», «3-й», «2-х» are the number itself (:func:`ordinal_number`).
- Sizes: «1200x1350x100mm(h)» is also «1200х1350х100» and «1200х1350» — a query naming the
  first two dimensions finds the longer mark (:func:`size_forms`).
- Lists of marks: «ОГ-13, 14, 15» and «марок ОГ-16, 16.1» name ОГ-14, ОГ-15 and ОГ-16.1 too
  (:func:`mark_list`; the index side).
- Ranges in words: «от 50 до 100 мм» is also the code «50-100» (:func:`range_codes`).
- Floors and numbered things: «3-го этажа», «этаж 3», «3, 5-го этажа», «3–16 этажей», «6,8 этажа»
  name floors; «узел 9», «лист 5», «поз. 9», «этап 2», «корпус 4», «стенка №4» name one numbered
  thing. Each such pair becomes a *bound token* (``эт§3``, ``узел§9``), so «план 5 этажа» prefers
  the plan of the 5th floor to every plan that merely contains a «5» somewhere
  (:func:`bound_tokens`). A range or a list of floors yields one token per floor (at most
  :data:`MAX_FLOORS`).
"""

from __future__ import annotations

import re

#: A range of floors longer than this is not expanded (it is an OCR artefact, not a drawing).
MAX_FLOORS = 40
BOUND = "§"

_DIAMETER = re.compile(
    r"(?:(?<![\w.])(?:[ДдD][УуNn]\.?|[Фф](?=\d)|[dD]\s*=)|[Øø⌀∅])\s*(\d{1,4})(?![\d])"
)
_ORDINAL = re.compile(r"^(-?\d{1,3}(?:[,.]\d{1,2})*)-?(?:го|й|ый|ий|ой|ом|м|ая|я|е|х|ых|ти|ми|ему|му)$")
_SIZE = re.compile(
    r"^(\d{2,5}(?:[.,]\d+)?)((?:[xх×*]\d{1,5}(?:[.,]\d+)?){1,3})(?:мм|mm|м|см)?(?:\(h\))?$"
)
_NUM = r"-?\d{1,2}(?:-?(?:го|й|ый|ий|ой|м|ом|х|ых|е|я|ая|ти|ми))?"
_FLOOR_LIST = re.compile(
    rf"(?<![\w.,/+])((?:{_NUM})(?:\s*(?:,|и|-)\s*(?:{_NUM}))*)\s*(?:-?\s*(?:ти|ми|х))?\s*эт(?:аж\w*|\.|\b)", re.I
)
_FLOOR_AFTER = re.compile(r"(?<!\w)эт(?:аж\w*|\.)\s*№?\s*(-?\d{1,2})(?!\d|[.,]\d)", re.I)
_LABELS = {
    "узел": "узел", "узла": "узел", "узлы": "узел", "лист": "лист", "листа": "лист", "листы": "лист",
    "поз": "поз", "позиция": "поз", "позиции": "поз", "корпус": "корпус", "корпуса": "корпус",
    "секция": "секци", "секции": "секци", "строение": "строен", "строения": "строен", "этап": "этап",
    "этапа": "этап", "тип": "тип", "типа": "тип", "вид": "вид", "фрагмент": "фрагмент", "фрагмента": "фрагмент",
}
_LABEL = re.compile(
    r"(?<!\w)(" + "|".join(sorted(_LABELS, key=len, reverse=True)) + r")\.?\s*№?\s*(\d{1,3}(?:\.\d{1,2})?)(?!\d|[.,]\d)", re.I
)
_NUMBERED = re.compile(r"(?<!\w)([а-яё]{3,})\s*№\s*(\d{1,3})(?!\d)", re.I)
_LIST_NUMBER = re.compile(r"\d{1,2}")
_NEAR = re.compile(r"(?<!\w)([а-яё]{4,})\s+(\d{1,3})(?![\d.,/*\-]|\s*(?:эт|мм|см|м\b|шт|%|кв|х\d))", re.I)
_FROM_TO = re.compile(r"(?<!\w)от\s+(-?\d+(?:[.,]\d+)?)\s*(?:мм\s+)?до\s+(-?\d+(?:[.,]\d+)?)(?![\d])", re.I)


def normalize_diameters(text: str) -> str:
    """«DN50», «d=50», «Ø50», «Ду 50» → « Ду50» (one form for the index and the query)."""
    if not any(ch in text for ch in "ДдDdØø⌀∅Фф"):
        return text
    return _DIAMETER.sub(lambda m: f" Ду{m.group(1)}", text)


def ordinal_numbers(chunk: str) -> list[str] | None:
    """«14-го» → ["14"], «-2-го» → ["-2"], «11,13-го» → ["11", "13"]; None when the chunk is not
    an ordinal."""
    m = _ORDINAL.match(chunk)
    if not m:
        return None
    first, *rest = re.split(r"[,.]", m.group(1))
    return [first, *rest]


def size_forms(code: str) -> list[str]:
    """Other forms of a size mark: without its unit, and its first two dimensions.

    «1200х1350х100мм» → ["1200х1350х100", "1200х1350"]; «500х300» → []. ``code`` is already
    canonical (lower case, «х» for x and ×).
    """
    m = _SIZE.match(code)
    if not m:
        return []
    dims = [m.group(1), *re.split(r"[xх×*]", m.group(2))[1:]]
    whole = "х".join(dims)
    out = [whole] if whole != code else []
    if len(dims) > 2:
        out.append("х".join(dims[:2]))
    return out


_MARK_LIST = re.compile(
    r"(?<![\w\-/.])([A-Za-zА-ЯЁ]{1,4}[-.]?)(\d{1,3}(?:\.\d{1,2})?)((?:\s*,\s*\d{1,3}(?:\.\d{1,2})?(?![\w\-/]|\.\d))+)"
)


def mark_list(text: str) -> list[str]:
    """«ОГ-13, 14, 15» → ["ОГ-14", "ОГ-15"]: the marks a list names by their numbers only."""
    if "," not in text:
        return []
    out: list[str] = []
    for m in _MARK_LIST.finditer(text):
        prefix = m.group(1)
        out.extend(prefix + num for num in re.findall(r"\d{1,3}(?:\.\d{1,2})?", m.group(3)))
    return out


def range_codes(text: str) -> list[str]:
    """«от 50 до 100» → «50-100»: a range as written in words is the range's code."""
    if "до" not in text:
        return []
    return [f"{a.replace(',', '.')}-{b.replace(',', '.')}" for a, b in _FROM_TO.findall(text)]


def _floors(spec: str) -> list[int]:
    """«3-16» → 3..16, «6,8» / «6, 8-го» → 6, 8, «-2-го» → -2."""
    out: list[int] = []
    prev: int | None = None
    end = 0
    for m in _LIST_NUMBER.finditer(spec):
        gap = re.sub(r"[^\-,и]", "", spec[end:m.start()].replace("го", ""))
        end = m.end()
        n = int(m.group(0))
        if prev is None:
            n = -n if "-" in gap else n
        elif gap == "-" and n > prev:
            out.extend(range(prev + 1, min(n, prev + MAX_FLOORS) + 1))
            prev = n
            continue
        elif gap.endswith("-") and ("," in gap or "и" in gap):
            n = -n
        out.append(n)
        prev = n
    return out


def bound_tokens(text: str, query: bool = False) -> list[tuple[str, tuple[int, int], list[str]]]:
    """Bound tokens of floors and numbered things, with the span of their number in ``text``.

    ``text`` is normalised (any case: spans index into it). Each item: (kind, span, tokens) where
    ``tokens`` are the alternatives of one expression (several floors of «3-5 этаж» are one
    expression). ``query``: also «стенки 4» — a word and a bare number, as people type «стенка №4»
    (kind ``near``; the index binds only what «№» binds).
    """
    out: list[tuple[str, tuple[int, int], list[str]]] = []
    if "эт" in text or "ЭТ" in text or "Эт" in text:
        for m in _FLOOR_LIST.finditer(text):
            floors = list(dict.fromkeys(_floors(m.group(1))))
            if floors:
                out.append(("floor", m.span(1), [f"эт{BOUND}{n}" for n in floors]))
        for m in _FLOOR_AFTER.finditer(text):
            out.append(("floor", m.span(1), [f"эт{BOUND}{int(m.group(1))}"]))
    for m in _LABEL.finditer(text):
        out.append(("label", m.span(2), [f"{_LABELS[m.group(1).lower()]}{BOUND}{m.group(2)}"]))
    if "№" in text:
        for m in _NUMBERED.finditer(text):
            word = m.group(1).lower().replace("ё", "е")
            if word not in _LABELS:
                out.append(("label", m.span(2), [f"{word[:5]}{BOUND}{m.group(2)}"]))
    if query:
        taken = [span for _k, span, _t in out]
        for m in _NEAR.finditer(text):
            word = m.group(1).lower().replace("ё", "е")
            span = m.span(2)
            if word in _LABELS or any(a < span[1] and span[0] < b for a, b in taken):
                continue
            out.append(("near", span, [f"{word[:5]}{BOUND}{m.group(2)}"]))
    return out
