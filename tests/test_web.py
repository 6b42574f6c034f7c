"""The web page at GET /: what it is made of (test client, fake model), and using it in a real browser (Debian's
headless Chromium driven by Playwright) against a real server process with the bundled model."""

from __future__ import annotations

import itertools
import re
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from routes.web import WEB_DIR
from tests.browser import artifact, chromium
from tests.conftest import SAMPLE_TEXT, ServerProcess, free_port, server_env
from tests.fakes import FakeModel
from tests.pdfs import encrypt, image_only_pdf, text_pdf

WAIT_MS = 120_000  # the longest a model step may take on a busy 2-core machine
EXTERNAL = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)
FACT_PAGES = [
    "The harbour of Port Aven was dredged in 1911 so that steamers could reach the quay.",
    "A bronze bell was cast for the chapel by Martin Keel in 1923. It rings at noon every day.",
    "The lighthouse on the reef was automated in 1985 and its keepers moved to the town.",
]
# A Markdown file of two pages (text files are cut at about 3,000 characters): the bell is on page 1, the
# lighthouse's automation alone on page 2.
TOWN = ("Port Aven lies at the mouth of a narrow river on the western coast. Its streets climb from the quay to the "
        "old market square, and most of its houses are built of grey granite from the cliffs nearby.\n\nFishing boats "
        "have worked from its harbour for centuries. The catch was once salted in long sheds beside the water and "
        "carried inland by cart, until the railway reached the town and fresh fish went to the cities overnight.")
LIBRARY_MD = f"# Port Aven\n\n{SAMPLE_TEXT.strip()}\n\n## The town\n\n{TOWN}\n\n" + "\n\n".join(FACT_PAGES) + "\n"
# Records what the progress line, the clock and the text as it was written showed, for asserting after the job ended.
RECORDER = """
window.__seen = {progress: [], elapsed: [], live: []};
document.addEventListener("DOMContentLoaded", () => {
  for (const [id, key] of [["progress-text", "progress"], ["elapsed", "elapsed"], ["progress-live", "live"]]) {
    const element = document.getElementById(id);
    new MutationObserver(() => window.__seen[key].push(element.textContent))
      .observe(element, {childList: true, characterData: true, subtree: true});
  }
});
"""


# ---- what the page is made of (fake model, no browser) -------------------------------------------------


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.assets: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.assets.append(value)
            if name.startswith("on"):
                self.handlers.append(f"{tag} {name}")


def test_page_and_assets_are_served_with_their_types(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html and 'name="viewport"' in html
    links = _Links()
    links.feed(html)
    assert links.handlers == []  # no inline event handlers: all behaviour is in the modules under assets/js
    types = {".css": {"text/css"}, ".js": {"text/javascript", "application/javascript"}, ".svg": {"image/svg+xml"}}
    assert sorted(Path(asset).suffix for asset in links.assets) == [".css", ".js", ".svg"]
    for asset in links.assets:
        asset_response = client.get("/" + asset)
        assert asset_response.status_code == 200, asset
        assert asset_response.mimetype in types[Path(asset).suffix], (asset, asset_response.mimetype)
        assert asset_response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/assets/missing.js").status_code == 404
    assert client.get("/assets/../api.py").status_code == 404


def test_modules_are_served_as_javascript_and_import_only_each_other(client):
    """The page's one script is an ES module that imports the others: each must be served with a JavaScript type
    (browsers refuse a module otherwise) and every import must name a module that is there."""
    html = client.get("/").get_data(as_text=True)
    assert '<script type="module" src="assets/js/main.js"></script>' in html
    modules = sorted((WEB_DIR / "assets" / "js").glob("*.js"))
    assert len(modules) >= 5
    names = {module.name for module in modules}
    for module in modules:
        response = client.get(f"/assets/js/{module.name}")
        assert response.status_code == 200, module.name
        assert response.mimetype in {"text/javascript", "application/javascript"}, (module.name, response.mimetype)
        imports = re.findall(r'^import .* from "([^"]+)";$', module.read_text(encoding="utf-8"), re.MULTILINE)
        assert all(target.startswith("./") and target[2:] in names for target in imports), (module.name, imports)


def test_page_loads_nothing_from_outside():
    for path in [WEB_DIR / "index.html", *sorted(path for path in (WEB_DIR / "assets").rglob("*") if path.is_file())]:
        text = path.read_text(encoding="utf-8").replace('xmlns="http://www.w3.org/2000/svg"', "")  # a name, not a load
        assert not EXTERNAL.search(text), (path.name, EXTERNAL.search(text))
        assert "@import" not in text and "@font-face" not in text, path.name


def test_page_loads_without_a_key_when_api_key_is_set(make_app):
    app = make_app(FakeModel(), api_key="k1", owner_secret="test-secret")
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/assets/js/main.js").status_code == 200
    assert client.post("/generate-summary", json={"text": "Some words here."}).status_code == 401


# ---- in a real browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One real server for the module, at a small context and reading texts whole (map and merge), so that a few
    pages make several chunks and the page shows every stage of a long job."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("web") / "server.log"
    process = ServerProcess([sys.executable, "api.py", "--port", str(port)], port,
                            server_env(N_CTX="512", SUMMARY_READ_TOKENS="0"), log_path)
    try:
        process.model = process.wait_until_healthy()["model"]["name"]
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def _open(browser, url: str, width: int = 1024, height: int = 900):
    """A fresh browser context on the page, with clipboard access, downloads and the progress recorder."""
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"uncaught: {error}"))
    page.on("request", lambda request: page.problems.append(f"off-site request: {request.url}")
            if not request.url.startswith((url, "blob:", "data:")) else None)
    page.goto(url + "/")
    _expect()(page.locator("#model-status")).to_contain_text("ready")
    return page


@pytest.fixture
def page(browser, server):
    page = _open(browser, server.url)
    yield page
    problems = page.problems
    page.context.close()
    assert problems == []


def _expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    return expect


def _paste(page, text: str) -> None:
    page.click("label[for=source-text]")
    page.fill("#text", text)


def _choose(page, name: str, data: bytes) -> None:
    page.set_input_files("#file", files=[{"name": name, "mimeType": "application/pdf", "buffer": data}])


def _drop(page, name: str, data: bytes) -> None:
    """Drop a file on the drop zone the way a browser does: dragenter, dragover, drop with a DataTransfer."""
    page.evaluate(
        """([name, bytes]) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([new Uint8Array(bytes)], name, {type: "application/pdf"}));
          const zone = document.getElementById("drop-zone");
          for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
          }
        }""",
        [name, list(data)],
    )


def _wait_for_result(page) -> None:
    expect = _expect()
    expect(page.locator("#result")).to_be_visible()
    expect(page.locator("#progress-panel")).to_be_hidden()


def _job(page, server) -> dict:
    job_id = page.text_content("#job-id").strip()
    response = requests.get(f"{server.url}/jobs/{job_id}", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _seconds(clock: str) -> int:
    minutes, seconds = clock.strip().split(":")[-2:]
    return int(minutes) * 60 + int(seconds)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _screenshot(page, name: str) -> Path:
    path = artifact(name)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    return path


@pytest.mark.model
def test_text_summary_copy_and_download(page, server):
    text = ("The lighthouse at Port Aven was built in 1850 to guide fishing boats past the reef. "
            "It was automated in 1985 and is now a museum about the keepers who lived there.")
    _paste(page, text)
    _expect()(page.locator("#text-count")).to_have_text("32 words")
    page.get_by_label("Short").check()
    page.click("#submit")
    _wait_for_result(page)

    job = _job(page, server)
    assert job["status"] == "succeeded" and job["task"] == "summary"
    summary = job["result"]["summary"]
    assert len(summary.split()) >= 5
    assert _squash(page.inner_text("#result-body")) == _squash(summary)
    assert page.inner_text("#result-title") == "Summary"
    assert page.evaluate("document.activeElement.id") == "result-title"  # focus moved to the result
    meta = page.inner_text("#result-meta")
    assert f"Model: {server.model}" in meta
    took = float(re.search(r"took (\d+\.\d) s", meta)[1])
    assert abs(took - job["result"]["elapsed_ms"] / 1000) <= 0.051
    assert page.inner_text("#result-source") == "Pasted text · short summary"

    page.click("#copy")
    _expect()(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == summary.strip()

    with page.expect_download() as download_info:
        page.click("#download")
    download = download_info.value
    assert download.suggested_filename == "pasted-text-summary.md"
    markdown = Path(download.path()).read_text(encoding="utf-8")
    assert markdown.startswith("# Summary: Pasted text\n")
    assert summary.strip() in markdown and f"Model: {server.model}" in markdown

    page.click("#listen")  # the summary spoken by the server, played here
    _expect()(page.locator("#listen-audio")).to_be_visible()
    _expect()(page.locator("#listen-status")).to_contain_text("Audio:")
    loaded = page.evaluate("""() => new Promise((resolve) => {
      const audio = document.getElementById("listen-audio");
      const report = () => resolve({ duration: audio.duration, error: audio.error && audio.error.code });
      if (audio.readyState >= 1 || audio.error) report();
      audio.addEventListener("loadedmetadata", report, { once: true });
      audio.addEventListener("error", report, { once: true });
      setTimeout(report, 30000);
    })""")
    assert loaded["duration"] > 1, loaded  # the browser decoded the audio it was given
    _screenshot(page, "web-summary.png")


@pytest.mark.model
def test_pdf_dropped_shows_progress_then_the_summary(page, server):
    paragraphs = SAMPLE_TEXT.split("\n\n")
    pdf = text_pdf(["\n\n".join(paragraphs[:3]), "\n\n".join(paragraphs[3:5]), "\n\n".join(paragraphs[5:])])
    _drop(page, "lighthouses.pdf", pdf)
    assert page.inner_text("#file-name") == "lighthouses.pdf"
    _expect()(page.locator("#pdf-options")).to_be_visible()
    page.get_by_label("Short").check()
    page.click("#submit")
    _wait_for_result(page)

    result = _job(page, server)["result"]
    assert result["chunks"] >= 2 and result["pages"] == 3
    seen = page.evaluate("window.__seen")
    progress = [line for line in seen["progress"] if line]
    chunks = [line for line in progress if re.search(rf"Summarizing the parts — chunk \d of {result['chunks']}$", line)]
    assert chunks, progress
    assert any(line.startswith("Writing the final summary") for line in progress), progress
    if result["elapsed_ms"] > 2500:
        assert len(set(seen["elapsed"])) >= 3, seen["elapsed"]  # the clock ticked
    assert _squash(page.inner_text("#result-body")) == _squash(result["summary"])
    # The summary appeared as it was written, a checked sentence at a time, each view the start of the next.
    shown = [text for text in seen["live"] if text]
    assert shown and shown[-1] == result["summary"], (shown, result["summary"])
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(shown))
    meta = page.inner_text("#result-meta")
    assert f"Model: {server.model}" in meta and "3 pages read" in meta and f"{result['chunks']} chunks" in meta
    assert page.inner_text("#result-source") == "lighthouses.pdf · short summary"
    _screenshot(page, "web-pdf-summary.png")


@pytest.mark.model
def test_key_points_link_to_the_pages_they_cite(page, server):
    pdf = text_pdf(FACT_PAGES)
    _choose(page, "port-aven.pdf", pdf)
    page.click("label[for=task-points]")
    _expect()(page.locator("#submit")).to_have_text("List key points")
    page.fill("#count", "3")
    page.click("#submit")
    _wait_for_result(page)

    points = _job(page, server)["result"]["points"]
    assert points
    items = page.locator("#result-body li")
    _expect()(items).to_have_count(len(points))
    assert page.inner_text("#result-title") == "Key points"
    for index, point in enumerate(points):
        item = items.nth(index)
        assert item.locator(".point-text").inner_text() == point["text"]
        links = item.locator("a.page-link")
        hrefs = [links.nth(n).get_attribute("href") for n in range(links.count())]
        cited = [int(re.fullmatch(r"blob:http://127\.0\.0\.1:\d+/[0-9a-f-]+#page=(\d+)", href)[1]) for href in hrefs]
        assert cited == point["pages"] and cited, (point, hrefs)
        assert [links.nth(n).inner_text() for n in range(links.count())] == [f"p. {n}" for n in cited]
        assert links.first.get_attribute("target") == "_blank"
    # The link opens the uploaded PDF itself, at the cited page.
    first = items.first.locator("a.page-link").first
    with page.context.expect_page() as opened:
        first.click()
    assert opened.value.url == first.get_attribute("href")
    opened.value.close()
    _screenshot(page, "web-points.png")

    with page.expect_download() as download_info:
        page.click("#download")
    assert download_info.value.suggested_filename == "port-aven-key-points.md"
    markdown = Path(download_info.value.path()).read_text(encoding="utf-8")
    first_pages = ", ".join(str(n) for n in points[0]["pages"])
    assert f"1. {points[0]['text']} (page" in markdown and first_pages in markdown


@pytest.mark.model
def test_scanned_pdf_is_explained_in_plain_words_on_a_phone(browser, server):
    page = _open(browser, server.url, width=375, height=740)
    try:
        labels = page.evaluate("""[...document.querySelectorAll("input, textarea, select")]
            .filter((element) => !element.labels.length && !element.getAttribute("aria-label"))
            .map((element) => element.id || element.name)""")
        assert labels == []  # every field has a label
        page.keyboard.press("Tab")
        focused = page.evaluate("[document.activeElement.className, getComputedStyle(document.activeElement)"
                                ".outlineWidth]")
        assert focused[0] == "skip-link" and float(focused[1].removesuffix("px")) >= 2  # visible focus
        for view in ["#summarize", "#library", "#message"]:  # the views' links
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.getAttribute('href')") == view
        page.keyboard.press("Tab")  # the "Upload a file / Paste text" choice
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "file"
        with page.expect_file_chooser() as chooser:  # the picker opens from the keyboard
            page.keyboard.press("Space")
        chooser.value.set_files(files=[{"name": "scan.pdf", "mimeType": "application/pdf",
                                        "buffer": image_only_pdf(2)}])
        assert page.inner_text("#file-name") == "scan.pdf"
        page.click("#submit")
        message = page.locator("#message-text")
        _expect()(message).to_have_text(
            "No text could be read from this PDF: it has no text layer, and OCR found no words in it."
        )
        _expect()(page.locator("#submit")).to_be_enabled()
        assert page.is_hidden("#result") and page.is_hidden("#progress-panel")
        assert page.get_attribute("#message-region", "role") == "alert"
        assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
        _screenshot(page, "web-phone-scan-error.png")
        assert page.problems == []
    finally:
        page.context.close()


@pytest.mark.model
def test_protected_pdf_asks_for_its_password(page):
    _choose(page, "locked.pdf", encrypt(text_pdf(FACT_PAGES), "AES-128", "s3cret"))
    page.click("#submit")
    expect = _expect()
    expect(page.locator("#message-text")).to_have_text("This PDF is protected: enter its password.")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type("wrong")
    page.keyboard.press("Enter")
    expect(page.locator("#message-text")).to_have_text("That password does not open this PDF. Check it and try again.")


@pytest.mark.model
def test_a_reload_picks_the_job_up_again_then_cancel_from_the_keyboard(page, server):
    text = "\n\n".join(SAMPLE_TEXT.replace("lighthouse", f"beacon {n}") for n in range(3)) + f" {time.time()}"
    _paste(page, text)
    page.focus("#text")
    page.keyboard.press("Control+Enter")
    expect = _expect()
    expect(page.locator("#progress-text")).to_have_text(re.compile(r"chunk \d+ of \d+$"))
    assert page.evaluate("document.activeElement.id") == "cancel"  # focus moves to Cancel when the job starts
    _screenshot(page, "web-progress.png")
    job_id = page.inner_text("#job-id")
    page.wait_for_timeout(1500)
    elapsed_before = _seconds(page.inner_text("#elapsed"))
    assert elapsed_before >= 1
    page.reload()
    expect(page.locator("#job-id")).to_have_text(job_id)
    expect(page.locator("#progress-text")).to_have_text(re.compile(r"chunk \d+ of \d+$"))
    assert _seconds(page.inner_text("#elapsed")) >= elapsed_before  # the clock counts from the job's start
    assert page.evaluate("document.activeElement.id") == "cancel"
    page.keyboard.press("Enter")
    expect(page.locator("#message-text")).to_have_text(re.compile(r"^Cancelled after \d+:\d\d\.$"))
    assert page.is_hidden("#result") and page.is_hidden("#progress-panel")
    job = _job(page, server)
    assert job["status"] == "cancelled", job
    assert job["error"]["code"] == "cancelled"


@pytest.mark.model
def test_api_key_is_asked_for_then_used(browser, tmp_path):
    port = free_port()
    keyed = ServerProcess([sys.executable, "api.py", "--port", str(port)], port,
                          server_env(API_KEY="web-test-key", OWNER_SECRET="test-secret"), tmp_path / "server.log")
    try:
        keyed.wait_until_healthy()
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        problems = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        # No event stream: the page must follow the job by long-polling instead.
        page.route(re.compile(r".*/events$"), lambda route: route.abort())
        page.goto(keyed.url + "/")
        _paste(page, "The bell of Port Aven was cast in 1923 by Martin Keel. It rings at noon every day.")
        page.click("#submit")
        expect = _expect()
        message = page.locator("#message-text")
        expect(message).to_have_text("This server needs an API key: enter it under “API key” and try again.")
        assert page.evaluate("document.activeElement.id") == "api-key"
        page.keyboard.type("not-the-key")
        page.click("#submit")
        expect(message).to_have_text("The API key was not accepted. Check it and try again.")
        page.fill("#api-key", "web-test-key")
        page.click("#submit")
        _wait_for_result(page)
        assert len(page.inner_text("#result-body").split()) >= 5
        assert page.evaluate("sessionStorage.getItem('llm-doc-service.api-key')") == "web-test-key"
        assert page.evaluate("localStorage.getItem('llm-doc-service.api-key')") is None
        page.reload()
        assert page.input_value("#api-key") == "web-test-key"  # kept for this tab
        assert page.inner_text("#key-box summary") == "API key (set)"
        assert problems == []
        context.close()
    finally:
        keyed.stop()



# ---- the library ---------------------------------------------------------------------------------------


def _library(page) -> None:
    page.click(".views a[href='#library']")
    _expect()(page.locator("#library-view")).to_be_visible()


def _ask(page, box: str, question: str) -> dict:
    """Ask in an Ask box by the keyboard (Enter); the JSON body the page sent."""
    with page.expect_request(lambda request: request.url.endswith("/ask") and request.method == "POST") as sent:
        page.fill(f"{box} .ask-question", question)
        page.press(f"{box} .ask-question", "Enter")
    return sent.value.post_data_json


@pytest.mark.model
def test_library_stores_pages_through_and_answers_with_quotes(page, server):
    expect = _expect()
    _library(page)
    assert page.evaluate("document.activeElement.id") == "library-title"
    page.set_input_files("#library-file", files=[{"name": "port-aven.md", "mimeType": "text/markdown",
                                                  "buffer": LIBRARY_MD.encode()}])
    expect(page.locator("#upload-log")).to_contain_text("port-aven.md: added, 2 pages.")
    item = page.locator("#document-list .doc-item", has_text="port-aven.md")
    expect(item).to_have_count(1)
    expect(item.locator(".doc-meta")).to_contain_text("2 pages · added ")
    document_id = item.locator(".doc-link").get_attribute("href").removeprefix("#documents/")

    page.fill("#search-q", "Keel")  # searched as you type
    expect(page.locator("#library-count")).to_have_text("1 document with “Keel”.")
    page.fill("#search-q", "zeppelin")
    expect(page.locator("#library-count")).to_have_text("No document has “zeppelin”.")
    expect(page.locator("#document-list .doc-item")).to_have_count(0)
    page.fill("#search-q", "")
    expect(item).to_have_count(1)
    # The library's Ask box asks the documents listed; a question they do not hold is answered at once.
    body = _ask(page, "#library-ask", "What is the recipe for chocolate cake?")
    assert document_id in body["document_ids"] and body["history"] == []
    expect(page.locator("#library-ask .turn .not-found")).to_have_text("Not in the documents")

    item.locator(".doc-link").click()
    expect(page.locator("#doc-title")).to_have_text("port-aven.md")
    assert page.evaluate("document.activeElement.id") == "doc-title"
    expect(page.locator("#page-heading")).to_have_text("Page 1 of 2")
    expect(page.locator("#page-text")).to_contain_text(FACT_PAGES[1])
    expect(page.locator("#page-prev")).to_be_disabled()
    page.click("#page-next")
    expect(page.locator("#page-heading")).to_have_text("Page 2 of 2")
    expect(page.locator("#page-text")).to_have_text(FACT_PAGES[2])
    expect(page.locator("#page-next")).to_be_disabled()
    assert page.url.endswith(f"#documents/{document_id}/pages/2")

    body = _ask(page, "#doc-ask", "Who cast the bell for the chapel?")
    assert body == {"question": "Who cast the bell for the chapel?", "document_ids": [document_id], "history": [],
                    "async": True}
    first = page.locator("#doc-ask .turn").first
    expect(first.locator(".answer")).to_be_visible()
    assert first.locator(".not-found").count() == 0
    quotes = [_squash(text) for text in first.locator("blockquote.quote").all_inner_texts()]
    assert any("Martin Keel" in quote for quote in quotes), quotes
    keel = quotes.index(next(quote for quote in quotes if "Martin Keel" in quote))
    link = first.locator("a.quote-link").nth(keel)
    expect(link).to_have_text("page 1")
    link.click()  # opens the page in the viewer, the quote marked on it
    expect(page.locator("#page-heading")).to_have_text("Page 1 of 2")
    expect(page.locator("#page-text mark")).to_have_text(quotes[keel])
    assert page.evaluate("document.activeElement.id") == "page-heading"
    _screenshot(page, "web-library-answer.png")

    body = _ask(page, "#doc-ask", "What is the recipe for chocolate cake?")
    assert body["history"] == [{"role": "user", "content": "Who cast the bell for the chapel?"},
                               {"role": "assistant", "content": first.locator(".answer-text").inner_text()}]
    second = page.locator("#doc-ask .turn").nth(1)
    expect(second.locator(".not-found")).to_have_text("Not in the documents")
    assert "chocolate" in second.locator(".answer-text").inner_text()
    assert second.locator("blockquote").count() == 0

    # Key points of the stored document: the result panel, as for an upload, its pages open in the viewer.
    page.fill("#doc-count", "2")
    page.click("#doc-points")
    _wait_for_result(page)
    assert page.is_visible("#document-view #result")
    assert page.inner_text("#result-source").startswith("port-aven.md · ")
    hrefs = page.locator("#result-body a.page-link").evaluate_all("(links) => links.map((a) => a.hash)")
    assert all(re.fullmatch(rf"#documents/{document_id}/pages/[12]", href) for href in hrefs), hrefs
    expect(page.locator("#doc-results .made summary")).to_have_text(re.compile(r"^Key points, 2 · "))

    page.click("#rename")
    page.fill("#rename-title", "Port Aven notes")
    page.press("#rename-title", "Enter")
    expect(page.locator("#doc-title")).to_have_text("Port Aven notes")
    page.click("#delete")
    expect(page.locator("#delete-dialog")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "delete-keep"  # the safe answer has the focus
    page.click("#delete-confirm")
    expect(page.locator("#library-title")).to_be_visible()
    expect(page.locator("#library-message")).to_have_text("Deleted “Port Aven notes”.")
    expect(page.locator("#library-count")).to_be_visible()
    expect(page.locator("#document-list .doc-item", has_text="Port Aven")).to_have_count(0)
    assert requests.get(f"{server.url}/documents/{document_id}", timeout=30).status_code == 404


@pytest.mark.model
def test_library_on_a_phone_stores_pasted_text(browser, server):
    page = _open(browser, server.url, width=375, height=740)
    try:
        expect = _expect()
        page.goto(server.url + "/#library")  # the address opens the view
        expect(page.locator("#library-view")).to_be_visible()
        page.click("#paste-box summary")
        page.fill("#paste-title", "Quay note")
        page.fill("#paste-text", "The quay of Port Aven was rebuilt in granite in 1950 by the town council.")
        page.click("#paste-submit")
        expect(page.locator("#upload-log")).to_contain_text("Quay note: added, 1 page.")
        item = page.locator("#document-list .doc-item", has_text="Quay note")
        expect(item).to_have_count(1)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
        _screenshot(page, "web-phone-library.png")
        item.locator(".doc-link").click()
        expect(page.locator("#page-heading")).to_have_text("Page 1 of 1")
        expect(page.locator("#page-text")).to_contain_text("rebuilt in granite in 1950")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.go_back()  # Back returns to the library
        expect(page.locator("#library-view")).to_be_visible()
        page.goto(server.url + "/#documents/no-such-document")
        expect(page.locator("#doc-message")).to_contain_text("This document is not in your library")
        assert page.problems == []
    finally:
        page.context.close()


@pytest.mark.model
def test_write_a_message_shows_each_variant_and_the_points_it_covers(page, server):
    expect = _expect()
    page.click(".views a[data-view=message]")
    expect(page.locator("#message-view")).to_be_visible()
    page.click("#message-submit")  # no points yet: said in words, nothing sent
    expect(page.locator("#message-notice")).to_contain_text("Write at least one key point")
    page.fill("#message-points", "- The office move is on 12 June.\n- Pack your desk into the blue crates.")
    page.fill("#message-to", "everyone")
    page.fill("#message-from", "Facilities")
    page.fill("#message-n", "2")
    page.click("#message-submit")
    expect(page.locator("#message-results")).to_be_visible()
    variants = page.locator("#message-list .message-variant")
    assert 1 <= variants.count() <= 2
    first = variants.nth(0)
    expect(first.locator(".message-body")).to_contain_text("Hi everyone,")
    expect(first.locator(".coverage")).to_contain_text("of 2 points covered")
    expect(page.locator("#message-meta")).to_contain_text(server.model)
    first.locator("button", has_text="Copy").click()
    assert page.evaluate("navigator.clipboard.readText()").startswith("Subject: ")
    _screenshot(page, "web-message.png")
