"""URLs, connection failures, is_connected and the seed facade."""

from __future__ import annotations

import time

import pytest
from pydantic import SecretStr

from aizoomdoc.config import Settings
from aizoomdoc.errors import ConfigError, DatabaseUnavailableError
from aizoomdoc.store import ChatStore, Database, describe_url, normalize_url
from aizoomdoc.supabase_client import SupabaseClient, supabase_client


@pytest.mark.parametrize("raw, driver, query", [
    ("postgresql://u:p@db.example.com:5432/postgres", "postgresql+asyncpg", {}),
    ("postgres://u:p@db.example.com/postgres", "postgresql+asyncpg", {}),
    ("postgresql+psycopg2://u:p@h/d", "postgresql+asyncpg", {}),
    ("postgresql://u:p@h:6543/d?sslmode=require&pgbouncer=true", "postgresql+asyncpg", {"ssl": "require"}),
    ("sqlite:////tmp/x.db", "sqlite+aiosqlite", {}),
])
def test_normalize_url(raw: str, driver: str, query: dict) -> None:
    url = normalize_url(raw)
    assert url.drivername == driver
    assert dict(url.query) == query


@pytest.mark.parametrize("raw", ["mysql://u:p@h/d", "not a url", "postgresql://u:p@/d", "postgresql://u:p@h"])
def test_normalize_url_rejects(raw: str) -> None:
    with pytest.raises(ConfigError) as info:
        normalize_url(raw)
    assert "DATABASE_URL" in str(info.value)
    assert ":p@" not in str(info.value)


def test_describe_url_never_shows_the_password() -> None:
    assert describe_url(normalize_url("postgresql://user:hunter2@db.example.com:6543/app")) == \
        "db.example.com:6543/app"


async def test_unreachable_postgres_is_a_clear_error(settings: Settings) -> None:
    db = Database(settings.model_copy(update={"database_url": SecretStr("postgresql://u:secretpw@127.0.0.1:1/x")}))
    store = ChatStore(db)
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailableError) as info:
        await store.get_chats("user_123")
    assert time.monotonic() - started < settings.db_connect_timeout + 2
    message = str(info.value)
    assert "127.0.0.1:1/x" in message and "secretpw" not in message
    assert store.is_connected() is False
    await store.close()


@pytest.mark.postgres
async def test_pooler_url_connects_without_prepared_statements(pg_url: str, settings: Settings) -> None:
    """``?pgbouncer=true`` (Supabase's transaction pooler) switches statement caching off."""
    db = Database(settings.model_copy(update={"database_url": SecretStr(pg_url + "?pgbouncer=true")}))
    await db.check()
    assert db.ping() is True
    await db.dispose()


@pytest.mark.postgres
def test_is_connected_without_event_loop(pg_url: str, settings: Settings) -> None:
    good = ChatStore(Database(settings.model_copy(update={"database_url": SecretStr(pg_url)})))
    assert good.is_connected() is True
    sqlite_store = ChatStore(Database(settings))
    assert sqlite_store.is_connected() is True
    assert not settings.sqlite_path.exists()  # checking does not create the database


async def test_facade_binds_lazily_and_can_be_configured(settings: Settings, monkeypatch) -> None:
    from aizoomdoc.config import reset_settings_cache

    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    reset_settings_cache()
    client = SupabaseClient()
    try:
        chat_id = await client.create_chat(title="Анализ документа XYZ", user_id="user_123")
        assert client.store.db.target == str(settings.sqlite_path)
        assert (await client.get_chat(chat_id))["title"] == "Анализ документа XYZ"
        assert client.is_connected() is True
        other = ChatStore(Database(settings))
        assert client.configure(store=other) is other
        assert (await client.get_chats("user_123"))[0]["id"] == chat_id
        await client.close()
        client.reset()
        assert client._store is None
    finally:
        reset_settings_cache()
    assert "create_chat" in dir(supabase_client)
    with pytest.raises(AttributeError):
        supabase_client.no_such_method  # noqa: B018
