"""The revision compare view in a real browser (Playwright + Debian's Chromium against
`aizoomdoc serve`): two versions attached to a chat → «Сравнить версии» → the changed sheet, both
pages side by side with the changes highlighted, the list of changes; a click on a change brings
it into view in both pages; then the same question in the chat, answered with citations into both
versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from aizoomdoc.compare.revise import Retype, make_revision
from tests.support.api_client import LiveServer
from tests.test_web_browser import ARTIFACTS, chromium, english_words, images_loaded, open_page

pytestmark = pytest.mark.browser

EXCERPT = Path(__file__).parent / "data" / "KS_AR6_register_sheet1.pdf"


def test_compare_view_side_by_side_and_chat_answer(tmp_path: Path) -> None:
    old, new = tmp_path / "АР6_изм.1.pdf", tmp_path / "АР6_изм.2.pdf"
    old.write_bytes(EXCERPT.read_bytes())
    make_revision(EXCERPT, new, [Retype(1, "А500С", "А400С"), Retype(1, "59.13330.2020", "59.13330.2024")])
    env = {"DATA_DIR": str(tmp_path / "data"), "AUTH_MODE": "local", "LOG_LEVEL": "WARNING"}
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with LiveServer(env, log=tmp_path / "server.log") as server, chromium() as browser:
        page = open_page(browser, server.url + "/", errors, width=1500, height=950)
        page.get_by_role("button", name="Создать чат").click()
        expect(page.locator("#chat-view")).to_be_visible()
        expect(page.locator("#compare-open")).to_be_hidden()  # nothing to compare yet
        page.set_input_files("#doc-input", [str(new), str(old)])
        expect(page.locator("#doc-list .doc-chip")).to_have_count(2, timeout=60_000)
        button = page.get_by_role("button", name="Сравнить версии")
        expect(button).to_be_visible()
        button.click()

        view = page.locator("#compare")
        expect(view).to_be_visible()
        # The older revision is picked as the old version whatever the order of attaching.
        # Both revisions carry the title block's шифр as their title, and the revision of the file name.
        assert "изм.1" in page.locator("#compare-old option:checked").inner_text()
        assert "изм.2" in page.locator("#compare-new option:checked").inner_text()
        expect(view).to_have_attribute("data-state", "done", timeout=120_000)
        expect(page.locator("#compare-summary")).to_contain_text("изменено 1")
        sheets = page.locator("#compare-sheets .compare-sheet")
        expect(sheets).to_have_count(1)  # only the changed ones by default
        expect(sheets.first).to_contain_text("Лист 1")
        expect(sheets.first).to_contain_text("изменён (2)")
        changes = page.locator("#compare-changes .compare-change")
        expect(changes).to_have_count(2)
        expect(changes.first).to_contain_text("Текст изменён")
        expect(page.locator("#compare-changes")).to_contain_text("«А500С» → «А400С»")
        widths = images_loaded(page, "#compare-detail img:not([hidden])")
        assert len(widths) == 2 and all(w > 500 for w in widths), widths
        for side in ("old", "new"):
            src = page.get_attribute(f"#compare-img-{side}", "src") or ""
            assert "/pages/2.png" in src and src.count("box=") == 2, src

        # A click on a change: both pages at full size, the change in the middle of each pane.
        changes.nth(1).click()
        for side in ("old", "new"):
            in_view = page.evaluate("""side => {
                const img = document.querySelector('#compare-img-' + side), pane = img.parentElement;
                const li = document.querySelectorAll('#compare-changes .compare-change')[1];
                return img.classList.contains('zoomed') && pane.scrollLeft > 0 && pane.scrollTop > 0 && !!li;
            }""", side)
            assert in_view, side
        page.screenshot(path=str(ARTIFACTS / "compare-view.png"))
        assert not english_words(page), english_words(page)

        # All sheets, then close with Esc.
        page.locator("#compare-only-changed").uncheck()
        expect(sheets).to_have_count(2)
        expect(sheets.first).to_contain_text("без изменений")
        page.keyboard.press("Escape")
        expect(view).to_be_hidden()

        # The question in the chat: the answer lists the changes and cites both versions.
        page.fill("#question", "Что изменилось на листе 1 между изм.1 и изм.2?")
        page.locator("#question").press("Enter")
        answer = page.locator(".msg.assistant:not(.working)").last
        expect(answer.locator(".answer")).to_contain_text("«А500С» → «А400С»", timeout=120_000)
        expect(answer.locator(".citation")).to_have_count(4)
        assert all(w > 0 for w in images_loaded(page, ".msg.assistant .thumb img"))
        page.screenshot(path=str(ARTIFACTS / "compare-chat.png"))
        assert not errors, errors
