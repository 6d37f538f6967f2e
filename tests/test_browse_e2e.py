"""End to end in a real headless browser: home page, a search, an article (Debian's chromium
driven by Playwright; the browser is not downloaded by Playwright)."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from browse import make_datasette
from tests.conftest import free_port
from tests.test_browse import make_archive

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPORT_COPY = Path(__file__).parent.parent / "bench" / "out" / "browser-e2e.png"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]


@pytest.fixture
def server(tmp_path):
    """The archive's datasette served by uvicorn on 127.0.0.1 in a thread; yields its URL."""
    import uvicorn

    ds = make_datasette(make_archive(tmp_path / "archive.db"))
    port = free_port()
    config = uvicorn.Config(ds.app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_home_search_and_article_in_a_browser(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(server + "/")
        expect(page.locator("h1")).to_have_text("News archive")
        expect(page.locator(".archive-totals")).to_contain_text("5 articles from 3 sources")
        expect(page.locator("svg.per-day-chart")).to_be_visible()
        page.screenshot(path=tmp_path / "home.png", full_page=True)

        page.fill('input[name="q"]', "ceasefire")
        page.press('input[name="q"]', "Enter")
        page.wait_for_url("**/archive/search?q=ceasefire*")
        results = page.locator(".search-results li")
        expect(results).to_have_count(2)
        expect(results.first.locator("mark").first).to_have_text("ceasefire", ignore_case=True)
        page.select_option('select[name="source"]', "metro")
        page.click('button[type="submit"]')
        expect(results).to_have_count(1)
        expect(results.first.locator("h3")).to_have_text("Prime minister calls snap election")
        page.goto(server + "/archive/search?q=ceasefire")
        page.screenshot(path=tmp_path / "search.png", full_page=True)

        page.click("text=Ceasefire talks resume in Cairo")
        page.wait_for_url("**/archive/articles/1")
        expect(page.locator("article h1")).to_have_text("Ceasefire talks resume in Cairo")
        expect(page.locator(".byline")).to_contain_text("By Anna Adams")
        expect(page.locator(".article-text p")).to_have_count(3)
        expect(page.locator(".article-text h2")).to_have_text(
            ["What is on the table", "What comes next"]
        )
        expect(page.locator(".article-text li")).to_have_count(2)
        expect(page.locator(".byline time")).to_have_text("1 Mar 2025, 10:00 UTC")
        expect(page.locator(".versions a")).to_have_text("Version 1")
        page.screenshot(path=tmp_path / "article.png", full_page=True)
        browser.close()

    REPORT_COPY.parent.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "article.png", REPORT_COPY)
    for name in ("home", "search"):
        shutil.copy(tmp_path / f"{name}.png", REPORT_COPY.with_name(f"browser-e2e-{name}.png"))


def test_articles_table_and_crawl_run_in_a_browser(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(server + "/archive/articles")
        headers = page.locator("table.rows-and-columns thead th:visible")
        expect(headers).to_have_count(6)  # id, title, source, published, authors, word_count
        expect(page.locator("table.rows-and-columns td.col-text").first).to_be_hidden()
        expect(page.locator("dl.column-descriptions")).to_be_hidden()
        descriptions = page.locator("details.archive-column-descriptions dl")
        expect(descriptions).to_be_hidden()
        rows = page.locator("table.rows-and-columns tbody tr")
        assert rows.first.bounding_box()["height"] < 80  # no full text in the grid
        page.screenshot(path=tmp_path / "articles-table.png", full_page=True)
        page.click("details.archive-column-descriptions summary")
        expect(descriptions).to_be_visible()
        page.click("a.all-columns")
        expect(page.locator("table.rows-and-columns td.col-text").first).to_be_visible()

        page.goto(server + "/archive/crawl_runs/2")
        counts = page.locator("table.small-table.counts")
        expect(counts).to_have_count(2)
        expect(page.locator("table.small-table.per-source tbody tr")).to_have_count(2)
        expect(page.locator("td.col-started time")).to_have_text("2 Mar 2025, 06:00 UTC")
        page.click("text=2 Scrapy stats")
        expect(page.locator("table.small-table.stats")).to_be_visible()
        page.screenshot(path=tmp_path / "crawl-run.png", full_page=True)

        page.goto(server + "/archive/search?q=minist*&limit=2")
        expect(page.locator(".search-summary")).to_contain_text("4 results, 1–2 shown")
        page.click("a[rel=next]")
        expect(page.locator(".search-summary")).to_contain_text("4 results, 3–4 shown")
        expect(page.locator(".search-results li")).to_have_count(2)
        page.screenshot(path=tmp_path / "search-page-2.png", full_page=True)
        browser.close()

    REPORT_COPY.parent.mkdir(exist_ok=True)
    for name in ("articles-table", "crawl-run", "search-page-2"):
        shutil.copy(tmp_path / f"{name}.png", REPORT_COPY.with_name(f"browser-e2e-{name}.png"))
