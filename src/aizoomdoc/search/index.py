"""BM25 over block texts (bm25s), several documents at once, codes ranked above words.

``bm25s`` builds the index (a sparse token × block matrix of precomputed BM25 weights). Search
reads that matrix directly: each query token adds its posting list to a score vector (one
vectorised assignment per token — posting lists hold each block once), so the words and the codes
of a query are scored separately for free:

- ``score`` = (BM25 of the words + ``CODE_WEIGHT`` × BM25 of the codes) × coverage², where
  coverage is the share of the query's IDF mass the block contains: a block with all the rare
  words of "утеплитель кровли П-1" beats a short one that repeats two of them;
- blocks are ranked by the number of distinct query codes they contain first, then by ``score``:
  a block with "П1.1" always outranks blocks that only share words with "система П1.1";
- query words expanded by the thesaurus: per word, the block keeps its best alternative —
  the word itself (weight 1) or a synonym/narrower term at its lower weight, in both the BM25
  sum and the coverage — so blocks with the user's own words rank first;
- table rows: a cell of a table row (``IndexedBlock.row``) also gets ``ROW_WEIGHT`` × what the
  other cells of its row matched (the row is its context), and one row yields one hit — its best
  cell, whose box is precise — carrying the row's text (``Hit.context``);
- filters (documents, 1-based pages, block types) are boolean masks over per-block arrays.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from aizoomdoc.documents.model import Block, Document
from aizoomdoc.search.analyzer import ANALYZER_VERSION, analyze, analyze_query

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG on import; its progress chatter is not for our users.
logging.getLogger("bm25s").setLevel(logging.WARNING)

CODE_WEIGHT = 2.0
#: Share of the row-mates' score a table cell gets (its row is its context).
ROW_WEIGHT = 0.4
INDEX_FORMAT = 3
_TYPES = ("text", "table", "image")


@dataclass(frozen=True)
class IndexedBlock:
    """What the index keeps of a block (enough to show and locate a hit)."""

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

    @classmethod
    def from_block(cls, document_id: str, block: Block) -> IndexedBlock:
        row, context = row_of(block.extra)
        return cls(document_id, block.id, block.page_index, block.block_type, block.text,
                   tuple(block.coords_norm), block.has_coords, row, context)  # type: ignore[arg-type]


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


class SearchIndex:
    """A BM25 index over the blocks of one or more documents."""

    def __init__(self, blocks: list[IndexedBlock], retriever: bm25s.BM25 | None) -> None:
        self.blocks = blocks
        self._retriever = retriever
        doc_ids = sorted({b.document_id for b in blocks})
        self._doc_ids = doc_ids
        doc_pos = {d: i for i, d in enumerate(doc_ids)}
        n = len(blocks)
        self._doc_idx = np.fromiter((doc_pos[b.document_id] for b in blocks), dtype=np.int32, count=n)
        self._page_no = np.fromiter((b.page_index + 1 for b in blocks), dtype=np.int32, count=n)
        self._type_idx = np.fromiter(
            (_TYPES.index(b.block_type) if b.block_type in _TYPES else 0 for b in blocks), dtype=np.int8, count=n
        )
        rows: dict[tuple[str, str], int] = {}
        self._row = np.fromiter(
            (rows.setdefault((b.document_id, b.row), len(rows)) if b.row else -1 for b in blocks),
            dtype=np.int32, count=n,
        )
        self._has_rows = bool(rows)
        if retriever is not None:
            sc = retriever.scores
            self._data = np.asarray(sc["data"])
            self._indices = np.asarray(sc["indices"])
            self._indptr = np.asarray(sc["indptr"])
            self._vocab: dict[str, int] = retriever.vocab_dict
        else:
            self._data = self._indices = self._indptr = np.zeros(0)
            self._vocab = {}

    # --- building ----------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        items: Iterable[Document | IndexedBlock],
        *,
        tokens: Sequence[list[str]] | None = None,
    ) -> SearchIndex:
        """Index documents (all their blocks) and/or single blocks.

        ``tokens``: the analysed tokens of each block, when already known (same order).
        """
        blocks: list[IndexedBlock] = []
        for item in items:
            if isinstance(item, Document):
                blocks.extend(IndexedBlock.from_block(item.id, b) for b in item.blocks)
            else:
                blocks.append(item)
        if not blocks:
            return cls([], None)
        corpus = list(tokens) if tokens is not None else [analyze(b.text) for b in blocks]
        if len(corpus) != len(blocks):
            raise ValueError("tokens must have one list per block")
        if not any(corpus):  # nothing to find (a scan nobody read): bm25s cannot index no words
            return cls(blocks, None)
        retriever = _VectorBM25(method="lucene", k1=1.2, b=0.75)
        retriever.index(corpus, show_progress=False)
        return cls(blocks, retriever)

    # --- searching ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.blocks)

    @property
    def document_ids(self) -> list[str]:
        return list(self._doc_ids)

    def _token_scores(self, token: str) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(block indices, BM25 weights, idf) of a token's posting list, or None."""
        tid = self._vocab.get(token)
        if tid is None or token == "":
            return None
        start, end = int(self._indptr[tid]), int(self._indptr[tid + 1])
        if start == end:
            return None
        n = len(self.blocks)
        df = end - start
        idf = float(np.log1p((n - df + 0.5) / (df + 0.5)))
        return self._indices[start:end], self._data[start:end], idf

    def _mask(
        self,
        document_ids: Iterable[str] | None,
        pages: Iterable[int] | None,
        block_types: Iterable[str] | None,
    ) -> np.ndarray | None:
        mask: np.ndarray | None = None
        if document_ids is not None:
            wanted = [self._doc_ids.index(d) for d in set(document_ids) if d in self._doc_ids]
            mask = np.isin(self._doc_idx, np.asarray(wanted, dtype=np.int32))
        if pages is not None:
            m = np.isin(self._page_no, np.asarray(list(pages), dtype=np.int32))
            mask = m if mask is None else mask & m
        if block_types is not None:
            wanted_t = [_TYPES.index(t) for t in block_types if t in _TYPES]
            m = np.isin(self._type_idx, np.asarray(wanted_t, dtype=np.int8))
            mask = m if mask is None else mask & m
        return mask

    def _alternative_scores(self, tokens: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(block indices, BM25, idf) of blocks holding every token of an alternative.

        One token: its posting list. Several (a phrase of the thesaurus): the intersection of their
        posting lists (sorted by block), scored by the mean of the tokens' BM25 and idf.
        """
        first = self._token_scores(tokens[0])
        if first is None or len(tokens) == 1:
            return first
        idx, data, idf = first
        for tok in tokens[1:]:
            nxt = self._token_scores(tok)
            if nxt is None:
                return None
            idx, ia, ib = np.intersect1d(idx, nxt[0], assume_unique=True, return_indices=True)
            if idx.size == 0:
                return None
            data = data[ia] + nxt[1][ib]
            idf += nxt[2]
        m = np.float32(len(tokens))
        return idx, data / m, idf / float(m)

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
        n = len(self.blocks)
        total = np.zeros(n, dtype=np.float32)
        covered = np.zeros(n, dtype=np.float32)
        idf_sum = 0.0
        matches: np.ndarray | None = None
        for i, tok in enumerate(q.words):
            hit = self._token_scores(tok)
            alternatives = q.expansions[i] if q.expansions else ()
            if not alternatives:
                if hit is not None:
                    total[hit[0]] += hit[1]
                    covered[hit[0]] += hit[2]
                    idf_sum += hit[2]
                continue
            # The block's best way to say this word: itself (1.0) or an alternative (its weight).
            best = np.zeros(n, dtype=np.float32)
            credit = np.zeros(n, dtype=np.float32)
            word_idf = alt_idf = 0.0
            if hit is not None:
                best[hit[0]] = hit[1]
                credit[hit[0]] = 1.0
                word_idf = hit[2]
            for tokens, weight in alternatives:
                alt = self._alternative_scores(tokens)
                if alt is None:
                    continue
                idx, data, idf = alt
                w = np.float32(weight)
                best[idx] = np.maximum(best[idx], w * data)
                credit[idx] = np.maximum(credit[idx], w)
                alt_idf = max(alt_idf, idf)
            slot_idf = word_idf or alt_idf  # a word absent from the corpus counts by its alternatives
            if slot_idf:
                total += best
                covered += credit * np.float32(slot_idf)
                idf_sum += slot_idf
        for tok in q.codes:
            hit = self._token_scores(tok)
            if hit is not None:
                total[hit[0]] += CODE_WEIGHT * hit[1]
                covered[hit[0]] += hit[2]
                idf_sum += hit[2]
                if matches is None:
                    matches = np.zeros(n, dtype=np.int16)
                matches[hit[0]] += 1
        mask = self._mask(document_ids, pages, block_types)
        positive = total > 0
        if mask is not None:
            positive &= mask
        candidates = np.flatnonzero(positive)
        if candidates.size == 0:
            return []
        cand_total = total[candidates]
        cand_covered = covered[candidates]
        cand_matches = matches[candidates] if matches is not None else None
        row_ids = self._row[candidates] if self._has_rows else None
        if row_ids is not None:
            cand_total, cand_covered, cand_matches = _share_rows(row_ids, cand_total, cand_covered, cand_matches,
                                                                 len(q.codes))
        coverage = np.minimum(cand_covered / np.float32(idf_sum or 1.0), np.float32(1.0))
        scores = cand_total * coverage * coverage
        key = scores.astype(np.float64)
        if cand_matches is not None:
            key = key + cand_matches.astype(np.float64) * (float(scores.max()) + 1.0)
        if row_ids is not None:
            keep = _best_of_rows(row_ids, key)
            if keep is not None:
                candidates, scores, key = candidates[keep], scores[keep], key[keep]
                if cand_matches is not None:
                    cand_matches = cand_matches[keep]
        if candidates.size > top_k:
            part = np.argpartition(-key, top_k - 1)[:top_k]
        else:
            part = np.arange(candidates.size)
        order = part[np.argsort(-key[part], kind="stable")]
        hits = []
        for j in order:
            b = self.blocks[int(candidates[j])]
            hits.append(Hit(
                b.document_id, b.block_id, b.page_index, b.block_type, b.text, float(scores[j]),
                b.coords_norm, int(cand_matches[j]) if cand_matches is not None else 0, b.has_coords,
                b.context,
            ))
        return hits

    # --- persistence -------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the index to ``directory`` (replaced atomically)."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=directory.parent))
        try:
            if self._retriever is not None:
                self._retriever.save(str(tmp / "bm25"), show_progress=False)
            # Per-block columns: numbers as one .npz, strings as two JSON lists (fast to write/read).
            np.savez(tmp / "blocks.npz", doc_idx=self._doc_idx, page_index=self._page_no - 1,
                     type_idx=self._type_idx,
                     has_coords=np.fromiter((b.has_coords for b in self.blocks), dtype=bool, count=len(self.blocks)),
                     coords=np.asarray([b.coords_norm for b in self.blocks], dtype=np.float64).reshape(-1, 4))
            strings = {"block_ids": [b.block_id for b in self.blocks], "texts": [b.text for b in self.blocks],
                       "rows": [b.row for b in self.blocks], "contexts": [b.context for b in self.blocks]}
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
                has_coords = arrays["has_coords"].tolist()
                coords = [tuple(c) for c in arrays["coords"].tolist()]
            blocks = [
                IndexedBlock(doc_ids[d], bid, p, _TYPES[t], text, c, h, row, context)  # type: ignore[arg-type]
                for d, bid, p, t, text, c, h, row, context in zip(
                    doc_idx, strings["block_ids"], pages, types, strings["texts"], coords, has_coords,
                    strings["rows"], strings["contexts"])
            ]
            retriever = None
            if blocks and (directory / "bm25").is_dir():  # none: blocks without a word to index
                retriever = bm25s.BM25.load(str(directory / "bm25"), mmap=False, show_progress=False)
        except IndexLoadError:
            raise
        except (OSError, ValueError, KeyError, IndexError, TypeError, EOFError) as exc:
            raise IndexLoadError(f"{directory}: {exc}") from exc
        if len(blocks) != meta.get("blocks"):
            raise IndexLoadError(f"{directory}: block count mismatch")
        return cls(blocks, retriever)

    # --- sizes -------------------------------------------------------------------------------
    def memory_bytes(self) -> int:
        """Approximate resident size: score matrix, vocabulary, per-block arrays and texts."""
        arrays = sum(a.nbytes for a in (self._data, self._indices, self._indptr, self._doc_idx, self._page_no,
                                        self._type_idx, self._row))
        vocab = sys.getsizeof(self._vocab) + sum(sys.getsizeof(k) + 28 for k in self._vocab)
        blocks = sum(sys.getsizeof(b.text) + sys.getsizeof(b.block_id) + sys.getsizeof(b.context) + 200
                     for b in self.blocks)
        return arrays + vocab + blocks


def _share_rows(
    rows: np.ndarray, total: np.ndarray, covered: np.ndarray, matches: np.ndarray | None, n_codes: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Each matching cell of a table row gets ``ROW_WEIGHT`` of what its row-mates matched (BM25
    and coverage); the codes of the row count for every cell (it *is* the "В2" row). Arrays are
    the candidates' (changed in place); ``rows`` = -1 for blocks outside tables."""
    gi = np.flatnonzero(rows >= 0)
    if gi.size < 2:
        return total, covered, matches
    _uniq, inv, counts = np.unique(rows[gi], return_inverse=True, return_counts=True)
    if counts.max() < 2:
        return total, covered, matches
    w = np.float32(ROW_WEIGHT)
    own = total[gi]
    total[gi] = own + w * (np.bincount(inv, weights=own)[inv].astype(np.float32) - own)
    own = covered[gi]
    covered[gi] = own + w * (np.bincount(inv, weights=own)[inv].astype(np.float32) - own)
    if matches is not None:
        row_codes = np.bincount(inv, weights=matches[gi])[inv]
        matches[gi] = np.minimum(row_codes, n_codes).astype(matches.dtype)
    return total, covered, matches


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
