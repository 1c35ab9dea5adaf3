"""Usage analytics: what `aizoomdoc stats` and GET /api/stats report after real questions, and that
on PostgreSQL one user never sees another's figures (RLS)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aizoomdoc.cli import app
from aizoomdoc.config import Settings, reset_settings_cache
from aizoomdoc.errors import ForbiddenError
from aizoomdoc.sample import build_drawing_set, write_bundle_fixtures
from aizoomdoc.store import migrate
from aizoomdoc.store.database import Database
from aizoomdoc.store.usage import UsageFilter, UsageStore
from tests.support.api_client import JWT_SECRET, api_client, bearer, sign_jwt
from tests.support.llm_server import ScriptedLLM, error, text, tool_call

runner = CliRunner()
QUESTION = "Какая толщина утеплителя кровли П-1?"


@pytest.fixture()
def env(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.chdir(tmp_path)
    reset_settings_cache()
    paths = write_bundle_fixtures(tmp_path / "set", build_drawing_set(), formats=("result",))
    yield paths["result"]
    reset_settings_cache()


def _ask(*args: str) -> dict[str, Any]:
    r = runner.invoke(app, ["ask", *args, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def _stats(*args: str) -> dict[str, Any]:
    r = runner.invoke(app, ["stats", "--json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_two_direct_questions_and_one_with_a_model_that_zooms(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _ask(QUESTION, "--doc", str(env))
    _ask("А какая пароизоляция?", "--chat", first["chat_id"])
    script = [tool_call("zoom", {"image_id": "v1", "cell": "B2"}, usage=(100, 20)),
              text("Утеплитель — 150 мм (стр. 4).", usage=(100, 20))]
    with ScriptedLLM(script, model="vision/test") as llm:
        monkeypatch.setenv("LLM_BASE_URL", llm.base_url)
        monkeypatch.setenv("LLM_API_KEY", "sk-test")
        monkeypatch.setenv("LLM_MODEL", "vision/test")
        reset_settings_cache()
        third = _ask(QUESTION, "--doc", str(env))
    assert len(llm.requests) == 2 and any(i["image_type"] == "zoom_crop" for i in third["images"])

    s = _stats()
    assert (s["questions"], s["answers"], s["errors"], s["llm_calls"]) == (3, 3, 0, 2)
    assert (s["tokens_in"], s["tokens_out"], s["documents"], s["documents_asked"]) == (200, 40, 1, 1)
    assert s["images"] >= 3 and s["users"] == 1 and s["pages"] == 4
    assert s["cost_estimate"] is None  # no LLM_PRICES
    today = datetime.now(UTC).date().isoformat()
    assert [d for d in s["by_day"] if d["day"] == today][0]["questions"] == 3
    assert s["by_user"] == [{"user_id": "local", "questions": 3, "errors": 0, "tokens_in": 200, "tokens_out": 40}]
    assert s["answer_seconds_p50"] is not None and s["answer_seconds_p95"] >= s["answer_seconds_p50"]
    for key in ("questions", "answers", "errors", "llm_calls", "tokens_in", "tokens_out", "cost_estimate", "images",
                "documents", "pages", "users", "answer_seconds_p50", "answer_seconds_p95", "by_day", "by_user"):
        assert key in s
    # a period without questions, and one user only
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert _stats("--until", yesterday)["questions"] == 0
    assert _stats("--user", "someone-else")["questions"] == 0
    # prices per million tokens: 200 in at 1.0 and 40 out at 10.0 (a price for "vision" covers
    # "vision/test": the longest matching prefix counts, for dated model versions)
    monkeypatch.setenv("LLM_PRICES", json.dumps({"vision": [1.0, 10.0], "other": {"in": 5, "out": 5}}))
    reset_settings_cache()
    assert _stats()["cost_estimate"] == pytest.approx(200 / 1e6 + 40 * 10 / 1e6)
    # the human-readable form
    r = runner.invoke(app, ["stats"])
    assert r.exit_code == 0 and "Вопросы" in r.stdout and "По дням" in r.stdout and "█" in r.stdout


def test_errors_are_counted_by_kind_and_question_text_is_kept_only_when_allowed(
        env: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _ask(QUESTION, "--doc", str(env))
    with ScriptedLLM(default=error(500)) as llm:
        monkeypatch.setenv("LLM_BASE_URL", llm.base_url)
        monkeypatch.setenv("LLM_API_KEY", "sk-test")
        monkeypatch.setenv("LLM_MAX_RETRIES", "0")
        monkeypatch.setenv("ANALYTICS_STORE_QUESTIONS", "true")
        reset_settings_cache()
        r = runner.invoke(app, ["ask", "Секретный вопрос про кровлю", "--doc", str(env), "--json"])
    assert r.exit_code in (0, 1)
    s = _stats()
    assert (s["questions"], s["answers"], s["errors"]) == (2, 1, 1)
    assert list(s["errors_by_kind"]) and list(s["errors_by_kind"].values()) == [1]

    rows = _rows(Settings(_env_file=None, data_dir=data_dir))
    texts = [q["question"] for q in rows]
    assert texts == [None, "Секретный вопрос про кровлю"]  # the first was asked without the setting


def _rows(settings: Settings) -> list[dict[str, Any]]:
    import asyncio

    async def read() -> list[dict[str, Any]]:
        db = Database(settings)
        try:
            from sqlalchemy import select

            from aizoomdoc.store.usage import questions

            return await db.run(lambda c: [dict(r._mapping) for r in c.execute(
                select(questions).order_by(questions.c.created_at))])
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_bad_dates_are_one_clear_line(env: Path) -> None:
    r = runner.invoke(app, ["stats", "--since", "31.01.2026"])
    assert r.exit_code == 1 and "ГГГГ-ММ-ДД" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["stats", "--since", "2026-02-01", "--until", "2026-01-01"])
    assert r.exit_code == 1 and "наоборот" in r.output


# --- PostgreSQL: RLS and the HTTP API ---------------------------------------------------------------

@pytest.mark.postgres
async def test_rls_keeps_each_users_analytics_to_himself(settings: Settings, pg_url: str) -> None:
    s = Settings(_env_file=None, data_dir=settings.data_dir, database_url=pg_url, auth_mode="server",
                 supabase_jwt_secret=JWT_SECRET, admin_user_ids="boss")
    db = Database(s)
    try:
        await migrate.upgrade(db)
        store = UsageStore(db)
        for user, tokens in (("alice", 100), ("alice", 50), ("bob", 7)):
            await store.for_user(user).add_question({"user_id": user, "tokens_in": tokens, "tokens_out": 1,
                                                     "llm_calls": 1, "answer_seconds": 1.5})
        # A row for someone else cannot even be written as alice.
        with pytest.raises(ForbiddenError):
            await store.for_user("alice").add_question({"user_id": "bob", "tokens_in": 1})
        alice_rows, _ = await store.for_user("alice").rows(UsageFilter())
        assert {r["user_id"] for r in alice_rows} == {"alice"} and len(alice_rows) == 2
        # Even a query that asks for bob's rows gets nothing back as alice: RLS, not the WHERE.
        unfiltered = await db.run(lambda c: _all_usage_rows(c), user_id="alice")
        assert {r["user_id"] for r in unfiltered} == {"alice"}
        all_rows, _ = await store.rows(UsageFilter())  # the owner (the CLI) sees everyone
        assert len(all_rows) == 3
    finally:
        await db.dispose()

    async with api_client(s) as (_app, client):
        alice, bob = bearer(sign_jwt("alice")), bearer(sign_jwt("bob"))
        r = await client.get("/api/stats", headers=alice)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["questions"], body["tokens_in"], body["scope"], body["admin"]) == (2, 150, "own", False)
        assert [u["user_id"] for u in body["by_user"]] == ["alice"]
        assert (await client.get("/api/stats", headers=bob)).json()["tokens_in"] == 7
        r = await client.get("/api/stats", params={"user_id": "bob"}, headers=alice)
        assert r.status_code == 403 and "администратор" in r.json()["error"]
        # admins: by the setting, or by a Supabase claim
        for token in (sign_jwt("boss"), sign_jwt("carol", app_metadata={"role": "admin"})):
            body = (await client.get("/api/stats", headers=bearer(token))).json()
            assert (body["questions"], body["users"], body["scope"]) == (3, 2, "all")
            one = (await client.get("/api/stats", params={"user_id": "bob"}, headers=bearer(token))).json()
            assert one["questions"] == 1 and one["scope"] == "user"
        assert (await client.get("/api/stats")).status_code == 401
        assert (await client.get("/api/stats", params={"since": "вчера"}, headers=alice)).status_code == 422


def _all_usage_rows(conn: Any) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from aizoomdoc.store.usage import questions

    return [dict(r._mapping) for r in conn.execute(select(questions))]
