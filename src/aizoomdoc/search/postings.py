"""One field's BM25 matrix (bm25s, built vectorised) and the posting lists a query reads from it.

``bm25s`` builds a sparse token × row matrix of precomputed BM25 weights (Lucene idf and tf); a
query token's column is its posting list. :class:`VectorBM25` builds that matrix with numpy instead
of bm25s's Python loops; :class:`Postings` reads it (a token, or every token of a phrase).
"""

from __future__ import annotations

import itertools
import logging
import sys
from collections.abc import Sequence

import bm25s
import numpy as np

# bm25s sets its own logger to DEBUG on import; its progress chatter is not for our users.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class VectorBM25(bm25s.BM25):
    """bm25s with its documented extension point ``build_index_from_ids`` vectorised (numpy).

    bm25s builds the matrix with Python loops over documents (about 0.3 s for 6,000 blocks);
    here one ``np.unique`` over (token, block) keys yields the CSC matrix in order directly —
    same formulas (Lucene idf and tf), same ``scores`` layout, so save/load/retrieve are bm25s's.
    """

    def build_index_from_ids(self, unique_token_ids, corpus_token_ids, show_progress=True,
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


class Postings:
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
    def build(cls, corpus: Sequence[list[str]]) -> Postings:
        if not any(corpus):
            return cls(None)
        retriever = VectorBM25(method="lucene", k1=1.2, b=0.75)
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
