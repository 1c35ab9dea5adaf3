"""SQL for Row Level Security on PostgreSQL, used by the migrations (never run on SQLite).

The policies follow Supabase: a request runs as role ``authenticated`` with the caller's JWT claims
in ``request.jwt.claims``; ``auth.uid()`` is the claims' ``sub``. On a plain PostgreSQL (no
Supabase) the migration creates what Supabase would have provided: schema ``auth``, a text
``auth.uid()`` reading ``request.jwt.claims``, and the NOLOGIN roles ``anon`` and ``authenticated``.
Tables are owned by the migrating role, which bypasses RLS (like Supabase's service role); the
application switches to ``authenticated`` per transaction (see ``Database.session(user_id=…)``).

Migrations of other tables use :func:`enable_owner_rls` (a table with ``user_id``) or
:func:`enable_child_rls` (a table reaching its owner through a parent's ``user_id``) and
:func:`grant_to_authenticated`; :func:`disable_rls` undoes either.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Marks objects this project created, so a downgrade removes only those (never Supabase's).
MARKER = "created by aizoomdoc migrations"

ROLES: tuple[str, ...] = ("anon", "authenticated")

#: The current user id as text (Supabase's auth.uid() returns uuid; cast with ::text in policies).
UID = "(auth.uid())::text"


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def create_roles() -> list[str]:
    """CREATE ROLE anon/authenticated (NOLOGIN) unless they exist (roles are cluster-wide)."""
    out = []
    for role in ROLES:
        out.append(
            "DO $$ BEGIN "
            f"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
            f"CREATE ROLE {role} NOLOGIN NOINHERIT; END IF; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
    return out


def create_auth_uid() -> list[str]:
    """Schema ``auth`` and ``auth.uid()`` from ``request.jwt.claims`` unless they exist (Supabase)."""
    return [
        "DO $$ BEGIN "
        "IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'auth') THEN "
        "CREATE SCHEMA auth; "
        f"COMMENT ON SCHEMA auth IS '{MARKER}'; "
        "END IF; END $$",
        "DO $$ BEGIN "
        "IF NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'auth' AND p.proname = 'uid' AND p.pronargs = 0) THEN "
        "CREATE FUNCTION auth.uid() RETURNS text LANGUAGE sql STABLE AS $f$ "
        "SELECT coalesce("
        "nullif(current_setting('request.jwt.claim.sub', true), ''), "
        "(nullif(current_setting('request.jwt.claims', true), '')::json ->> 'sub')"
        ") $f$; "
        f"COMMENT ON FUNCTION auth.uid() IS '{MARKER}'; "
        "END IF; END $$",
        "GRANT USAGE ON SCHEMA auth TO anon, authenticated",
        "GRANT EXECUTE ON FUNCTION auth.uid() TO anon, authenticated",
    ]


def drop_auth_uid() -> list[str]:
    """Drop ``auth.uid()`` and schema ``auth`` only if these migrations created them."""
    return [
        "DO $$ BEGIN "
        "IF EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'auth' AND p.proname = 'uid' AND p.pronargs = 0 "
        f"AND obj_description(p.oid, 'pg_proc') = '{MARKER}') THEN "
        "DROP FUNCTION auth.uid(); END IF; "
        "IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'auth' "
        f"AND obj_description(oid, 'pg_namespace') = '{MARKER}') "
        "AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'auth') "
        "AND NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'auth') THEN DROP SCHEMA auth; END IF; END $$",
    ]


def grant_to_authenticated(tables: Iterable[str]) -> list[str]:
    names = ", ".join(_ident(t) for t in tables)
    return [
        "GRANT USAGE ON SCHEMA public TO authenticated",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {names} TO authenticated",
    ]


def enable_owner_rls(table: str, owner_column: str = "user_id") -> list[str]:
    """RLS on a table whose rows carry the owner's id: visible/writable when owner = auth.uid()."""
    table, col = _ident(table), _ident(owner_column)
    rule = f"{col} = {UID}"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_owner ON {table} FOR ALL TO authenticated USING ({rule}) WITH CHECK ({rule})",
    ]


def enable_child_rls(table: str, parent: str = "chats", fk_column: str = "chat_id",
                     parent_owner_column: str = "user_id", extra_check: str | None = None) -> list[str]:
    """RLS on a table owned through its parent row: ``EXISTS (parent row owned by auth.uid())``.

    ``extra_check`` is ANDed into WITH CHECK only (e.g. the referenced message must be in the same,
    visible chat).
    """
    table, parent, fk, owner = _ident(table), _ident(parent), _ident(fk_column), _ident(parent_owner_column)
    rule = f"EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {table}.{fk} AND p.{owner} = {UID})"
    check = f"{rule} AND {extra_check}" if extra_check else rule
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_owner ON {table} FOR ALL TO authenticated USING ({rule}) WITH CHECK ({check})",
    ]


def message_in_same_chat(table: str) -> str:
    """WITH CHECK clause: the row's message belongs to the row's chat (and is visible under RLS)."""
    table = _ident(table)
    return (f"EXISTS (SELECT 1 FROM chat_messages m WHERE m.id = {table}.message_id "
            f"AND m.chat_id = {table}.chat_id)")


def key_in_folder(column: str, folder_sql: str) -> str:
    """SQL: ``column`` is NULL or a key inside ``folder_sql`` (an SQL text expression ending in
    ``/``) without ``..`` segments — a stored key cannot point into another chat or document."""
    col = _ident(column)
    return (f"({col} IS NULL OR (starts_with({col}, {folder_sql}) AND length({col}) > length({folder_sql}) "
            f"AND position('..' in {col}) = 0))")


def _replace_policy(table: str, using: str, check: str) -> list[str]:
    table = _ident(table)
    return [
        f"DROP POLICY IF EXISTS {table}_owner ON {table}",
        f"CREATE POLICY {table}_owner ON {table} FOR ALL TO authenticated USING ({using}) WITH CHECK ({check})",
    ]


def _child_rule(table: str, parent: str = "chats", fk: str = "chat_id") -> str:
    return f"EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {table}.{fk} AND p.user_id = {UID})"


def security_policies() -> list[str]:
    """Migration 004: restrict the columns the server reads back (see the migration's docstring)."""
    image_check = " AND ".join([
        _child_rule("chat_images"), message_in_same_chat("chat_images"),
        key_in_folder("s3_path", "'chats/' || chat_id::text || '/'"),
    ])
    doc_folder = "'documents/' || id::text || '/'"
    doc_check = " AND ".join([f"user_id = {UID}", key_in_folder("storage_key", doc_folder),
                              key_in_folder("render_key", doc_folder)])
    return [
        "REVOKE INSERT, UPDATE ON api_tokens FROM authenticated",
        *_replace_policy("chat_images", _child_rule("chat_images"), image_check),
        *_replace_policy("documents", f"user_id = {UID}", doc_check),
    ]


def drop_security_policies() -> list[str]:
    """Back to the policies of migrations 001-003."""
    return [
        "GRANT INSERT, UPDATE ON api_tokens TO authenticated",
        *_replace_policy("chat_images", _child_rule("chat_images"),
                         f"{_child_rule('chat_images')} AND {message_in_same_chat('chat_images')}"),
        *_replace_policy("documents", f"user_id = {UID}", f"user_id = {UID}"),
    ]


def disable_rls(table: str) -> list[str]:
    table = _ident(table)
    return [
        f"DROP POLICY IF EXISTS {table}_owner ON {table}",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]


def chat_tables_rls() -> list[str]:
    """Everything migration 001 runs for chats, chat_messages, chat_images, search_results."""
    sql = [*create_roles(), *create_auth_uid()]
    sql += grant_to_authenticated(["chats", "chat_messages", "chat_images", "search_results"])
    sql += enable_owner_rls("chats")
    sql += enable_child_rls("chat_messages")
    sql += enable_child_rls("chat_images", extra_check=message_in_same_chat("chat_images"))
    sql += enable_child_rls("search_results", extra_check=message_in_same_chat("search_results"))
    return sql


def drop_chat_tables_rls() -> list[str]:
    sql: list[str] = []
    for table in ("search_results", "chat_images", "chat_messages", "chats"):
        sql += disable_rls(table)
    return sql


__all__ = [
    "MARKER", "ROLES", "chat_tables_rls", "create_auth_uid", "create_roles", "disable_rls",
    "drop_auth_uid", "drop_chat_tables_rls", "drop_security_policies", "enable_child_rls", "enable_owner_rls",
    "grant_to_authenticated", "key_in_folder", "message_in_same_chat", "security_policies",
]
