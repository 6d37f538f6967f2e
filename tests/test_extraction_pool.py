"""The extraction worker pool: real worker processes, real crawls through the CLI, real signals.

`misbehaving_extractor` is what the workers run in these tests (setting NEWSARCHIVE_EXTRACTOR):
our extractor, except on pages that ask it to hang, crash or raise.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.crawl_measure import process_tree
from bench.crawl_server import StaticServer, response_bytes
from bench.crawl_site import build_site
from newsarchive.demo_site import DemoSite
from pipelines.article.core import extract_article
from pipelines.article.fingerprints import add_fingerprints
from pipelines.article.pool import ExtractionFailed, ExtractionPool, ExtractionTimeout
from tests.conftest import FAST, ROOT, query, run_cli

pytestmark = pytest.mark.slow  # runs real crawls

EXTRACTOR = "tests.test_extraction_pool.misbehaving_extractor"


def misbehaving_extractor(html: bytes, url: str | None = None, **kwargs) -> dict | None:
    """extract_article, but a page with HANG-ME hangs, CRASH-ME kills its process and
    RAISE-ME raises."""
    if b"HANG-ME" in html:
        time.sleep(3600)
    if b"CRASH-ME" in html:
        os._exit(3)
    if b"RAISE-ME" in html:
        raise ValueError("this page breaks the extractor")
    return extract_article(html, url, **kwargs)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def demo_pages() -> list[tuple[str, bytes]]:
    site = DemoSite()
    origin = "http://127.0.0.1:8000"
    return [(origin + a.path, site.get(a.path).body_for(origin)) for a in site.expected_articles()]


def run_pool(coroutine_fn, size: int = 2, timeout: float = 20.0, extractor: str = EXTRACTOR):
    """Run `coroutine_fn(pool)` on a fresh pool in a fresh event loop; (result, worker pids)."""

    async def main():
        pool = ExtractionPool(size, timeout, extractor)
        pool.start()
        pids = set(pool.pids)
        try:
            return await coroutine_fn(pool), pids | set(pool.pids), pool
        finally:
            pool.close()

    result, pids, pool = asyncio.run(main())
    return result, pids, pool


def test_pool_gives_what_in_process_extraction_gives(demo_pages):
    async def extract_all(pool):
        jobs = [pool.extract(html=body, url=url, encoding="utf-8") for url, body in demo_pages]
        return await asyncio.gather(*jobs)

    results, pids, _ = run_pool(extract_all)
    expected = [extract_article(body, url, encoding="utf-8") for url, body in demo_pages]
    assert results == [add_fingerprints(article) for article in expected]  # hashed in the workers
    assert all(not alive(pid) for pid in pids)


def test_hung_page_times_out_and_its_worker_is_replaced(demo_pages):
    (url, body), (other_url, other_body) = demo_pages[:2]

    async def scenario(pool):
        hung = pool.extract(html=b"<html><body>HANG-ME</body></html>", url=url)
        rest = [pool.extract(html=other_body, url=other_url) for _ in range(5)]
        outcomes = await asyncio.gather(hung, *rest, return_exceptions=True)
        return outcomes, pool.replaced

    started = time.monotonic()
    (outcomes, replaced), pids, _ = run_pool(scenario, size=1, timeout=1.0)
    # Cut after its 1 s, not after its hour; the rest is two workers' start-up, which takes
    # seconds on a loaded machine (the whole suite runs on 2 workers).
    assert time.monotonic() - started < 60
    assert isinstance(outcomes[0], ExtractionTimeout)
    assert all(isinstance(o, dict) and o["title"] for o in outcomes[1:])
    assert replaced == 1 and len(pids) == 2
    assert all(not alive(pid) for pid in pids)


def test_a_workers_start_up_does_not_count_against_its_first_page(demo_pages):
    url, body = demo_pages[0]

    async def extract_one(pool):
        return await pool.extract(html=body, url=url, encoding="utf-8")

    # The worker takes 2 s to import its extractor; the page has 1 s once it is ready.
    result, pids, pool = run_pool(
        extract_one, size=1, timeout=1.0, extractor="tests.slow_start_extractor.extract"
    )
    assert result["title"] and pool.replaced == 0
    assert all(not alive(pid) for pid in pids)


def test_crash_and_exception_fail_only_their_page(demo_pages):
    url, body = demo_pages[0]

    async def scenario(pool):
        jobs = [
            pool.extract(html=b"<html><body>CRASH-ME</body></html>", url=url),
            pool.extract(html=b"<html><body>RAISE-ME</body></html>", url=url),
            pool.extract(html=body, url=url),
        ]
        return await asyncio.gather(*jobs, return_exceptions=True)

    (crashed, raised, fine), pids, pool = run_pool(scenario)
    assert isinstance(crashed, ExtractionFailed) and "exited (code 3)" in str(crashed)
    assert isinstance(raised, ExtractionFailed)
    assert str(raised) == "ValueError: this page breaks the extractor"
    assert fine["text"]
    assert pool.replaced == 1
    assert all(not alive(pid) for pid in pids)


@pytest.mark.parametrize("workers", ["2", "0"])
def test_crawl_drops_failing_pages_and_goes_on(demo_server, static_server, tmp_path, workers):
    folder, base = static_server
    demo = demo_server.expected_articles()
    pages = {"hang.html": "HANG-ME", "raise.html": "RAISE-ME", "crash.html": "CRASH-ME"}
    if workers == "0":
        pages = {"raise.html": "RAISE-ME"}  # in the crawl process: no time budget, no isolation
    for name, marker in pages.items():
        head = '<head><meta property="og:type" content="article"></head>'
        (folder / name).write_text(f"<html>{head}<body><p>{marker}</p></body></html>")
    urls = [f"{base}/{name}" for name in pages] + [demo_server.url + a.path for a in demo[:4]]
    db = tmp_path / "archive.db"
    args = ["crawl", "--db", str(db), *FAST, "-s", f"NEWSARCHIVE_EXTRACTOR={EXTRACTOR}"]
    args += [
        "-s",
        "NEWSARCHIVE_EXTRACTION_TIMEOUT=2",
        "-s",
        f"NEWSARCHIVE_EXTRACTION_WORKERS={workers}",
    ]
    for url in urls:
        args += ["--url", url]
    result = run_cli(*args, "--log-level", "INFO")
    assert result.returncode == 0, result.stderr
    (run,) = query(db, "select * from crawl_runs")
    assert run["status"] == "completed"
    assert run["articles_new"] == 4
    dropped = json.loads(run["dropped"])
    if workers == "0":
        assert dropped == {"extraction_error": 1}
    else:
        assert dropped == {"extraction_timeout": 1, "extraction_error": 2}
        assert f"extraction_timeout: {base}/hang.html (no result in 2 s)" in result.stderr
        assert f"extraction_error: {base}/crash.html (extraction worker exited" in result.stderr
    assert (
        f"extraction_error: {base}/raise.html (ValueError: this page breaks the extractor)"
        in result.stderr
    )


def stored_articles(db: Path) -> int:
    if not db.exists():  # connecting would create it
        return 0
    try:
        return query(db, "select count(*) as n from articles")[0]["n"]
    except sqlite3.Error:  # not created yet
        return 0


@pytest.fixture
def big_site():
    """A few hundred heavy pages on a fast local server, so a crawl takes a few seconds."""
    site = build_site(600)
    with StaticServer() as server:
        server.responses = {
            path: response_bytes(r.body_for(server.origin), r.content_type)
            for path, r in site.resources.items()
        }
        yield site, server


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_stopping_a_crawl_leaves_no_worker_behind(big_site, tmp_path, how):
    site, server = big_site
    sources = tmp_path / "sources.toml"
    sources.write_text(site.sources_toml(server.origin), encoding="utf-8")
    db = tmp_path / "archive.db"
    crawl = subprocess.Popen(
        [sys.executable, "-m", "newsarchive", "crawl", "--sources", str(sources), "--db", str(db),
         *FAST, "-s", "NEWSARCHIVE_EXTRACTION_WORKERS=2"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            seen.update(process_tree(crawl.pid))
            stored = stored_articles(db)
            if len(seen) >= 3 and stored >= 50:
                break
            time.sleep(0.1)
        assert crawl.poll() is None, "the crawl ended before it could be interrupted"
        seen.update(process_tree(crawl.pid))
        crawl.send_signal(how)
        _, stderr = crawl.communicate(timeout=60)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    workers = seen - {crawl.pid}
    assert len(workers) >= 2
    deadline = time.monotonic() + 10  # the workers exit with the crawl: poll, do not guess
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in workers if alive(pid)] == []
    (run,) = query(db, "select * from crawl_runs")
    assert run["status"] == "interrupted", stderr
    assert 0 < run["articles_new"] < 600
    assert "Traceback" not in stderr
