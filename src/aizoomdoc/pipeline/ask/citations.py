"""Which hits an answer cites: those whose block id the answer names, else the first few hits.

Hits for look-alike codes (named apart in a direct answer) are never cited.
"""

from __future__ import annotations

from aizoomdoc.pipeline.ask.hits import coords
from aizoomdoc.pipeline.ask.turn import Turn
from aizoomdoc.pipeline.events import Citation

#: Citations of an answer that names no block id: the first hits, at most this many.
DEFAULT_CITATIONS = 5


def citations(turn: Turn, answer: str) -> list[Citation]:
    """The citations of ``answer`` among the turn's hits (and blocks found later by the model)."""
    candidates = [f for f in [*turn.hits, *turn.found_later.values()]
                  if (f.document.id, f.block.id) not in turn.similar]
    mentioned = [f for f in candidates if f.block.id and f.block.id in answer]
    chosen = mentioned or candidates[: max(1, min(len(candidates), DEFAULT_CITATIONS))]
    seen: set[tuple[str, str]] = set()
    out = []
    for f in chosen:
        k = (f.document.id, f.block.id)
        if k in seen:
            continue
        seen.add(k)
        out.append(Citation(f.document.id, f.block.id, f.block.page_number,
                            coords(f.block.coords_norm) if f.block.has_coords else None,
                            document_title=f.document.title or None))
    return out
