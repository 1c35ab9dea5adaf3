"""The render and search-index cache: in-process LRU, Redis (a real redis-server of the test's own),
and the ask pipeline on top — a second asking renders nothing, and a dead Redis fails nothing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from aizoomdoc.config import Settings
from aizoomdoc.pipeline.ask import AskService
from aizoomdoc.pipeline.render_cache import pack, render_key, unpack
from aizoomdoc.sample import build_drawing_set, write_bundle_fixtures
from aizoomdoc.store.cache import MemoryCache, RedisCache, SharedCache
from aizoomdoc.store.usage import UsageFilter, UsageStore
from aizoomdoc.zoom import Grid, RenderOptions
from tests.support.redis_server import RedisServer

QUESTION = "Какая толщина утеплителя кровли П-1?"


@pytest.fixture(scope="module")
def redis_server() -> Any:
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bundle_fixtures(tmp_path_factory.mktemp("set"), build_drawing_set(), formats=("result",))["result"]


def _settings(data_dir: Path, **kw: Any) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, **kw)


# --- in-process LRU -----------------------------------------------------------------------------

def test_memory_cache_is_an_lru_capped_by_bytes_with_a_ttl() -> None:
    cache = MemoryCache(max_bytes=3000, ttl=60)
    for k in "abc":
        cache.put(k, bytes(1000))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("d", bytes(1000))  # over the cap: the least recently used (b) goes
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("d") is not None
    assert cache.size <= 3000
    cache.put("huge", bytes(5000))  # larger than the whole cache: refused, nothing evicted
    assert cache.get("huge") is None and len(cache) == 3

    short = MemoryCache(max_bytes=1000, ttl=0.05)
    short.put("x", b"1")
    time.sleep(0.1)
    assert short.get("x") is None and short.size == 0


def test_render_key_covers_what_decides_the_pixels() -> None:
    opts = RenderOptions()
    base = render_key("sha", 0, (0.1, 0.1, 0.5, 0.5), opts, grid=Grid(3, 3))
    assert base == render_key("sha", 0, (0.1, 0.1, 0.5, 0.5), opts, grid=Grid(3, 3))
    others = {
        render_key("sha2", 0, (0.1, 0.1, 0.5, 0.5), opts, grid=Grid(3, 3)),
        render_key("sha", 1, (0.1, 0.1, 0.5, 0.5), opts, grid=Grid(3, 3)),
        render_key("sha", 0, (0.1, 0.1, 0.5, 0.6), opts, grid=Grid(3, 3)),
        render_key("sha", 0, (0.1, 0.1, 0.5, 0.5), opts, grid=Grid(4, 3)),
        render_key("sha", 0, (0.1, 0.1, 0.5, 0.5), opts, grid=Grid(3, 3), min_dpi=300),
        render_key("sha", 0, (0.1, 0.1, 0.5, 0.5), opts, grid=Grid(3, 3), outline=[(0.2, 0.2, 0.3, 0.3)]),
        render_key("sha", 0, (0.1, 0.1, 0.5, 0.5), RenderOptions(max_dpi=300), grid=Grid(3, 3)),
    }
    assert base not in others and len(others) == 7


def test_overlay_version_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from aizoomdoc.pipeline import render_cache

    before = render_key("sha", 0, (0, 0, 1, 1), RenderOptions())
    monkeypatch.setattr(render_cache, "OVERLAY_VERSION", render_cache.OVERLAY_VERSION + 1)
    assert render_key("sha", 0, (0, 0, 1, 1), RenderOptions()) != before


# --- Redis ----------------------------------------------------------------------------------------

def _redis(server: RedisServer, prefix: str, **kw: Any) -> RedisCache:
    values = {"max_bytes": 10_000_000, "ttl": 60.0, "timeout": 0.5}
    values.update(kw)
    return RedisCache(server.url, prefix=prefix, **values)


async def test_redis_cache_ttl_and_size_cap(redis_server: RedisServer) -> None:
    r = _redis(redis_server, "t1:", max_bytes=3500)
    try:
        for k in "abc":
            await r.put("render", k, bytes([ord(k)]) * 1000)
        assert await r.get("render", "a") == b"a" * 1000  # a is now the most recently used
        evicted = await r.put("render", "d", b"d" * 1000)  # 4000 > 3500: the least recently used goes
        assert evicted == 1
        assert await r.get("render", "b") is None
        assert await r.get("render", "a") == b"a" * 1000 and await r.get("render", "d") == b"d" * 1000
        assert await r.total_bytes() <= 3500
        await r.put("render", "c", b"C" * 500)  # replacing an entry counts its new size only
        assert await r.total_bytes() == 2500
        assert await r.put("render", "big", bytes(4000)) == 0 and await r.get("render", "big") is None

        short = _redis(redis_server, "t2:", ttl=0.3)
        await short.put("render", "x", b"x")
        assert await short.get("render", "x") == b"x"
        await asyncio.sleep(0.6)
        assert await short.get("render", "x") is None
        await short.aclose()
    finally:
        await r.aclose()


async def test_a_dead_redis_is_a_miss_never_an_error(tmp_path: Path) -> None:
    server = RedisServer().start()
    try:
        cache = SharedCache(MemoryCache(10_000, 60), _redis(server, "t3:"))
        await cache.put("render", "k", b"v")
        cache.memory.clear()
        assert await cache.get("render", "k") == b"v"  # from Redis
        server.stop()
        cache.memory.clear()
        t0 = time.perf_counter()
        assert await cache.get("render", "k") is None  # Redis gone: a miss
        await cache.put("render", "k2", b"v2")  # skipped without waiting
        assert await cache.get("render", "k2") == b"v2"  # the in-process layer still works
        assert time.perf_counter() - t0 < 2.0
        assert cache.counter("render").errors == 1 and not cache.redis_available
    finally:
        server.destroy()
        await cache.aclose()


# --- the pipeline on top --------------------------------------------------------------------------

async def _usage(settings: Settings) -> list[dict[str, Any]]:
    from aizoomdoc.store.database import Database

    db = Database(settings)
    try:
        questions, _ = await UsageStore(db).rows(UsageFilter())
    finally:
        await db.dispose()
    return questions


async def test_second_worker_renders_nothing_and_a_dead_redis_fails_no_question(
        tmp_path: Path, bundle: Path, redis_server: RedisServer) -> None:
    # Two "workers": one database and files, each its own in-process cache, one Redis.
    s = _settings(tmp_path / "data", redis_url=redis_server.url, cache_prefix="t4:")
    first, second = SharedCache.from_settings(s), SharedCache.from_settings(s)
    async with AskService(s) as one:
        one.render_cache.cache = first
        a = await one.ask(QUESTION, [str(bundle)])
    async with AskService(s) as two:
        two.render_cache.cache = second
        b = await two.ask(QUESTION, [str(bundle)])
        bytes_a = [await two.files.read_bytes(i.s3_path) for i in a.images]
        bytes_b = [await two.files.read_bytes(i.s3_path) for i in b.images]
    assert a.ok and b.ok and b.answer == a.answer
    assert bytes_b == bytes_a and len(bytes_a) >= 1  # the same crops, pixel for pixel
    rows = await _usage(s)
    assert [r["renders"] for r in rows] == [len(a.images), 0]  # the second worker rendered nothing
    assert rows[1]["render_cache_hits"] == len(b.images)
    assert second.counter("render").redis_hits == len(b.images)

    # Redis dies: the question is still answered (rendered again, by a third worker).
    dead = RedisServer().start()
    s3 = _settings(tmp_path / "data", redis_url=dead.url, cache_prefix="t4:")
    third = SharedCache.from_settings(s3)
    dead.stop()
    try:
        async with AskService(s3) as three:
            three.render_cache.cache = third
            c = await three.ask(QUESTION, [str(bundle)])
    finally:
        dead.destroy()
    assert c.ok and c.answer == a.answer and len(c.images) == len(a.images)
    assert (await _usage(s3))[-1]["renders"] == len(c.images)
    assert third.counter("render").errors >= 1


def test_packed_render_round_trip(tmp_path: Path, bundle: Path) -> None:
    from aizoomdoc.zoom import SheetRenderer

    pdf = next(bundle.parent.glob("*.pdf"))
    with SheetRenderer(pdf) as r:
        img = r.render(0, (0.1, 0.1, 0.4, 0.3), grid=Grid(3, 2), outline=[(0.15, 0.15, 0.2, 0.2)])
    back = unpack(pack(img))
    assert (back.data, back.mime, back.width, back.height, back.dpi, back.grid) == \
        (img.data, img.mime, img.width, img.height, img.dpi, img.grid)
    assert tuple(back.bbox_norm) == tuple(img.bbox_norm)


async def test_search_index_comes_from_redis_on_a_machine_without_it(tmp_path: Path, bundle: Path,
                                                                     redis_server: RedisServer) -> None:
    from aizoomdoc.pipeline.ingest import DocumentService

    s = _settings(tmp_path / "data", redis_url=redis_server.url, cache_prefix="t5:")
    async with DocumentService(s) as svc:
        doc = (await svc.ingest(bundle)).document
        shutil_rm(s.data_dir / "search")  # "another machine": no saved index on its disk
        svc.index_cache._memory.clear()
        before = svc.shared_indexes.cache.counter("index").redis_hits
        hits = await svc.search("утеплитель кровли", [doc.id], top_k=3)
        assert hits and svc.shared_indexes.cache.counter("index").redis_hits == before + 1
        assert (s.data_dir / "search").is_dir()  # unpacked for the next time


def shutil_rm(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def test_doctor_reports_redis(tmp_path: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from aizoomdoc.cli import app
    from aizoomdoc.config import reset_settings_cache

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    for url, mark in ((redis_server.url, "✔ Кэш изображений: Redis"), ("redis://127.0.0.1:1/0", "⚠ Redis")):
        monkeypatch.setenv("REDIS_URL", url)
        reset_settings_cache()
        r = CliRunner().invoke(app, ["doctor"])
        assert mark in r.output and r.exit_code == 0, r.output  # a dead cache is a warning only
    reset_settings_cache()
