"""A document's title for people: the title block's шифр (and a short object name) rather than a
file name, when the file carried no title of its own."""

from __future__ import annotations

import re
from pathlib import Path

from aizoomdoc.documents.base import bundle_stem
from aizoomdoc.documents.model import Document
from aizoomdoc.texts import t

#: An object name longer than this is an address, not a name: the шифр alone then.
MAX_NAME = 60
# Domain vocabulary, not user text: how file names mark a revision.
#: A revision in a file name («АР6_изм.2.pdf», «AR6_izm2», «rev3»): what tells two editions apart.
REVISION = re.compile(r"(?<![^\W_\d])(?:изм|izm|rev)\.?\s*_?(\d+)", re.IGNORECASE)


def display_title(doc: Document) -> str:
    """``doc.title`` unless it is only the file's name and the title block has a шифр: then
    «77/25-СК-ОВ2 Многоквартирный жилой дом, корпус 3» (or the шифр alone), with the revision the
    file name gives («… (изм.2)»)."""
    stem = bundle_stem(Path(doc.source_path).name)
    info = doc.sheet
    if doc.title not in (stem, Path(doc.source_path).name) or info is None or not info.document_code:
        return doc.title
    name = " ".join((info.object_name or "").split())
    title = f"{info.document_code} {name}" if name and len(name) <= MAX_NAME else info.document_code
    # Every edition of a set has the same title block: the file name's revision stays in the title.
    revision = REVISION.search(stem)
    if revision is not None and not REVISION.search(title):
        title = t("documents.title.with_revision", title=title, revision=revision.group(1))
    return title
