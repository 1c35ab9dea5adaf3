"""``aizoomdoc worker``: run document jobs (ingest + OCR) from the PostgreSQL job queue."""

from __future__ import annotations

import logging

import typer

from aizoomdoc.cli.app import app, console, fail, run_async
from aizoomdoc.config import get_settings
from aizoomdoc.texts import t

log = logging.getLogger(__name__)


@app.command("worker")
def worker_command(
    concurrency: int | None = typer.Option(None, "--concurrency", "-c", min=1, max=64,
                                           help=t("cli.worker.worker.concurrency.help")),
) -> None:
    """Выполнять задачи обработки документов (чтение, OCR) из очереди в PostgreSQL.

    Воркеров может быть сколько угодно, на любых машинах с общей базой и хранилищем файлов;
    задачи остановленного или упавшего воркера подхватывают остальные."""
    from aizoomdoc.pipeline.ingest import DocumentService
    from aizoomdoc.pipeline.queue import run_worker
    from aizoomdoc.store import migrate

    settings = get_settings()
    if "log_level" not in settings.model_fields_set:  # a long-running process logs its warnings
        logging.getLogger("aizoomdoc").setLevel(logging.WARNING)

    async def run() -> None:
        async with DocumentService(settings) as service:
            if not service.db.is_postgres:
                fail(t("worker.needs_postgres"), code=2)
            if await migrate.current_revision(service.db) != migrate.head_revision():
                fail(t("worker.no_schema", target=service.db.target))

            def ready() -> None:
                console.print(t("worker.started", target=service.db.target,
                                concurrency=concurrency or settings.jobs_worker_concurrency), highlight=False)

            await run_worker(settings, service, concurrency=concurrency, ready=ready)

    run_async(run)
