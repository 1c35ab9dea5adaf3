"""The library in a real browser (Playwright + Debian's Chromium against `aizoomdoc serve`): make
a project folder with a section, file an uploaded document into it, attach it from the library
to a new chat and get an answer from it, upload a file straight into the folder, delete the
project — the document the chat uses stays. Fails on any console error or English in the UI."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from aizoomdoc.sample import write_drawing_set
from tests.support.api_client import QUESTION, LiveServer
from tests.test_web_browser import ARTIFACTS, chromium, english_words, open_page

pytestmark = pytest.mark.browser


def test_file_a_document_into_a_folder_and_attach_it_to_a_chat(tmp_path: Path) -> None:
    pdf = tmp_path / "133_23-GK-OV1.pdf"
    write_drawing_set(pdf)
    csv = tmp_path / "спецификация.csv"
    csv.write_text("Позиция;Наименование\n1;Вентилятор\n", encoding="utf-8")
    env = {"DATA_DIR": str(tmp_path / "data"), "AUTH_MODE": "local", "LOG_LEVEL": "WARNING"}
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with LiveServer(env, log=tmp_path / "server.log") as server, chromium() as browser:
        page = open_page(browser, server.url + "/", errors)
        library = page.locator("#library")
        expect(library).to_contain_text("Библиотека")
        expect(library).to_contain_text("Папок пока нет")

        # A document uploaded in a first chat (the usual way).
        page.get_by_role("button", name="Создать чат").click()
        expect(page.locator("#chat-view")).to_be_visible()
        expect(page.locator("#chat-title")).to_have_text("Новый чат")  # open before uploading into it
        page.set_input_files("#doc-input", str(pdf))
        expect(page.locator("#doc-list .doc-chip")).to_contain_text("133/23-ГК-ОВ1", timeout=60_000)
        doc_id = httpx.get(server.url + "/api/documents").json()["documents"][0]["id"]

        # Project → section.
        page.once("dialog", lambda d: d.accept("Проект 133/23"))
        library.get_by_role("button", name="+ Папка").click()
        project = library.locator("li.folder[data-name='Проект 133/23']")
        expect(project).to_be_visible()
        page.once("dialog", lambda d: d.accept("Раздел ОВ"))
        project.locator(":scope > .folder-row").get_by_role("button", name="Новая подпапка").click()
        section = project.locator("li.folder[data-name='Раздел ОВ']")
        expect(section).to_be_visible()
        expect(section).to_contain_text("пусто")

        # File the uploaded document into the section with the picker.
        section.locator(":scope > select.file-document").select_option(doc_id)
        doc_file = section.locator(".lib-file").first
        expect(doc_file).to_contain_text("133/23-ГК-ОВ1")
        expect(section.locator(":scope > .folder-row .count")).to_have_text("1")

        # A new chat has no documents; "В чат" attaches the one from the library.
        page.get_by_role("button", name="Новый чат").click()
        expect(page.locator("#doc-list")).to_contain_text("нет — прикрепите", timeout=10_000)
        doc_file.get_by_role("button", name="В чат").click()
        expect(page.locator("#doc-list .doc-chip")).to_contain_text("133/23-ГК-ОВ1")
        expect(page.locator(".toast")).to_contain_text("прикреплён к чату")
        expect(page.locator("#composer-note")).to_have_text("")
        page.fill("#question", QUESTION)
        page.locator("#question").press("Enter")
        answer = page.locator(".msg.assistant:not(.working)").last
        expect(answer.locator(".answer")).to_contain_text("Утеплитель кровли П-1", timeout=60_000)
        expect(answer.locator(".citation").first).to_contain_text("стр.")
        chat_id = page.url.rsplit("/", 1)[-1]
        assert httpx.get(f"{server.url}/api/chats/{chat_id}").json()["chat"]["document_ids"] == [doc_id]

        # Upload a file straight into the section: kept as a file (no "В чат" for it).
        section.locator(":scope > .folder-row input[type=file]").set_input_files(str(csv))
        spec = section.locator(".lib-file", has_text="спецификация.csv")
        expect(spec).to_be_visible(timeout=20_000)
        expect(spec.get_by_role("button", name="В чат")).to_have_count(0)
        expect(section.locator(":scope > .folder-status")).to_contain_text("в папке")
        page.screenshot(path=str(ARTIFACTS / "library.png"))
        assert not english_words(page, ("csv",)), english_words(page, ("csv",))

        # Delete the project: the chat's document stays (in the chat too), the lone file goes.
        page.once("dialog", lambda d: d.accept())
        project.locator(":scope > .folder-row").get_by_role("button", name="Удалить папку").click()
        expect(page.locator(".toast").last).to_contain_text("Файлов удалено: 1, оставлено")
        expect(library).to_contain_text("Папок пока нет")
        expect(page.locator("#doc-list .doc-chip")).to_contain_text("133/23-ГК-ОВ1")
        assert [d["id"] for d in httpx.get(server.url + "/api/documents").json()["documents"]] == [doc_id]

        # After a reload the library is read back from the server.
        page.once("dialog", lambda d: d.accept("Архив"))
        library.get_by_role("button", name="+ Папка").click()
        expect(library.locator("li.folder[data-name='Архив']")).to_be_visible()
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        expect(library.locator("li.folder[data-name='Архив']")).to_be_visible()
    assert not errors, errors
