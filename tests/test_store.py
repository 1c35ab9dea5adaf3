"""Every chat store method, on SQLite, on a real PostgreSQL and through the offline-resilient store
over that PostgreSQL (one suite, three backends: whatever stands in for ChatStore behaves like it)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, text

from aizoomdoc.config import Settings
from aizoomdoc.errors import InvalidInputError, NotFoundError
from aizoomdoc.store import ChatStore, ChatStoreProtocol, Database, migrate
from aizoomdoc.store.clock import to_iso
from aizoomdoc.store.journal import Journal, ReadCache
from aizoomdoc.store.resilient import ResilientChatStore

# PostgreSQL: every store fixture also opens the PostgreSQL one (pg_store).
pytestmark = pytest.mark.postgres

#: What the suite runs against (ResilientChatStore stands in for ChatStore over PostgreSQL).
Store = ChatStore | ResilientChatStore

CYRILLIC = "Какая толщина утеплителя кровли П-1? «Вентиляция» — ёлки, Ъ"


@pytest.fixture(scope="module")
async def pg_store(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ChatStore]:
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("pg"), database_url=pg_url)
    db = Database(settings)
    await migrate.upgrade(db, "head")
    store = ChatStore(db)
    yield store
    await store.close()


@pytest.fixture(params=["sqlite", "postgresql", "resilient"])
async def store(request: pytest.FixtureRequest, settings: Settings, pg_store: Store) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        s = ChatStore(Database(settings))  # migrates itself on first use
        yield s
        await s.close()
    elif request.param == "postgresql":
        yield pg_store
    else:  # the store the application uses over PostgreSQL: cloud + journal + read cache
        cloud_settings = pg_store.db.settings.model_copy(update={"data_dir": settings.data_dir})
        journal = Journal.for_data_dir(settings.data_dir)
        cache = ReadCache.for_data_dir(settings.data_dir)
        s = ResilientChatStore(ChatStore(Database(cloud_settings), auto_migrate=False), journal,
                               settings=cloud_settings, cache=cache)
        yield s
        assert journal.counts().pending == 0  # online all along: nothing was journalled
        await s.close()
        journal.close()
        cache.close()


@pytest.fixture()
def user() -> str:
    """A user of its own per test (the PostgreSQL database is shared by the module)."""
    return f"user_{uuid.uuid4().hex[:8]}"


def _iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0, value
    assert value == to_iso(value), value  # every store writes timestamps in one shape
    return parsed


async def _count(store: Store, table: str, chat_id: str) -> int:
    return await store.db.run(
        lambda c: c.execute(text(f"SELECT count(*) FROM {table} WHERE chat_id = :c"), {"c": chat_id}).scalar())


# --------------------------------------------------------------------------------------------
# Chats
# --------------------------------------------------------------------------------------------
async def test_store_implements_protocol(store: Store) -> None:
    assert isinstance(store, ChatStoreProtocol)


async def test_create_and_get_chat_round_trip(store: Store, user: str) -> None:
    meta = {"документ": "XYZ", "pages": [1, 2, 5], "nested": {"ok": True, "ratio": 0.25, "none": None}}
    chat_id = await store.create_chat(title="Анализ документа XYZ", user_id=user,
                                      description="Поиск информации о вентиляции",
                                      document_path="/docs/xyz.pdf", metadata=meta)
    assert str(uuid.UUID(chat_id)) == chat_id
    chat = await store.get_chat(chat_id)
    assert chat is not None
    assert chat["id"] == chat_id
    assert chat["title"] == "Анализ документа XYZ"
    assert chat["user_id"] == user
    assert chat["description"] == "Поиск информации о вентиляции"
    assert chat["document_path"] == "/docs/xyz.pdf"
    assert chat["is_archived"] is False
    assert chat["metadata"] == meta
    assert _iso(chat["created_at"]) == _iso(chat["updated_at"])


async def test_get_chat_unknown_is_none_bad_id_raises(store: Store) -> None:
    assert await store.get_chat(str(uuid.uuid4())) is None
    for bad in ("not-a-uuid", "", 123, None):
        with pytest.raises(InvalidInputError) as info:
            await store.get_chat(bad)  # type: ignore[arg-type]
        assert "chat_id" in str(info.value)


async def test_get_chat_accepts_other_uuid_spellings(store: Store, user: str) -> None:
    chat_id = await store.create_chat("t", user)
    assert (await store.get_chat(chat_id.upper()))["id"] == chat_id  # type: ignore[index]
    assert (await store.get_chat(uuid.UUID(chat_id)))["id"] == chat_id  # type: ignore[arg-type,index]


async def test_create_chat_validates(store: Store, user: str) -> None:
    with pytest.raises(InvalidInputError):
        await store.create_chat("   ", user)
    with pytest.raises(InvalidInputError):
        await store.create_chat("t", "")
    with pytest.raises(InvalidInputError):
        await store.create_chat("t", user, metadata={"x": object()})
    with pytest.raises(InvalidInputError):
        await store.create_chat("t", user, metadata={"x": float("nan")})
    with pytest.raises(InvalidInputError):
        await store.create_chat("t", user, id="nope")


async def test_get_chats_newest_first_limit_and_archived(store: Store, user: str) -> None:
    ids = [await store.create_chat(f"chat {i}", user) for i in range(4)]
    other = await store.create_chat("someone else's", f"{user}_other")
    listed = await store.get_chats(user)
    assert [c["id"] for c in listed] == ids[::-1]
    assert other not in [c["id"] for c in listed]
    # A new message moves a chat to the top.
    await store.add_message(ids[0], "user", "снова")
    assert [c["id"] for c in await store.get_chats(user, limit=2)] == [ids[0], ids[3]]
    await store.archive_chat(ids[3])
    assert ids[3] not in [c["id"] for c in await store.get_chats(user)]
    with_archived = await store.get_chats(user, include_archived=True)
    assert ids[3] in [c["id"] for c in with_archived]
    assert next(c for c in with_archived if c["id"] == ids[3])["is_archived"] is True
    for bad in (0, -1, "10", 10**9):
        with pytest.raises(InvalidInputError):
            await store.get_chats(user, limit=bad)  # type: ignore[arg-type]


async def test_update_chat(store: Store, user: str) -> None:
    chat_id = await store.create_chat("старое", user)
    before = await store.get_chat(chat_id)
    updated = await store.update_chat(chat_id, title="новое", description=CYRILLIC, metadata={"k": [1, "ё"]})
    assert updated["title"] == "новое"
    assert updated["description"] == CYRILLIC
    assert updated["metadata"] == {"k": [1, "ё"]}
    assert _iso(updated["updated_at"]) > _iso(before["updated_at"])  # type: ignore[index]
    assert await store.get_chat(chat_id) == updated
    with pytest.raises(InvalidInputError):
        await store.update_chat(chat_id, user_id="thief")
    with pytest.raises(InvalidInputError):
        await store.update_chat(chat_id)
    with pytest.raises(InvalidInputError):
        await store.update_chat(chat_id, title="")
    with pytest.raises(InvalidInputError):
        await store.update_chat(chat_id, is_archived="yes")
    with pytest.raises(NotFoundError):
        await store.update_chat(str(uuid.uuid4()), title="x")
    with pytest.raises(NotFoundError):
        await store.archive_chat(str(uuid.uuid4()))


async def test_delete_chat_cascades(store: Store, user: str) -> None:
    chat_id = await store.create_chat("удалить", user)
    keep_id = await store.create_chat("оставить", user)
    mid = await store.add_message(chat_id, "user", "вопрос")
    keep_mid = await store.add_message(keep_id, "user", "вопрос")
    await store.add_image_to_message(chat_id, mid, "a.png", f"chats/{chat_id}/images/a.png", None)
    await store.add_search_result(chat_id, mid, "b1", 1, "текст", [0, 0, 1, 1], [0, 0, 10, 10])
    await store.add_image_to_message(keep_id, keep_mid, "k.png", f"chats/{keep_id}/images/k.png", None)
    assert await store.delete_chat(chat_id) is True
    assert await store.get_chat(chat_id) is None
    for table in ("chat_messages", "chat_images", "search_results"):
        assert await _count(store, table, chat_id) == 0, table
    with pytest.raises(NotFoundError):
        await store.get_message_images(mid)
    with pytest.raises(NotFoundError):
        await store.delete_chat(chat_id)
    assert len(await store.get_chat_images(keep_id)) == 1


async def test_explicit_ids_replay_idempotently(store: Store, user: str) -> None:
    chat_id = str(uuid.uuid4())
    assert await store.create_chat("offline", user, id=chat_id) == chat_id
    assert await store.create_chat("offline", user, id=chat_id) == chat_id
    message_id = str(uuid.uuid4())
    for _ in range(2):
        assert await store.add_message(chat_id, "user", "once", id=message_id) == message_id
    image_id, result_id = str(uuid.uuid4()), str(uuid.uuid4())
    for _ in range(2):
        await store.add_image_to_message(chat_id, message_id, "i.png", "k", None, id=image_id)
        await store.add_search_result(chat_id, message_id, "b", 1, "t", None, None, id=result_id)
    assert [m["id"] for m in await store.get_chat_messages(chat_id)] == [message_id]
    assert [i["id"] for i in await store.get_chat_images(chat_id)] == [image_id]
    assert [r["id"] for r in await store.get_search_results(chat_id)] == [result_id]


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------
async def test_messages_chronological_with_limit(store: Store, user: str) -> None:
    chat_id = await store.create_chat("m", user)
    ids = []
    for i in range(6):
        role = "user" if i % 2 == 0 else "assistant"
        ids.append(await store.add_message(chat_id, role, f"{CYRILLIC} {i}"))
    messages = await store.get_chat_messages(chat_id)
    assert [m["id"] for m in messages] == ids
    assert [m["content"] for m in messages] == [f"{CYRILLIC} {i}" for i in range(6)]
    stamps = [_iso(m["created_at"]) for m in messages]
    assert stamps == sorted(stamps) and len(set(stamps)) == 6
    newest = await store.get_chat_messages(chat_id, limit=2)
    assert [m["id"] for m in newest] == ids[-2:]  # the newest two, still oldest first
    assert len(await store.get_chat_messages(chat_id, limit=100)) == 6
    with pytest.raises(InvalidInputError):
        await store.get_chat_messages(chat_id, limit=0)


async def test_add_message_fields_and_chat_bump(store: Store, user: str) -> None:
    chat_id = await store.create_chat("m", user)
    created = (await store.get_chat(chat_id))["updated_at"]  # type: ignore[index]
    usage = {"usage": {"prompt_tokens": 10, "completion_tokens": 5}, "citations": [{"page": 5, "block": "b1"}]}
    mid = await store.add_message(chat_id, "assistant", "Ответ", message_type="answer", model="gpt", metadata=usage)
    [m] = await store.get_chat_messages(chat_id)
    assert m == {"id": mid, "chat_id": chat_id, "role": "assistant", "content": "Ответ", "message_type": "answer",
                 "model": "gpt", "metadata": usage, "created_at": m["created_at"]}
    chat = await store.get_chat(chat_id)
    assert _iso(chat["updated_at"]) == _iso(m["created_at"]) > _iso(created)  # type: ignore[index]


async def test_add_message_errors(store: Store, user: str) -> None:
    chat_id = await store.create_chat("m", user)
    with pytest.raises(InvalidInputError) as info:
        await store.add_message(chat_id, "robot", "x")
    assert "robot" in str(info.value) and "assistant" in str(info.value)
    for empty in ("", "   \n", None):
        with pytest.raises(InvalidInputError):
            await store.add_message(chat_id, "user", empty)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        await store.add_message(chat_id, "user", 42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        await store.add_message("bad", "user", "x")
    with pytest.raises(NotFoundError) as missing:
        await store.add_message(str(uuid.uuid4()), "user", "x")
    assert "не найден" in str(missing.value)
    with pytest.raises(NotFoundError):
        await store.get_chat_messages(str(uuid.uuid4()))
    assert await store.get_chat_messages(chat_id) == []


async def test_add_messages_bulk(store: Store, user: str) -> None:
    chat_id = await store.create_chat("bulk", user)
    first = await store.add_message(chat_id, "user", "первое")
    rows = [{"role": "assistant" if i % 2 else "user", "content": f"№{i} {CYRILLIC}", "metadata": {"i": i}}
            for i in range(50)]
    ids = await store.add_messages_bulk(chat_id, rows)
    assert len(ids) == 50 and len(set(ids)) == 50
    messages = await store.get_chat_messages(chat_id)
    assert [m["id"] for m in messages] == [first, *ids]
    assert [m["metadata"] for m in messages[1:]] == [{"i": i} for i in range(50)]
    assert await store.add_messages_bulk(chat_id, []) == []
    with pytest.raises(InvalidInputError):
        await store.add_messages_bulk(chat_id, [{"role": "user", "content": "ok"}, {"role": "bad", "content": "x"}])
    with pytest.raises(InvalidInputError):
        await store.add_messages_bulk(chat_id, [{"content": "no role"}])
    with pytest.raises(NotFoundError):
        await store.add_messages_bulk(str(uuid.uuid4()), rows[:1])
    assert len(await store.get_chat_messages(chat_id)) == 51  # nothing of the failed calls


async def test_concurrent_writes(store: Store, user: str) -> None:
    chat_id = await store.create_chat("concurrent", user)
    ids = await asyncio.gather(*(store.add_message(chat_id, "user", f"m{i}") for i in range(20)))
    assert sorted(m["id"] for m in await store.get_chat_messages(chat_id)) == sorted(ids)


# --------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------
async def test_images_round_trip(store: Store, user: str) -> None:
    chat_id = await store.create_chat("img", user)
    mid = await store.add_message(chat_id, "assistant", "Смотрите фрагмент")
    other = await store.add_message(chat_id, "assistant", "ещё")
    path = f"chats/{chat_id}/images/viewport_step_1.png"
    image_id = await store.add_image_to_message(
        chat_id=chat_id, message_id=mid, image_name="viewport_step_1.png", s3_path=path,
        s3_url="https://s3.cloud.ru/bucket/" + path, image_type="viewport", description="Лист 5, узел А",
        width=2048, height=1024, file_size=1024000, page_number=5, coords_norm=[0.1, 0.2, 0.8, 0.5])
    second = await store.add_image_to_message(chat_id, mid, "zoom.png", path + ".zoom", None, image_type="zoom_crop")
    third = await store.add_image_to_message(chat_id, other, "page.png", "p", None, image_type="page")
    images = await store.get_message_images(mid)
    assert [i["id"] for i in images] == [image_id, second]
    first = images[0]
    assert first["chat_id"] == chat_id and first["message_id"] == mid
    assert (first["image_name"], first["s3_path"], first["image_type"]) == ("viewport_step_1.png", path, "viewport")
    assert first["s3_url"].endswith(path) and first["description"] == "Лист 5, узел А"
    assert (first["width"], first["height"], first["file_size"], first["page_number"]) == (2048, 1024, 1024000, 5)
    assert first["coords_norm"] == [0.1, 0.2, 0.8, 0.5]
    assert first["sync_state"] == "synced"
    _iso(first["uploaded_at"])
    assert images[1]["s3_url"] is None and images[1]["coords_norm"] is None
    assert [i["id"] for i in await store.get_chat_images(chat_id)] == [image_id, second, third]


async def test_image_errors(store: Store, user: str) -> None:
    chat_id = await store.create_chat("img", user)
    other_chat = await store.create_chat("other", user)
    mid = await store.add_message(chat_id, "user", "x")
    with pytest.raises(NotFoundError):  # the message is not in that chat
        await store.add_image_to_message(other_chat, mid, "a.png", "k", None)
    with pytest.raises(NotFoundError):
        await store.add_image_to_message(chat_id, str(uuid.uuid4()), "a.png", "k", None)
    with pytest.raises(NotFoundError):
        await store.add_image_to_message(str(uuid.uuid4()), mid, "a.png", "k", None)
    with pytest.raises(InvalidInputError) as info:
        await store.add_image_to_message(chat_id, mid, "a.png", "k", None, image_type="gif")
    assert "viewport" in str(info.value)
    with pytest.raises(InvalidInputError):
        await store.add_image_to_message(chat_id, mid, "a.png", "k", None, width=-1)
    with pytest.raises(InvalidInputError):
        await store.add_image_to_message(chat_id, mid, "", "k", None)
    with pytest.raises(InvalidInputError):
        await store.add_image_to_message(chat_id, "x", "a.png", "k", None)
    with pytest.raises(NotFoundError):
        await store.get_message_images(str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        await store.get_chat_images(str(uuid.uuid4()))
    assert await store.get_message_images(mid) == []
    assert await store.get_chat_images(chat_id) == []


async def test_add_images_bulk(store: Store, user: str) -> None:
    chat_id = await store.create_chat("img", user)
    mids = [await store.add_message(chat_id, "assistant", f"m{i}") for i in range(3)]
    rows = [{"chat_id": chat_id, "message_id": mids[i % 3], "image_name": f"v{i}.png", "s3_path": f"k/{i}",
             "s3_url": None, "coords_norm": {"x": i / 10}, "width": 100 + i, "sync_state": "pending"}
            for i in range(12)]
    ids = await store.add_images_bulk(rows)
    got = await store.get_chat_images(chat_id)
    assert [g["id"] for g in got] == ids
    assert [g["coords_norm"] for g in got] == [{"x": i / 10} for i in range(12)]
    assert {g["sync_state"] for g in got} == {"pending"}
    assert len(await store.get_message_images(mids[1])) == 4
    other_chat = await store.create_chat("other", user)
    with pytest.raises(NotFoundError):
        await store.add_images_bulk([{**rows[0], "chat_id": other_chat}])
    with pytest.raises(InvalidInputError):
        await store.add_images_bulk([{"chat_id": chat_id, "message_id": mids[0]}])
    with pytest.raises(InvalidInputError):
        await store.add_images_bulk("not rows")  # type: ignore[arg-type]
    for bad in ({"image_type": "gif"}, {"width": -1}, {"height": 1.5}, {"image_name": " "}, {"s3_url": 5},
                {"sync_state": "lost"}, {"coords_norm": {1}}, {"id": "x"}):
        with pytest.raises(InvalidInputError):
            await store.add_images_bulk([rows[0], {**rows[1], **bad}])
    assert len(await store.get_chat_images(chat_id)) == 12


# --------------------------------------------------------------------------------------------
# Search results
# --------------------------------------------------------------------------------------------
async def test_search_results(store: Store, user: str) -> None:
    chat_id = await store.create_chat("search", user)
    m1 = await store.add_message(chat_id, "user", "Найди вентиляцию")
    m2 = await store.add_message(chat_id, "user", "И кровлю")
    r1 = await store.add_search_result(chat_id=chat_id, message_id=m1, block_id="block_123", page_number=5,
                                       block_text="Система вентиляции состоит из...",
                                       coords_norm=[0.1, 0.2, 0.8, 0.5], coords_px=[100, 200, 800, 500])
    r2 = await store.add_search_result(chat_id, m2, "block_7", 2, CYRILLIC, {"x0": 0.1}, {"x0": 10},
                                       document_id="doc-1", score=3.25)
    results = await store.get_search_results(chat_id)
    assert [r["id"] for r in results] == [r1, r2]
    first = results[0]
    assert (first["block_id"], first["page_number"], first["message_id"]) == ("block_123", 5, m1)
    assert first["coords_norm"] == [0.1, 0.2, 0.8, 0.5] and first["coords_px"] == [100, 200, 800, 500]
    assert first["document_id"] is None and first["score"] is None
    assert results[1]["block_text"] == CYRILLIC and results[1]["score"] == 3.25
    assert results[1]["document_id"] == "doc-1"
    assert [r["id"] for r in await store.get_search_results(chat_id, message_id=m2)] == [r2]


async def test_search_results_bulk_and_errors(store: Store, user: str) -> None:
    chat_id = await store.create_chat("search", user)
    mid = await store.add_message(chat_id, "user", "q")
    rows = [{"chat_id": chat_id, "message_id": mid, "block_id": f"b{i}", "page_number": i, "block_text": f"т{i}",
             "coords_norm": [0, 0, 1, 1], "coords_px": [0, 0, i, i], "score": 1 / (i + 1)} for i in range(25)]
    ids = await store.add_search_results_bulk(rows)
    got = await store.get_search_results(chat_id, mid)
    assert [g["id"] for g in got] == ids
    assert [g["coords_px"] for g in got] == [[0, 0, i, i] for i in range(25)]
    assert await store.add_search_results_bulk([]) == []
    with pytest.raises(InvalidInputError):
        await store.add_search_results_bulk([{"chat_id": chat_id, "message_id": mid}])
    with pytest.raises(InvalidInputError):
        await store.add_search_result(chat_id, mid, "b", -1, "t", None, None)
    with pytest.raises(InvalidInputError):
        await store.add_search_result(chat_id, mid, "b", 1, "t", None, None, score=float("inf"))
    with pytest.raises(InvalidInputError):
        await store.add_search_result(chat_id, mid, "", 1, "t", None, None)
    with pytest.raises(NotFoundError):
        await store.add_search_result(chat_id, str(uuid.uuid4()), "b", 1, "t", None, None)
    with pytest.raises(NotFoundError):
        await store.add_search_results_bulk([{**rows[0], "message_id": str(uuid.uuid4())}])
    with pytest.raises(NotFoundError):
        await store.get_search_results(str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        await store.get_search_results(chat_id, str(uuid.uuid4()))
    for bad in ({"page_number": "5"}, {"page_number": -2}, {"score": float("nan")}, {"score": "high"},
                {"block_id": ""}, {"block_text": None}, {"coords_px": {1, 2}}, {"id": "nope"},
                {"document_id": " "}):
        with pytest.raises(InvalidInputError):
            await store.add_search_results_bulk([rows[0], {**rows[1], **bad}])
    assert len(await store.get_search_results(chat_id)) == 25  # failed calls stored nothing
    [numeric] = await store.add_search_results_bulk([{**rows[0], "block_id": 7, "document_id": 3, "score": 2}])
    got = [r for r in await store.get_search_results(chat_id) if r["id"] == numeric][0]
    assert (got["block_id"], got["document_id"], got["score"]) == ("7", "3", 2.0)


# --------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------
def _count_selects(store: Store) -> tuple[list[str], Any]:
    """Count SELECTs the store runs: SQLAlchemy events on PostgreSQL, SQLite's trace callback."""
    statements: list[str] = []
    engine = store.db.sync_engine
    if store.db.is_sqlite:
        def on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.set_trace_callback(
                lambda sql: statements.append(sql) if sql.lstrip().upper().startswith("SELECT") else None)

        event.listen(engine, "connect", on_connect)
        engine.dispose()

        def undo() -> None:
            event.remove(engine, "connect", on_connect)
            engine.dispose()
    else:
        def on_execute(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", on_execute)

        def undo() -> None:
            event.remove(engine, "before_cursor_execute", on_execute)
    return statements, undo


async def _chat_of_size(store: Store, user: str, n: int) -> str:
    chat_id = await store.create_chat(f"size {n}", user)
    ids = await store.add_messages_bulk(chat_id, [{"role": "user", "content": f"m{i}"} for i in range(n)])
    await store.add_images_bulk([{"chat_id": chat_id, "message_id": m, "image_name": "a", "s3_path": "k",
                                  "s3_url": None} for m in ids for _ in range(2)])
    await store.add_search_results_bulk([{"chat_id": chat_id, "message_id": m, "block_id": "b", "page_number": 1,
                                          "block_text": "t", "coords_norm": None, "coords_px": None} for m in ids])
    return chat_id


async def test_chat_history_structure_and_constant_queries(store: Store, user: str) -> None:
    counts = []
    for n in (3, 30, 300):
        chat_id = await _chat_of_size(store, user, n)
        statements, undo = _count_selects(store)
        try:
            history = await store.get_chat_history(chat_id)
        finally:
            undo()
        counts.append(len(statements))
        assert history["chat"]["id"] == chat_id
        assert len(history["messages"]) == n
        assert all(len(m["images"]) == 2 and len(m["search_results"]) == 1 for m in history["messages"])
        assert all(i["message_id"] == m["id"] for m in history["messages"] for i in m["images"])
    assert counts == [4, 4, 4], counts  # chat, messages, images, results: whatever the size
    newest = await store.get_chat_history(chat_id, limit=5)
    assert [m["content"] for m in newest["messages"]] == [f"m{i}" for i in range(295, 300)]
    assert all(len(m["images"]) == 2 for m in newest["messages"])
    with pytest.raises(NotFoundError):
        await store.get_chat_history(str(uuid.uuid4()))


async def test_for_user_on_sqlite_is_plain_store(settings: Settings) -> None:
    store = ChatStore(Database(settings))
    mine = store.for_user("user_a")
    chat_id = await mine.create_chat("t", "user_b")  # no RLS on SQLite: single-user database
    assert (await store.get_chat(chat_id))["user_id"] == "user_b"  # type: ignore[index]
    await store.close()


async def test_is_connected(store: Store) -> None:
    assert store.is_connected() is True  # synchronous, called with the event loop running


def test_store_survives_several_event_loops(pg_url: str, settings: Settings) -> None:
    """``asyncio.run`` twice with one store (the original's scripts do that)."""
    from pydantic import SecretStr

    store = ChatStore(Database(settings.model_copy(update={"database_url": SecretStr(pg_url)})))
    asyncio.run(migrate.upgrade(store.db))
    chat_id = asyncio.run(store.create_chat("loop 1", "u"))
    assert asyncio.run(store.get_chat(chat_id))["title"] == "loop 1"  # type: ignore[index]
    asyncio.run(store.close())
