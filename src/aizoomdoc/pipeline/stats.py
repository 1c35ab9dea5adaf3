"""Usage statistics: the figures of ``aizoomdoc stats`` and ``GET /api/stats``.

The rows of a period (``store/usage.py``) are summed here, in Python, the same way on SQLite and
PostgreSQL. Days are counted in ``STATS_TIMEZONE``. Costs come from ``LLM_PRICES`` (per million
tokens, per model; empty = no estimate). Who sees what: the CLI acts as the database owner and
sees everyone; over HTTP a user sees his own figures, an admin (``ADMIN_USER_IDS`` or a Supabase
JWT with ``app_metadata.role = "admin"``) everyone's — and on PostgreSQL RLS enforces the first.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aizoomdoc.config import Settings
from aizoomdoc.errors import ConfigError, InvalidInputError
from aizoomdoc.store.database import Database
from aizoomdoc.store.usage import UsageFilter, UsageStore

#: Longest period whose days without activity are listed in ``by_day`` (with zeros).
MAX_FILLED_DAYS = 400


@dataclass(frozen=True)
class Price:
    input: float  # per 1M prompt tokens
    output: float  # per 1M completion tokens


def parse_prices(raw: str) -> dict[str, Price]:
    """``LLM_PRICES``: ``{"model": {"in": 0.3, "out": 2.5}}`` (or ``[in, out]``), per 1M tokens."""
    if not raw or not raw.strip():
        return {}
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError
        out = {}
        for model, price in data.items():
            if isinstance(price, Mapping):
                p_in, p_out = price["in"], price["out"]
            else:
                p_in, p_out = price
            out[str(model)] = Price(float(p_in), float(p_out))
        return out
    except (ValueError, KeyError, TypeError):
        raise ConfigError("stats.bad_prices") from None


def timezone_of(settings: Settings) -> tzinfo:
    name = (settings.stats_timezone or "UTC").strip()
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("stats.bad_timezone", value=name) from None


def parse_day(value: str | None, name: str) -> date | None:
    """``YYYY-MM-DD`` (or None); a clear error naming the option otherwise."""
    if value is None or not str(value).strip():
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInputError("stats.bad_date", name=name, value=str(value)[:40]) from None


def is_admin(settings: Settings, user_id: str, claims: Mapping[str, Any] | None = None) -> bool:
    admins = {u.strip() for u in settings.admin_user_ids.split(",") if u.strip()}
    if user_id in admins:
        return True
    meta = (claims or {}).get("app_metadata")
    if isinstance(meta, Mapping):
        roles = meta.get("roles")
        return meta.get("role") == "admin" or (isinstance(roles, list) and "admin" in roles)
    return False


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1), linear between the closest ranks (numpy's default)."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return round(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo), 3)


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)  # SQLite returns naive UTC


class StatsService:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.store = UsageStore(db)
        self.tz = timezone_of(settings)
        self.prices = parse_prices(settings.llm_prices)

    async def report(self, *, since: date | None = None, until: date | None = None, user_id: str | None = None,
                     viewer: str | None = None) -> dict[str, Any]:
        """The statistics of ``[since, until]`` (days, inclusive). ``viewer``: read as that user
        (RLS on PostgreSQL; only his rows anywhere); None: as the owner (everyone)."""
        if since and until and until < since:
            raise InvalidInputError("stats.bad_period", since=since.isoformat(), until=until.isoformat())
        flt = UsageFilter(
            since=datetime.combine(since, time(), self.tz).astimezone(UTC) if since else None,
            until=datetime.combine(until + timedelta(days=1), time(), self.tz).astimezone(UTC) if until else None,
            user_id=user_id,
        )
        store = self.store.for_user(viewer) if viewer is not None else self.store
        questions, documents = await store.rows(flt)
        report = self.summarize(questions, documents, since=since, until=until)
        report.update(user_id=user_id, timezone=str(self.tz))
        return report

    def _day(self, ts: datetime) -> date:
        return _aware(ts).astimezone(self.tz).date()

    def summarize(self, questions: Sequence[Mapping[str, Any]], documents: Sequence[Mapping[str, Any]], *,
                  since: date | None = None, until: date | None = None) -> dict[str, Any]:
        answered = [q for q in questions if not q["error_kind"]]
        seconds = [float(q["answer_seconds"]) for q in answered if q["answer_seconds"] is not None]
        renders = sum(int(q["renders"]) for q in questions)
        hits = sum(int(q["render_cache_hits"]) for q in questions)
        cost, unpriced = self._cost(questions)
        asked = {d for q in questions for d in (q["document_ids"] or [])}
        return {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "questions": len(questions),
            "answers": len(answered),
            "errors": len(questions) - len(answered),
            "errors_by_kind": dict(Counter(q["error_kind"] for q in questions if q["error_kind"]).most_common()),
            "llm_calls": sum(int(q["llm_calls"]) for q in questions),
            "tokens_in": sum(int(q["tokens_in"]) for q in questions),
            "tokens_out": sum(int(q["tokens_out"]) for q in questions),
            "cost_estimate": cost,
            "cost_unpriced_models": unpriced,
            "images": sum(int(q["images"]) for q in questions),
            "renders": renders,
            "render_cache_hits": hits,
            "render_cache_hit_rate": round(hits / (hits + renders), 4) if hits + renders else None,
            "documents": len(documents),
            "pages": sum(int(d["pages"]) for d in documents),
            "ocr_pages": sum(int(d["ocr_pages"]) for d in documents),
            "documents_asked": len(asked),
            "users": len({q["user_id"] for q in questions} | {d["user_id"] for d in documents}),
            "answer_seconds_p50": percentile(seconds, 0.5),
            "answer_seconds_p95": percentile(seconds, 0.95),
            "by_day": self._by_day(questions, documents, since, until),
            "by_user": _by_user(questions),
            "by_model": self._by_model(questions),
        }

    def price(self, model: str | None) -> Price | None:
        """The price of ``model``: its own, else the longest priced prefix of its name (a price for
        ``google/gemini-2.5-flash`` covers ``google/gemini-2.5-flash-001``)."""
        if not model:
            return None
        if model in self.prices:
            return self.prices[model]
        best = max((k for k in self.prices if model.startswith(k)), key=len, default=None)
        return self.prices[best] if best is not None else None

    def _cost(self, questions: Iterable[Mapping[str, Any]]) -> tuple[float | None, list[str]]:
        if not self.prices:
            return None, []
        total, unpriced = 0.0, set()
        for q in questions:
            if not (q["tokens_in"] or q["tokens_out"]):
                continue
            price = self.price(q["model"])
            if price is None:
                unpriced.add(q["model"] or "?")
                continue
            total += int(q["tokens_in"]) * price.input / 1e6 + int(q["tokens_out"]) * price.output / 1e6
        return round(total, 6), sorted(unpriced)

    def _by_day(self, questions: Sequence[Mapping[str, Any]], documents: Sequence[Mapping[str, Any]],
                since: date | None, until: date | None) -> list[dict[str, Any]]:
        days: dict[date, dict[str, Any]] = {}

        def day(d: date) -> dict[str, Any]:
            if d not in days:
                days[d] = {"day": d.isoformat(), "questions": 0, "answers": 0, "errors": 0, "tokens_in": 0,
                           "tokens_out": 0, "images": 0, "documents": 0, "_seconds": []}
            return days[d]

        for q in questions:
            row = day(self._day(q["created_at"]))
            row["questions"] += 1
            row["errors" if q["error_kind"] else "answers"] += 1
            row["tokens_in"] += int(q["tokens_in"])
            row["tokens_out"] += int(q["tokens_out"])
            row["images"] += int(q["images"])
            if not q["error_kind"] and q["answer_seconds"] is not None:
                row["_seconds"].append(float(q["answer_seconds"]))
        for d in documents:
            day(self._day(d["created_at"]))["documents"] += 1
        if days or since:
            first = since or min(days)
            last = until or max([*days, datetime.now(self.tz).date()])
            if (last - first).days <= MAX_FILLED_DAYS:  # a continuous axis for the charts
                for n in range((last - first).days + 1):
                    day(first + timedelta(days=n))
        out = []
        for when in sorted(days):
            row = days[when]
            secs = row.pop("_seconds")
            row["answer_seconds_p50"] = percentile(secs, 0.5)
            row["answer_seconds_p95"] = percentile(secs, 0.95)
            out.append(row)
        return out

    def _by_model(self, questions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        acc: dict[str, dict[str, Any]] = defaultdict(lambda: {"questions": 0, "llm_calls": 0, "tokens_in": 0,
                                                              "tokens_out": 0})
        for q in questions:
            row = acc[q["model"] or "—"]
            row["questions"] += 1
            row["llm_calls"] += int(q["llm_calls"])
            row["tokens_in"] += int(q["tokens_in"])
            row["tokens_out"] += int(q["tokens_out"])
        out = []
        for model, row in sorted(acc.items(), key=lambda kv: -kv[1]["questions"]):
            price = self.price(model)
            cost = (round(row["tokens_in"] * price.input / 1e6 + row["tokens_out"] * price.output / 1e6, 6)
                    if price else None)
            out.append({"model": model, **row, "cost_estimate": cost})
        return out


def _by_user(questions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    acc: dict[str, dict[str, Any]] = defaultdict(lambda: {"questions": 0, "errors": 0, "tokens_in": 0,
                                                          "tokens_out": 0})
    for q in questions:
        row = acc[q["user_id"]]
        row["questions"] += 1
        row["errors"] += 1 if q["error_kind"] else 0
        row["tokens_in"] += int(q["tokens_in"])
        row["tokens_out"] += int(q["tokens_out"])
    return [{"user_id": u, **row} for u, row in sorted(acc.items(), key=lambda kv: (-kv[1]["questions"], kv[0]))]


__all__ = ["Price", "StatsService", "is_admin", "parse_day", "parse_prices", "percentile", "timezone_of"]
