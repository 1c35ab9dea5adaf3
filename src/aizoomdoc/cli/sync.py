"""``aizoomdoc sync`` (send what was written offline, now) and ``aizoomdoc status`` (connection
state of the database and S3, what is pending, conflicts); the offline journal's ⚠ line of
``aizoomdoc doctor``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from aizoomdoc.cli.app import app, console, err_console, fail, run_async
from aizoomdoc.cli.doctor import CheckResult, DoctorContext, register_check
from aizoomdoc.config import Settings, get_settings
from aizoomdoc.errors import AizoomdocError
from aizoomdoc.store.journal import JOURNAL_FILE, ConflictRecord, Journal
from aizoomdoc.texts import t


def _journal(settings: Settings) -> Any:
    from aizoomdoc.store.factory import journal_for

    return journal_for(settings)


def conflict_line(c: ConflictRecord) -> str:
    p = c.payload
    what_params = {"preview": str(p.get("content", ""))[:40], "name": p.get("image_name", ""),
                   "block_id": p.get("block_id", ""), "file": p.get("key", c.entity_id or "")}
    what = t(f"conflict.op.{c.op}", **what_params)
    why = t(f"conflict.{c.kind}", chat_id=c.chat_id or "", detail=c.detail or "")
    return t("status.conflict.line", when=c.created_at[:19].replace("T", " "), what=what, why=why)


def status_data(settings: Settings) -> dict[str, Any]:
    """Everything ``aizoomdoc status`` shows, as a dict (also for the API)."""
    from aizoomdoc.store.database import Database
    from aizoomdoc.store.factory import uses_postgres

    out: dict[str, Any] = {}
    db = Database(settings)
    if uses_postgres(settings):
        out["database"] = {"kind": "postgresql", "target": db.target,
                           "state": "online" if db.ping(settings.db_connect_timeout) else "offline"}
    else:
        out["database"] = {"kind": "sqlite", "target": db.target, "state": "local"}
    if settings.use_s3_storage:
        from aizoomdoc.store.files.s3 import S3FileStorage

        s3 = S3FileStorage(settings)
        out["s3"] = {"kind": "s3", "target": s3.location, "state": "online" if s3.is_connected() else "offline"}
    else:
        out["s3"] = {"kind": "local", "target": str(settings.files_dir), "state": "local"}
    journal = _journal(settings)
    counts = journal.counts()
    out["pending"] = {"db": counts.db, "files": counts.files, "by_op": counts.by_op}
    out["conflicts"] = [
        {"kind": c.kind, "op": c.op, "chat_id": c.chat_id, "created_at": c.created_at, "text": conflict_line(c)}
        for c in journal.conflicts(limit=1000, resolution="kept")
    ]
    out["notices"] = counts.notices
    out["last_sync"] = journal.get_meta("last_sync")
    return out


@app.command("status", help=t("status.help"))
def status_command(as_json: bool = typer.Option(False, "--json", help=t("cli.opt.as_json_short.help"))) -> None:
    settings = get_settings()
    try:
        data = status_data(settings)
    except AizoomdocError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    db, s3 = data["database"], data["s3"]
    mark = {"online": "[green]✔[/]", "offline": "[red]✘[/]", "local": "[blue]•[/]"}
    console.print(f"{mark[db['state']]} {t('status.db.' + db['state'], target=db['target'])}", highlight=False)
    console.print(f"{mark[s3['state']]} {t('status.s3.' + s3['state'], target=s3['target'])}", highlight=False)
    pending = data["pending"]
    if pending["db"] or pending["files"]:
        console.print(t("status.pending", db=pending["db"], files=pending["files"]), highlight=False)
    else:
        console.print(t("status.pending.none"), highlight=False)
    last = data["last_sync"]
    if last:
        result = t("status.last_sync.ok") if last.get("complete") else t("status.last_sync.partial")
        console.print(t("status.last_sync", at=str(last.get("at", ""))[:19].replace("T", " "), result=result),
                      style="dim", highlight=False)
    if data["conflicts"]:
        console.print(f"[yellow]{t('status.conflicts', count=len(data['conflicts']))}[/]", highlight=False)
        for c in data["conflicts"][:50]:
            console.print(c["text"], highlight=False, markup=False, soft_wrap=True)
    if data["notices"]:
        console.print(t("status.notices", count=data["notices"]), style="dim", highlight=False)


@app.command("sync", help=t("sync.help"))
def sync_command(as_json: bool = typer.Option(False, "--json", help=t("cli.sync.sync.as_json.help"))) -> None:
    from aizoomdoc.store.factory import build_syncer
    from aizoomdoc.store.sync import SyncProgress

    settings = get_settings()
    try:
        journal = _journal(settings)
    except AizoomdocError as exc:
        fail(str(exc))
    counts = journal.counts()
    if not counts.pending and not as_json:
        console.print(t("sync.nothing"), highlight=False)
        return
    if not as_json:
        err_console.print(t("sync.start", db=counts.db, files=counts.files), highlight=False)

    def progress(p: SyncProgress) -> None:
        if not as_json:
            err_console.print(f"[dim]… {t('sync.progress.' + p.phase, done=p.done, remaining=p.remaining)}[/]",
                              highlight=False)

    async def run() -> Any:
        syncer = build_syncer(settings)
        try:
            return await syncer.run(progress, wait=True)
        finally:
            await syncer.aclose()

    report = run_async(run)
    if as_json:
        typer.echo(json.dumps(report.public(), ensure_ascii=False, indent=2))
    else:
        console.print(t("sync.done", elapsed=f"{report.elapsed:.1f}", applied=report.applied,
                        uploaded=report.uploaded, conflicts=report.conflicts), highlight=False)
        if report.busy:
            err_console.print(t("sync.busy"), highlight=False)
        if report.db_error:
            err_console.print(t("sync.db_error", detail=report.db_error), highlight=False)
        if report.files_error:
            err_console.print(t("sync.files_error", detail=report.files_error), highlight=False)
        if not report.complete:
            err_console.print(t("sync.left", db=report.remaining_db, files=report.remaining_files), highlight=False)
        if report.conflicts:
            err_console.print(t("sync.conflicts_hint"), highlight=False)
    if not report.complete:
        raise typer.Exit(1)


@register_check("journal", order=35)
def check_journal(ctx: DoctorContext) -> CheckResult | None:
    """⚠ when the offline journal holds writes not yet sent (or conflicts); no line otherwise."""
    assert ctx.settings is not None
    path = Path(ctx.settings.data_dir) / JOURNAL_FILE
    if not path.is_file():  # never worked offline: nothing to say, and no file to create
        return None
    journal = Journal(path)
    try:
        counts = journal.counts()
    finally:
        journal.close()
    notes = []
    if counts.pending:
        notes.append(t("doctor.journal.pending", count=counts.pending, db=counts.db, files=counts.files))
    if counts.conflicts:
        notes.append(t("doctor.journal.conflicts", count=counts.conflicts))
    return CheckResult.warn(" ".join(notes)) if notes else None


__all__ = ["check_journal", "conflict_line", "status_data"]
