"""Chat questions about revisions — «что изменилось на листе 5 между изм.7 и изм.8?» — answered
from the comparison of two documents of the chat instead of a search.

The changed places of both versions become the turn's hits: the ask pipeline stores them, renders
viewports around them (in the old and in the new document) and cites them, so the answer points
into both versions. Without a language model the answer is written here from the comparison;
with one, the model gets the same summary and the hits as its context.

Which two documents: the revision numbers the question names («изм.7 и изм.8») matched against
the documents' titles («…_изм.8»); else the one whose title has the higher revision number is the
new one; else the order in which they were attached to the chat (first = old).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from aizoomdoc.compare.model import Change, Comparison, SheetDiff
from aizoomdoc.compare.normalize import sheet_number_key
from aizoomdoc.compare.report import describe_change, register_lines, sheet_line, summary_line
from aizoomdoc.documents.model import Block, Document
from aizoomdoc.llm.base import Usage
from aizoomdoc.llm.loop import LoopResult
from aizoomdoc.pipeline.sources import FoundBlock
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

MODEL = "revision-compare"
#: Changes turned into hits (and listed in the answer) at most.
MAX_CHANGES = 12

# Domain vocabulary, not user text: how Russian questions ask about changes between versions and
# name sheets and revisions (matched against the question and the document titles).
_CHANGED = re.compile(r"что\s+(?:из|по)мен|что\s+нового|изменени[яйеи]|изменил|поменял", re.IGNORECASE)
_DIFFERS = re.compile(r"отлич|разниц|различ|сравн", re.IGNORECASE)
_VERSIONS = re.compile(r"изм\.?\s*\d|верси|редакци|ревизи|выпуск", re.IGNORECASE)
_SHEET = re.compile(r"лист(?:е|а|у|ы|ах|ов|ам)?\s*(?:№\s*)?(\d+(?:\.\d+)?(?:\s*(?:,|и)\s*\d+(?:\.\d+)?)*)",
                    re.IGNORECASE)
_REVISION = re.compile(r"(?:изм(?:енени[еяй])?|izm|rev)\.?\s*[№#]?\s*(\d+)", re.IGNORECASE)
_NOT_WORD = re.compile(r"[^0-9a-zа-яё]+")
_LIST_SEP = re.compile(r"\s*(?:,|и)\s*")


def is_compare_question(question: str, versions_alike: bool = True) -> bool:
    """A question about what changed: «что изменилось …» about two versions of one set, or «чем
    отличаются …» naming versions («изм.7», «версии», «редакции»)."""
    names_versions = bool(_VERSIONS.search(question))
    if _CHANGED.search(question):
        return names_versions or versions_alike
    return bool(_DIFFERS.search(question)) and names_versions


def _stem(doc: Document) -> str:
    title = _REVISION.sub(" ", (doc.title or "").lower())
    return _NOT_WORD.sub("", title)


def same_set(a: Document, b: Document) -> bool:
    """Two versions of one set: the same шифр, or the same title but for the revision."""
    from aizoomdoc.compare.normalize import code_key

    ca = code_key(a.sheet.document_code if a.sheet else None)
    cb = code_key(b.sheet.document_code if b.sheet else None)
    if ca and cb:
        return ca == cb
    sa, sb = _stem(a), _stem(b)
    return bool(sa and sb) and (sa == sb or sa.startswith(sb) or sb.startswith(sa))


def asked_sheets(question: str) -> list[str]:
    out: list[str] = []
    for m in _SHEET.finditer(question):
        out.extend(sheet_number_key(x) for x in _LIST_SEP.split(m.group(1)) if x.strip())
    return list(dict.fromkeys(out))


def revision_of(doc: Document) -> int | None:
    for text in (doc.title, doc.source_path.rsplit("/", 1)[-1]):
        found = _REVISION.findall(text or "")
        if found:
            return int(found[-1])
    return None


def pick_versions(documents: list[Document], question: str) -> tuple[Document, Document] | None:
    """(old, new) for the question, or None with fewer than two documents."""
    if len(documents) < 2:
        return None
    revs = {d.id: revision_of(d) for d in documents}
    asked = [int(x) for x in _REVISION.findall(question)]
    if asked:
        by_rev = {r: d for d in documents if (r := revs[d.id]) is not None}
        hi = max(asked)
        new = by_rev.get(hi)
        if new is not None:
            lower = [d for d in documents if d is not new and ((r := revs[d.id]) is None or r < hi)]
            named = [by_rev[r] for r in sorted(set(asked)) if r < hi and r in by_rev]
            old = named[-1] if named else max(lower, key=lambda d: revs[d.id] or -1, default=None) if lower else None
            if old is not None:
                return old, new
    numbered = [d for d in documents if revs[d.id] is not None]
    if numbered:
        new = max(numbered, key=lambda d: revs[d.id] or 0)
        rest = [d for d in documents if d is not new]
        older = [d for d in rest if revs[d.id] is None or (revs[d.id] or 0) < (revs[new.id] or 0)]
        old = max(older, key=lambda d: -1 if (r := revs[d.id]) is None else r) if older else rest[0]
        return old, new
    return documents[0], documents[1]


@dataclass
class RevisionTurn:
    old: Document
    new: Document
    comparison: Comparison
    sheets: list[SheetDiff]  # the sheets the answer is about
    hits: list[FoundBlock]
    summary: str  # what the comparison says (Markdown), for the model or as the answer

    def loop(self) -> LoopResult:
        """The answer without a language model."""
        return LoopResult(answer=self.summary, model=MODEL, usage=Usage())


def _hits(old: Document, new: Document, changes: list[tuple[SheetDiff, Change]]) -> tuple[list[FoundBlock], list[str]]:
    """Hits in both versions for the changes, and the citation text of each change."""
    hits: list[FoundBlock] = []
    cites: list[str] = []
    used: dict[str, set[str]] = {old.id: set(), new.id: set()}
    score = 1.0
    for n, (sheet, c) in enumerate(changes, 1):
        parts = []
        for doc, page, box, block_id, text, label in (
            (old, sheet.old_page, c.bbox_norm_old, c.block_old, c.old_text, "compare.chat.was"),
            (new, sheet.new_page, c.bbox_norm_new, c.block_new, c.new_text, "compare.chat.now"),
        ):
            if not page:
                continue
            if box is None and c.kind == "drawing_changed":
                continue
            ident = block_id or t("compare.chat.change_id", page=page, n=n)
            k = 2
            while ident in used[doc.id]:
                ident = f"{block_id or t('compare.chat.change_id', page=page, n=n)}·{k}"
                k += 1
            used[doc.id].add(ident)
            body = text if text else t("compare.kind." + c.kind)
            block = Block(ident, page - 1, "text", f"{t(label)} {body}", tuple(box) if box else (0.0, 0.0, 1.0, 1.0),  # type: ignore[arg-type]
                          has_coords=box is not None)
            hits.append(FoundBlock(doc, block, round(score, 4)))
            parts.append(t("compare.chat.cite", version=t(label), page=page, block=ident))
        score = max(0.2, score - 0.02)
        cites.append("; ".join(parts))
    return hits, cites


def _write(old: Document, new: Document, comparison: Comparison, sheets: list[SheetDiff], asked: list[str],
           changes: list[tuple[SheetDiff, Change]], cites: list[str]) -> str:
    lines = [t("compare.chat.header", old=old.title, new=new.title), summary_line(comparison)]
    missing = [s for s in asked if not comparison.find_sheet(s)]
    if missing:
        known = ", ".join(d.sheet for d in comparison.sheets if d.sheet) or "—"
        lines.append(t("compare.chat.no_sheet", sheets=", ".join(missing), known=known))
    for d in sheets:
        lines.append(f"**{sheet_line(d)}**")
    if changes:
        for n, ((_sheet, c), cite) in enumerate(zip(changes, cites, strict=True), 1):
            lines.append(f"{n}. {describe_change(c)} — {cite}")
        total = sum(len(d.changes) for d in sheets)
        if total > len(changes):
            lines.append(t("compare.chat.more", shown=len(changes), total=total))
    elif sheets and all(d.status == "same" for d in sheets):
        lines.append(t("compare.chat.same"))
    for d in sheets:
        lines.extend(f"⚠ {note}" for note in d.notes)
    if comparison.register is not None:
        reg = comparison.register
        named = {sheet_number_key(d.sheet) for d in sheets if d.sheet}
        entries = [e for e in reg.entries if not asked or named & set(e.sheets)]
        for e in entries[:6]:
            lines.append(t("compare.chat.register", revision=e.revision, sheets=", ".join(e.sheets), text=e.text))
        if not asked:
            lines.extend(register_lines(reg)[1 + min(len(reg.entries), 30):])
    return "\n\n".join(lines)


async def revision_turn(question: str, documents: list[Document], settings: Any, files: Any) -> RevisionTurn | None:
    """The comparison-based answer material for a revision question, or None for other questions."""
    if not (_CHANGED.search(question) or _DIFFERS.search(question)):
        return None
    pair = pick_versions(list(documents), question)
    if pair is None or not is_compare_question(question, same_set(*pair)):
        return None
    from aizoomdoc.pipeline.compare import CompareService

    old, new = pair
    comparison = await CompareService(settings, files=files).compare_loaded(old, new)
    asked = asked_sheets(question)
    if asked:
        sheets = [d for s in asked for d in comparison.find_sheet(s)]
    else:
        sheets = [d for d in comparison.sheets if d.status != "same"]
    changes = [(d, c) for d in sheets for c in d.changes][:MAX_CHANGES]
    hits, cites = _hits(old, new, changes)
    summary = _write(old, new, comparison, sheets, asked, changes, cites)
    log.info("revision question: %s -> %s, %d sheets, %d changes", old.id, new.id, len(sheets), len(changes))
    return RevisionTurn(old, new, comparison, sheets, hits, summary)


__all__ = ["RevisionTurn", "asked_sheets", "is_compare_question", "pick_versions", "revision_turn", "same_set"]
