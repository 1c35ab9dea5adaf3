"""``aizoomdoc chats list|show ID|archive ID|delete ID``: chats as the store keeps them."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from aizoomdoc.cli.app import app, console, run_async
from aizoomdoc.config import get_settings
from aizoomdoc.store.factory import build_chat_store, build_files
from aizoomdoc.store.protocol import ChatStoreProtocol
from aizoomdoc.texts import t

chats_app = typer.Typer(help=t("cli.chats.help"), no_args_is_help=True)
app.add_typer(chats_app, name="chats")


def _store() -> ChatStoreProtocol:
    return build_chat_store(get_settings())


@chats_app.command("list")
def list_chats(
    archived: bool = typer.Option(False, "--archived", help=t("cli.chats.list_chats.archived.help")),
    limit: int = typer.Option(50, "--limit", min=1, help=t("cli.chats.list_chats.limit.help")),
    user: str | None = typer.Option(None, "--user", help=t("cli.opt.user.help")),
    as_json: bool = typer.Option(False, "--json", help=t("cli.opt.as_json_list.help")),
) -> None:
    """Список чатов, последние сверху."""

    async def run() -> None:
        store = _store()
        try:
            rows = await store.get_chats(user or get_settings().default_user_id, limit=limit,
                                         include_archived=archived)
        finally:
            await store.close()
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
            return
        if not rows:
            console.print(t("cli.chats.none"))
            return
        table = Table(title=t("cli.chats.title"))
        table.add_column(t("cli.chats.col.id"), no_wrap=True, min_width=36)  # whole, to copy into --chat
        for col in ("cli.chats.col.title", "cli.chats.col.updated", "cli.chats.col.archived"):
            table.add_column(t(col))
        for r in rows:
            updated = str(r.get("updated_at") or "")[:16].replace("T", " ")
            table.add_row(r["id"], r["title"], updated, t("cli.yes") if r.get("is_archived") else "")
        console.print(table)

    run_async(run)


@chats_app.command("show")
def show_chat(chat_id: str = typer.Argument(..., help=t("cli.opt.chat_id.help")),
              as_json: bool = typer.Option(False, "--json", help=t("cli.chats.show_chat.as_json.help"))) -> None:
    """Показать чат: сообщения, изображения и найденные блоки — из хранилища."""

    async def run() -> None:
        store = _store()
        try:
            hist = await store.get_chat_history(chat_id)
        finally:
            await store.close()
        if as_json:
            typer.echo(json.dumps(hist, ensure_ascii=False, indent=2, default=str))
            return
        chat = hist["chat"]
        console.print(f"[bold]{chat['title']}[/] ({chat['id']})", highlight=False)
        for m in hist["messages"]:
            who = {"user": t("cli.chats.question"), "assistant": t("cli.ask.answer")}.get(m["role"], m["role"])
            style = "red" if m.get("message_type") == "error" else ("cyan" if m["role"] == "user" else "")
            model = f" · {m['model']}" if m.get("model") else ""
            console.print(f"\n[bold {style}]{who}[/]{model} [dim]{m.get('created_at') or ''}[/]", highlight=False)
            console.print(m["content"], markup=False, highlight=False)
            for r in m.get("search_results") or []:
                console.print(f"  [dim]{t('cli.chats.found', page=r.get('page_number'), block_id=r['block_id'])}[/]",
                              highlight=False)
            for im in m.get("images") or []:
                console.print(f"  [dim]{t('cli.chats.image', image_type=im['image_type'], path=im['s3_path'])}[/]",
                              highlight=False)

    run_async(run)


@chats_app.command("archive")
def archive_chat(chat_id: str = typer.Argument(..., help=t("cli.opt.chat_id.help"))) -> None:
    """Отправить чат в архив."""

    async def run() -> None:
        store = _store()
        try:
            await store.archive_chat(chat_id)
        finally:
            await store.close()
        console.print(f"[green]✔[/] {t('cli.chats.archived', chat_id=chat_id)}", highlight=False)

    run_async(run)


@chats_app.command("delete")
def delete_chat(chat_id: str = typer.Argument(..., help=t("cli.chats.delete_chat.chat_id.help"))) -> None:
    """Удалить чат с сообщениями, записями и файлами."""

    async def run() -> None:
        store = _store()
        try:
            await store.delete_chat(chat_id)
        finally:
            await store.close()
        files = build_files(get_settings())
        async with files:
            removed = await files.delete_prefix(f"chats/{chat_id}/")
        console.print(f"[green]✔[/] {t('cli.chats.deleted', chat_id=chat_id, files=removed)}", highlight=False)

    run_async(run)
