"""``aizoomdoc library …``: folders of documents and other files, attaching them to chats.

    aizoomdoc library mkdir "Проект 133-23"
    aizoomdoc library mkdir "Раздел ОВ" --parent "Проект 133-23"
    aizoomdoc library add "Проект 133-23/Раздел ОВ" ОВ1.pdf смета.xlsx 3f2a…   # paths or document ids
    aizoomdoc library folders                 # the tree, with file counts
    aizoomdoc library ls "Проект 133-23/Раздел ОВ"
    aizoomdoc library attach FILE_ID --chat CHAT_ID
    aizoomdoc library rmdir "Проект 133-23"   # files other folders or chats use stay

A folder is named by its id or by its path of names (``Проект/Раздел``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from aizoomdoc.cli.app import app, console, err_console, run_async
from aizoomdoc.config import get_settings
from aizoomdoc.errors import AizoomdocError, NotFoundError
from aizoomdoc.pipeline.library import LibraryService
from aizoomdoc.texts import t

library_app = typer.Typer(help=t("library.cli.help"), no_args_is_help=True)
app.add_typer(library_app, name="library")

USER_HELP = t("cli.opt.user.help")
FOLDER_HELP = t("cli.library.folder.help")


@asynccontextmanager
async def _service() -> AsyncIterator[LibraryService]:
    from aizoomdoc.pipeline.ingest import DocumentService
    from aizoomdoc.store.library import LibraryStore

    settings = get_settings()
    async with DocumentService(settings) as documents:
        yield LibraryService(LibraryStore(documents.db), documents, documents.storage)


def _user(user: str | None) -> str:
    return user or get_settings().default_user_id


def _hint(exc: AizoomdocError) -> AizoomdocError:
    if exc.key in ("library.folder_ref_not_found", "library.folder_not_found"):
        err = NotFoundError(exc.key, **exc.params)
        err.args = (f"{exc} {t('library.cli.hint')}",)
        return err
    return exc


async def _folder(svc: LibraryService, folder: str, user_id: str) -> dict[str, Any]:
    """The folder named on the command line (id or path); not found: the error with the hint."""
    try:
        return await svc.resolve_folder(folder, user_id)
    except AizoomdocError as exc:
        raise _hint(exc) from None


def _size(value: Any) -> str:
    if not isinstance(value, int):
        return ""
    return (t("cli.size.mb", mb=f"{value / 1048576:.1f}") if value >= 1048576
            else t("cli.size.kb", kb=max(1, round(value / 1024))))


def _kind(row: dict[str, Any]) -> str:
    if row.get("document_id"):
        return t("library.cli.kind.document")
    if row.get("external_url"):
        return t("library.cli.kind.link")
    if row.get("source_type") == "llm_generated":
        return t("library.cli.kind.generated")
    return t("library.cli.kind.file")


@library_app.command("folders")
def folders_command(user: str | None = typer.Option(None, "--user", help=USER_HELP),
                    as_json: bool = typer.Option(False, "--json", help=t("cli.opt.as_json_short.help"))) -> None:
    """Дерево папок с числом файлов в каждой."""

    async def run() -> list[dict[str, Any]]:
        async with _service() as svc:
            return await svc.folders(_user(user))

    rows = run_async(run)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print(t("library.cli.no_folders"), highlight=False)
        return
    table = Table(title=t("library.cli.folders_title"))
    table.add_column("id", no_wrap=True, min_width=36)
    table.add_column(t("cli.library.col.folder"))
    table.add_column(t("cli.library.col.files"), justify="right")
    for r in rows:
        table.add_row(r["id"], "    " * r["depth"] + r["name"], str(r["file_count"]))
    console.print(table)


@library_app.command("mkdir")
def mkdir_command(name: str = typer.Argument(..., help=t("cli.library.mkdir.name.help")),
                  parent: str | None = typer.Option(None, "--parent", "-p",
                                                    help=t("cli.library.mkdir.parent.help", folder=FOLDER_HELP)),
                  user: str | None = typer.Option(None, "--user", help=USER_HELP)) -> None:
    """Создать папку (в корне или внутри --parent)."""

    async def run() -> dict[str, Any]:
        async with _service() as svc:
            uid = _user(user)
            try:
                parent_id = (await svc.resolve_folder(parent, uid))["id"] if parent else None
                folder = await svc.create_folder(name, uid, parent_id)
                return next(f for f in await svc.folders(uid) if f["id"] == folder["id"])
            except AizoomdocError as exc:
                raise _hint(exc) from None

    folder = run_async(run)
    console.print(f"[green]✔[/] {t('library.cli.created', path=folder['path'], folder_id=folder['id'])}",
                  highlight=False)


@library_app.command("rename")
def rename_command(folder: str = typer.Argument(..., help=FOLDER_HELP),
                   name: str = typer.Argument(..., help=t("cli.library.rename.name.help")),
                   user: str | None = typer.Option(None, "--user", help=USER_HELP)) -> None:
    """Переименовать папку."""

    async def run() -> dict[str, Any]:
        async with _service() as svc:
            uid = _user(user)
            try:
                ref = await svc.resolve_folder(folder, uid)
                return await svc.store.for_user(uid).rename_folder(ref["id"], name)
            except AizoomdocError as exc:
                raise _hint(exc) from None

    row = run_async(run)
    console.print(f"[green]✔[/] {t('library.cli.renamed', name=row['name'])}", highlight=False)


@library_app.command("ls")
def ls_command(folder: str = typer.Argument(..., help=FOLDER_HELP),
               user: str | None = typer.Option(None, "--user", help=USER_HELP),
               as_json: bool = typer.Option(False, "--json", help=t("cli.opt.as_json_short.help"))) -> None:
    """Файлы папки."""

    async def run() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with _service() as svc:
            uid = _user(user)
            ref = await _folder(svc, folder, uid)
            return ref, await svc.store.for_user(uid).get_folder_files(ref["id"])

    ref, rows = run_async(run)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print(t("library.cli.empty_folder", path=ref["path"]), highlight=False)
        return
    table = Table(title=ref["path"])
    table.add_column(t("library.cli.col.id"), no_wrap=True, min_width=36)
    table.add_column(t("library.cli.col.name"), overflow="fold")
    table.add_column(t("library.cli.col.kind"))
    table.add_column(t("library.cli.col.size"), justify="right")
    for r in rows:
        table.add_row(r["id"], r["filename"] if not r.get("external_url") else r["external_url"], _kind(r),
                      _size(r.get("size_bytes")))
    console.print(table)


@library_app.command("add")
def add_command(folder: str = typer.Argument(..., help=FOLDER_HELP),
                refs: list[str] = typer.Argument(..., help=t("cli.library.add.refs.help")),
                user: str | None = typer.Option(None, "--user", help=USER_HELP)) -> None:
    """Положить в папку файлы (документы индексируются) или уже загруженные документы."""

    async def run() -> int:
        failed = 0
        async with _service() as svc:
            uid = _user(user)
            ref = await _folder(svc, folder, uid)
            for item in refs:
                path = Path(item).expanduser()
                try:
                    if path.is_file():
                        row = await svc.upload(ref["id"], path, uid)
                    else:
                        doc = await svc.documents.find(item, user_id=uid, ingest=False)
                        row = await svc.file_document(ref["id"], str(doc["id"]), uid)
                except AizoomdocError as exc:
                    failed += 1
                    err_console.print(f"[red]✘[/] {t('library.cli.add_failed', name=item, error=exc)}",
                                      highlight=False)
                    continue
                console.print(f"[green]✔[/] {t('library.cli.added', name=row['filename'], path=ref['path'], file_id=row['id'])}",
                              highlight=False)
        return failed

    if run_async(run):
        raise typer.Exit(1)


@library_app.command("remove")
def remove_command(folder: str = typer.Argument(..., help=FOLDER_HELP),
                   file_id: str = typer.Argument(..., help=t("cli.opt.file_id.help")),
                   user: str | None = typer.Option(None, "--user", help=USER_HELP)) -> None:
    """Убрать файл из папки (файл удаляется, только если он больше нигде не нужен)."""

    async def run() -> tuple[dict[str, Any], dict[str, Any]]:
        async with _service() as svc:
            uid = _user(user)
            ref = await _folder(svc, folder, uid)
            return ref, await svc.remove_from_folder(ref["id"], file_id, uid)

    ref, report = run_async(run)
    console.print(f"[green]✔[/] {t('library.cli.removed', path=ref['path'])}", highlight=False)
    for f in report["deleted_files"]:
        console.print(f"  {t('library.cli.deleted_file', name=f['filename'])}", highlight=False)


@library_app.command("rmdir")
def rmdir_command(folder: str = typer.Argument(..., help=FOLDER_HELP),
                  user: str | None = typer.Option(None, "--user", help=USER_HELP)) -> None:
    """Удалить папку с подпапками. Файлы, которые лежат и в других папках или нужны чатам, остаются."""

    async def run() -> dict[str, Any]:
        async with _service() as svc:
            uid = _user(user)
            ref = await _folder(svc, folder, uid)
            return await svc.delete_folder(ref["id"], uid)

    report = run_async(run)
    console.print("[green]✔[/] " + t("library.cli.deleted", folders=report["folders"],
                                      deleted=len(report["deleted_files"]), kept=report["kept_files"]),
                  highlight=False)
    for f in report["deleted_files"]:
        console.print(f"  {t('library.cli.deleted_file', name=f['filename'])}", highlight=False)


@library_app.command("attach")
def attach_command(file_id: str = typer.Argument(..., help=t("cli.opt.file_id.help")),
                   chat: str | None = typer.Option(None, "--chat", help=t("cli.library.attach.chat.help")),
                   message: str | None = typer.Option(None, "--message", help=t("cli.library.attach.message.help")),
                   user: str | None = typer.Option(None, "--user", help=USER_HELP)) -> None:
    """Прикрепить файл библиотеки к чату (документ, по нему будут искать) или к сообщению."""
    if (chat is None) == (message is None):
        from aizoomdoc.cli.app import fail

        fail(t("library.cli.attach_target"))

    async def run() -> str:
        from aizoomdoc.store.factory import build_chat_store

        uid = _user(user)
        async with _service() as svc:
            row = await svc.store.for_user(uid).get_file(file_id)
            if message is not None:
                await svc.attach_to_message(row["id"], message, uid)
                return t("library.cli.attached_message", name=row["filename"], message_id=message)
            store = build_chat_store(get_settings())
            try:
                found = await store.get_chat(str(chat))
                if found is None or str(found.get("user_id")) != uid:
                    raise NotFoundError("store.chat_not_found", chat_id=str(chat))
                await svc.attach_to_chat(row["id"], found, store, uid)
            finally:
                await store.close()
            return t("library.cli.attached_chat", name=row["filename"], chat_id=chat)

    console.print(f"[green]✔[/] {run_async(run)}", highlight=False)
