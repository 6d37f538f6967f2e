"""Distributed crawls for real: worker and ingester processes, one redis-server, the demo site
on 127.0.0.1, and a real SQLite archive."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.distributed.frontier import Frontier
from crawler.distributed.keys import Keys
from tests.conftest import ONE_WORKER, ROOT, query, run_cli

pytestmark = pytest.mark.slow

KEYS = Keys("newsarchive")
# Our own fixture site needs no politeness; a few requests per worker so both get some.
FAST = [
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "CONCURRENT_REQUESTS=4",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
    *ONE_WORKER,
]  # fmt: skip


class Processes:
    """Child `newsarchive` processes of a test, with their output in files; all stopped at the
    end of the test."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [sys.executable, "-m", "newsarchive", *args],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        process.log = log
        process.name = name
        self.started.append(process)
        return process

    def output(self, process: subprocess.Popen) -> str:
        return (self.folder / f"{process.name}.log").read_text()

    def wait(self, process: subprocess.Popen, timeout: float = 120) -> int:
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{process.name} did not finish:\n{self.output(process)[-3000:]}")

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.log.close()


@pytest.fixture
def procs(tmp_path):
    processes = Processes(tmp_path)
    yield processes
    processes.stop_all()


def start_workers(procs, redis_url, client, names, *extra):
    workers = [
        procs.start(name, "worker", "--redis", redis_url, "--id", name, *FAST, *extra)
        for name in names
    ]
    deadline = time.monotonic() + 60
    while client.hlen(KEYS.workers) < len(names):  # each says hello once it is running
        assert time.monotonic() < deadline, "workers did not start"
        assert all(w.poll() is None for w in workers), procs.output(workers[0])[-3000:]
        time.sleep(0.1)
    return workers


def seed(redis_url, sources):
    result = run_cli("crawl", "--redis", redis_url, "--sources", str(sources))
    assert result.returncode == 0, result.stderr
    # two sites x (two feeds, a sitemap, a front page)
    assert "seeded with 8 requests" in result.stdout
    return result


def ingest_one_run(procs, redis_url, db, name="ingest"):
    ingester = procs.start(name, "ingest", "--redis", redis_url, "--db", str(db), "--once")
    return ingester


def run_stats(run: dict) -> dict:
    return json.loads(run["stats"])


def test_two_workers_and_one_ingester_archive_every_article_once(
    demo_server,
    demo_sources,
    tmp_path,
    procs,
    redis_url,
    redis_client,
):
    db = tmp_path / "archive.db"
    workers = start_workers(procs, redis_url, redis_client, ["w1", "w2"])
    ingester = ingest_one_run(procs, redis_url, db)
    seed(redis_url, demo_sources)
    assert procs.wait(ingester) == 0, procs.output(ingester)

    expected = {demo_server.url + a.path: a for a in demo_server.expected_articles()}
    rows = query(db, "select url, title, source from articles")
    assert sorted(r["url"] for r in rows) == sorted(expected)  # each exactly once
    for row in rows:
        assert row["title"] == expected[row["url"]].title
    for article in expected.values():  # and fetched once, by one worker or the other
        assert demo_server.requests.count(article.path) == 1, article.path
    (run,) = query(db, "select * from crawl_runs")
    assert run["status"] == "completed", run
    assert run["articles_new"] == len(expected) and run["articles_updated"] == 0
    assert run["errors"] == 0 and run["pages_dropped"] == 0
    # robots.txt is fetched once for the whole cluster, not once per worker.
    assert demo_server.requests.count("/robots.txt") == 1
    assert run["pages_fetched"] == len(demo_server.requests) - 1
    stats = run_stats(run)
    pages = {w: stats[f"newsarchive/workers/{w}/pages"] for w in ("w1", "w2")}
    articles = {w: stats.get(f"newsarchive/workers/{w}/articles", 0) for w in ("w1", "w2")}
    assert all(pages.values()), pages  # both workers did part of the work
    assert sum(pages.values()) == run["pages_fetched"]
    assert sum(articles.values()) == len(expected) and all(articles.values()), articles
    assert json.loads(run["per_source"])["ledger"]["new"] > 0
    assert "Crawl run 1 completed" in procs.output(ingester)
    # Nothing is left in Redis but the finished run and what workers need next time.
    assert Frontier(redis_client, KEYS).counts() == {
        "queued": 0, "leased": 0, "to_store": 0, "dead": 0,
    }  # fmt: skip
    assert redis_client.hlen(KEYS.archived) >= len(expected)
    for worker in workers:  # SIGTERM stops a worker cleanly
        worker.send_signal(signal.SIGTERM)
        assert procs.wait(worker, 60) == 0, procs.output(worker)
        assert "stopped (shutdown)" in procs.output(worker)


def test_a_second_distributed_run_fetches_and_stores_no_article_again(
    demo_server, demo_sources, tmp_path, procs, redis_url, redis_client
):
    db = tmp_path / "archive.db"
    start_workers(procs, redis_url, redis_client, ["w1", "w2"])
    ingester = procs.start("ingest", "ingest", "--redis", redis_url, "--db", str(db))  # for good
    article_paths = {a.path for a in demo_server.expected_articles()}
    for run in (1, 2):
        if run == 2:
            demo_server.requests.clear()
        waited = run_cli("crawl", "--redis", redis_url, "--sources", str(demo_sources), "--wait")
        assert waited.returncode == 0, waited.stderr + procs.output(ingester)
        assert f"Crawl run {run} completed (finished)" in waited.stdout
    fetched = set(demo_server.requests.paths())
    assert fetched and not fetched & article_paths  # feeds and sitemaps, no archived article
    runs = query(db, "select * from crawl_runs order by id")
    assert [r["status"] for r in runs] == ["completed", "completed"]
    assert runs[0]["articles_new"] == len(article_paths)
    assert runs[1]["articles_new"] == 0 and runs[1]["articles_unchanged"] == 0
    assert runs[1]["pages_skipped"] == len(article_paths)  # counted once across workers
    assert query(db, "select count(*) as n from articles")[0]["n"] == len(article_paths)
    assert ingester.poll() is None  # still there for the next run


def test_a_worker_killed_mid_crawl_loses_nothing(
    demo_server,
    demo_sources,
    tmp_path,
    procs,
    redis_url,
    redis_client,
):
    db = tmp_path / "archive.db"
    # Slow workers with short leases, so the kill lands mid-crawl and its work soon returns.
    slow = ["-s", "DOWNLOAD_DELAY=0.2", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
            "-s", "NEWSARCHIVE_LEASE_SECONDS=2"]  # fmt: skip
    victim, survivor = start_workers(procs, redis_url, redis_client, ["victim", "survivor"], *slow)
    ingester = ingest_one_run(procs, redis_url, db)
    seed(redis_url, demo_sources)
    frontier = Frontier(redis_client, KEYS)
    deadline = time.monotonic() + 60
    while not (
        "victim" in frontier.lease_owners().values()
        and query_count(db, "select count(*) as n from articles") >= 3
    ):
        assert time.monotonic() < deadline, procs.output(victim)[-3000:]
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    held = list(frontier.lease_owners().values()).count("victim")
    assert held > 0  # it died with requests in hand
    assert procs.wait(ingester) == 0, procs.output(ingester)

    expected = {demo_server.url + a.path for a in demo_server.expected_articles()}
    urls = [row["url"] for row in query(db, "select url from articles")]
    assert sorted(urls) == sorted(expected)  # every article, each once
    (run,) = query(db, "select * from crawl_runs")
    assert run["status"] == "completed" and run["articles_new"] == len(expected)
    stats = run_stats(run)
    assert stats["newsarchive/distributed/requeued"] >= held
    assert stats["newsarchive/workers/survivor/pages"] > 0
    assert "victim" not in frontier.lease_owners().values()
    assert survivor.poll() is None


def query_count(db, sql) -> int:
    try:
        return query(db, sql)[0]["n"]
    except Exception:  # noqa: BLE001 - not created yet
        return 0


def test_seeding_while_a_run_is_in_progress_is_refused(demo_sources, redis_url):
    seed(redis_url, demo_sources)
    again = run_cli("crawl", "--redis", redis_url, "--sources", str(demo_sources))
    assert again.returncode == 1
    assert "run 1 is still in progress (8 requests queued" in again.stderr
    assert "Traceback" not in again.stderr


def test_unreachable_redis_is_a_one_line_error(demo_sources, tmp_path):
    dead = "redis://127.0.0.1:9/0"
    for args in (
        ["crawl", "--redis", dead, "--sources", str(demo_sources)],
        ["worker", "--redis", dead],
        ["ingest", "--redis", dead, "--db", str(tmp_path / "a.db")],
    ):
        result = run_cli(*args)
        assert result.returncode == 1, args
        assert "cannot reach Redis at redis://127.0.0.1:9/0" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    bad = run_cli("crawl", "--redis", dead, "--namespace", "a b", "--sources", str(demo_sources))
    assert "bad Redis namespace" in bad.stderr


def test_a_local_crawl_never_imports_redis():
    code = (
        "import sys, newsarchive.cli, newsarchive.crawl, crawler.settings, crawler.spiders.news,"
        " crawler.spidermiddlewares.incremental, pipelines.storage, pipelines.handoff;"
        "from newsarchive.cli import cli;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('redis', 'scrapy_redis')))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_an_idle_worker_stops_when_told_to(redis_url, procs):
    worker = procs.start("idle", "worker", "--redis", redis_url, "--max-idle", "1")
    assert procs.wait(worker, 60) == 0, procs.output(worker)
    assert "stopped (idle): fetched 0 pages" in procs.output(worker)
