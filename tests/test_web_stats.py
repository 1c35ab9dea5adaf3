"""The «Статистика» page in a real browser (Debian's Chromium): after real questions, the cards show
the figures and the per-day charts (inline SVG) show today's bar; earlier days come from rows of the
analytics table written with past dates. Screenshot: test-artifacts/stats.png."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aizoomdoc.config import Settings
from aizoomdoc.pipeline.ask import AskService
from aizoomdoc.sample import build_drawing_set, write_bundle_fixtures
from aizoomdoc.store.database import Database
from aizoomdoc.store.usage import UsageStore
from tests.support.api_client import LiveServer
from tests.test_web_browser import ARTIFACTS, chromium, english_words, open_page

pytestmark = pytest.mark.browser

QUESTION = "Какая толщина утеплителя кровли П-1?"


async def _prepare(data_dir: Path, bundle: Path) -> None:
    settings = Settings(_env_file=None, data_dir=data_dir)
    async with AskService(settings) as service:
        first = await service.ask(QUESTION, [str(bundle)])
        await service.ask("А какая пароизоляция?", chat_id=first.chat_id)
        await service.ask(QUESTION, [str(bundle)])
    db = Database(settings)
    try:
        store = UsageStore(db)
        now = datetime.now(UTC)
        for days_ago, count, tokens in ((5, 2, 1200), (2, 4, 3000)):
            for n in range(count):
                await store.add_question({"user_id": "local", "tokens_in": tokens, "tokens_out": tokens // 5,
                                          "llm_calls": 2, "answer_seconds": 4.0 + n, "model": "vision/test",
                                          "created_at": now - timedelta(days=days_ago, minutes=n)})
        await store.add_question({"user_id": "local", "error_kind": "llm.error.timeout", "answer_seconds": 120.0,
                                  "created_at": now - timedelta(days=2, hours=1)})
    finally:
        await db.dispose()


def test_stats_page_shows_cards_and_charts(tmp_path: Path) -> None:
    bundle = write_bundle_fixtures(tmp_path / "set", build_drawing_set(), formats=("result",))["result"]
    data_dir = tmp_path / "data"
    asyncio.run(_prepare(data_dir, bundle))
    env = {"DATA_DIR": str(data_dir), "AUTH_MODE": "local", "LOG_LEVEL": "WARNING", "STATS_TIMEZONE": "UTC"}
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    today = datetime.now(UTC).date().isoformat()
    with LiveServer(env, log=tmp_path / "server.log") as server, chromium() as browser:
        page = open_page(browser, server.url + "/", errors)
        page.get_by_role("link", name="Статистика").click()
        view = page.locator("#stats-view")
        expect(view).to_have_attribute("data-ready", "1")
        expect(page.locator("#chat-view")).to_be_hidden()
        cards = view.locator(".stats-card")
        expect(cards.filter(has_text="Вопросы").locator(".value")).to_have_text("10")  # 3 today + 7 earlier
        expect(cards.filter(has_text="Ошибки").locator(".value")).to_have_text("1")
        # three charts, drawn as SVG: questions (bars), tokens (bars), answer time (lines)
        charts = view.locator("svg.chart")
        expect(charts).to_have_count(3)
        questions = view.locator("#chart-questions")
        today_bar = questions.locator(f"g.bar[data-day='{today}']")
        expect(today_bar.locator("rect.s-answers")).to_have_count(1)
        assert "вопросов 3" in today_bar.locator("title").text_content()
        heights = questions.locator("g.bar rect.s-answers").evaluate_all(
            "rs => rs.map(r => r.getBBox().height)")
        assert len(heights) == 3 and max(heights) > min(heights) > 0  # 4 answers two days ago > 2 > …
        expect(questions.locator("rect.s-errors")).to_have_count(1)
        assert view.locator("#chart-time circle.s-p50").count() == 3
        box = charts.first.bounding_box()
        assert box and box["width"] > 400 and box["height"] > 100  # a chart a person can look at
        page.screenshot(path=str(ARTIFACTS / "stats.png"))
        view.locator("#chart-time").screenshot(path=str(ARTIFACTS / "stats-time.png"))
        assert not english_words(page), english_words(page)

        # a shorter period redraws; back to the chats
        view.locator("button[data-period='7']").click()
        expect(view.locator("button[data-period='7']")).to_have_class("active")
        page.locator(".chat-item a").first.click()
        expect(page.locator("#chat-view")).to_be_visible()
        expect(view).to_be_hidden()
    assert not errors, errors
