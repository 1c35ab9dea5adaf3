"""A comparison in words, for people (Russian, through :func:`~aizoomdoc.texts.t`): one line per
change, one per sheet, the register check. Used by the CLI and by chat answers."""

from __future__ import annotations

import difflib

from aizoomdoc.compare.model import Box, Change, Comparison, RegisterCheck, SheetDiff
from aizoomdoc.texts import t

QUOTE_CHARS = 160


def _q(text: str | None, limit: int = QUOTE_CHARS) -> str:
    s = " ".join((text or "").split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def zone(box: Box | None) -> str:
    """Where on the sheet, in words («вверху слева»)."""
    if box is None:
        return ""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    v = "top" if cy < 1 / 3 else "middle" if cy < 2 / 3 else "bottom"
    h = "left" if cx < 1 / 3 else "center" if cx < 2 / 3 else "right"
    return t("compare.zone", vertical=t(f"compare.zone.{v}"), horizontal=t(f"compare.zone.{h}"))


def difference(old: str | None, new: str | None, context: int = 3, limit: int = QUOTE_CHARS) -> tuple[str, str]:
    """The part of two long texts that differs, with a few words around it («… с гайкой-барашком
    М10 к полосе …» / «… М12 …»); short texts whole."""
    a, b = " ".join((old or "").split()), " ".join((new or "").split())
    if len(a) <= 60 and len(b) <= 60:
        return _q(a, limit), _q(b, limit)
    wa, wb = a.split(" "), b.split(" ")
    ops = [op for op in difflib.SequenceMatcher(a=wa, b=wb, autojunk=False).get_opcodes() if op[0] != "equal"]
    if not ops:
        return _q(a, limit), _q(b, limit)
    i1, i2 = max(0, ops[0][1] - context), min(len(wa), ops[-1][2] + context)
    j1, j2 = max(0, ops[0][3] - context), min(len(wb), ops[-1][4] + context)

    def cut(words: list[str], x: int, y: int) -> str:
        return ("… " if x > 0 else "") + " ".join(words[x:y]) + (" …" if y < len(words) else "")

    return _q(cut(wa, i1, i2), limit), _q(cut(wb, j1, j2), limit)


def describe_change(c: Change) -> str:
    """«текст изменён: «+8,400» → «+8,450»» and the like."""
    kind = t(f"compare.kind.{c.kind}")
    if c.kind == "drawing_changed":
        return f"{kind} {t('compare.place', zone=zone(c.box))}".strip()
    if c.kind == "table_row_changed" and c.cells:
        cells = "; ".join(t("compare.cell", column=x.column, old=o, new=n)
                          for x in c.cells[:6] for o, n in [difference(x.old_text, x.new_text, limit=80)])
        return f"{kind} «{_q(c.new_text or c.old_text, 80)}»: {cells}"
    if c.kind in ("text_changed", "table_row_changed"):
        o, n = difference(c.old_text, c.new_text)
        return f"{kind}: «{o}» → «{n}»"
    if c.kind == "text_moved":
        return f"{kind}: «{_q(c.new_text)}»"
    return f"{kind}: «{_q(c.new_text if c.new_text is not None else c.old_text)}»"


def sheet_name(d: SheetDiff) -> str:
    name = t("compare.sheet", sheet=d.sheet) if d.sheet else t("compare.page_only", page=d.new_page or d.old_page)
    if d.split_from:
        name += " " + t("compare.split_from", sheet=d.split_from)
    return name


def sheet_line(d: SheetDiff) -> str:
    pages = t("compare.pages", old=d.old_page or "—", new=d.new_page or "—")
    title = f" «{_q(d.title, 90)}»" if d.title else ""
    count = t("compare.count", count=len(d.changes)) if d.changes else ""
    return t("compare.sheet_line", sheet=sheet_name(d), title=title, pages=pages,
             status=t(f"compare.status.{d.status}"), count=count)


def summary_line(c: Comparison) -> str:
    return t("compare.summary", **{k: v for k, v in c.summary().items() if isinstance(v, int)})


def register_lines(reg: RegisterCheck | None) -> list[str]:
    if reg is None:
        return [t("compare.register.none")]
    pages = ", ".join(str(p) for p in reg.pages or sorted({e.page for e in reg.entries}))
    out = [t("compare.register.header", pages=pages, count=len(reg.entries))]
    if not reg.updated:
        out.append(t("compare.register.not_updated"))
    for e in reg.entries[:30]:
        out.append(t("compare.register.entry", revision=e.revision, sheets=", ".join(e.sheets), text=_q(e.text, 200)))
    if reg.named_unchanged:
        out.append(t("compare.register.named_unchanged", sheets=", ".join(reg.named_unchanged)))
    if reg.changed_unnamed:
        out.append(t("compare.register.changed_unnamed", sheets=", ".join(reg.changed_unnamed)))
    if reg.named_missing:
        out.append(t("compare.register.named_missing", sheets=", ".join(reg.named_missing)))
    if reg.updated and not (reg.named_unchanged or reg.changed_unnamed or reg.named_missing):
        out.append(t("compare.register.consistent"))
    return out
