"""A distributed crawl is as polite as one machine, knows when it is stuck, and has a budget:
real worker and ingester processes, a real redis-server, the hostile site's slow section (it
counts the requests it has in flight) and the demo site."""

from __future__ import annotations

import json
import signal
import time

import pytest

from crawler.distributed.frontier import Frontier
from tests.conftest import query, run_cli
from tests.hostile_site import POLITE_PAGES, HostileSite
from tests.test_distributed import KEYS, Processes, start_workers

pytestmark = pytest.mark.slow

THREE = ["w1", "w2", "w3"]
NO_JITTER = ["-s", "DOWNLOAD_DELAY_JITTER=0"]


@pytest.fixture
def procs(tmp_path):
    processes = Processes(tmp_path)
    yield processes
    processes.stop_all()


def polite_run(procs, redis_url, redis_client, db, site, *settings) -> str:
    """Three workers and an ingester crawl the site's slow section; the --wait output."""
    start_workers(procs, redis_url, redis_client, THREE, *NO_JITTER, *settings)
    ingester = procs.start("ingest", "ingest", "--redis", redis_url, "--db", str(db), "--once")
    waited = run_cli("crawl", "--redis", redis_url, "--url", site.url + "/polite/", "--wait")
    assert waited.returncode == 0, waited.stderr + procs.output(ingester)
    assert procs.wait(ingester) == 0, procs.output(ingester)
    assert f"articles        {POLITE_PAGES} new" in waited.stdout, waited.stdout
    return waited.stdout


def worker_pages(db) -> dict[str, int]:
    (run,) = query(db, "select stats from crawl_runs")
    stats = json.loads(run["stats"])
    return {w: stats.get(f"newsarchive/workers/{w}/pages", 0) for w in THREE}


def test_three_workers_never_exceed_the_sites_concurrency(tmp_path, procs, redis_url, redis_client):
    db = tmp_path / "archive.db"
    with HostileSite() as site:
        polite_run(procs, redis_url, redis_client, db, site,
                   "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2")  # fmt: skip
    assert site.max_in_flight == 2  # used, and never more (each worker alone would send 2)
    assert len(site.hits("/robots.txt")) == 1  # once for the cluster
    assert sum(1 for pages in worker_pages(db).values() if pages) >= 2, worker_pages(db)
    urls = [r["url"] for r in query(db, "select url from articles")]
    assert len(urls) == len(set(urls)) == POLITE_PAGES


@pytest.mark.parametrize(
    ("download_delay", "crawl_delay"),
    [(0.3, None), (0, 0.5)],
    ids=["DOWNLOAD_DELAY", "robots.txt Crawl-delay"],
)
def test_requests_to_a_site_are_spaced_across_workers(
    tmp_path, procs, redis_url, redis_client, download_delay, crawl_delay
):
    db = tmp_path / "archive.db"
    with HostileSite(crawl_delay=crawl_delay) as site:
        polite_run(procs, redis_url, redis_client, db, site,
                   "-s", f"DOWNLOAD_DELAY={download_delay}")  # fmt: skip
    assert len(site.hits("/robots.txt")) == 1
    # The Crawl-delay is known once robots.txt is read: count from the first page after it.
    starts = [hit.at for hit in site.hits() if hit.path != "/robots.txt"]
    assert len(starts) == POLITE_PAGES + 1
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= max(download_delay, crawl_delay or 0) * 0.9, gaps
    assert sum(1 for pages in worker_pages(db).values() if pages) >= 2, worker_pages(db)


def poll(condition, timeout: float, what: str, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(every)
    return value


def run_status(db) -> str | None:
    try:
        rows = query(db, "select status from crawl_runs")
    except Exception:  # noqa: BLE001 - not created yet
        return None
    return rows[0]["status"] if rows else None


def test_a_run_whose_workers_all_died_stalls_then_a_new_worker_finishes_it(
    tmp_path, procs, redis_url, redis_client
):
    db = tmp_path / "archive.db"
    timeout = 3
    liveness = ["-s", f"NEWSARCHIVE_WORKER_TIMEOUT={timeout}"]
    # Slow workers with short leases and holds, so the kill lands mid-run and it soon resumes.
    slow = ["-s", "DOWNLOAD_DELAY=0.3", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
            "-s", "NEWSARCHIVE_LEASE_SECONDS=2", "-s", "DOWNLOAD_TIMEOUT=3",
            *NO_JITTER]  # fmt: skip
    with HostileSite() as site:
        workers = start_workers(procs, redis_url, redis_client, ["w1", "w2"], *slow)
        ingester = procs.start("ingest", "ingest", "--redis", redis_url, "--db", str(db),
                               *liveness)  # fmt: skip
        waiting = procs.start("wait", "crawl", "--redis", redis_url, "--url",
                              site.url + "/polite/", "--wait", *liveness)  # fmt: skip
        poll(lambda: len(site.hits()) >= 4, 60, "the crawl did not start")
        assert waiting.poll() is None, procs.output(waiting)  # no stall while workers live
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        code = procs.wait(waiting, 60)
        noticed = time.monotonic() - killed
        output = procs.output(waiting)
        assert code == 1, output
        # Counted from the last heartbeat, up to a second before the kill; generous above, for
        # a loaded machine.
        assert noticed <= timeout + 15, noticed
        (line,) = [line for line in output.splitlines() if "stalled" in line]
        assert "run 1 stalled:" in line and "requests left and no worker alive since" in line
        assert "Traceback" not in output
        left = int(line.split("stalled: ")[1].split()[0])
        assert 0 < left < POLITE_PAGES + 1
        poll(lambda: run_status(db) == "stalled", 30, procs.output(ingester)[-2000:])

        procs.start("late", "worker", "--redis", redis_url, "--id", "late", *slow)
        poll(lambda: run_status(db) == "completed", 90, procs.output(ingester)[-2000:])
    assert "run 1 stalled" in procs.output(ingester)
    urls = [r["url"] for r in query(db, "select url from articles")]
    assert len(urls) == len(set(urls)) == POLITE_PAGES
    (run,) = query(db, "select finish_reason, stats from crawl_runs")
    assert run["finish_reason"] == "finished"
    assert json.loads(run["stats"]).get("newsarchive/workers/late/pages", 0) > 0
    assert ingester.poll() is None


def test_max_pages_stops_a_run_of_two_workers(
    demo_server, demo_sources, tmp_path, procs, redis_url, redis_client
):
    db = tmp_path / "archive.db"
    budget = 10
    # A delay between requests, so that both workers take part before the budget is spent
    # (without one, the first worker to look can make all ten downloads in under a second).
    spaced = ("-s", "DOWNLOAD_DELAY=0.2")
    workers = start_workers(procs, redis_url, redis_client, ["w1", "w2"], *spaced)
    ingester = procs.start("ingest", "ingest", "--redis", redis_url, "--db", str(db), "--once")
    waited = run_cli("crawl", "--redis", redis_url, "--sources", str(demo_sources),
                     "--max-pages", str(budget), "--wait")  # fmt: skip
    assert waited.returncode == 0, waited.stderr + procs.output(ingester)
    assert "Crawl run 1 completed (closespider_pagecount)" in waited.stdout, waited.stdout
    assert procs.wait(ingester) == 0, procs.output(ingester)
    downloads = [p for p in demo_server.requests.paths() if p != "/robots.txt"]
    assert len(downloads) == budget  # across both workers, not one more
    (run,) = query(db, "select * from crawl_runs")
    assert run["status"] == "completed" and run["finish_reason"] == "closespider_pagecount"
    assert run["pages_fetched"] == budget
    stats = json.loads(run["stats"])
    assert all(stats.get(f"newsarchive/workers/{w}/pages") for w in ("w1", "w2")), stats
    # What was left queued is dropped with the run: the next run can start.
    assert Frontier(redis_client, KEYS).counts() == {
        "queued": 0, "leased": 0, "to_store": 0, "dead": 0,
    }  # fmt: skip
    again = run_cli("crawl", "--redis", redis_url, "--sources", str(demo_sources))
    assert again.returncode == 0, again.stderr
    assert all(w.poll() is None for w in workers)
