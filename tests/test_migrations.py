"""Migrations on SQLite and PostgreSQL: head -> base -> head, models == migrations, indexes, RLS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import SecretStr
from sqlalchemy import inspect, text

from aizoomdoc.config import Settings
from aizoomdoc.store import Database, migrate
from aizoomdoc.store.models import USER_TABLES
from aizoomdoc.store.schema import metadata

# PostgreSQL: every migration is checked on SQLite and PostgreSQL.
pytestmark = pytest.mark.postgres


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, settings: Settings, pg_server) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        database = Database(settings)
        yield database
        await database.dispose()
        return
    # The helpers run their own event loop: keep them off this one.
    url = await asyncio.to_thread(pg_server.create_database, "aizoomdoc_mig")
    database = Database(settings.model_copy(update={"database_url": SecretStr(url)}))
    yield database
    await database.dispose()
    await asyncio.to_thread(pg_server.drop_database, url)


async def _table_names(db: Database) -> set[str]:
    return await db.run(lambda c: set(inspect(c).get_table_names()))


async def _diff(db: Database) -> list:
    def compare(conn) -> list:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(ctx, metadata)

    return await db.run(compare)


async def test_round_trip_and_no_diff(db: Database) -> None:
    head = migrate.head_revision()
    assert await migrate.current_revision(db) is None
    assert await migrate.upgrade(db) == head
    assert set(USER_TABLES) <= await _table_names(db)
    assert await _diff(db) == []

    assert await migrate.downgrade(db, "base") is None
    assert await _table_names(db) <= {"alembic_version"}

    assert await migrate.upgrade(db, "head") == head
    assert await _diff(db) == []  # autogenerate would find nothing to do
    assert await migrate.current_revision(db) == head


async def test_upgrade_to_named_revision_and_step_back(db: Database) -> None:
    assert await migrate.upgrade(db, "001_initial_schema") == "001_initial_schema"
    assert set(USER_TABLES) <= await _table_names(db)
    assert await migrate.downgrade(db, "-1") is None
    assert set(USER_TABLES).isdisjoint(await _table_names(db))


async def test_every_foreign_key_is_indexed_and_cascades(db: Database) -> None:
    await migrate.upgrade(db, "001_initial_schema")

    def check(conn) -> list[str]:
        insp = inspect(conn)
        problems = []
        for table in USER_TABLES:
            leading = {tuple(ix["column_names"][:1]) for ix in insp.get_indexes(table)}
            leading |= {tuple(insp.get_pk_constraint(table)["constrained_columns"][:1])}
            for fk in insp.get_foreign_keys(table):
                if tuple(fk["constrained_columns"][:1]) not in leading:
                    problems.append(f"{table}.{fk['constrained_columns']} has no index")
                if (fk.get("options") or {}).get("ondelete", "").upper() != "CASCADE":
                    problems.append(f"{table}.{fk['constrained_columns']} does not cascade")
        if not any(ix["column_names"] == ["user_id", "updated_at"] for ix in insp.get_indexes("chats")):
            problems.append("chats has no (user_id, updated_at) index")
        return problems

    assert await db.run(check) == []


async def test_postgres_types_and_rls(db: Database) -> None:
    await migrate.upgrade(db, "001_initial_schema")
    if db.is_sqlite:
        return  # nothing PostgreSQL-specific to check

    def check(conn) -> dict:
        types = dict(conn.execute(text(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
            "WHERE table_name IN ('chats', 'chat_messages', 'chat_images', 'search_results')")).all())
        rls = dict(conn.execute(text(
            "SELECT relname, relrowsecurity FROM pg_class WHERE relname IN "
            "('chats', 'chat_messages', 'chat_images', 'search_results')")).all())
        policies = conn.execute(text("SELECT tablename FROM pg_policies")).scalars().all()
        uid = conn.execute(text("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                                "WHERE n.nspname = 'auth' AND p.proname = 'uid'")).scalar()
        roles = conn.execute(text("SELECT rolname, rolcanlogin FROM pg_roles "
                                  "WHERE rolname IN ('anon', 'authenticated')")).all()
        return {"types": types, "rls": rls, "policies": policies, "uid": uid, "roles": roles}

    got = await db.run(check)
    assert got["types"]["chats.id"] == "uuid"
    assert got["types"]["chat_messages.chat_id"] == "uuid"
    assert got["types"]["chats.metadata"] == "jsonb"
    assert got["types"]["search_results.coords_px"] == "jsonb"
    assert got["types"]["chats.user_id"] == "text"
    assert got["rls"] == {t: True for t in USER_TABLES}
    assert set(USER_TABLES) <= set(got["policies"])
    assert got["uid"] == 1
    assert sorted(got["roles"]) == [("anon", False), ("authenticated", False)]

    # Downgrading removes what the migration created in this database (not the cluster's roles).
    await migrate.downgrade(db, "base")
    left = await db.run(lambda c: c.execute(text(
        "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'auth' AND p.proname = 'uid'")).scalar())
    assert left == 0
