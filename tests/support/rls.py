"""A PostgreSQL login role like Supabase's authenticator, and SQL run as one user through it.

Supabase's Data API lets a user reach his rows directly: it connects as a non-superuser role
that switches to ``authenticated`` with the user's JWT claims, and Row Level Security decides
what he may read and write. Tests use the same path to act as a user writing his own rows.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

PASSWORD = "rls-test-pw"


@asynccontextmanager
async def login_role(pg_server: Any, pg_url: str) -> AsyncIterator[str]:
    """A LOGIN role that is not a superuser, allowed to act as ``authenticated``: its URL.

    Roles are cluster-wide: the name is unique, and the role is dropped afterwards together with
    the database ``pg_url`` (which frees it)."""
    role = f"aizoomdoc_rls_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOINHERIT PASSWORD '{PASSWORD}'")
        await admin.execute(f"GRANT authenticated TO {role}")
        await admin.execute(f"GRANT CONNECT ON DATABASE \"{pg_url.rsplit('/', 1)[1]}\" TO {role}")
    finally:
        await admin.close()
    try:
        yield f"postgresql://{role}:{PASSWORD}@{pg_url.split('@', 1)[1]}"
    finally:
        admin = await asyncpg.connect(pg_url)
        try:
            await admin.execute(f"REASSIGN OWNED BY {role} TO postgres")
            await admin.execute(f"DROP OWNED BY {role}")
        finally:
            await admin.close()
        await asyncio.to_thread(pg_server.drop_database, pg_url)
        admin = await asyncpg.connect(pg_server.admin_url)
        try:
            await admin.execute(f"DROP ROLE IF EXISTS {role}")
        finally:
            await admin.close()


async def as_user(login_url: str, user_id: str, sql: str, *args: Any) -> Any:
    """``sql`` in one transaction as role ``authenticated`` with ``user_id``'s claims (what a
    request of the Data API does); rows for a SELECT, the status line otherwise."""
    conn = await asyncpg.connect(login_url)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL ROLE authenticated")
            await conn.execute("SELECT set_config('request.jwt.claims', $1, true)",
                               json.dumps({"sub": user_id, "role": "authenticated"}))
            if sql.lstrip().upper().startswith("SELECT"):
                return await conn.fetch(sql, *args)
            return await conn.execute(sql, *args)
    finally:
        await conn.close()
