"""Saved indexes under a directory (``DATA_DIR/search``), keyed by the set of documents.

An index over documents {A, B} is built once (from their blocks) and saved; later searches over
the same set load it (or take it from a small in-memory LRU). The key covers the document ids,
their content hashes and the analyzer version, so a changed document or tokenizer gets a new index.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

from aizoomdoc.search.analyzer import ANALYZER_VERSION
from aizoomdoc.search.index import INDEX_FORMAT, IndexLoadError, SearchIndex

log = logging.getLogger(__name__)


def index_key(documents: Iterable[tuple[str, str]]) -> str:
    """Key of a set of (document_id, sha256) pairs."""
    h = hashlib.sha256(f"v{INDEX_FORMAT}.{ANALYZER_VERSION}".encode())
    for doc_id, sha in sorted(set(documents)):
        h.update(f"\n{doc_id}:{sha}".encode())
    return h.hexdigest()[:24]


class IndexCache:
    def __init__(self, root: Path, memory_slots: int = 4) -> None:
        self.root = Path(root)
        self.memory_slots = memory_slots
        self._memory: OrderedDict[str, SearchIndex] = OrderedDict()
        self._lock = threading.Lock()

    def path(self, key: str) -> Path:
        return self.root / key

    def _remember(self, key: str, index: SearchIndex) -> None:
        with self._lock:
            self._memory[key] = index
            self._memory.move_to_end(key)
            while len(self._memory) > self.memory_slots:
                self._memory.popitem(last=False)

    def get(self, key: str) -> SearchIndex | None:
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        path = self.path(key)
        if not (path / "meta.json").exists():
            return None
        try:
            index = SearchIndex.load(path)
        except IndexLoadError as exc:
            log.warning("search index %s is unusable (%s); it will be rebuilt", path, exc)
            shutil.rmtree(path, ignore_errors=True)
            return None
        self._remember(key, index)
        return index

    def put(self, key: str, index: SearchIndex) -> None:
        index.save(self.path(key))
        self._remember(key, index)

    def get_or_build(self, key: str, build: Callable[[], SearchIndex]) -> SearchIndex:
        index = self.get(key)
        if index is None:
            index = build()
            self.put(key, index)
        return index

    def clear(self) -> None:
        with self._lock:
            self._memory.clear()
        shutil.rmtree(self.root, ignore_errors=True)
