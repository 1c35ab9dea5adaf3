"""Benchmark of the chat store against the raw drivers, same database, same run.

    .venv/bin/python bench/bench_store.py [--pg-url postgresql://…] [--messages 2000]

Without ``--pg-url`` a fresh database is created on the test PostgreSQL (127.0.0.1:5432, or a
throwaway cluster, see tests/support/services.py) and dropped afterwards. For each backend:

1. ``add_message`` one by one vs raw driver INSERTs one by one (each its own transaction); aim ≥ 0.5×
2. ``add_messages_bulk`` / ``add_images_bulk`` / ``add_search_results_bulk`` vs raw
   ``executemany``; aim ≥ 0.8×
3. ``get_chat_history`` of a chat with 1,000 messages and 2,000 images vs one raw SQL query
   (messages LEFT JOIN images) fetched by the driver; aim ≤ 2× the raw time
4. the number of SQL statements ``get_chat_history`` runs for chats of 10/100/1000 messages
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import aiosqlite  # noqa: E402
import asyncpg  # noqa: E402
from sqlalchemy import event  # noqa: E402

from aizoomdoc.config import Settings  # noqa: E402
from aizoomdoc.store import ChatStore, Database, migrate  # noqa: E402

RESULTS: list[tuple[str, str, float, float, float, str]] = []


def _ts(i: int = 0) -> datetime:
    return datetime.now(UTC) + timedelta(microseconds=i)


async def timed(fn: Callable[[], Awaitable[Any]]) -> float:
    t0 = time.perf_counter()
    await fn()
    return time.perf_counter() - t0


async def compare(runs: int, ours: Callable[[], Awaitable[Any]], raw: Callable[[], Awaitable[Any]]
                  ) -> tuple[float, float]:
    """Best times of ``ours`` and ``raw``, run alternately (both see the same table sizes); the
    minimum is the estimate least disturbed by other load on the machine."""
    t_ours, t_raw = [], []
    for i in range(runs):
        if i % 2 == 0:
            t_raw.append(await timed(raw))
            t_ours.append(await timed(ours))
        else:
            t_ours.append(await timed(ours))
            t_raw.append(await timed(raw))
    return min(t_ours), min(t_raw)


class Raw:
    """The same operations straight through the driver (aiosqlite or asyncpg)."""

    def __init__(self, dialect: str, target: str) -> None:
        self.dialect, self.target = dialect, target
        self.conn: Any = None

    async def open(self) -> None:
        if self.dialect == "sqlite":
            self.conn = await aiosqlite.connect(self.target)
            for pragma in ("PRAGMA foreign_keys=ON", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"):
                await self.conn.execute(pragma)
        else:
            self.conn = await asyncpg.connect(self.target)

    async def close(self) -> None:
        await self.conn.close()

    def sql(self, statement: str) -> str:
        if self.dialect == "sqlite":
            return statement
        n = 0
        out = []
        for ch in statement:
            if ch == "?":
                n += 1
                out.append(f"${n}")
            else:
                out.append(ch)
        return "".join(out)

    def ts(self, value: datetime) -> Any:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.dialect == "sqlite" else value

    async def insert_message(self, chat_id: str, content: str) -> None:
        sql = self.sql("INSERT INTO chat_messages (id, chat_id, role, content, message_type, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)")
        args = (str(uuid.uuid4()), chat_id, "user", content, "text", self.ts(_ts()))
        if self.dialect == "sqlite":
            await self.conn.execute(sql, args)
            await self.conn.commit()
        else:
            await self.conn.execute(sql, *args)

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        sql = self.sql(sql)
        if self.dialect == "sqlite":
            await self.conn.executemany(sql, rows)
            await self.conn.commit()
        else:
            await self.conn.executemany(sql, rows)

    async def load_history(self, chat_id: str) -> list[Any]:
        sql = self.sql(
            "SELECT m.id, m.role, m.content, m.message_type, m.model, m.metadata, m.created_at, "
            "i.id, i.image_name, i.s3_path, i.s3_url, i.image_type, i.width, i.height, i.coords_norm, "
            "i.uploaded_at FROM chat_messages m LEFT JOIN chat_images i ON i.message_id = m.id "
            "WHERE m.chat_id = ? ORDER BY m.created_at, i.uploaded_at"
        )
        if self.dialect == "sqlite":
            async with self.conn.execute(sql, (chat_id,)) as cur:
                return list(await cur.fetchall())
        return await self.conn.fetch(sql, chat_id)


def record(backend: str, what: str, ours: float, raw: float, aim: str, higher_is_better: bool = True) -> None:
    ratio = ours / raw
    RESULTS.append((backend, what, ours, raw, ratio, aim))
    ok = (ratio >= float(aim[2:-1])) if higher_is_better else (ratio <= float(aim[2:-1]))
    unit = "/s" if higher_is_better else " ms"
    print(f"  {what:<44} store {ours:>10.1f}{unit:<3} raw {raw:>10.1f}{unit:<3} ratio {ratio:5.2f}× "
          f"(aim {aim}) {'OK' if ok else 'MISSED'}")


async def make_chat_with(store: ChatStore, n_messages: int, images_per_message: int) -> str:
    chat_id = await store.create_chat("bench history", "bench")
    ids = await store.add_messages_bulk(chat_id, [
        {"role": "user" if i % 2 == 0 else "assistant",
         "content": f"Сообщение {i}: вентиляция, толщина утеплителя П-1", "metadata": {"i": i}}
        for i in range(n_messages)
    ])
    rows = [
        {"chat_id": chat_id, "message_id": mid, "image_name": f"v{k}.png", "s3_path": f"chats/{chat_id}/images/v{k}.png",
         "s3_url": None, "image_type": "viewport", "width": 2048, "height": 1024, "coords_norm": [0.1, 0.2, 0.8, 0.5]}
        for mid in ids for k in range(images_per_message)
    ]
    if rows:
        await store.add_images_bulk(rows)
    return chat_id


async def bench_backend(name: str, store: ChatStore, raw: Raw, n: int) -> None:
    print(f"\n== {name} ({store.db.target}) ==")
    chat_id = await store.create_chat("bench", "bench")
    await raw.open()
    try:
        # Warm-up: pools, prepared statements, compiled caches.
        for _ in range(50):
            await store.add_message(chat_id, "user", "warm-up")
            await raw.insert_message(chat_id, "warm-up")

        # 1. add_message one by one.
        async def ours_single() -> None:
            for i in range(n):
                await store.add_message(chat_id, "user", f"Найди вентиляцию {i}")

        async def raw_single() -> None:
            for i in range(n):
                await raw.insert_message(chat_id, f"Найди вентиляцию {i}")

        t_ours, t_raw = await compare(5, ours_single, raw_single)
        record(name, f"add_message ×{n} (one by one)", n / t_ours, n / t_raw, "≥ 0.5×")

        # 2. bulk paths vs executemany.
        bulk = n * 5
        msgs = [{"role": "assistant", "content": f"Ответ {i}", "metadata": {"i": i}} for i in range(bulk)]

        async def ours_bulk_msgs() -> None:
            await store.add_messages_bulk(chat_id, msgs)

        async def raw_bulk_msgs() -> None:
            await raw.executemany(
                "INSERT INTO chat_messages (id, chat_id, role, content, message_type, metadata, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(str(uuid.uuid4()), chat_id, "assistant", f"Ответ {i}", "text", f'{{"i": {i}}}', raw.ts(_ts(i)))
                 for i in range(bulk)])

        t_ours, t_raw = await compare(5, ours_bulk_msgs, raw_bulk_msgs)
        record(name, f"add_messages_bulk ×{bulk}", bulk / t_ours, bulk / t_raw, "≥ 0.8×")

        message_id = await store.add_message(chat_id, "assistant", "hits")
        hits = [{"chat_id": chat_id, "message_id": message_id, "block_id": f"block_{i}", "page_number": i % 50,
                 "block_text": "Система вентиляции состоит из…", "coords_norm": [0.1, 0.2, 0.8, 0.5],
                 "coords_px": [100, 200, 800, 500], "score": 1.0 / (i + 1)} for i in range(bulk)]

        async def ours_bulk_hits() -> None:
            await store.add_search_results_bulk(hits)

        async def raw_bulk_hits() -> None:
            await raw.executemany(
                "INSERT INTO search_results (id, chat_id, message_id, block_id, page_number, block_text, "
                "coords_norm, coords_px, score, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(str(uuid.uuid4()), chat_id, message_id, f"block_{i}", i % 50, "Система вентиляции состоит из…",
                  "[0.1, 0.2, 0.8, 0.5]", "[100, 200, 800, 500]", 1.0 / (i + 1), raw.ts(_ts(i)))
                 for i in range(bulk)])

        t_ours, t_raw = await compare(5, ours_bulk_hits, raw_bulk_hits)
        record(name, f"add_search_results_bulk ×{bulk}", bulk / t_ours, bulk / t_raw, "≥ 0.8×")

        imgs = [{"chat_id": chat_id, "message_id": message_id, "image_name": f"v{i}.png",
                 "s3_path": f"chats/{chat_id}/images/v{i}.png", "s3_url": None, "width": 2048, "height": 1024,
                 "coords_norm": [0.1, 0.2, 0.8, 0.5]} for i in range(bulk)]

        async def ours_bulk_imgs() -> None:
            await store.add_images_bulk(imgs)

        async def raw_bulk_imgs() -> None:
            await raw.executemany(
                "INSERT INTO chat_images (id, chat_id, message_id, image_name, s3_path, image_type, width, height, "
                "coords_norm, uploaded_at, sync_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(str(uuid.uuid4()), chat_id, message_id, f"v{i}.png", f"chats/{chat_id}/images/v{i}.png",
                  "viewport", 2048, 1024, "[0.1, 0.2, 0.8, 0.5]", raw.ts(_ts(i)), "synced") for i in range(bulk)])

        t_ours, t_raw = await compare(5, ours_bulk_imgs, raw_bulk_imgs)
        record(name, f"add_images_bulk ×{bulk}", bulk / t_ours, bulk / t_raw, "≥ 0.8×")

        # 3. Loading a chat: 1,000 messages, 2,000 images.
        big = await make_chat_with(store, 1000, 2)
        history = await store.get_chat_history(big)
        assert len(history["messages"]) == 1000
        assert sum(len(m["images"]) for m in history["messages"]) == 2000
        raw_rows = await raw.load_history(big)
        assert len(raw_rows) == 2000
        t_ours, t_raw = await compare(9, lambda: store.get_chat_history(big), lambda: raw.load_history(big))
        record(name, "get_chat_history (1000 msgs, 2000 imgs)", t_ours * 1000, t_raw * 1000, "≤ 2.0×",
               higher_is_better=False)

        # For reference: the raw query plus decoding its JSON columns (rows the caller can use).
        import json as _json

        async def raw_decoded() -> None:
            for row in await raw.load_history(big):
                for i in (5, 14):
                    if isinstance(row[i], str):
                        _json.loads(row[i])

        t_ours, t_raw = await compare(9, lambda: store.get_chat_history(big), raw_decoded)
        print(f"  (reference) get_chat_history vs raw query + JSON decode: {t_ours * 1000:.1f} ms vs "
              f"{t_raw * 1000:.1f} ms, ratio {t_ours / t_raw:.2f}×")

        # 4. Statements per history load, by chat size.
        counts = []
        for size in (10, 100, 1000):
            cid = await make_chat_with(store, size, 2)
            statements: list[str] = []
            engine = store.db.sync_engine
            if store.db.is_sqlite:
                # The SQLite store runs its reads on the sqlite3 connection itself: count what
                # SQLite executes (trace callback), not only what passes through SQLAlchemy.
                def trace(dbapi_conn: Any, _record: Any, statements: list[str] = statements) -> None:
                    dbapi_conn.set_trace_callback(
                        lambda sql: statements.append(sql) if sql.lstrip().upper().startswith("SELECT") else None)

                event.listen(engine, "connect", trace)
                engine.dispose()
                try:
                    await store.get_chat_history(cid)
                finally:
                    event.remove(engine, "connect", trace)
                    engine.dispose()
            else:
                def count(conn: Any, cursor: Any, statement: str, *args: Any,
                          statements: list[str] = statements) -> None:
                    statements.append(statement)

                event.listen(engine, "before_cursor_execute", count)
                try:
                    await store.get_chat_history(cid)
                finally:
                    event.remove(engine, "before_cursor_execute", count)
            counts.append((size, len(statements)))
        print("  get_chat_history statements by chat size: "
              + ", ".join(f"{size} msgs → {c} queries" for size, c in counts)
              + ("  (constant: OK)" if len({c for _, c in counts}) == 1 else "  (GROWS: MISSED)"))
    finally:
        await raw.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", help="PostgreSQL database to use (its chat tables get bench rows)")
    parser.add_argument("--messages", type=int, default=2000, help="messages for the one-by-one test")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="aizoomdoc-bench-"))
    sqlite_settings = Settings(_env_file=None, data_dir=tmp)
    sqlite_store = ChatStore(Database(sqlite_settings))
    await migrate.upgrade(sqlite_store.db)
    await bench_backend("SQLite", sqlite_store, Raw("sqlite", str(sqlite_settings.sqlite_path)), args.messages)
    await sqlite_store.close()

    server = None
    pg_url = args.pg_url
    if pg_url is None:
        from tests.support.services import start_postgres

        server = await asyncio.to_thread(start_postgres)
        pg_url = await asyncio.to_thread(server.create_database, "aizoomdoc_bench")
    try:
        pg_store = ChatStore(Database(Settings(_env_file=None, data_dir=tmp, database_url=pg_url)))
        await migrate.upgrade(pg_store.db)
        await bench_backend("PostgreSQL", pg_store, Raw("postgresql", pg_url.replace("+asyncpg", "")), args.messages)
        await pg_store.close()
    finally:
        if server is not None:
            await asyncio.to_thread(server.drop_database, pg_url)
            await asyncio.to_thread(server.close)

    print("\nSummary (ratio = store / raw; throughput for writes, time for the history load):")
    for backend, what, _ours, _raw, ratio, aim in RESULTS:
        print(f"  {backend:<11} {what:<44} {ratio:5.2f}×  aim {aim}")


if __name__ == "__main__":
    asyncio.run(main())
