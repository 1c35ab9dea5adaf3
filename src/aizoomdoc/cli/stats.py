"""``aizoomdoc stats [--since DATE] [--until DATE] [--user ID] [--json]``: usage statistics; and the
``cache`` check of ``aizoomdoc doctor`` (the cache's figures are part of the statistics)."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from aizoomdoc.cli.app import app, console, run_async
from aizoomdoc.cli.doctor import CheckResult, DoctorContext, register_check
from aizoomdoc.config import get_settings
from aizoomdoc.texts import t

BAR_WIDTH = 30


@app.command("stats")
def stats_command(
    since: str | None = typer.Option(None, "--since", help=t("cli.stats.stats.since.help")),
    until: str | None = typer.Option(None, "--until", help=t("cli.stats.stats.until.help")),
    user: str | None = typer.Option(None, "--user", help=t("cli.stats.stats.user.help")),
    as_json: bool = typer.Option(False, "--json", help=t("cli.opt.as_json_short.help")),
) -> None:
    """Статистика: вопросы, ответы, ошибки, токены, стоимость, изображения, документы, время ответа."""
    from aizoomdoc.pipeline.stats import StatsService, parse_day
    from aizoomdoc.store.database import Database

    async def run() -> dict[str, Any]:
        first, last = parse_day(since, "--since"), parse_day(until, "--until")
        settings = get_settings()
        db = Database(settings)
        try:
            return await StatsService(settings, db).report(since=first, until=last, user_id=user)
        finally:
            await db.dispose()

    report = run_async(run)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    _print(report)


def _num(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.2f}".replace(",", " ")
    return f"{v:,}".replace(",", " ")


def _print(r: dict[str, Any]) -> None:
    period = (t("stats.period", since=r["since"] or "…", until=r["until"] or "…")
              if r["since"] or r["until"] else t("stats.period.all"))
    title = f"{t('stats.title')} ({period}" + (f", {t('stats.user', user=r['user_id'])}" if r["user_id"] else "") + ")"
    table = Table(title=title, show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    cost = t("stats.cost.none") if r["cost_estimate"] is None else _num(r["cost_estimate"])
    if r["cost_unpriced_models"]:
        cost += " (" + t("stats.cost.unpriced", models=", ".join(r["cost_unpriced_models"])) + ")"
    errors = _num(r["errors"])
    if r["errors_by_kind"]:
        errors += " (" + ", ".join(f"{k}: {v}" for k, v in r["errors_by_kind"].items()) + ")"
    rate = r["render_cache_hit_rate"]
    rows = [
        ("stats.row.questions", _num(r["questions"])),
        ("stats.row.answers", _num(r["answers"])),
        ("stats.row.errors", errors),
        ("stats.row.llm_calls", _num(r["llm_calls"])),
        ("stats.row.tokens", f"{_num(r['tokens_in'])} / {_num(r['tokens_out'])}"),
        ("stats.row.cost", cost),
        ("stats.row.images", f"{_num(r['images'])} ({_num(r['render_cache_hits'])}"
                             + (f", {rate:.0%}" if rate is not None else "") + ")"),
        ("stats.row.documents", f"{_num(r['documents'])} ({_num(r['pages'])}, {_num(r['ocr_pages'])})"),
        ("stats.row.users", _num(r["users"])),
        ("stats.row.answer_time", f"{_num(r['answer_seconds_p50'])} / {_num(r['answer_seconds_p95'])}"),
    ]
    for key, value in rows:
        table.add_row(t(key), value)
    console.print(table)
    days = [d for d in r["by_day"] if d["questions"]] if len(r["by_day"]) > 31 else r["by_day"]
    if not r["questions"]:
        console.print(t("stats.empty"))
        return
    top = max(d["questions"] for d in days) or 1
    by_day = Table(title=t("stats.by_day"))
    for key in ("stats.col.day", "stats.col.questions", "stats.col.tokens", "stats.col.answer_time"):
        by_day.add_column(t(key))
    by_day.add_column("")
    for d in days:
        bar = "█" * round(BAR_WIDTH * d["questions"] / top)
        by_day.add_row(d["day"], _num(d["questions"]), f"{_num(d['tokens_in'])} / {_num(d['tokens_out'])}",
                       _num(d["answer_seconds_p50"]), f"[cyan]{bar}[/]")
    console.print(by_day)
    if len(r["by_user"]) > 1:
        by_user = Table(title=t("stats.by_user"))
        for key in ("stats.col.user", "stats.col.questions", "stats.col.tokens"):
            by_user.add_column(t(key))
        for u in r["by_user"]:
            by_user.add_row(u["user_id"], _num(u["questions"]), f"{_num(u['tokens_in'])} / {_num(u['tokens_out'])}")
        console.print(by_user)


@register_check("cache", order=45)
async def check_cache(ctx: DoctorContext) -> CheckResult | None:
    """Redis of the render/index cache, when ``REDIS_URL`` is set: answering, or a warning (questions
    work without it). Nothing is printed for the default in-process cache."""
    from aizoomdoc.store.cache import SharedCache, redis_errors

    s = ctx.settings
    assert s is not None
    if not s.cache_enabled:
        return None
    cache = SharedCache.from_settings(s)
    if cache.redis is None:
        return None
    try:
        await cache.redis.ping()
    except redis_errors() as exc:  # Redis is not usable now
        return CheckResult.warn(t("cache.check.redis_down", target=cache.redis.target, detail=type(exc).__name__))
    finally:
        await cache.aclose()
    return CheckResult.ok_(t("cache.check.redis_ok", target=cache.redis.target, mb=f"{s.cache_redis_mb:g}"))
