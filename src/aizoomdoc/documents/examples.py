"""Example questions drawn from a document's own blocks: what its tables name and its sheets show.

Shown in an empty chat so that the examples fit the attached set (a ventilation set gets
«Какие характеристики у П1?», not the roof of another project). Pure: block texts in, questions out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from aizoomdoc.texts import t

# Domain vocabulary, not user text: marks, standards and sheet names as drawings write them.
#: The sheet «Общие данные» (general notes): no example question about it.
_GENERAL_DATA = "общие данные"
#: An equipment or system mark in the first cell of a table row: П1, П1.1, В21, АОВ8, К-1.
_MARK = re.compile(r"^[А-ЯЁ]{1,4}-?\d{1,3}(?:\.\d{1,2})?[а-я]?$")
#: A standard in the first cell of a row: ГОСТ 530-2012, СП 17.13330.2017.
_STANDARD = re.compile(r"^(?:ГОСТ(?: Р)?|СП|СНиП)\s+[\d.\-–]+\d")


def _first_cells(block: Mapping[str, Any]) -> list[str]:
    """The first cells of the table rows a block holds (a PDF cell's row, a bundle table's lines)."""
    extra = block.get("extra") or {}
    row = str(extra.get("row_text") or "")
    lines = [row] if row else str(block.get("text") or "").splitlines()
    return [ln.split(" | ")[0].strip() for ln in lines if " | " in ln]


def example_questions(blocks: Iterable[Mapping[str, Any]], sheet_names: Iterable[str] = (), limit: int = 3) -> list[str]:
    """Up to ``limit`` questions: about a mark of a table, a standard of a list, a sheet."""
    mark = standard = None
    for b in blocks:
        for cell in _first_cells(b):
            if mark is None and _MARK.match(cell):
                mark = cell
            elif standard is None and _STANDARD.match(cell):
                standard = _STANDARD.match(cell).group(0)  # type: ignore[union-attr]
        if mark and standard:
            break
    out = []
    if mark:
        out.append(t("documents.example.mark", mark=mark))
    if standard:
        out.append(t("documents.example.standard", standard=standard))
    for name in sheet_names:
        name = " ".join(str(name).split())
        if name and len(name) <= 80 and name.lower() != _GENERAL_DATA:
            out.append(t("documents.example.sheet", name=name))
            break
    if len(out) < limit:
        out.append(t("documents.example.equipment"))
    return out[:limit]
