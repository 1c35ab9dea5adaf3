"""The search index object: BM25 over the blocks of several documents at once, filtered, ranked,
saved and loaded.

A :class:`SearchIndex` holds the blocks (:mod:`aizoomdoc.search.blocks`), one BM25 matrix per
field — body, title, sheet name (:mod:`aizoomdoc.search.corpus`, :mod:`aizoomdoc.search.postings`)
— and per-block arrays for the filters (documents, 1-based pages, block types: boolean masks).
:meth:`SearchIndex.search` scores a query by the rules of :mod:`aizoomdoc.search.ranking` (codes
above words, coverage, titles, sheets, index-like blocks demoted, one hit per table row).
:meth:`SearchIndex.save` / :meth:`SearchIndex.load` keep it on disk (replaced atomically).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import bm25s
import numpy as np

from aizoomdoc.documents.model import Document
from aizoomdoc.search.analyzer import ANALYZER_VERSION, analyze, analyze_query
from aizoomdoc.search.blocks import Hit, IndexedBlock, indexed_block, row_of
from aizoomdoc.search.corpus import build_fields, collect_blocks
from aizoomdoc.search.fields import MAIN, TYPE_STEMS, title_type
from aizoomdoc.search.postings import Postings
from aizoomdoc.search.ranking import (
    SHEET_MAIN_BOOST,
    TITLE_BONUS,
    TYPE_BOOST,
    FieldScorer,
    Scores,
    best_of_rows,
    demote_index_like,
    share_rows,
)

__all__ = [
    "INDEX_FORMAT", "Hit", "IndexLoadError", "IndexedBlock", "SearchIndex", "directory_size", "indexed_block",
    "row_of",
]

INDEX_FORMAT = 4
_TYPES = ("text", "table", "image")
_FIELDS = ("body", "title", "sheet")


class IndexLoadError(Exception):
    """A saved index is missing, from another analyzer version, or damaged: rebuild it."""


class SearchIndex:
    """A BM25 index over the blocks of one or more documents."""

    def __init__(self, blocks: list[IndexedBlock], fields: dict[str, Postings] | None = None,
                 groups: np.ndarray | None = None) -> None:
        self.blocks = blocks
        fields = fields or {}
        self._body = fields.get("body") or Postings(None)
        self._title = fields.get("title") or Postings(None)
        self._sheet = fields.get("sheet") or Postings(None)
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
        self._scorer = FieldScorer(self._body, self._title, self._sheet, self._group, self._groups, n)

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
        blocks = collect_blocks(items)
        if not blocks:
            return cls([])
        return cls(*build_fields(blocks, tokens))

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

    def _candidates(self, acc: Scores) -> np.ndarray:
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
        extra = np.concatenate([self._group_blocks[a:z] for a, z in zip(starts.tolist(), ends.tolist(), strict=True)])
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
        acc = self._scorer.score(q)
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
            cand_total, cand_covered, cand_codes = share_rows(row_ids, cand_total, cand_covered, cand_codes,
                                                               len(q.codes))
        flags = self._flags[candidates] if self._has_flags else None
        coverage = np.minimum(cand_covered / np.float32(acc.idf_sum or 1.0), np.float32(1.0))
        scores = cand_total * coverage * coverage
        titled = np.minimum(acc.title_idf[candidates] / np.float32(acc.idf_sum or 1.0), np.float32(1.0))
        scores *= np.float32(1.0) + np.float32(TITLE_BONUS) * titled * titled
        if flags is not None:
            own = acc.title_own[candidates] / np.float32(acc.idf_sum or 1.0)
            demoted = demote_index_like(flags, coverage, own, scores)
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
            keep = best_of_rows(row_ids, key)
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
            for name, field in zip(_FIELDS, (self._body, self._title, self._sheet), strict=True):
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
                IndexedBlock(doc_ids[d], bid, p, _TYPES[t], text, c, h, row, context, title, sheet, f)
                for d, bid, p, t, text, c, h, row, context, title, sheet, f in zip(
                    doc_idx, strings["block_ids"], pages, types, strings["texts"], coords, has_coords,
                    strings["rows"], strings["contexts"], strings["titles"], strings["sheets"], flags, strict=True)
            ]
            fields: dict[str, Postings] = {}
            for name in _FIELDS:
                path = directory / f"bm25_{name}"
                if path.exists():
                    fields[name] = Postings(bm25s.BM25.load(str(path), mmap=False, show_progress=False))
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


def directory_size(directory: str | Path) -> int:
    return sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file())
