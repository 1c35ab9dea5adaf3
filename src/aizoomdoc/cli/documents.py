"""``aizoomdoc ingest PATH…``, ``aizoomdoc search QUERY``, ``aizoomdoc documents``,
``aizoomdoc sample-set OUT_DIR``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from aizoomdoc.cli.app import app, console, err_console, fail, run_async
from aizoomdoc.config import get_settings
from aizoomdoc.documents.read_warnings import ingest_notes, page_ranges, summarize
from aizoomdoc.errors import AizoomdocError, describe_os_error
from aizoomdoc.texts import t

_STAGES = ("read", "parse", "ocr", "store", "index")  # stages of ingest that have a text cli.ingest.stage.<stage>


@app.command("ingest")
def ingest_command(
    paths: list[Path] = typer.Argument(..., help=t("cli.documents.ingest.paths.help")),
    user: str | None = typer.Option(None, "--user", help=t("cli.opt.user.help")),
    as_json: bool = typer.Option(False, "--json", help=t("cli.opt.as_json.help")),
    ocr: str = typer.Option("", "--ocr", help=t("cli.documents.ingest.ocr.help")),
) -> None:
    """Загрузить документы: страницы и блоки в базу, исходный файл в хранилище, поисковый индекс."""
    from aizoomdoc.pipeline.ingest import DocumentService

    async def run() -> int:
        results: list[dict[str, object]] = []
        failed = 0
        async with DocumentService(get_settings()) as service:
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=err_console, transient=True,
                          disable=as_json) as bar:
                task = bar.add_task(t("ingest.reading", name=""), total=len(paths))
                for path in paths:
                    name = path.name

                    def stage(s: str, name: str = name) -> None:
                        what = t(f"cli.ingest.stage.{s}") if s in _STAGES else s
                        bar.update(task, description=f"{t('ingest.reading', name=name)}: {what}")

                    try:
                        result = await service.ingest(path, user_id=user, progress=stage, ocr=ocr or None)
                    except AizoomdocError as exc:
                        failed += 1
                        results.append({"path": str(path), "error": str(exc)})
                        if not as_json:
                            bar.console.print(f"[red]✘[/] {t('ingest.failed', name=name, error=exc)}",
                                              highlight=False, soft_wrap=True)
                    else:
                        doc = result.document
                        notes = ingest_notes(doc.metadata)
                        unreadable = list(doc.metadata.get("unreadable_pages") or [])
                        results.append({"path": str(path), "document_id": doc.id, "created": result.created,
                                        "pages": doc.page_count, "blocks": len(doc.blocks),
                                        "format": doc.source_format, "title": doc.title,
                                        "warnings": doc.metadata.get("warnings") or [],
                                        "text_layer": {p.page_number: p.text_layer for p in doc.pages},
                                        "ocr_pages": doc.metadata.get("ocr_pages_read", 0),
                                        "unreadable_pages": unreadable, "notes": notes})
                        if unreadable and not as_json:
                            from aizoomdoc.pipeline.notes import unreadable_reason

                            bar.console.print(t("ingest.unreadable", name=name, pages=", ".join(map(str, unreadable)),
                                                reason=unreadable_reason(doc.metadata)),
                                              highlight=False, soft_wrap=True)
                        if not as_json:
                            if result.created:
                                msg = t("ingest.done", name=name, pages=doc.page_count, blocks=len(doc.blocks),
                                        document_id=doc.id)
                                bar.console.print(f"[green]✔[/] {msg}", highlight=False, soft_wrap=True)
                            else:
                                msg = t("ingest.already", name=name, document_id=doc.id)
                                bar.console.print(f"[yellow]=[/] {msg}", highlight=False, soft_wrap=True)
                            for note in notes:
                                bar.console.print(f"  [yellow]![/] {note}", highlight=False, soft_wrap=True)
                    bar.advance(task)
        if as_json:
            typer.echo(json.dumps(results, ensure_ascii=False, indent=2))
        else:
            added = sum(1 for r in results if r.get("created") is True)
            skipped = sum(1 for r in results if r.get("created") is False)
            console.print(t("ingest.summary", added=added, skipped=skipped, failed=failed), highlight=False)
        return failed

    failed = run_async(run)
    if failed:
        raise typer.Exit(1)


@app.command("search")
def search_command(
    query: str = typer.Argument(..., help=t("cli.documents.search.query.help")),
    doc: list[str] = typer.Option([], "--doc", "-d", help=t("cli.documents.search.doc.help")),
    top_k: int = typer.Option(10, "--top-k", "-k", min=1, max=1000, help=t("cli.documents.search.top_k.help")),
    page: list[int] = typer.Option([], "--page", "-p", min=1, help=t("cli.documents.search.page.help")),
    as_json: bool = typer.Option(False, "--json", help=t("cli.documents.search.as_json.help")),
    user: str | None = typer.Option(None, "--user", help=t("cli.opt.user.help")),
) -> None:
    """Найти блоки по запросу (новый путь сначала загружается)."""
    from aizoomdoc.pipeline.ingest import DocumentService
    from aizoomdoc.search import analyze_query

    if not analyze_query(query):
        fail(t("search.empty_query"))

    async def run() -> None:
        async with DocumentService(get_settings()) as service:
            ids: list[str] | None = None
            titles: dict[str, str] = {}
            if doc:
                ids = []
                for ref in doc:
                    row = await service.find(ref, user_id=user)
                    ids.append(str(row["id"]))
                    titles[str(row["id"])] = row["title"]
            else:
                rows = await service.list_documents(user_id=user, limit=100_000)
                if not rows:
                    fail(t("search.no_documents"))
                titles = {str(r["id"]): r["title"] for r in rows}
            hits = await service.search(query, ids, top_k=top_k, pages=page or None, user_id=user)
        if as_json:
            typer.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
            return
        if not hits:
            console.print(t("search.no_hits", query=query), highlight=False)
            return
        table = Table(title=t("search.header", count=len(hits), query=query), show_lines=False)
        for key in ("score", "document", "page", "block", "type", "text"):
            table.add_column(t(f"search.col.{key}"), overflow="fold")
        for h in hits:
            text = " ".join(h.text.split())
            table.add_row(f"{h.score:.2f}", titles.get(h.document_id, h.document_id[:8]), str(h.page_number),
                          h.block_id, h.block_type, text[:160] + ("…" if len(text) > 160 else ""))
        console.print(table)

    run_async(run)


@app.command("documents")
def documents_command(
    as_json: bool = typer.Option(False, "--json", help=t("cli.opt.as_json_list.help")),
    user: str | None = typer.Option(None, "--user", help=t("cli.opt.user.help")),
) -> None:
    """Список загруженных документов."""
    from aizoomdoc.pipeline.ingest import DocumentService

    async def run() -> list[dict[str, object]]:
        async with DocumentService(get_settings()) as service:
            return await service.list_documents(user_id=user, limit=10_000)

    rows = run_async(run)
    if as_json:
        keys = ("id", "title", "filename", "source_format", "page_count", "block_count", "status", "sha256",
                "created_at")
        typer.echo(json.dumps([{**{k: r.get(k) for k in keys}, **_health(r)} for r in rows],
                              ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print(t("documents.list.empty"), highlight=False)
        return
    table = Table()
    table.add_column("id", no_wrap=True, min_width=36)  # whole, to copy into --doc
    table.add_column(t("cli.chats.col.title"), overflow="fold", ratio=2)
    for col in ("cli.documents.col.format", "search.col.page", "cli.documents.col.blocks", "cli.documents.col.status"):
        table.add_column(t(col), no_wrap=True)
    table.add_column(t("library.cli.col.name"), overflow="fold", ratio=1)
    table.add_column(t("cli.documents.col.warnings"), overflow="fold", ratio=1)
    for r in rows:
        health = _health(r)
        table.add_row(str(r["id"]), str(r["title"]), str(r["source_format"]), str(r["page_count"]),
                      str(r["block_count"]), t(f"jobs.status.{r.get('status') or 'ready'}"), str(r["filename"]),
                      "; ".join(filter(None, (
                          health["warnings"], t("documents.text_layer.summary", pages=health["pages_without_text"])
                          if health["pages_without_text"] else ""))))
    console.print(table)


def _health(row: dict[str, object]) -> dict[str, str]:
    """What went wrong reading a stored document: its warnings, its pages without text."""
    meta = found if isinstance(found := row.get("metadata"), dict) else {}
    layers = meta.get("text_layer") or {}
    pages = sorted({p for kind in ("none", "garbage") for p in layers.get(kind) or []})
    return {"warnings": summarize(meta.get("warnings")),
            "pages_without_text": page_ranges(pages)}


@app.command("sample-set")
def sample_set_command(
    out_dir: Path = typer.Argument(..., help=t("cli.documents.sample_set.out_dir.help")),
    sheets: int = typer.Option(4, "--sheets", min=1, max=500, help=t("cli.documents.sample_set.sheets.help")),
    bundles: bool = typer.Option(False, "--bundles", help=t("cli.documents.sample_set.bundles.help")),
    name: str = typer.Option("synthetic-set", "--name", help=t("cli.documents.sample_set.name.help")),
) -> None:
    """Записать синтетический комплект чертежей ОВ (PDF с текстовым слоем) для демо и тестов."""
    from aizoomdoc.sample import build_drawing_set, write_bundle_fixtures

    try:
        s = build_drawing_set(sheets)
        path = s.write(out_dir / f"{name}.pdf")
        if bundles:
            write_bundle_fixtures(out_dir, s, stem=name, with_pdf=False)
    except OSError as exc:
        fail(t("documents.unreadable", path=str(out_dir), detail=describe_os_error(exc)))
    console.print(t("sample.written", path=str(path), pages=len(s.sheets)), highlight=False)
