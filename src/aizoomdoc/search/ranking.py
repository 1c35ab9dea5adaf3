"""The ranking rules of a search: how a query's words and codes score the blocks, and what is
promoted, demoted or merged before the top hits are taken.

``bm25s`` builds the index: a sparse token × block matrix of precomputed BM25 weights per *field*
— the block's body, its title (caption or heading, :mod:`aizoomdoc.search.fields`) and the name
of its sheet (one row per sheet, shared by the blocks on it). Search reads those matrices
directly: each query token adds its posting lists to a score vector (one vectorised assignment
per token and field), so the words and the codes of a query are scored separately for free:

- ``score`` = (words + ``CODE_WEIGHT`` × codes) × coverage², where a token counts
  body + ``TITLE_WEIGHT`` × title + ``SHEET_WEIGHT`` × sheet, and coverage is the share of the
  query's IDF mass the block holds (in its body or title; ``SHEET_CREDIT`` of it when only its
  sheet names it): a block with all the rare words of "утеплитель кровли П-1" beats a short one
  that repeats two of them, and a table whose caption names the thing beats one that mentions it;
- blocks are ranked by the codes they contain first, then by ``score``: a block with "П1.1"
  always outranks blocks that only share words with "система П1.1". A code read by OCR with
  look-alike characters («Б2-1З*» for «Б2-13*», see :mod:`aizoomdoc.search.lookalike`) counts at
  ``LOOKALIKE_WEIGHT``, below the exact code and above none;
- index-like blocks (tables of contents, registers, title blocks) that match no better than some
  other block are demoted by ``INDEX_FACTOR``: they list every title, they are not the thing;
- query words expanded by the thesaurus (and a range of floors by its floors): per word, the
  block keeps its best alternative — the word itself (weight 1) or a synonym/narrower term at its
  lower weight, in both the BM25 sum and the coverage — so blocks with the user's own words rank
  first;
- table rows: a cell of a table row (``IndexedBlock.row``) also gets ``ROW_WEIGHT`` × what the
  other cells of its row matched (the row is its context), and one row yields one hit — its best
  cell, whose box is precise — carrying the row's text (``Hit.context``).

Filters (documents, pages, block types) and the final ordering are the index's
(:meth:`aizoomdoc.search.index.SearchIndex.search`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from aizoomdoc.search.analyzer import QueryTokens
from aizoomdoc.search.fields import INDEX_LIKE, STAMP
from aizoomdoc.search.postings import Postings

CODE_WEIGHT = 2.0
#: A token in the block's title counts this much more than in its body (added to the body's).
TITLE_WEIGHT = 1.5
#: A token in the name of the block's sheet (added to the body's and the title's).
SHEET_WEIGHT = 0.6
#: Coverage credit of a query token found only in the sheet's name.
SHEET_CREDIT = 1.0
#: Score factor of the blocks standing for a sheet whose name holds every word of the query
#: (a query naming a sheet lands on its drawing, not on a table that shares a word with it).
SHEET_MAIN_BOOST = 2.0
#: Score factor of blocks of the type the query names («ведомость …» → tables titled «Ведомость …»,
#: «план …» → plans): what the block *is*, from the first word of its title or its image kind.
TYPE_BOOST = 1.5
#: Score factor 1 + TITLE_BONUS × (share of the query's idf mass in the block's title)²: a block
#: whose caption names the thing beats one that mentions it in its body.
TITLE_BONUS = 1.0
#: A code found through OCR look-alikes: share of the exact code's BM25, coverage and rank key.
LOOKALIKE_WEIGHT = 0.5
#: Score factor of index-like blocks when another block covers at least INDEX_RIVAL of what they do.
INDEX_FACTOR = 0.3
INDEX_RIVAL = 0.5
#: Share of the row-mates' score a table cell gets (its row is its context).
ROW_WEIGHT = 0.4


class Scores:
    """The score arrays of one search: per block (direct matches, in the block's body or title) and
    per sheet (matches in the sheet's name, shared by its blocks). Updated sparsely, combined for
    the candidates only."""

    def __init__(self, n: int, groups: int) -> None:
        self.n = n
        self.total = np.zeros(n, dtype=np.float32)
        self.covered = np.zeros(n, dtype=np.float32)
        #: The idf mass of the query each block's title holds (its own words only: ``title_own``).
        self.title_idf = np.zeros(n, dtype=np.float32)
        self.title_own = np.zeros(n, dtype=np.float32)
        self.codes: np.ndarray | None = None
        #: Coverage counted twice for blocks matching a query token in their body *and* their
        #: sheet's name (coverage is the max of the two, not the sum).
        self.overlap: np.ndarray | None = None
        self.sheet = np.zeros(groups + 1, dtype=np.float32)
        #: The idf mass of the query each sheet's name holds.
        self.sheet_idf = np.zeros(groups + 1, dtype=np.float32)
        self.sheet_codes: np.ndarray | None = None
        self.idf_sum = 0.0

    def add_overlap(self, idx: np.ndarray, values: np.ndarray) -> None:
        if self.overlap is None:
            self.overlap = np.zeros(self.n, dtype=np.float32)
        self.overlap[idx] += values


Found = tuple[float, Any, Any, Any]  # (weight, body, title, sheet postings) of one alternative


class FieldScorer:
    """Scores a query over the three fields of an index (body, title, sheet name): per query slot
    (a word with its expansions, a code with its look-alikes) the best alternative per block."""

    def __init__(self, body: Postings, title: Postings, sheet: Postings, group: np.ndarray, groups: int,
                 n: int) -> None:
        self._body, self._title, self._sheet = body, title, sheet
        #: Block -> its sheet's row in the sheet field (``groups``: the zero slot of blocks without one).
        self._group = group
        self._groups = groups
        self._n = n

    def _lookup(self, alternatives: Sequence[tuple[tuple[str, ...], float]]) -> tuple[list[Found], float]:
        """The posting lists of a slot's alternatives, and the idf the slot weighs in the coverage:
        its own token's (body, title or sheet), else its best alternative's (a word absent from
        the corpus counts by its alternatives)."""
        found: list[Found] = []
        idf = 0.0
        for tokens, w in alternatives:
            b, t, s = self._body.tokens(tokens), self._title.tokens(tokens), self._sheet.tokens(tokens)
            if b is None and t is None and s is None:
                continue
            found.append((w, b, t, s))
            if not idf:
                idf = next(f[2] for f in (b, t, s) if f is not None)
        return found, idf

    def _slot(self, acc: Scores, found: list[Found], slot_idf: float, weight: float = 1.0,
              code_rank: bool = False) -> None:
        """Add one query slot (a word, or a code) to the scores: for each block the best of the
        slot's alternatives, each counting body + title (+ sheet, per sheet)."""
        idf = np.float32(slot_idf)
        if len(found) == 1 and found[0][0] == 1.0:
            _w, b, t, s = found[0]
            scale = np.float32(weight)
            if b is not None:
                acc.total[b[0]] += scale * b[1]
                acc.covered[b[0]] += idf
            if t is not None:
                acc.total[t[0]] += scale * np.float32(TITLE_WEIGHT) * t[1]
                acc.title_idf[t[0]] += idf
                acc.title_own[t[0]] += idf
            if s is not None:
                acc.sheet[s[0]] += scale * np.float32(SHEET_WEIGHT) * s[1]
                acc.sheet_idf[s[0]] += idf * np.float32(SHEET_CREDIT)
                if b is not None:
                    has = np.zeros(self._groups + 1, dtype=bool)
                    has[s[0]] = True
                    both = b[0][has[self._group[b[0]]]]
                    if both.size:
                        acc.add_overlap(both, np.full(both.size, idf * np.float32(SHEET_CREDIT), dtype=np.float32))
            if code_rank:
                if acc.codes is None:
                    acc.codes = np.zeros(acc.n, dtype=np.float32)
                if b is not None:
                    acc.codes[b[0]] += np.float32(1.0)
                if s is not None:
                    self._sheet_code(acc, s[0], LOOKALIKE_WEIGHT)
            return
        # Several alternatives (thesaurus terms, floors of a range, a code and its look-alikes):
        # per block the best one.
        n = acc.n
        best = np.zeros(n, dtype=np.float32)
        credit = np.zeros(n, dtype=np.float32)
        title_credit: np.ndarray | None = None
        sheet_best = np.zeros(self._groups + 1, dtype=np.float32)
        sheet_credit = np.zeros(self._groups + 1, dtype=np.float32)
        for w, b, t, s in found:
            scale = np.float32(w * weight)
            if b is not None:
                best[b[0]] = np.maximum(best[b[0]], scale * b[1])
                credit[b[0]] = np.maximum(credit[b[0]], np.float32(w))
            if t is not None:
                acc.total[t[0]] += scale * np.float32(TITLE_WEIGHT) * t[1]
                if title_credit is None:
                    title_credit = np.zeros(n, dtype=np.float32)
                title_credit[t[0]] = np.maximum(title_credit[t[0]], np.float32(w))
                if w == 1.0:
                    acc.title_own[t[0]] += idf
            if s is not None:
                sheet_best[s[0]] = np.maximum(sheet_best[s[0]], scale * np.float32(SHEET_WEIGHT) * s[1])
                sheet_credit[s[0]] = np.maximum(sheet_credit[s[0]], np.float32(w * SHEET_CREDIT))
        acc.total += best
        acc.covered += credit * idf
        if title_credit is not None:
            acc.title_idf += title_credit * idf
        if sheet_best.any():
            acc.sheet += sheet_best
            acc.sheet_idf += sheet_credit * idf
            direct = np.flatnonzero(credit)
            both = sheet_credit[self._group[direct]]
            keep = both > 0
            if keep.any():
                acc.add_overlap(direct[keep], np.minimum(credit[direct[keep]], both[keep]) * idf)
        if code_rank:
            if acc.codes is None:
                acc.codes = np.zeros(n, dtype=np.float32)
            # Exact in the block: 1; only its look-alike: less.
            acc.codes += np.where(credit >= 1.0, np.float32(1.0), np.float32(LOOKALIKE_WEIGHT) * (credit > 0))
            groups = np.flatnonzero(sheet_credit)
            if groups.size:
                self._sheet_code(acc, groups, LOOKALIKE_WEIGHT * float(sheet_credit.max()))

    def _sheet_code(self, acc: Scores, groups: np.ndarray, value: float) -> None:
        """A code found only in the sheet's name ranks its blocks like a look-alike."""
        if acc.sheet_codes is None:
            acc.sheet_codes = np.zeros(self._groups + 1, dtype=np.float32)
        acc.sheet_codes[groups] += np.float32(value)

    def score(self, q: QueryTokens) -> Scores:
        acc = Scores(self._n, self._groups)
        for i, word in enumerate(q.words):
            found, idf = self._lookup([((word,), 1.0), *(q.expansions[i] if q.expansions else ())])
            if idf:
                acc.idf_sum += idf
                self._slot(acc, found, idf)
        for j, code in enumerate(q.codes):
            alternatives = [((code,), 1.0)]
            alternatives.extend(((alike,), LOOKALIKE_WEIGHT) for alike in (q.lookalikes[j] if q.lookalikes else ()))
            found, idf = self._lookup(alternatives)
            if idf:
                acc.idf_sum += idf
                self._slot(acc, found, idf, CODE_WEIGHT, code_rank=True)
        return acc


def demote_index_like(flags: np.ndarray, coverage: np.ndarray, titled: np.ndarray,
                       scores: np.ndarray) -> np.ndarray | None:
    """Index-like candidates (tables of contents, registers, title blocks) get ``INDEX_FACTOR`` of
    their score (in place) when another candidate covers at least half as much of the query — a
    list names every sheet and table, the thing itself is elsewhere — unless their own title
    names what is asked («ведомость рабочих чертежей»: the list is the thing). Returns the mask of
    the demoted ones."""
    marked = (flags & (INDEX_LIKE | STAMP)) != 0
    if not marked.any() or marked.all():
        return None
    best_other = float(coverage[~marked].max())
    demote = marked & (coverage * np.float32(INDEX_RIVAL) <= best_other + 1e-3) & (titled < np.float32(0.8))
    scores[demote] *= np.float32(INDEX_FACTOR)
    return demote


def share_rows(
    rows: np.ndarray, total: np.ndarray, covered: np.ndarray, codes: np.ndarray | None, n_codes: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Each matching cell of a table row gets ``ROW_WEIGHT`` of what its row-mates matched (BM25
    and coverage); the codes of the row count for every cell (it *is* the "В2" row). Arrays are
    the candidates' (changed in place); ``rows`` = -1 for blocks outside tables."""
    gi = np.flatnonzero(rows >= 0)
    if gi.size < 2:
        return total, covered, codes
    _uniq, inv, counts = np.unique(rows[gi], return_inverse=True, return_counts=True)
    if counts.max() < 2:
        return total, covered, codes
    w = np.float32(ROW_WEIGHT)
    own = total[gi]
    total[gi] = own + w * (np.bincount(inv, weights=own)[inv].astype(np.float32) - own)
    own = covered[gi]
    covered[gi] = own + w * (np.bincount(inv, weights=own)[inv].astype(np.float32) - own)
    if codes is not None:
        row_codes = np.bincount(inv, weights=codes[gi])[inv]
        codes[gi] = np.minimum(row_codes, n_codes).astype(codes.dtype)
    return total, covered, codes


def best_of_rows(rows: np.ndarray, key: np.ndarray) -> np.ndarray | None:
    """Positions to keep so that each table row is one hit (its best cell); None: keep all."""
    gi = np.flatnonzero(rows >= 0)
    if gi.size < 2:
        return None
    g = rows[gi]
    order = np.lexsort((-key[gi], g))
    gs = g[order]
    first = np.empty(gs.size, dtype=bool)
    first[0] = True
    np.not_equal(gs[1:], gs[:-1], out=first[1:])
    if first.all():
        return None
    keep = np.ones(rows.size, dtype=bool)
    keep[gi[order[~first]]] = False
    return np.flatnonzero(keep)
