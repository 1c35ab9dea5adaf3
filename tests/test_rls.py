"""Row Level Security on PostgreSQL: a user sees and changes only their own chats and what hangs
off them, whether through the store (``for_user``) or raw SQL as a non-superuser login role."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
from pydantic import SecretStr

from aizoomdoc.config import Settings
from aizoomdoc.errors import AizoomdocError, ForbiddenError, NotFoundError
from aizoomdoc.store import ChatStore, Database, migrate
from tests.support.rls import PASSWORD, login_role

pytestmark = pytest.mark.postgres


@dataclass
class World:
    url: str
    owner: ChatStore
    login_url: str
    a: str
    b: str
    a_chat: str
    a_msg: str
    b_chat: str
    b_msg: str
    b_img: str
    b_res: str


@pytest.fixture(scope="module")
async def world(pg_url: str, pg_server, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("rls"), database_url=pg_url)
    owner = ChatStore(Database(settings))
    await migrate.upgrade(owner.db)
    a, b = str(uuid.uuid4()), "user_123"  # a Supabase-style uuid and the seed's text id
    a_chat = await owner.create_chat("A's chat", a)
    a_msg = await owner.add_message(a_chat, "user", "вопрос A")
    b_chat = await owner.create_chat("B's chat", b)
    b_msg = await owner.add_message(b_chat, "user", "секрет B")
    b_img = await owner.add_image_to_message(b_chat, b_msg, "b.png", "chats/b/images/b.png", None)
    b_res = await owner.add_search_result(b_chat, b_msg, "blk", 1, "секрет", [0, 0, 1, 1], [0, 0, 9, 9])

    # A LOGIN role that is not a superuser, allowed to act as `authenticated` (like Supabase's
    # authenticator); dropped afterwards with the database.
    async with login_role(pg_server, pg_url) as login_url:
        yield World(pg_url, owner, login_url, a, b, a_chat, a_msg, b_chat, b_msg, b_img, b_res)
        await owner.close()


@pytest.fixture()
async def as_a(world: World, tmp_path) -> AsyncIterator[ChatStore]:
    """The store connected as the non-superuser login role, acting as user A."""
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=SecretStr(world.login_url))
    store = ChatStore(Database(settings)).for_user(world.a)
    yield store
    await store.close()


async def test_user_sees_only_own_rows(world: World, as_a: ChatStore) -> None:
    assert [c["id"] for c in await as_a.get_chats(world.a)] == [world.a_chat]
    assert await as_a.get_chats(world.b) == []
    assert await as_a.get_chat(world.b_chat) is None
    with pytest.raises(NotFoundError):
        await as_a.get_chat_messages(world.b_chat)
    with pytest.raises(NotFoundError):
        await as_a.get_message_images(world.b_msg)
    with pytest.raises(NotFoundError):
        await as_a.get_chat_images(world.b_chat)
    with pytest.raises(NotFoundError):
        await as_a.get_search_results(world.b_chat)
    with pytest.raises(NotFoundError):
        await as_a.get_chat_history(world.b_chat)
    # Their own data works normally.
    history = await as_a.get_chat_history(world.a_chat)
    assert [m["content"] for m in history["messages"]] == ["вопрос A"]


async def test_user_cannot_write_into_other_users_chats(world: World, as_a: ChatStore) -> None:
    with pytest.raises(ForbiddenError):
        await as_a.create_chat("impostor", world.b)
    with pytest.raises(NotFoundError):
        await as_a.add_message(world.b_chat, "user", "вторжение")
    with pytest.raises(NotFoundError):
        await as_a.add_messages_bulk(world.b_chat, [{"role": "user", "content": "x"}])
    with pytest.raises(NotFoundError):
        await as_a.add_image_to_message(world.b_chat, world.b_msg, "x.png", "k", None)
    with pytest.raises(NotFoundError):  # own chat, someone else's message
        await as_a.add_image_to_message(world.a_chat, world.b_msg, "x.png", "k", None)
    with pytest.raises(NotFoundError):
        await as_a.add_search_result(world.b_chat, world.b_msg, "b", 1, "t", None, None)
    with pytest.raises(NotFoundError):
        await as_a.add_search_results_bulk([{"chat_id": world.a_chat, "message_id": world.b_msg, "block_id": "b"}])
    with pytest.raises(NotFoundError):
        await as_a.update_chat(world.b_chat, title="захвачено")
    with pytest.raises(NotFoundError):
        await as_a.archive_chat(world.b_chat)
    with pytest.raises(NotFoundError):
        await as_a.delete_chat(world.b_chat)
    # B's data is untouched.
    owner = world.owner
    assert (await owner.get_chat(world.b_chat))["title"] == "B's chat"  # type: ignore[index]
    assert [m["content"] for m in await owner.get_chat_messages(world.b_chat)] == ["секрет B"]
    assert [i["id"] for i in await owner.get_chat_images(world.b_chat)] == [world.b_img]
    assert [r["id"] for r in await owner.get_search_results(world.b_chat)] == [world.b_res]


async def test_user_can_work_in_own_chats(world: World, as_a: ChatStore) -> None:
    chat_id = await as_a.create_chat("мой", world.a)
    mid = await as_a.add_message(chat_id, "user", "привет")
    await as_a.add_image_to_message(chat_id, mid, "a.png", f"chats/{chat_id}/images/a.png", None)
    await as_a.add_search_results_bulk([{"chat_id": chat_id, "message_id": mid, "block_id": "b"}])
    assert (await as_a.update_chat(chat_id, title="переименован"))["title"] == "переименован"
    assert await as_a.delete_chat(chat_id) is True


async def test_raw_sql_as_authenticated_is_filtered(world: World) -> None:
    """Directly through the driver, as the login role with A's claims (no store involved)."""
    conn = await asyncpg.connect(world.login_url)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL ROLE authenticated")
            await conn.execute("SELECT set_config('request.jwt.claims', $1, true)",
                               f'{{"sub": "{world.a}", "role": "authenticated"}}')
            assert await conn.fetchval("SELECT auth.uid()") == world.a
            assert await conn.fetchval("SELECT count(*) FROM chats") == 1
            for table in ("chat_messages", "chat_images", "search_results"):
                ids = await conn.fetch(f"SELECT chat_id FROM {table}")
                assert {str(r["chat_id"]) for r in ids} <= {world.a_chat}, table
            assert await conn.execute("UPDATE chats SET title = 'x' WHERE id = $1", world.b_chat) == "UPDATE 0"
            assert await conn.execute("DELETE FROM chat_messages WHERE id = $1", world.b_msg) == "DELETE 0"
            assert await conn.execute("UPDATE search_results SET block_text = 'x'") == "UPDATE 0"
        for sql, args in [
            ("INSERT INTO chat_messages (id, chat_id, role, content) VALUES ($1, $2, 'user', 'x')",
             (str(uuid.uuid4()), world.b_chat)),
            ("INSERT INTO chat_images (id, chat_id, message_id, image_name, s3_path) VALUES ($1, $2, $3, 'a', 'k')",
             (str(uuid.uuid4()), world.a_chat, world.b_msg)),
            ("INSERT INTO search_results (id, chat_id, message_id, block_id, block_text) "
             "VALUES ($1, $2, $3, 'b', 't')", (str(uuid.uuid4()), world.b_chat, world.b_msg)),
            ("UPDATE chats SET user_id = $2 WHERE id = $1", (world.a_chat, world.b)),
        ]:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await conn.execute("SET LOCAL ROLE authenticated")
                    await conn.execute("SELECT set_config('request.jwt.claims', $1, true)",
                                       f'{{"sub": "{world.a}"}}')
                    await conn.execute(sql, *args)
        # Without claims (anonymous) nothing is visible.
        async with conn.transaction():
            await conn.execute("SET LOCAL ROLE authenticated")
            assert await conn.fetchval("SELECT count(*) FROM chats") == 0
        # The login role itself has no table privileges at all (only through `authenticated`).
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetchval("SELECT count(*) FROM chats")
    finally:
        await conn.close()


async def test_store_without_user_scope_reports_permission_clearly(world: World, tmp_path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=SecretStr(world.login_url))
    store = ChatStore(Database(settings))  # no for_user: the login role's own (absent) privileges
    with pytest.raises(AizoomdocError) as info:
        await store.get_chats(world.a)
    assert PASSWORD not in str(info.value)
    await store.close()
