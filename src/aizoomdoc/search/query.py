"""What a question asks for, beyond its words: list questions, and which rows of a table match.

``is_list_question``: "Найди все/всё …", "перечисли …", "какие … есть", "список …" want every
matching item, not the best few — the pipeline raises ``top_k`` for them and the answer is a list.

``matching_rows``: the rows of a table block ("a | b | c" lines, as the bundle readers give them)
that share a token with the query or its thesaurus expansions — what a list answer shows of a
table that matched as a whole.
"""

from __future__ import annotations

import re

from aizoomdoc.search.analyzer import QueryTokens, analyze, analyze_query, normalize

_ALL = re.compile(r"(?<!\w)(?:все|всё|всех|весь|всю|вся)(?!\w)")
_ENUMERATE = re.compile(r"(?<!\w)(?:перечисл\w*|списо?к\w*|перечень|перечня)(?!\w)")
_WHICH = re.compile(
    r"(?<!\w)какие(?!\w).*(?<!\w)(?:есть|имеются|име[ею]тся|предусмотрен\w*|применен\w*|применя\w*|"
    r"использу\w*|установлен\w*|запроектирован\w*|указан\w*|приведен\w*|показан\w*)(?!\w)"
)


def is_list_question(question: str) -> bool:
    """True for questions that ask for every matching item (see the module doc)."""
    text = normalize(question).lower()
    return bool(_ALL.search(text) or _ENUMERATE.search(text) or _WHICH.search(text))


def _matches(tokens: set[str], q: QueryTokens) -> bool:
    if any(c in tokens for c in q.codes) or any(w in tokens for w in q.words):
        return True
    for alternatives in q.expansions:
        for alt, _weight in alternatives:
            if all(tok in tokens for tok in alt):
                return True
    return False


def table_rows(text: str) -> list[str]:
    """The rows of a table block's text ("a | b | c" lines); [] when it is not one."""
    lines = [" ".join(ln.split()) for ln in text.splitlines() if ln.strip()]
    rows = [ln.strip("| ").strip() for ln in lines if " | " in ln]
    return rows if len(rows) >= 2 and len(rows) >= len(lines) // 2 else []


def matching_rows(text: str, query: str | QueryTokens) -> list[str]:
    """Rows of a table block that match ``query`` (its first row, the header, only if nothing
    else does)."""
    rows = table_rows(text)
    if not rows:
        return []
    q = analyze_query(query) if isinstance(query, str) else query
    if not q:
        return []
    hits = [i for i, row in enumerate(rows) if _matches(set(analyze(row)), q)]
    body = [rows[i] for i in hits if i > 0]
    return body or [rows[i] for i in hits]
