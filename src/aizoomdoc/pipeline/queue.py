"""Where document jobs run: the PostgreSQL job queue (procrastinate) or a local runner.

    jobs = build_jobs(settings, service)      # QueueJobs on PostgreSQL, LocalJobs on SQLite
    await jobs.enqueue(document_id, user_id)  # the upload answers at once; a worker does the rest

- :class:`QueueJobs` (``JOBS_BACKEND=queue``, the default with PostgreSQL): steps are procrastinate
  jobs in the database everyone shares; ``aizoomdoc worker`` processes on any machine run them
  (:func:`run_worker`). A worker beats its heart every ``JOBS_HEARTBEAT_SECONDS``; every worker
  looks for jobs of workers silent for ``JOBS_STALLED_SECONDS`` (killed, machine gone) and puts
  them back in the queue — procrastinate 3 records heartbeats but leaves the retrying to its user.
  A job that keeps failing is tried ``JOBS_MAX_ATTEMPTS`` times, then its document is ``error``.
- :class:`LocalJobs` (SQLite, the single-user default, or ``JOBS_BACKEND=local``): the same steps
  as asyncio tasks of the server, the OCR in a pool of ``JOBS_LOCAL_WORKERS`` bounded processes;
  documents left ``queued``/``processing`` by a stopped server are picked up at its next start.

The queue's tables live in the PostgreSQL schema ``procrastinate`` (migration 005), so its
connections put that schema first on their search path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aizoomdoc.config import Settings
from aizoomdoc.errors import AizoomdocError, DatabaseError
from aizoomdoc.pipeline.jobs import DocumentJobs, Step, ocr_pool
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

QUEUE_SCHEMA = "procrastinate"
TASKS = ("ingest", "ocr_page", "finish")
QUEUE = "documents"


def use_queue(settings: Settings, is_postgres: bool) -> bool:
    if settings.jobs_backend == "queue":
        return True
    return settings.jobs_backend == "auto" and is_postgres


def conninfo(db: Any) -> str:
    """A libpq connection string for psycopg from the application's database URL."""
    url = db.url.set(drivername="postgresql")
    query = dict(url.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    return url.set(query=query).render_as_string(hide_password=False)


def build_app(settings: Settings, db: Any) -> Any:
    """The procrastinate app with our three tasks (each runs one step and queues the next)."""
    from procrastinate import App, PsycopgConnector, RetryStrategy

    connector = PsycopgConnector(conninfo=conninfo(db), min_size=1, max_size=4,
                                 kwargs={"options": f"-c search_path={QUEUE_SCHEMA},public",
                                         "application_name": "aizoomdoc-jobs"})
    app = App(connector=connector)
    retry = RetryStrategy(max_attempts=max(settings.jobs_max_attempts - 1, 0), wait=2)
    for name in TASKS:
        async def task(context: Any, _task: str = name, **kwargs: Any) -> None:
            await _run_step(app, context, _task, kwargs)

        app.task(name=f"aizoomdoc.{name}", queue=QUEUE, pass_context=True, retry=retry)(task)
    return app


async def defer(app: Any, steps: list[Step]) -> None:
    from procrastinate.exceptions import AlreadyEnqueued

    for step in steps:
        try:
            await app.configure_task(f"aizoomdoc.{step.task}", queueing_lock=step.lock).defer_async(**step.kwargs)
        except AlreadyEnqueued:
            log.debug("%s is queued already", step.lock)


async def _run_step(app: Any, context: Any, task: str, kwargs: dict[str, Any]) -> None:
    jobs: DocumentJobs = context.additional_context["jobs"]
    try:
        follow = await jobs.run(task, kwargs)
    except Exception as exc:  # noqa: BLE001 - a job: retried by the queue, the last failure recorded on the document
        last = context.job.attempts + 1 >= jobs.settings.jobs_max_attempts
        log.warning("job %s of %s failed (attempt %d)%s", task, kwargs.get("document_id"),
                    context.job.attempts + 1, ": giving up" if last else "", exc_info=not isinstance(exc, AizoomdocError))
        if last:
            detail = str(exc) if isinstance(exc, AizoomdocError) else type(exc).__name__
            await jobs.service.store_for(kwargs["user_id"]).set_status(
                kwargs["document_id"], "error", status_error=detail, only_from=("queued", "processing"))
            return
        raise
    await defer(app, follow)


class QueueJobs:
    """Enqueue side of the PostgreSQL queue (the API server); the pool opens on first use."""

    def __init__(self, settings: Settings, db: Any) -> None:
        self.app = build_app(settings, db)
        self._open = False

    async def enqueue(self, document_id: str, user_id: str) -> None:
        if not self._open:
            from procrastinate.exceptions import ConnectorException
            from psycopg import Error as PsycopgError

            try:
                await self.app.open_async()
            except (PsycopgError, ConnectorException, OSError) as exc:  # the pool's error, said in Russian
                raise DatabaseError("db.error", target=t("db.target.queue"), detail=type(exc).__name__) from exc
            self._open = True
        await defer(self.app, [Step("ingest", {"document_id": document_id, "user_id": user_id})])

    async def recover(self) -> None:
        """Nothing here: the workers put stalled jobs back."""

    async def aclose(self) -> None:
        if self._open:
            await self.app.close_async()
            self._open = False


class LocalJobs:
    """The steps as tasks of this process; OCR in ``JOBS_LOCAL_WORKERS`` bounded processes."""

    def __init__(self, settings: Settings, service: Any) -> None:
        self.settings = settings
        self.service = service
        self.ocr = ocr_pool(settings, settings.local_workers)
        self.jobs = DocumentJobs(service, self.ocr)
        self._tasks: set[asyncio.Task[None]] = set()

    async def enqueue(self, document_id: str, user_id: str) -> None:
        task = asyncio.create_task(self._run(document_id, user_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, document_id: str, user_id: str) -> None:
        for attempt in range(1, self.settings.jobs_max_attempts + 1):
            try:
                await self.jobs.run_all(Step("ingest", {"document_id": document_id, "user_id": user_id}))
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the local worker: retried, then the document says what went wrong
                log.warning("processing %s failed (attempt %d)", document_id, attempt, exc_info=True)
                error = str(exc) if isinstance(exc, AizoomdocError) else t("api.internal")
                await asyncio.sleep(min(2.0 * attempt, 10.0))
        with contextlib.suppress(Exception):
            await self.service.store_for(user_id).set_status(document_id, "error", status_error=error,
                                                          only_from=("queued", "processing"))

    async def recover(self) -> None:
        """Documents a stopped server left unfinished are processed again (steps are idempotent)."""
        try:
            rows = await self.service.store.unfinished()
        except AizoomdocError:
            log.warning("could not look for unfinished documents", exc_info=True)
            return
        for row in rows:
            log.info("resuming document %s", row["id"])
            await self.enqueue(str(row["id"]), str(row["user_id"]))

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await asyncio.to_thread(self.ocr.close)


def build_jobs(settings: Settings, service: Any) -> QueueJobs | LocalJobs:
    if use_queue(settings, service.db.is_postgres):
        return QueueJobs(settings, service.db)
    return LocalJobs(settings, service)


async def run_worker(settings: Settings, service: Any, *, concurrency: int | None = None,
                     ready: Any = None) -> None:
    """``aizoomdoc worker``: run queued steps until cancelled (Ctrl+C / SIGTERM)."""
    concurrency = concurrency or settings.jobs_worker_concurrency
    app = build_app(settings, service.db)
    ocr = ocr_pool(settings, concurrency)
    jobs = DocumentJobs(service, ocr)
    async with app.open_async():
        if ready is not None:
            ready()
        rescuer = asyncio.create_task(_rescue_stalled(app, settings))
        try:
            await app.run_worker_async(
                queues=[QUEUE], concurrency=concurrency, additional_context={"jobs": jobs},
                update_heartbeat_interval=settings.jobs_heartbeat_seconds,
                stalled_worker_timeout=settings.jobs_stalled_seconds,
                fetch_job_polling_interval=min(5.0, settings.jobs_heartbeat_seconds),
                install_signal_handlers=True, delete_jobs="successful")
        finally:
            rescuer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await rescuer
            await asyncio.to_thread(ocr.close)


async def _rescue_stalled(app: Any, settings: Settings) -> None:
    """Put the jobs of silent (dead) workers back in the queue, every third of the stall time."""
    while True:
        try:
            stalled = await app.job_manager.get_stalled_jobs(queue=QUEUE,
                                                             seconds_since_heartbeat=settings.jobs_stalled_seconds)
            for job in stalled:
                log.warning("job %s (%s) was running on a worker that stopped answering: queued again",
                            job.id, job.task_name)
                await app.job_manager.retry_job(job)
        except Exception:  # noqa: BLE001 - a background loop that must outlive any round; the next one tries again
            log.warning("could not look for stalled jobs", exc_info=True)
        await asyncio.sleep(max(settings.jobs_stalled_seconds / 3, 0.5))


__all__ = ["LocalJobs", "QueueJobs", "build_app", "build_jobs", "run_worker", "use_queue"]
