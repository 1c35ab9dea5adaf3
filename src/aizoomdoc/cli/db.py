"""``aizoomdoc db init|migrate|upgrade|downgrade|history|current`` — the schema, via Alembic.

The same sub-commands are available as ``python scripts/manage_db.py …`` (the original's script).
A wrong or unreachable DATABASE_URL gives one clear line and exit code 1, never a traceback.
"""

from __future__ import annotations

import typer

from aizoomdoc.cli.app import app, console, fail, run_async
from aizoomdoc.config import get_settings
from aizoomdoc.store import migrate
from aizoomdoc.store.database import Database
from aizoomdoc.texts import t

db_app = typer.Typer(
    help=t("cli.db.help"),
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_app, name="db")


def _database() -> Database:
    return Database(get_settings())


def _ok(message: str) -> None:
    console.print(f"[green]✔[/] {message}", highlight=False)


@db_app.command("init")
def init() -> None:
    """Создать базу и все таблицы (то же, что upgrade head)."""

    async def main() -> tuple[str, str | None]:
        db = _database()
        try:
            return db.target, await migrate.upgrade(db, "head")
        finally:
            await db.dispose()

    target, revision = run_async(main)
    _ok(t("db.cli.initialized", target=target, revision=revision))


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help=t("cli.db.upgrade.revision.help"))) -> None:
    """Применить миграции до версии REVISION (по умолчанию последней)."""

    async def main() -> tuple[str, str | None]:
        db = _database()
        try:
            return db.target, await migrate.upgrade(db, revision)
        finally:
            await db.dispose()

    target, current = run_async(main)
    _ok(t("db.cli.upgraded", target=target, revision=current or "base"))


@db_app.command("downgrade", context_settings={"ignore_unknown_options": True})
def downgrade(revision: str = typer.Argument("-1", help=t("cli.db.downgrade.revision.help"))) -> None:
    """Откатить миграции до версии REVISION (-1 — на одну назад, base — до пустой базы)."""

    async def main() -> tuple[str, str | None]:
        db = _database()
        try:
            return db.target, await migrate.downgrade(db, revision)
        finally:
            await db.dispose()

    target, current = run_async(main)
    _ok(t("db.cli.downgraded", target=target, revision=current or "base"))


@db_app.command("current")
def current() -> None:
    """Показать текущую версию схемы базы."""

    async def main() -> tuple[str, str | None]:
        db = _database()
        try:
            return db.target, await migrate.current_revision(db)
        finally:
            await db.dispose()

    target, revision = run_async(main)
    if revision is None:
        console.print(t("db.cli.current_none", target=target), highlight=False)
        return
    head = migrate.head_revision()
    note = t("db.cli.head_note") if revision == head else t("db.cli.behind_note", head=head)
    console.print(f"{t('db.cli.current', target=target, revision=revision)} {note}", highlight=False)


@db_app.command("history")
def history() -> None:
    """Показать список миграций (новые сверху)."""
    try:
        entries = migrate.history()
    except Exception as exc:  # noqa: BLE001 - a command: a broken migration file (any error) is one line, not a traceback
        fail(str(exc))
    for entry in entries:
        mark = " (head)" if entry["is_head"] else ""
        parent = entry["down_revision"] or "<base>"
        console.print(f"{parent} -> {entry['revision']}{mark}, {entry['message']}", highlight=False)


@db_app.command("migrate")
def make_migration(message: str = typer.Argument(..., help=t("cli.db.make_migration.message.help"))) -> None:
    """Создать новую миграцию по разнице между моделями и базой (autogenerate)."""
    if not message.strip():
        fail(t("db.cli.empty_message"))

    async def main() -> object:
        db = _database()
        try:
            return await migrate.autogenerate(db, message.strip())
        finally:
            await db.dispose()

    path = run_async(main)
    if path is None:
        console.print(t("db.cli.no_changes"), highlight=False)
    else:
        _ok(t("db.cli.created", path=path))
