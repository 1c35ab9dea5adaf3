"""Saved search indexes shared through Redis (``REDIS_URL``), for workers on other machines.

Every process keeps its indexes in :class:`~aizoomdoc.search.IndexCache` (memory, then
``DATA_DIR/search``). When an index is missing there, it is fetched from the shared cache (a tar
of the saved index directory) before it is rebuilt from the database; an index built here is
offered to the others. The key is the index key (document ids, their sha256, the index format and
analyzer versions), so a changed document or index version never reads an old entry. Any failure
is a miss.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path

from aizoomdoc.search import IndexCache, SearchIndex
from aizoomdoc.store.cache import SharedCache

log = logging.getLogger(__name__)

NAMESPACE = "index"


def archive(directory: Path) -> bytes:
    """The saved index ``directory`` as a tar (its files only)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(directory)), recursive=False)
    return buf.getvalue()


def extract(data: bytes, directory: Path) -> None:
    """Unpack an :func:`archive` into ``directory`` (replaced atomically; plain files only)."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".shared-", dir=directory.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(tmp, filter="data")
        if directory.exists():
            shutil.rmtree(directory, ignore_errors=True)
        os.replace(tmp, directory)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class SharedIndexes:
    def __init__(self, cache: SharedCache | None, local: IndexCache) -> None:
        self.cache = cache if cache is not None and cache.redis is not None else None
        self.local = local

    async def get(self, key: str) -> SearchIndex | None:
        if self.cache is None:
            return None
        data = await self.cache.get(NAMESPACE, key, memory=False)
        if data is None:
            return None

        def load() -> SearchIndex | None:
            extract(data, self.local.path(key))
            return self.local.get(key)

        try:
            return await asyncio.to_thread(load)
        except (tarfile.TarError, OSError, EOFError, zlib.error):  # a damaged entry is a miss
            log.warning("ignoring a damaged shared search index %s", key, exc_info=True)
            return None

    async def put(self, key: str) -> None:
        if self.cache is None:
            return
        try:
            data = await asyncio.to_thread(archive, self.local.path(key))
        except OSError:
            log.debug("no saved index %s to share", key, exc_info=True)
            return
        await self.cache.put(NAMESPACE, key, data, memory=False)


__all__ = ["NAMESPACE", "SharedIndexes", "archive", "extract"]
