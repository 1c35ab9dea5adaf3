"""BM25 over block texts (bm25s), several documents at once, codes ranked above words.

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
  cell, whose box is precise — carrying the row's text (``Hit.context``);
- filters (documents, 1-based pages, block types) are boolean masks over per-block arrays.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from aizoomdoc.documents.model import Block, Document, SheetInfo
from aizoomdoc.search.analyzer import ANALYZER_VERSION, QueryTokens, analyze, analyze_query
from aizoomdoc.search.fields import (
    DRAWING,
    INDEX_LIKE,
    MAIN,
    STAMP,
    TYPE_STEMS,
    block_flags,
    block_title,
    sheet_title,
    title_type,
)

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG on import; its progress chatter is not for our users.
logging.getLogger("bm25s").setLevel(logging.WARNING)

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
INDEX_FORMAT = 4
_TYPES = ("text", "table", "image")
_FIELDS = ("body", "title", "sheet")


@dataclass(frozen=True)
class IndexedBlock:
    """What the index keeps of a block (enough to show and locate a hit, and to weigh it)."""

    document_id: str
    block_id: str
    page_index: int
    block_type: str
    text: str
    coords_norm: tuple[float, float, float, float]
    has_coords: bool = True
    #: The table row the block is a cell of ("" when none; unique within its document) and the
    #: row's text ("В2 | Вентилятор вытяжной канальный L=2000 м³/ч | ВКРМ-4 | 1").
    row: str = ""
    context: str = ""
    #: The caption or heading naming the block, the name of its sheet, and INDEX_LIKE/STAMP bits
    #: (see :mod:`aizoomdoc.search.fields`).
    title: str = ""
    sheet: str = ""
    flags: int = 0

    @classmethod
    def from_block(cls, document_id: str, block: Block, sheet: SheetInfo | dict[str, Any] | None = None) -> IndexedBlock:
        return indexed_block(document_id, block.id, block.page_index, block.block_type, block.text,
                             tuple(block.coords_norm), block.has_coords, block.extra, sheet)  # type: ignore[arg-type]


def indexed_block(document_id: str, block_id: str, page_index: int, block_type: str, text: str,
                  coords_norm: tuple[float, float, float, float], has_coords: bool,
                  extra: dict[str, Any] | None, sheet: SheetInfo | dict[str, Any] | None) -> IndexedBlock:
    """An :class:`IndexedBlock` with its row, title, sheet name and flags worked out."""
    row, context = row_of(extra)
    title = block_title(text, block_type, extra)
    return IndexedBlock(document_id, block_id, page_index, block_type, text, coords_norm, has_coords, row, context,
                        title, sheet_title(sheet), block_flags(text, title, extra))


def row_of(extra: dict[str, Any] | None) -> tuple[str, str]:
    """(row id, row text) of a block's ``extra`` (readers set ``row_id`` and ``row_text``)."""
    if not extra:
        return "", ""
    row, text = extra.get("row_id"), extra.get("row_text")
    if not row or not text:
        return "", ""
    return str(row), str(text)


@dataclass
class Hit:
    document_id: str
    block_id: str
    page_index: int
    block_type: str
    text: str
    score: float
    coords_norm: tuple[float, float, float, float]
    #: How many distinct codes of the query the block contains (the first ranking key).
    code_matches: int = 0
    has_coords: bool = True
    #: The whole table row when the block is a cell of one ("" otherwise).
    context: str = ""

    @property
    def page_number(self) -> int:
        return self.page_index + 1

    @property
    def display_text(self) -> str:
        """What to show for the hit: the whole row for a table cell, else the block's text."""
        return self.context or self.text

    def to_dict(self) -> dict[str, Any]:
        extra = {"row_text": self.context} if self.context else {}
        return {
            "document_id": self.document_id,
            "block_id": self.block_id,
            "page_number": self.page_number,
            "page_index": self.page_index,
            "block_type": self.block_type,
            "text": self.text,
            "score": round(float(self.score), 4),
            "coords_norm": [round(float(c), 6) for c in self.coords_norm],
            **extra,
        }


class _VectorBM25(bm25s.BM25):
    """bm25s with its documented extension point ``build_index_from_ids`` vectorised (numpy).

    bm25s builds the matrix with Python loops over documents (about 0.3 s for 6,000 blocks);
    here one ``np.unique`` over (token, block) keys yields the CSC matrix in order directly —
    same formulas (Lucene idf and tf), same ``scores`` layout, so save/load/retrieve are bm25s's.
    """

    def build_index_from_ids(self, unique_token_ids, corpus_token_ids, show_progress=True,  # type: ignore[override]
                             leave_progress=False):
        if self.method != "lucene" or self.idf_method != "lucene":
            return super().build_index_from_ids(unique_token_ids, corpus_token_ids, show_progress, leave_progress)
        self.nonoccurrence_array = None
        n_docs, n_vocab = len(corpus_token_ids), len(unique_token_ids)
        lengths = np.fromiter((len(d) for d in corpus_token_ids), dtype=np.int64, count=n_docs)
        avg = float(lengths.mean()) if n_docs and lengths.sum() else 1.0
        flat = np.fromiter(itertools.chain.from_iterable(corpus_token_ids), dtype=np.int64, count=int(lengths.sum()))
        keys = flat * max(n_docs, 1) + np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        uniq, tf = np.unique(keys, return_counts=True)  # sorted by token, then block: CSC order
        tok, doc = np.divmod(uniq, max(n_docs, 1))
        df = np.bincount(tok, minlength=n_vocab)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        tfc = tf / (self.k1 * ((1 - self.b) + self.b * lengths[doc] / avg) + tf)
        indptr = np.zeros(n_vocab + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        return {
            "data": (idf[tok] * tfc).astype(self.dtype),
            "indices": doc.astype(self.int_dtype),
            "indptr": indptr,
            "num_docs": n_docs,
        }


class IndexLoadError(Exception):
    """A saved index is missing, from another analyzer version, or damaged: rebuild it."""


class _Postings:
    """One field's BM25 matrix (CSC: a token's column lists the rows holding it)."""

    def __init__(self, retriever: bm25s.BM25 | None) -> None:
        self.retriever = retriever
        if retriever is not None:
            sc = retriever.scores
            self.data = np.asarray(sc["data"])
            self.indices = np.asarray(sc["indices"])
            self.indptr = np.asarray(sc["indptr"])
            self.vocab: dict[str, int] = retriever.vocab_dict
            self.n = int(sc["num_docs"])
        else:
            self.data = self.indices = self.indptr = np.zeros(0)
            self.vocab = {}
            self.n = 0

    @classmethod
    def build(cls, corpus: Sequence[list[str]]) -> _Postings:
        if not any(corpus):
            return cls(None)
        retriever = _VectorBM25(method="lucene", k1=1.2, b=0.75)
        retriever.index(list(corpus), show_progress=False)
        return cls(retriever)

    def token(self, token: str) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(row indices, BM25 weights, idf) of a token's posting list, or None."""
        tid = self.vocab.get(token)
        if tid is None or token == "":
            return None
        start, end = int(self.indptr[tid]), int(self.indptr[tid + 1])
        if start == end:
            return None
        df = end - start
        idf = float(np.log1p((self.n - df + 0.5) / (df + 0.5)))
        return self.indices[start:end], self.data[start:end], idf

    def tokens(self, tokens: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, float] | None:
        """Rows holding every token (a thesaurus phrase): the intersection of their posting lists,
        scored by the mean of the tokens' BM25 and idf."""
        first = self.token(tokens[0])
        if first is None or len(tokens) == 1:
            return first
        idx, data, idf = first
        for tok in tokens[1:]:
            nxt = self.token(tok)
            if nxt is None:
                return None
            idx, ia, ib = np.intersect1d(idx, nxt[0], assume_unique=True, return_indices=True)
            if idx.size == 0:
                return None
            data = data[ia] + nxt[1][ib]
            idf += nxt[2]
        m = np.float32(len(tokens))
        return idx, data / m, idf / float(m)

    def nbytes(self) -> int:
        vocab = sys.getsizeof(self.vocab) + sum(sys.getsizeof(k) + 28 for k in self.vocab)
        return self.data.nbytes + self.indices.nbytes + self.indptr.nbytes + vocab


class _Scores:
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


_Found = tuple[float, Any, Any, Any]  # (weight, body, title, sheet postings) of one alternative


class SearchIndex:
    """A BM25 index over the blocks of one or more documents."""

    def __init__(self, blocks: list[IndexedBlock], fields: dict[str, _Postings] | None = None,
                 groups: np.ndarray | None = None) -> None:
        self.blocks = blocks
        fields = fields or {}
        self._body = fields.get("body") or _Postings(None)
        self._title = fields.get("title") or _Postings(None)
        self._sheet = fields.get("sheet") or _Postings(None)
        self._retriever = self._body.retriever
        doc_ids = sorted({b.document_id for b in blocks})
        self._doc_ids = doc_ids
        doc_pos = {d: i for i, d in enumerate(doc_ids)}
        n = len(blocks)
        self._doc_idx = np.fromiter((doc_pos[b.document_id] for b in blocks), dtype=np.int32, count=n)
        self._page_no = np.fromiter((b.page_index + 1 for b in blocks), dtype=np.int32, count=n)
        self._type_idx = np.fromiter(
            (_TYPES.index(b.block_type) if b.block_type in _TYPES else 0 for b in blocks), dtype=np.int8, count=n
        )
        self._flags = np.fromiter((b.flags for b in blocks), dtype=np.int8, count=n)
        types: dict[str, int] = {}
        self._type_word = np.fromiter(
            (types.setdefault(title_type(analyze(b.title)), len(types)) if b.title else -1 for b in blocks),
            dtype=np.int16, count=n,
        )
        self._type_ids = {k: v for k, v in types.items() if k}
        self._has_flags = bool(self._flags.any())
        rows: dict[tuple[str, str], int] = {}
        self._row = np.fromiter(
            (rows.setdefault((b.document_id, b.row), len(rows)) if b.row else -1 for b in blocks),
            dtype=np.int32, count=n,
        )
        self._has_rows = bool(rows)
        # Block -> its sheet's row in the sheet field; ``_sheet.n`` (a zero slot) when none.
        self._groups = self._sheet.n
        self._group = groups if groups is not None else np.full(n, self._groups, dtype=np.int32)
        # Sheet -> its blocks (CSR), for the blocks that match through their sheet only.
        self._group_blocks = np.argsort(self._group, kind="stable").astype(np.int32)
        self._group_ptr = np.zeros(self._groups + 2, dtype=np.int64)
        np.cumsum(np.bincount(self._group, minlength=self._groups + 1), out=self._group_ptr[1:])

    # --- building ----------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        items: Iterable[Document | IndexedBlock],
        *,
        tokens: Sequence[list[str]] | None = None,
    ) -> SearchIndex:
        """Index documents (all their blocks) and/or single blocks.

        ``tokens``: the analysed tokens of each block's body, when already known (same order).
        """
        blocks: list[IndexedBlock] = []
        for item in items:
            if isinstance(item, Document):
                sheets = {p.page_index: p.sheet for p in item.pages}
                blocks.extend(IndexedBlock.from_block(item.id, b, sheets.get(b.page_index)) for b in item.blocks)
            else:
                blocks.append(item)
        if not blocks:
            return cls([])
        corpus = list(tokens) if tokens is not None else [analyze(b.text) for b in blocks]
        if len(corpus) != len(blocks):
            raise ValueError("tokens must have one list per block")
        titles = [analyze(b.title) if b.title else [] for b in blocks]
        blocks = _mark_main_blocks(blocks, titles)
        keys: dict[tuple[str, str], int] = {}
        sheet_texts: list[str] = []
        for b in blocks:
            if b.sheet and (b.document_id, b.sheet) not in keys:
                keys[(b.document_id, b.sheet)] = len(sheet_texts)
                sheet_texts.append(b.sheet)
        sheet_field = _Postings.build([analyze(t) for t in sheet_texts])
        none = sheet_field.n
        groups = np.fromiter((keys.get((b.document_id, b.sheet), none) if b.sheet else none for b in blocks),
                             dtype=np.int32, count=len(blocks))
        if sheet_field.retriever is None:
            groups[:] = 0
        fields = {"body": _Postings.build(corpus), "title": _Postings.build(titles), "sheet": sheet_field}
        return cls(blocks, fields, groups)

    # --- searching ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.blocks)

    @property
    def document_ids(self) -> list[str]:
        return list(self._doc_ids)

    def _mask(
        self,
        document_ids: Iterable[str] | None,
        pages: Iterable[int] | None,
        block_types: Iterable[str] | None,
        candidates: np.ndarray,
    ) -> np.ndarray | None:
        """Which ``candidates`` pass the filters (None: all)."""
        mask: np.ndarray | None = None
        if document_ids is not None:
            wanted = [self._doc_ids.index(d) for d in set(document_ids) if d in self._doc_ids]
            if len(wanted) < len(self._doc_ids):
                mask = np.isin(self._doc_idx[candidates], np.asarray(wanted, dtype=np.int32))
        if pages is not None:
            m = np.isin(self._page_no[candidates], np.asarray(list(pages), dtype=np.int32))
            mask = m if mask is None else mask & m
        if block_types is not None:
            wanted_t = [_TYPES.index(t) for t in block_types if t in _TYPES]
            m = np.isin(self._type_idx[candidates], np.asarray(wanted_t, dtype=np.int8))
            mask = m if mask is None else mask & m
        return mask

    def _lookup(self, alternatives: Sequence[tuple[tuple[str, ...], float]]) -> tuple[list[_Found], float]:
        """The posting lists of a slot's alternatives, and the idf the slot weighs in the coverage:
        its own token's (body, title or sheet), else its best alternative's (a word absent from
        the corpus counts by its alternatives)."""
        found: list[_Found] = []
        idf = 0.0
        for tokens, w in alternatives:
            b, t, s = self._body.tokens(tokens), self._title.tokens(tokens), self._sheet.tokens(tokens)
            if b is None and t is None and s is None:
                continue
            found.append((w, b, t, s))
            if not idf:
                idf = next(f[2] for f in (b, t, s) if f is not None)
        return found, idf

    def _slot(self, acc: _Scores, found: list[_Found], slot_idf: float, weight: float = 1.0,
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

    def _sheet_code(self, acc: _Scores, groups: np.ndarray, value: float) -> None:
        """A code found only in the sheet's name ranks its blocks like a look-alike."""
        if acc.sheet_codes is None:
            acc.sheet_codes = np.zeros(self._groups + 1, dtype=np.float32)
        acc.sheet_codes[groups] += np.float32(value)

    def _score(self, q: QueryTokens) -> _Scores:
        acc = _Scores(len(self.blocks), self._groups)
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

    def _candidates(self, acc: _Scores) -> np.ndarray:
        """Blocks matching directly, and the blocks of sheets whose name matches where no block
        of that sheet matches by itself (the sheet is then the only evidence)."""
        direct = np.flatnonzero(acc.total > 0)
        matched = acc.sheet > 0
        matched[self._groups] = False
        if not matched.any():
            return direct
        has = np.zeros(self._groups + 1, dtype=bool)
        has[self._group[direct]] = True
        only = np.flatnonzero(matched & ~has)
        if only.size == 0:
            return direct
        starts, ends = self._group_ptr[only], self._group_ptr[only + 1]
        extra = np.concatenate([self._group_blocks[a:z] for a, z in zip(starts.tolist(), ends.tolist())])
        return np.sort(np.concatenate([direct, extra]))

    def search(
        self,
        query: str,
        top_k: int = 10,
        document_ids: Iterable[str] | None = None,
        pages: Iterable[int] | None = None,
        block_types: Iterable[str] | None = None,
        *,
        expand: bool = True,
    ) -> list[Hit]:
        """The best ``top_k`` blocks for ``query``.

        ``document_ids``: only these documents; ``pages``: only these 1-based page numbers;
        ``block_types``: only "text"/"table"/"image"; ``expand``: use the thesaurus. Blocks sharing
        no token (nor an expansion) with the query are never returned; a table row is one hit.
        """
        if not self.blocks or top_k <= 0:
            return []
        q = analyze_query(query, expand=expand)
        if not q:
            return []
        acc = self._score(q)
        candidates = self._candidates(acc)
        mask = self._mask(document_ids, pages, block_types, candidates)
        if mask is not None:
            candidates = candidates[mask]
        if candidates.size == 0:
            return []
        groups = self._group[candidates]
        cand_total = acc.total[candidates] + acc.sheet[groups]
        cand_covered = acc.covered[candidates] + acc.sheet_idf[groups]
        if acc.overlap is not None:
            cand_covered -= acc.overlap[candidates]
        cand_codes = acc.codes[candidates] if acc.codes is not None else None
        if acc.sheet_codes is not None:
            sheet_codes = acc.sheet_codes[groups]
            cand_codes = sheet_codes if cand_codes is None else np.maximum(cand_codes, sheet_codes)
        row_ids = self._row[candidates] if self._has_rows else None
        if row_ids is not None:
            cand_total, cand_covered, cand_codes = _share_rows(row_ids, cand_total, cand_covered, cand_codes,
                                                               len(q.codes))
        flags = self._flags[candidates] if self._has_flags else None
        coverage = np.minimum(cand_covered / np.float32(acc.idf_sum or 1.0), np.float32(1.0))
        scores = cand_total * coverage * coverage
        titled = np.minimum(acc.title_idf[candidates] / np.float32(acc.idf_sum or 1.0), np.float32(1.0))
        scores *= np.float32(1.0) + np.float32(TITLE_BONUS) * titled * titled
        if flags is not None:
            own = acc.title_own[candidates] / np.float32(acc.idf_sum or 1.0)
            demoted = _demote_index_like(flags, coverage, own, scores)
            if demoted is not None and cand_codes is not None:
                cand_codes[demoted] *= np.float32(0.5)
            covering = acc.sheet_idf >= np.float32(0.999 * acc.idf_sum)
            if covering.any():
                main = ((flags & MAIN) != 0) & covering[self._group[candidates]]
                scores[main] *= np.float32(SHEET_MAIN_BOOST)
        named = {title_type([w]) for w in q.words if w in TYPE_STEMS}
        wanted = [self._type_ids[w] for w in named if w in self._type_ids]
        if wanted:
            scores[np.isin(self._type_word[candidates], np.asarray(wanted, dtype=np.int16))] *= np.float32(TYPE_BOOST)
        key = scores.astype(np.float64)
        if cand_codes is not None:
            key = key + cand_codes.astype(np.float64) * (float(scores.max()) + 1.0)
        if row_ids is not None:
            keep = _best_of_rows(row_ids, key)
            if keep is not None:
                candidates, scores, key = candidates[keep], scores[keep], key[keep]
                if cand_codes is not None:
                    cand_codes = cand_codes[keep]
        if candidates.size > top_k:
            part = np.argpartition(-key, top_k - 1)[:top_k]
        else:
            part = np.arange(candidates.size)
        order = part[np.argsort(-key[part], kind="stable")]
        hits = []
        for j in order:
            b = self.blocks[int(candidates[j])]
            exact = int(math.floor(float(cand_codes[j]) + 1e-6)) if cand_codes is not None else 0
            hits.append(Hit(
                b.document_id, b.block_id, b.page_index, b.block_type, b.text, float(scores[j]),
                b.coords_norm, exact, b.has_coords, b.context,
            ))
        return hits

    # --- persistence -------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the index to ``directory`` (replaced atomically)."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=directory.parent))
        try:
            for name, field in zip(_FIELDS, (self._body, self._title, self._sheet)):
                if field.retriever is not None:
                    field.retriever.save(str(tmp / f"bm25_{name}"), show_progress=False)
            # Per-block columns: numbers as one .npz, strings as JSON lists (fast to write/read).
            np.savez(tmp / "blocks.npz", doc_idx=self._doc_idx, page_index=self._page_no - 1,
                     type_idx=self._type_idx, flags=self._flags, groups=self._group,
                     has_coords=np.fromiter((b.has_coords for b in self.blocks), dtype=bool, count=len(self.blocks)),
                     coords=np.asarray([b.coords_norm for b in self.blocks], dtype=np.float64).reshape(-1, 4))
            strings = {"block_ids": [b.block_id for b in self.blocks], "texts": [b.text for b in self.blocks],
                       "rows": [b.row for b in self.blocks], "contexts": [b.context for b in self.blocks],
                       "titles": [b.title for b in self.blocks], "sheets": [b.sheet for b in self.blocks]}
            (tmp / "blocks.json").write_text(json.dumps(strings, ensure_ascii=False, separators=(",", ":")),
                                             encoding="utf-8")
            meta = {"format": INDEX_FORMAT, "analyzer": ANALYZER_VERSION, "blocks": len(self.blocks),
                    "documents": self._doc_ids}
            (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            if directory.exists():
                old = directory.with_name(directory.name + ".old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(directory, old)
                os.replace(tmp, directory)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, directory)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> SearchIndex:
        directory = Path(directory)
        try:
            meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
            if meta.get("format") != INDEX_FORMAT or meta.get("analyzer") != ANALYZER_VERSION:
                raise IndexLoadError(f"{directory}: built by another version")
            strings = json.loads((directory / "blocks.json").read_text(encoding="utf-8"))
            doc_ids = list(meta["documents"])
            with np.load(directory / "blocks.npz") as arrays:
                doc_idx = arrays["doc_idx"].tolist()
                pages = arrays["page_index"].tolist()
                types = arrays["type_idx"].tolist()
                flags = arrays["flags"].tolist()
                groups = np.asarray(arrays["groups"], dtype=np.int32)
                has_coords = arrays["has_coords"].tolist()
                coords = [tuple(c) for c in arrays["coords"].tolist()]
            blocks = [
                IndexedBlock(doc_ids[d], bid, p, _TYPES[t], text, c, h, row, context, title, sheet, f)  # type: ignore[arg-type]
                for d, bid, p, t, text, c, h, row, context, title, sheet, f in zip(
                    doc_idx, strings["block_ids"], pages, types, strings["texts"], coords, has_coords,
                    strings["rows"], strings["contexts"], strings["titles"], strings["sheets"], flags)
            ]
            fields: dict[str, _Postings] = {}
            for name in _FIELDS:
                path = directory / f"bm25_{name}"
                if path.exists():
                    fields[name] = _Postings(bm25s.BM25.load(str(path), mmap=False, show_progress=False))
        except IndexLoadError:
            raise
        except (OSError, ValueError, KeyError, IndexError, TypeError, EOFError) as exc:
            raise IndexLoadError(f"{directory}: {exc}") from exc
        if len(blocks) != meta.get("blocks") or (blocks and "body" not in fields):
            raise IndexLoadError(f"{directory}: block count mismatch")
        return cls(blocks, fields, groups)

    # --- sizes -------------------------------------------------------------------------------
    def memory_bytes(self) -> int:
        """Approximate resident size: score matrices, vocabularies, per-block arrays and texts."""
        arrays = sum(a.nbytes for a in (self._doc_idx, self._page_no, self._type_idx, self._row, self._flags,
                                        self._group))
        fields = sum(f.nbytes() for f in (self._body, self._title, self._sheet))
        blocks = sum(sys.getsizeof(b.text) + sys.getsizeof(b.block_id) + sys.getsizeof(b.context)
                     + sys.getsizeof(b.title) + 200 for b in self.blocks)
        return arrays + fields + blocks


def _mark_main_blocks(blocks: list[IndexedBlock], titles: Sequence[list[str]]) -> list[IndexedBlock]:
    """Set ``MAIN`` on the blocks standing for their sheet: its drawings; on a sheet without
    drawings, the block whose title shares two words or more with the sheet's name (the most),
    else its longest block."""
    pages: dict[tuple[str, int], list[int]] = {}
    for k, b in enumerate(blocks):
        if b.sheet:
            pages.setdefault((b.document_id, b.page_index), []).append(k)
    out = list(blocks)
    for members in pages.values():
        main = [k for k in members if blocks[k].flags & DRAWING]
        if not main:
            plain = [k for k in members if not blocks[k].flags & (INDEX_LIKE | STAMP)]
            if plain:
                sheet = set(analyze(blocks[plain[0]].sheet))
                shared = {k: len(sheet.intersection(titles[k])) for k in plain}
                best = max(plain, key=lambda k: (shared[k], len(blocks[k].text)))
                main = [best if shared[best] >= 2 else max(plain, key=lambda k: len(blocks[k].text))]
        for k in main:
            out[k] = replace(blocks[k], flags=blocks[k].flags | MAIN)
    return out


def _demote_index_like(flags: np.ndarray, coverage: np.ndarray, titled: np.ndarray,
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


def _share_rows(
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


def _best_of_rows(rows: np.ndarray, key: np.ndarray) -> np.ndarray | None:
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


def directory_size(directory: str | Path) -> int:
    return sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file())
