"""``aizoomdoc storage init`` / ``aizoomdoc storage check``: set up and test the file storage; and
the file storage line of ``aizoomdoc doctor``."""

from __future__ import annotations

import typer

from aizoomdoc.cli.app import app, console, run_async
from aizoomdoc.cli.doctor import CheckResult, DoctorContext, register_check
from aizoomdoc.config import Settings, get_settings
from aizoomdoc.errors import AizoomdocError
from aizoomdoc.store.files import build_file_storage
from aizoomdoc.texts import t

storage_app = typer.Typer(help=t("files.cli.help"), no_args_is_help=True)
app.add_typer(storage_app, name="storage")


@storage_app.command("init", help=t("files.cli.init.help"))
def init() -> None:
    async def run() -> None:
        storage = build_file_storage(get_settings())
        async with storage:
            created = await storage.init()
        if storage.backend == "local":
            console.print(f"[green]✔[/] {t('files.cli.init.local', path=storage.location)}", highlight=False)
            return
        bucket, endpoint = getattr(storage, "bucket", ""), getattr(storage, "endpoint", "")
        key = "files.cli.init.created" if created else "files.cli.init.exists"
        console.print(f"[green]✔[/] {t(key, bucket=bucket, endpoint=endpoint)}", highlight=False)

    run_async(run)


@storage_app.command("check", help=t("files.cli.check.help"))
def check() -> None:
    async def run() -> None:
        storage = build_file_storage(get_settings())
        console.print(t("files.cli.check.backend", backend=storage.backend, location=storage.location),
                      highlight=False)
        async with storage:
            elapsed = await storage.check()
        console.print(f"[green]✔[/] {t('files.cli.check.ok', elapsed=round(elapsed))}", highlight=False)

    run_async(run)


# --- aizoomdoc doctor ------------------------------------------------------------------------------
def _doctor_settings(settings: Settings) -> Settings:
    """Short S3 timeouts and no retries: the doctor answers in seconds even when S3 is down."""
    return settings.model_copy(update={
        "s3_connect_timeout": min(settings.s3_connect_timeout, 3.0),
        "s3_read_timeout": min(settings.s3_read_timeout, 10.0),
        "s3_max_attempts": 1,
    })


@register_check("storage", order=30)
async def check_storage(ctx: DoctorContext) -> CheckResult:
    """The configured storage itself (not the offline fallback): write, read, signed link and
    delete of a probe file — under DATA_DIR/files, or in S3_BUCKET with the configured keys."""
    assert ctx.settings is not None
    try:
        storage = build_file_storage(_doctor_settings(ctx.settings))
        async with storage:
            elapsed = round(await storage.check())
    except AizoomdocError as exc:
        return CheckResult.fail(str(exc))  # says what is wrong and which variable to fix
    if storage.backend == "s3":
        return CheckResult.ok_(t("doctor.files.s3.ok", bucket=getattr(storage, "bucket", ""),
                                 endpoint=getattr(storage, "endpoint", ""), elapsed=elapsed))
    return CheckResult.ok_(t("doctor.files.local.ok", path=storage.location, elapsed=elapsed))
