"""Issue 11 in a real browser (Chromium via Playwright against ``aizoomdoc serve``, local mode).

* Finding 4: a page of another site uploads into the local server with ``fetch(…, {mode:
  "no-cors"})`` (a text/plain body, and a multipart form): refused, nothing stored.
* Finding 6: ``safeUrl`` in ``web/markdown.js`` — links an answer carries are judged after the
  browser's own normalisation: ``\\x01javascript:``, ``java\\tscript:``, ``data:``, ``vbscript:``
  render as plain text; http(s), mailto and relative links stay links.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from aizoomdoc.sample import write_drawing_set
from tests.support.api_client import LiveServer
from tests.test_web_browser import chromium, open_page

pytestmark = pytest.mark.browser

HOSTILE_LINKS = ["\x01javascript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
                 "JaVaScRiPt:alert(1)", "\u00adjavascript:alert(1)", "data:text/html,<b>x</b>",
                 "vbscript:msgbox(1)", "\x1fdata:text/html,x", "file:///etc/passwd"]
SAFE_LINKS = {"https://example.com/a": "https:", "mailto:gip@example.com": "mailto:",
              "/api/documents/x/pages/1.png": "http:", "#p3": "http:"}


@contextmanager
def attacker_site(page_html: str) -> Iterator[str]:
    """Another origin (its own port) serving one HTML page."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = page_html.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_cross_site_uploads_and_hostile_links(tmp_path: Path) -> None:
    pdf = tmp_path / "planted.pdf"
    write_drawing_set(pdf, 1)
    env = {"DATA_DIR": str(tmp_path / "data"), "AUTH_MODE": "local", "LOG_LEVEL": "WARNING"}
    with LiveServer(env, log=tmp_path / "server.log") as server, chromium() as browser:
        target = json.dumps(server.url + "/api/documents")
        b64 = base64.b64encode(pdf.read_bytes()).decode()
        attack = f"""<!doctype html><title>…</title><script>
          const bytes = Uint8Array.from(atob("{b64}"), c => c.charCodeAt(0));
          const form = new FormData();
          form.append("file", new Blob([bytes], {{type: "application/pdf"}}), "planted-form.pdf");
          Promise.allSettled([
            fetch({target} + "?filename=planted.pdf", {{method: "POST", mode: "no-cors", body: new Blob([bytes])}}),
            fetch({target} + "?filename=planted-text.pdf", {{method: "POST", mode: "no-cors",
                  headers: {{"Content-Type": "text/plain"}}, body: new Blob([bytes])}}),
            fetch({target}, {{method: "POST", mode: "no-cors", body: form}}),
          ]).then(() => {{ document.title = "done"; }});
        </script>"""
        with attacker_site(attack) as evil:
            page = browser.new_page()
            page.goto(evil)
            page.wait_for_function("document.title === 'done'", timeout=30_000)
            page.close()
        assert httpx.get(server.url + "/api/documents").json()["documents"] == []
        stored = Path(env["DATA_DIR"]) / "files" / "documents"
        assert not stored.exists() or not any(stored.rglob("*.pdf"))

        # The real UI on its own origin still works (it sends X-AIZoomDoc).
        errors: list[str] = []
        ui = open_page(browser, server.url + "/", errors)
        ui.get_by_role("button", name="Новый чат").click()
        ui.wait_for_selector("#chat-view", state="visible")
        ui.set_input_files("#doc-input", str(pdf))
        ui.wait_for_selector("#doc-list .doc-chip", timeout=30_000)
        assert len(httpx.get(server.url + "/api/documents").json()["documents"]) == 1

        # Links in answers, rendered by the UI's own Markdown module, judged in this browser.
        result = ui.evaluate("""async ([hostile, safe]) => {
          const md = await import('/static/markdown.js');
          const box = document.createElement('div');
          const out = {hostile: [], safe: {}};
          for (const url of hostile) {
            box.innerHTML = md.renderMarkdown(`см. [ссылку](${url}) в ответе`);
            out.hostile.push([url, box.querySelectorAll('a').length, box.textContent]);
          }
          for (const url of safe) {
            box.innerHTML = md.renderMarkdown(`[ссылка](${url})`);
            const a = box.querySelector('a');
            out.safe[url] = a ? a.protocol : null;
          }
          return out;
        }""", [HOSTILE_LINKS, list(SAFE_LINKS)])
        for url, anchors, text in result["hostile"]:
            assert anchors == 0, (url, text)
            assert "ссылку" in text, (url, text)  # the label stays, as text
        assert result["safe"] == SAFE_LINKS, result["safe"]
        assert not errors, errors
