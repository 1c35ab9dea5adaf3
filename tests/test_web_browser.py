"""The web UI in a real browser: Playwright drives Debian's Chromium against `aizoomdoc serve`.

1. The main path: the welcome screen, upload the synthetic drawing set, ask (offline answerer,
   Enter sends), live progress under the question, the answer, zoom images load and enlarge, a
   citation opens the page zoomed in on the cited block, a list question gives a grouped list,
   the chat survives a reload, rename/filter/archive.
2. What goes wrong: an oversize and a corrupt upload (Russian message, nothing stored), asking
   without a document, the offline badge, a narrow window.
3. With a (scripted) language model: a Markdown table in the answer, the model's steps in Russian.

Every test fails on a console error or an uncaught exception, and checks that the interface
itself shows no English words. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from aizoomdoc.sample import write_drawing_set
from tests.support.api_client import QUESTION, LiveServer
from tests.support.llm_server import ScriptedLLM, delay, text, tool_call
from tests.support.vent_set import write_vent_set

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LIST_QUESTION = "Найди всё вентиляционное оборудование"

# Latin words the interface may show: names and formats. Everything else must be Russian.
ALLOWED_LATIN = {"aizoomdoc", "pdf", "ocr", "png", "jpg", "max_file_size_mb", "jwt", "supabase", "api"}
# The interface's own visible text and tooltips — not answers, document and chat titles or typed
# questions (those are the user's and the documents' words).
UI_TEXT_JS = """() => {
  const skip = '.answer, .doc-chip, #doc-pick, .chat-item .title, #chat-title, .msg.user .text, figcaption, ' +
               '#viewer-title, .msg.working > .note';
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walker.nextNode());) {
    const p = n.parentElement;
    if (p && !p.closest(skip) && p.checkVisibility()) out.push(n.data);
  }
  for (const e of document.querySelectorAll('[placeholder],[title],[alt]')) {
    if (e.closest(skip) || !e.checkVisibility()) continue;
    out.push(e.getAttribute('placeholder') || '', e.getAttribute('title') || '', e.getAttribute('alt') || '');
  }
  return out.join(' ');
}"""


def english_words(page: Page, allowed: tuple[str, ...] = ()) -> set[str]:
    words = set(re.findall(r"[A-Za-z][A-Za-z_]{2,}", page.evaluate(UI_TEXT_JS)))
    return {w for w in words if w.lower() not in ALLOWED_LATIN and w.lower() not in allowed}


def images_loaded(page: Page, selector: str) -> list[int]:
    page.wait_for_function(
        "sel => [...document.querySelectorAll(sel)].length > 0 && "
        "[...document.querySelectorAll(sel)].every(i => i.complete)", arg=selector, timeout=20_000)
    return page.eval_on_selector_all(selector, "imgs => imgs.map(i => i.naturalWidth)")


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, url: str, errors: list[str], width: int = 1400, height: int = 950) -> Page:
    page = browser.new_page(viewport={"width": width, "height": height}, locale="ru-RU")
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
    return page


def test_upload_ask_answer_images_citation_reload(tmp_path: Path) -> None:
    pdf = tmp_path / "133_23-GK-OV1.pdf"
    write_drawing_set(pdf)
    env = {"DATA_DIR": str(tmp_path / "data"), "AUTH_MODE": "local", "LOG_LEVEL": "WARNING"}
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with LiveServer(env, log=tmp_path / "server.log") as server, chromium() as browser:
        page = open_page(browser, server.url + "/", errors)
        expect(page.locator("#status-badge")).to_have_text("В сети")
        # No chats yet: the welcome says what the app does and what to do, with a button.
        welcome = page.locator("#chat-empty")
        expect(welcome).to_contain_text("Прикрепите документ")
        expect(welcome.locator("ol li")).to_have_count(3)
        expect(page.locator("#chat-list")).to_contain_text("Чатов пока нет")
        page.screenshot(path=str(ARTIFACTS / "welcome.png"))
        assert not english_words(page), english_words(page)

        page.get_by_role("button", name="Создать чат").click()
        expect(page.locator("#chat-view")).to_be_visible()
        expect(page.locator("#chat-title")).to_have_text("Новый чат")
        expect(page.locator("#composer-note")).to_contain_text("прикрепите документ")
        expect(page.locator("#messages")).to_contain_text("Прикрепите документ кнопкой")

        # Attach the synthetic set: upload progress, then the document chip and example questions.
        page.set_input_files("#doc-input", str(pdf))
        expect(page.locator("#doc-list .doc-chip")).to_contain_text("133/23-ГК-ОВ1", timeout=30_000)
        expect(page.locator("#upload-progress")).to_contain_text("готов")
        expect(page.locator("#messages .example")).to_have_count(3)

        # Shift+Enter is a new line; Enter sends. The question stands above the live progress.
        page.fill("#question", "")
        page.locator("#question").type("строка")
        page.keyboard.press("Shift+Enter")
        assert page.input_value("#question") == "строка\n"
        page.fill("#question", QUESTION)
        page.locator("#question").press("Enter")
        expect(page.locator(".msg.user").last).to_contain_text(QUESTION)
        answer = page.locator(".msg.assistant:not(.working)").last
        expect(answer.locator(".answer")).to_contain_text("Утеплитель кровли П-1", timeout=60_000)
        assert page.input_value("#question") == ""
        expect(page.locator("#chat-title")).to_have_text(QUESTION)
        widths = images_loaded(page, ".msg.assistant .thumb img")
        assert widths and all(w > 0 for w in widths), widths

        # Click a zoom image: it opens enlarged; Esc closes it, so does a click beside it.
        answer.locator(".thumb").first.click()
        expect(page.locator("#viewer")).to_be_visible()
        assert images_loaded(page, "#viewer-img")[0] > 0
        page.keyboard.press("Escape")
        expect(page.locator("#viewer")).to_be_hidden()
        answer.locator(".thumb").first.click()
        expect(page.locator("#viewer")).to_be_visible()
        page.mouse.click(3, 3)
        expect(page.locator("#viewer")).to_be_hidden()

        # A citation opens the page at full resolution, scrolled to the cited (highlighted) block.
        citation = answer.locator(".citation").first
        expect(citation).to_contain_text("стр.")
        citation.click()
        expect(page.locator("#viewer")).to_be_visible()
        expect(page.locator("#viewer-title")).to_contain_text("Стр.")
        assert images_loaded(page, "#viewer-img")[0] > 0
        src = page.get_attribute("#viewer-img", "src") or ""
        assert "/pages/" in src and "box=" in src and "chat_id=" in src
        expect(page.locator("#viewer-img")).to_have_class(re.compile("zoomed"))
        box = [float(v) for v in re.search(r"box=([\d.%C,]+)", src).group(1).replace("%2C", ",").split(",")]
        in_view = page.evaluate("""b => {
            const img = document.querySelector('#viewer-img'), body = img.parentElement;
            const r = img.getBoundingClientRect(), v = body.getBoundingClientRect();
            const x = r.left + (b[0] + b[2]) / 2 * r.width, y = r.top + (b[1] + b[3]) / 2 * r.height;
            return [r.width / img.naturalWidth, x > v.left && x < v.right && y > v.top && y < v.bottom];
        }""", box)
        assert in_view == [1, True], in_view
        page.screenshot(path=str(ARTIFACTS / "page-view.png"))
        page.get_by_role("button", name="Вся страница").click()
        expect(page.locator("#viewer-img")).not_to_have_class(re.compile("zoomed"))
        page.keyboard.press("Escape")
        expect(page.locator("#viewer")).to_be_hidden()

        answer.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "chat.png"))

        # A list question: the answer is a list grouped by sheet, each item with its table row.
        page.fill("#question", LIST_QUESTION)
        page.get_by_role("button", name="Спросить").click()
        listing = page.locator(".msg.assistant:not(.working)").nth(1)
        expect(listing.locator(".answer")).to_contain_text("Перечень по страницам", timeout=60_000)
        expect(listing.locator(".answer li", has_text="Приточная установка L=3500")).to_contain_text("КЦКП-3,15")
        assert listing.locator(".answer ul li").count() >= 10
        assert all(w > 0 for w in images_loaded(page, ".msg.assistant .thumb img"))
        # The new answer shows from its beginning (the question above it).
        top = page.evaluate("""() => { const m = document.querySelector('#messages');
            const q = [...m.querySelectorAll('.msg.user')].pop().getBoundingClientRect();
            return q.top >= m.getBoundingClientRect().top - 1 && q.top < m.getBoundingClientRect().bottom; }""")
        assert top
        page.screenshot(path=str(ARTIFACTS / "list-answer.png"))
        assert not english_words(page), english_words(page)

        # After a reload the chat is still there, read back from the server.
        chat_url = page.url
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        assert page.url == chat_url
        expect(page.locator("#chat-list .chat-item.active")).to_contain_text(QUESTION[:20])
        expect(page.locator(".msg.assistant .answer").first).to_contain_text("Утеплитель кровли П-1")
        expect(page.locator(".msg.assistant .answer").last).to_contain_text("Перечень по страницам")
        assert all(w > 0 for w in images_loaded(page, ".msg.assistant .thumb img"))

        # Rename, filter, archive from the list.
        page.once("dialog", lambda d: d.accept("Кровля П-1"))
        page.get_by_role("button", name="Переименовать").click()
        expect(page.locator("#chat-title")).to_have_text("Кровля П-1")
        page.fill("#chat-filter", "нет такого")
        expect(page.locator("#chat-list")).to_contain_text("Ничего не найдено")
        page.fill("#chat-filter", "кровля")
        expect(page.locator("#chat-list .chat-item")).to_have_count(1)
        page.get_by_role("button", name="В архив").click()
        expect(page.locator("#chat-list .chat-item")).to_have_count(0)
        page.get_by_role("button", name="Архив", exact=True).click()
        expect(page.locator("#chat-list .chat-item")).to_have_count(1)
        # Delete: back to the welcome screen.
        page.once("dialog", lambda d: d.accept())
        page.get_by_role("button", name="Удалить").click()
        expect(page.locator("#chat-empty")).to_be_visible()
        expect(page.locator("#chat-list .chat-item")).to_have_count(0)
        assert not errors, errors
    assert (ARTIFACTS / "chat.png").stat().st_size > 10_000


def test_viewports_of_a_table_answer_and_a_plan_answer(tmp_path: Path) -> None:
    """Issue 12 in the browser: the ask button waits for a document, examples come from the
    document, its title from the title block; a table answer leads with the code's line and shows
    the row with its header in a readable thumbnail; the viewer explains the colours; a plan answer.
    Screenshots: test-artifacts/viewport-table-answer.png, viewport-table-image.png,
    viewport-plan-answer.png."""
    pdf = tmp_path / "ov2.pdf"
    write_vent_set(pdf)
    env = {"DATA_DIR": str(tmp_path / "data"), "AUTH_MODE": "local", "LOG_LEVEL": "WARNING"}
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with LiveServer(env, log=tmp_path / "server.log") as server, chromium() as browser:
        page = open_page(browser, server.url + "/", errors)
        page.get_by_role("button", name="Новый чат").click()
        expect(page.locator("#chat-view")).to_be_visible()
        expect(page.locator("#send")).to_be_disabled()
        page.set_input_files("#doc-input", str(pdf))
        # named by its title block, not by the file name «ov2»
        expect(page.locator("#doc-list .doc-chip")).to_contain_text("77/25-СК-ОВ2", timeout=30_000)
        expect(page.locator("#send")).to_be_enabled()
        expect(page.locator("#messages .example").first).to_contain_text("П1")
        # the input's hint is a question about this set, not the fixed roof example
        first_example = page.locator("#messages .example").first.inner_text()
        hint = page.locator("#question").get_attribute("placeholder") or ""
        assert first_example in hint and "кровли" not in hint, hint

        page.fill("#question", "Какая мощность П1?")
        page.get_by_role("button", name="Спросить").click()
        answer = page.locator(".msg.assistant:not(.working)").last
        expect(answer.locator(".answer strong").first).to_have_text("П1", timeout=60_000)
        expect(answer.locator(".answer")).to_contain_text("N=2,2 кВт")
        expect(answer.locator(".citation", has_text="p3-r2")).to_have_count(1)
        assert all(w > 0 for w in images_loaded(page, ".msg.assistant .thumb img"))
        # the thumbnail of the row shows it at half its own resolution: readable, not a strip
        row_thumb = answer.locator(".thumb", has_text="строка p3-r2").first
        shown = row_thumb.locator("img").evaluate("i => i.getBoundingClientRect().width / i.naturalWidth")
        assert shown >= 0.45, shown
        answer.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "viewport-table-answer.png"))
        row_thumb.click()
        expect(page.locator("#viewer-legend")).to_contain_text("синяя сетка")
        page.screenshot(path=str(ARTIFACTS / "viewport-table-image.png"))
        page.keyboard.press("Escape")
        answer.locator(".citation").first.click()
        expect(page.locator("#viewer-legend")).to_contain_text("оранжевые")
        page.keyboard.press("Escape")

        page.fill("#question", "Где на плане установка П1.1?")
        page.get_by_role("button", name="Спросить").click()
        plan = page.locator(".msg.assistant:not(.working)").nth(1)
        expect(plan.locator(".answer strong").first).to_have_text("П1.1", timeout=60_000)
        assert all(w > 0 for w in images_loaded(page, ".msg.assistant .thumb img"))
        plan.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "viewport-plan-answer.png"))
        assert not english_words(page), english_words(page)
        assert not errors, errors


def test_bad_uploads_offline_badge_and_narrow_window(tmp_path: Path) -> None:
    pdf = tmp_path / "set.pdf"
    write_drawing_set(pdf)
    big = tmp_path / "большой.pdf"
    big.write_bytes(pdf.read_bytes() + b"%" + b"0" * 1_200_000)
    broken = tmp_path / "битый.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    env = {"DATA_DIR": str(tmp_path / "data"), "AUTH_MODE": "local", "LOG_LEVEL": "WARNING",
           "MAX_FILE_SIZE_MB": "1"}
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with LiveServer(env, log=tmp_path / "server.log") as server, chromium() as browser:
        page = open_page(browser, server.url + "/", errors)
        page.get_by_role("button", name="Новый чат").click()
        expect(page.locator("#chat-view")).to_be_visible()

        # Asking before attaching a document: told what to do, the question stays in the input.
        page.fill("#question", QUESTION)
        page.locator("#question").press("Enter")
        expect(page.locator(".toast")).to_contain_text("прикрепите документ")
        assert page.input_value("#question") == QUESTION

        # Oversize (refused before it is sent) and corrupt (refused by the server): a Russian
        # message with the file's name (no server path, no English library detail); nothing stored.
        page.set_input_files("#doc-input", str(big))
        expect(page.locator("#upload-progress .failed")).to_contain_text("«большой.pdf» больше 1 МБ")
        page.set_input_files("#doc-input", str(broken))
        failed = page.locator("#upload-progress .failed")
        expect(failed).to_contain_text("«битый.pdf» не открывается как PDF", timeout=20_000)
        expect(failed).not_to_contain_text("/")
        assert not english_words(page), english_words(page)
        page.screenshot(path=str(ARTIFACTS / "upload-failed.png"))
        assert httpx.get(server.url + "/api/documents").json()["documents"] == []
        assert not list((tmp_path / "data" / "uploads").glob("*/*"))

        # The badge follows the connection at once.
        page.context.set_offline(True)
        expect(page.locator("#status-badge")).to_have_text("Нет связи", timeout=3_000)
        page.context.set_offline(False)
        expect(page.locator("#status-badge")).to_have_text("В сети", timeout=3_000)

        # A narrow window: the chat list folds away, the input and the answer stay on screen.
        page.set_input_files("#doc-input", str(pdf))
        expect(page.locator("#doc-list .doc-chip")).to_have_count(1, timeout=30_000)
        page.set_viewport_size({"width": 420, "height": 900})
        expect(page.locator("#chat-list")).to_be_hidden()
        expect(page.locator("#back-to-list")).to_be_visible()
        page.locator("#question").press("Enter")
        expect(page.locator(".msg.assistant:not(.working) .answer")).to_contain_text("Утеплитель", timeout=60_000)
        for sel in ("#question", "#send", "#chat-title"):
            b = page.locator(sel).bounding_box()
            assert b and b["y"] >= 0 and b["y"] + b["height"] <= 900 and b["x"] + b["width"] <= 420, (sel, b)
        assert page.evaluate("document.documentElement.scrollWidth") <= 420
        page.screenshot(path=str(ARTIFACTS / "narrow.png"))
        page.locator("#back-to-list").click()
        expect(page.locator("#chat-list .chat-item")).to_have_count(1)
        assert not english_words(page), english_words(page)
    # The only console errors: the browser's own lines for requests made while offline.
    assert all("ERR_INTERNET_DISCONNECTED" in e for e in errors), errors


def test_markdown_table_and_model_steps(tmp_path: Path) -> None:
    pdf = tmp_path / "set.pdf"
    write_drawing_set(pdf)
    answer = ("Оборудование по спецификации (стр. 3):\n\n| Поз. | Наименование | Кол. |\n|---|---|---:|\n"
              "| П1 | Приточная установка L=3500 м³/ч | 1 |\n| В2 | Вентилятор вытяжной канальный | 1 |\n\n"
              "**Итого:** 2 позиции (стр. 3, блок p3-b8).")
    script = [delay(0.8, tool_call("zoom", {"image_id": "v1", "cell": "B2"})), delay(0.5, text(answer))]
    with ScriptedLLM(script, default=text(answer)) as llm:
        env = {"DATA_DIR": str(tmp_path / "data"), "AUTH_MODE": "local", "LOG_LEVEL": "WARNING",
               "LLM_BASE_URL": llm.base_url, "LLM_API_KEY": "sk-test", "LLM_MODEL": "vision/test",
               "LLM_MAX_RETRIES": "0"}
        errors: list[str] = []
        with LiveServer(env, log=tmp_path / "server.log") as server, chromium() as browser:
            page = open_page(browser, server.url + "/", errors)
            page.get_by_role("button", name="Новый чат").click()
            expect(page.locator("#chat-view")).to_be_visible()  # the chat exists before the upload
            page.set_input_files("#doc-input", str(pdf))
            expect(page.locator("#doc-list .doc-chip")).to_have_count(1, timeout=30_000)
            page.fill("#question", LIST_QUESTION)
            page.locator("#question").press("Enter")
            # Live progress: the model's zoom in words, not the tool's English name.
            expect(page.locator(".msg.working .steps")).to_contain_text("Увеличение фрагмента v1, B2",
                                                                         timeout=20_000)
            model = ("vision", "test")  # the model's name is shown as it is
            assert not english_words(page, model), english_words(page, model)
            table = page.locator(".msg.assistant:not(.working) .answer table")
            expect(table).to_be_visible(timeout=30_000)
            expect(table.locator("tbody tr")).to_have_count(2)
            expect(table.locator("th").nth(2)).to_have_class("align-right")
            assert table.locator("td").nth(2).evaluate("n => getComputedStyle(n).textAlign") == "right"
            page.locator(".msg.assistant").last.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "table-answer.png"))
            assert not errors, errors  # e.g. inline styles blocked by the Content-Security-Policy
