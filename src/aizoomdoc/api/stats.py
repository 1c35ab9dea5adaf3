"""``GET /api/stats``: usage statistics of the caller, or of everyone for an admin.

A user sees his own figures (on PostgreSQL the query runs under RLS as him, so nothing else can
come back); an admin (``ADMIN_USER_IDS``, or a Supabase JWT with ``app_metadata.role = "admin"``)
sees everyone's and may pick one user with ``user_id``. Same keys as ``aizoomdoc stats --json``,
plus ``scope`` ("own" | "all") and ``admin``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from aizoomdoc.api.deps import Ctx, get_ctx
from aizoomdoc.api.schemas import OUT, StatsOut
from aizoomdoc.errors import ForbiddenError
from aizoomdoc.pipeline.stats import StatsService, is_admin, parse_day
from aizoomdoc.texts import t

router = APIRouter(prefix="/api/stats", tags=["stats"])


@router.get("", summary=t("api.stats.get_stats.summary"),
            response_model=StatsOut, **OUT)
async def get_stats(ctx: Ctx = Depends(get_ctx),
                    since: str | None = Query(None, max_length=10, description=t("api.opt.day.description")),
                    until: str | None = Query(None, max_length=10, description=t("api.opt.day.description")),
                    user_id: str | None = Query(None, max_length=200)) -> dict[str, Any]:
    first, last = parse_day(since, "since"), parse_day(until, "until")
    admin = is_admin(ctx.settings, ctx.user_id, ctx.user.claims)
    if user_id and user_id != ctx.user_id and not admin:
        raise ForbiddenError("stats.forbidden_user")
    service = StatsService(ctx.settings, ctx.state.db)
    if admin:
        report = await service.report(since=first, until=last, user_id=user_id or None)
    else:
        report = await service.report(since=first, until=last, user_id=ctx.user_id, viewer=ctx.user_id)
    scope = "own" if not admin or user_id == ctx.user_id else "user" if user_id else "all"
    report.update(scope=scope, admin=admin)
    return report


__all__ = ["router"]
