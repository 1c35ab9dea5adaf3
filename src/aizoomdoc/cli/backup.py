"""``aizoomdoc backup create|restore|list|verify``: backups to a folder or ``s3://BUCKET/PREFIX``."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from aizoomdoc.cli.app import app, console, err_console, run_async
from aizoomdoc.config import get_settings
from aizoomdoc.texts import t

backup_app = typer.Typer(help=t("cli.backup.help"),
                         no_args_is_help=True)
app.add_typer(backup_app, name="backup")

_SNAPSHOT = typer.Option(None, "--snapshot", help=t("cli.backup.snapshot.help"))
_JSON = typer.Option(False, "--json", help=t("cli.opt.as_json.help"))


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}"


def _run(work: Callable[[Any, Callable[[dict[str, Any]], None]], Awaitable[dict[str, Any] | list[Any]]],
         quiet: bool) -> Any:
    """Run ``work(service, on_progress)`` with a progress bar on stderr (none with --json)."""
    from aizoomdoc.pipeline.backup import BackupService

    async def run() -> Any:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err_console, transient=True, disable=quiet) as bar:
            task = bar.add_task("", total=None)

            def progress(e: dict[str, Any]) -> None:
                bar.update(task, description=t(f"backup.stage.{e['stage']}"), total=e.get("total"),
                           completed=e.get("done", 0))

            async with BackupService(get_settings()) as service:
                return await work(service, progress)

    return run_async(run)


@backup_app.command("create")
def create(to: str = typer.Option(..., "--to", help=t("cli.opt.to.help")), as_json: bool = _JSON) -> None:
    """Новый снимок: все таблицы базы и все файлы хранилища (файлы, что уже есть в копии, не отправляются)."""
    r = _run(lambda s, p: s.create(to, on_progress=p), as_json)
    if as_json:
        typer.echo(json.dumps(r, ensure_ascii=False, indent=2))
        return
    console.print("[green]✔[/] " + t("backup.created", snapshot=r["snapshot"], location=r["location"], rows=r["rows"],
                                     tables=len(r["tables"]), files=r["files"], sent=r["files_sent"],
                                     skipped=r["files_skipped"], mb=_mb(r["bytes_sent"]), seconds=r["seconds"]),
                  highlight=False)
    if r["files_vanished"]:
        console.print(t("backup.vanished", count=len(r["files_vanished"])), highlight=False)
    if r["incomplete_removed"]:
        console.print(t("backup.incomplete_removed", ids=", ".join(r["incomplete_removed"])), highlight=False)


@backup_app.command("restore")
def restore(source: str = typer.Argument(..., help=t("cli.backup.restore.source.help")),
            snapshot: str | None = _SNAPSHOT,
            force: bool = typer.Option(False, "--force", help=t("cli.backup.restore.force.help")),
            as_json: bool = _JSON) -> None:
    """Восстановить снимок в пустую базу данных и пустое хранилище файлов (из настроек)."""
    r = _run(lambda s, p: s.restore(source, snapshot=snapshot, force=force, on_progress=p), as_json)
    if as_json:
        typer.echo(json.dumps(r, ensure_ascii=False, indent=2))
        return
    console.print("[green]✔[/] " + t("backup.restored", snapshot=r["snapshot"], location=r["location"],
                                     rows=r["rows"], files=r["files"], mb=_mb(r["bytes"]), seconds=r["seconds"]),
                  highlight=False)


@backup_app.command("list")
def list_(source: str = typer.Argument(..., help=t("cli.opt.to.help")), as_json: bool = _JSON) -> None:
    """Снимки в папке или бакете, старые сверху."""
    from aizoomdoc.pipeline.backup import open_target

    rows = _run(lambda s, p: s.list(source), True)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    location = open_target(get_settings(), source).location
    if not rows:
        console.print(t("backup.list.none", location=location), highlight=False)
        return
    table = Table(title=t("backup.list.title", location=location))
    for key in ("id", "created", "rows", "files", "size"):
        table.add_column(t(f"backup.list.col.{key}"))
    for r in rows:
        if r["complete"]:
            table.add_row(r["id"], str(r["created_at"])[:19].replace("T", " "), str(r["rows"]), str(r["files"]),
                          _mb(r["bytes"]))
        else:
            table.add_row(r["id"], f"[yellow]{t('backup.list.incomplete')}[/]", "", "", "")
    console.print(table)


@backup_app.command("verify")
def verify(source: str = typer.Argument(..., help=t("cli.opt.to.help")),
           snapshot: str | None = _SNAPSHOT, as_json: bool = _JSON) -> None:
    """Проверить снимок: каждая часть и каждый файл сверяются с контрольной суммой sha256."""
    r = _run(lambda s, p: s.verify(source, snapshot=snapshot, on_progress=p), as_json)
    if as_json:
        typer.echo(json.dumps(r, ensure_ascii=False, indent=2))
    elif r["ok"]:
        console.print("[green]✔[/] " + t("backup.verify.ok", snapshot=r["snapshot"], parts=r["parts"], files=r["files"],
                                         objects=r["objects_checked"]), highlight=False)
    else:
        err_console.print("[bold red]✘[/] " + t("backup.verify.failed", snapshot=r["snapshot"],
                                                 count=len(r["problems"])), highlight=False)
        for p in r["problems"]:
            err_console.print("  • " + t(f"backup.problem.{p['kind']}", name=p["name"], file=p["key"]),
                              highlight=False)
    if not r["ok"]:
        raise typer.Exit(1)
