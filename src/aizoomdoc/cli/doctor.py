"""``aizoomdoc doctor``: check everything, one line per check with ✔/✘ and what to do about a ✘.

Checks are plain functions registered with :func:`register_check`; other parts of the
application add theirs (file storage, LLM endpoint) from their own modules::

    from aizoomdoc.cli.doctor import CheckResult, DoctorContext, register_check

    @register_check("storage", order=30)
    async def check_storage(ctx: DoctorContext) -> CheckResult:
        ...
        return CheckResult.ok_("Хранилище доступно")

A check returns :class:`CheckResult` (ok / failed / skipped, or ok with a ⚠ warning that does not
fail the run), or None when it has nothing to say (no line); it may be sync or async. Once a check
fails, the checks that declared it in ``needs`` are skipped. The exit code is 1 if any check failed.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import typer

from aizoomdoc.cli.app import app, console, run_async
from aizoomdoc.config import Settings, get_settings
from aizoomdoc.errors import AizoomdocError, ConfigError
from aizoomdoc.texts import t

log = logging.getLogger(__name__)


@dataclass
class CheckResult:
    #: True: fine; False: a problem (message says what to do); None: skipped.
    ok: bool | None
    message: str
    #: ok, but worth the user's attention (shown with ⚠; the exit code stays 0).
    warning: bool = False

    @classmethod
    def ok_(cls, message: str) -> CheckResult:
        return cls(True, message)

    @classmethod
    def warn(cls, message: str) -> CheckResult:
        return cls(True, message, warning=True)

    @classmethod
    def fail(cls, message: str) -> CheckResult:
        return cls(False, message)

    @classmethod
    def skip(cls, message: str) -> CheckResult:
        return cls(None, message)


@dataclass
class DoctorContext:
    """What checks share: the settings (None if they could not be read) and a scratch dict."""

    settings: Settings | None
    state: dict[str, Any] = field(default_factory=dict)


CheckFn = Callable[[DoctorContext], "CheckResult | None | Awaitable[CheckResult | None]"]


@dataclass(order=True)
class Check:
    order: int
    name: str = field(compare=False)
    fn: CheckFn = field(compare=False)
    needs: tuple[str, ...] = field(default=(), compare=False)


_CHECKS: dict[str, Check] = {}


def register_check(name: str, order: int = 100, needs: tuple[str, ...] = ("config",)
                   ) -> Callable[[CheckFn], CheckFn]:
    """Register a doctor check (replacing one of the same name)."""

    def decorator(fn: CheckFn) -> CheckFn:
        _CHECKS[name] = Check(order, name, fn, tuple(needs))
        return fn

    return decorator


def registered_checks() -> list[Check]:
    return sorted(_CHECKS.values())


async def run_checks(settings: Settings | None = None) -> list[tuple[str, CheckResult]]:
    """Run every registered check in order; a check whose prerequisite failed is skipped."""
    ctx = DoctorContext(settings=settings)
    if settings is not None:
        ctx.state["settings_given"] = True
    outcome: dict[str, CheckResult] = {}
    results: list[tuple[str, CheckResult]] = []
    for check in registered_checks():
        failed = [n for n in check.needs if n in outcome and outcome[n].ok is not True]
        if failed:
            result = CheckResult.skip(t("doctor.skipped", reason=", ".join(failed)))
        else:
            try:
                value = check.fn(ctx)
                result = await value if inspect.isawaitable(value) else value  # type: ignore[assignment]
                if result is None:  # nothing to report
                    outcome[check.name] = CheckResult.ok_("")
                    continue
            except AizoomdocError as exc:
                result = CheckResult.fail(str(exc))
            except Exception as exc:  # noqa: BLE001 - the doctor runs every check; one that crashes is reported, logged
                log.debug("check %s crashed", check.name, exc_info=True)
                result = CheckResult.fail(t("error.unexpected", detail=f"{type(exc).__name__}: {exc}"))
        outcome[check.name] = result
        results.append((check.name, result))
    return results


# --- the store's checks ------------------------------------------------------------------------
@register_check("config", order=10, needs=())
def check_config(ctx: DoctorContext) -> CheckResult:
    if ctx.settings is None:
        try:
            ctx.settings = get_settings()
        except ConfigError as exc:  # a wrong value: the variable and what is wrong, in Russian
            detail = f"{exc.params.get('name')}: {exc.params.get('detail')}"
            return CheckResult.fail(t("doctor.config.fail", detail=detail))
    s = ctx.settings
    if not s.use_database:
        backend = t("settings.no_database")
    else:
        backend = "PostgreSQL" if s.database_url is not None else f"SQLite {s.sqlite_path}"
    return CheckResult.ok_(t("doctor.config.ok", backend=backend, data_dir=s.data_dir))


@register_check("database", order=20)
async def check_database(ctx: DoctorContext) -> CheckResult:
    from aizoomdoc.store.database import Database

    assert ctx.settings is not None
    if not ctx.settings.use_database:
        return CheckResult.skip(t("doctor.db.disabled"))
    db = Database(ctx.settings)
    ctx.state["database"] = db
    await db.check()
    return CheckResult.ok_(t("doctor.db.ok", target=db.target))


@register_check("migrations", order=21, needs=("config", "database"))
async def check_migrations(ctx: DoctorContext) -> CheckResult:
    from aizoomdoc.store import migrate

    db = ctx.state["database"]
    try:
        current = await migrate.current_revision(db)
        head = migrate.head_revision()
    finally:
        await db.dispose()
    if current == head:
        return CheckResult.ok_(t("doctor.migrations.ok", revision=current))
    known = {entry["revision"] for entry in migrate.history()}
    if current is not None and current not in known:
        return CheckResult.fail(t("doctor.migrations.unknown", current=current, head=head))
    if db.migrates_itself:
        if current is None:
            return CheckResult.ok_(t("doctor.migrations.sqlite_new", head=head))
        return CheckResult.warn(t("doctor.migrations.sqlite_behind", current=current, head=head))
    if current is None:
        return CheckResult.fail(t("doctor.migrations.none"))
    return CheckResult.fail(t("doctor.migrations.behind", current=current, head=head))


_MARKS = {True: "[green]✔[/]", False: "[red]✘[/]", None: "[yellow]–[/]"}
_WARNING_MARK = "[yellow]⚠[/]"


@app.command("doctor")
def doctor() -> None:
    """Проверить настройки, базу данных, хранилище файлов и LLM: одна строка на проверку."""
    results = run_async(run_checks)
    console.print(f"[bold]{t('doctor.title')}[/]", highlight=False)
    for _name, result in results:
        mark = _WARNING_MARK if result.warning else _MARKS[result.ok]
        console.print(f"{mark} {result.message}", highlight=False)
    failures = sum(1 for _, r in results if r.ok is False)
    if failures:
        console.print(t("doctor.summary.fail", count=failures), highlight=False)
        raise typer.Exit(1)
    console.print(t("doctor.summary.ok"), highlight=False)
