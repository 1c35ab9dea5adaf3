"""``aizoomdoc compare OLD NEW [--json]``: what changed between two versions of a drawing set."""

from __future__ import annotations

import json

import typer

from aizoomdoc.cli.app import app, console, err_console, run_async
from aizoomdoc.config import get_settings
from aizoomdoc.texts import t


@app.command("compare")
def compare_command(
    old: str = typer.Argument(..., help=t("cli.compare.compare.old.help")),
    new: str = typer.Argument(..., help=t("cli.compare.compare.new.help")),
    as_json: bool = typer.Option(False, "--json", help=t("cli.opt.as_json.help")),
    text_only: bool = typer.Option(False, "--text-only", help=t("cli.compare.compare.text_only.help")),
    max_changes: int = typer.Option(20, "--show", min=0, help=t("cli.compare.compare.max_changes.help")),
    user: str | None = typer.Option(None, "--user", help=t("cli.opt.user.help")),
) -> None:
    """Сравнить две версии комплекта: листы (по шифру, номеру и названию), изменения текста,
    строк таблиц и чертежа с координатами в обеих версиях, сверка с реестром изменений."""
    from aizoomdoc.compare.report import describe_change, register_lines, sheet_line, summary_line
    from aizoomdoc.pipeline.compare import CompareService

    async def run() -> object:
        async with CompareService(get_settings()) as service:
            with err_console.status(t("compare.working"), spinner="dots") if not as_json else _Null():
                return await service.compare_refs(old, new, user_id=user, visual=False if text_only else None)

    comparison = run_async(run)
    if as_json:
        typer.echo(json.dumps(comparison.to_dict(), ensure_ascii=False, indent=2))  # type: ignore[attr-defined]
        return
    c = comparison
    console.print(t("compare.header", old=c.old.title, new=c.new.title), highlight=False)  # type: ignore[attr-defined]
    console.print(summary_line(c), highlight=False)  # type: ignore[arg-type]
    if not any(d.status != "same" for d in c.sheets):  # type: ignore[attr-defined]
        console.print(t("compare.no_changes"), highlight=False)
    for d in c.sheets:  # type: ignore[attr-defined]
        if d.status == "same":
            continue
        console.print(sheet_line(d), highlight=False)
        for ch in d.changes[:max_changes]:
            box = ch.box
            where = f"  [{', '.join(f'{v:.3f}' for v in box)}]" if box else ""
            console.print(f"  • {describe_change(ch)}{where}", highlight=False, markup=False)
        if len(d.changes) > max_changes:
            console.print(f"  … {t('compare.note.truncated', shown=max_changes, total=len(d.changes))}", highlight=False)
        for note in d.notes:
            console.print(f"  ⚠ {note}", highlight=False)
    for line in register_lines(c.register):  # type: ignore[attr-defined]
        console.print(line, highlight=False, markup=False)


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
