"""Scheduled, incremental runs: only what changed is fetched, history is kept, kills lose
nothing, and one archive has one writer at a time."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import FAST, ROOT, query, run_cli

pytestmark = pytest.mark.slow  # runs real crawls

# Slow enough to interrupt mid-run, fast enough for a test.
SLOW = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0.15",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "NEWSARCHIVE_BATCH_SIZE=1"]  # fmt: skip
# A crawl still running after two more CLI starts on a loaded machine (SLOW's may end a few
# seconds after its first article): over 30 s, and with one request at a time in the
# downloader a Ctrl-C stops it within a second, not after the queued requests' delays.
SLOWER = [*SLOW, "-s", "DOWNLOAD_DELAY=0.5", "-s", "CONCURRENT_REQUESTS=1"]


def crawl(sources, db, *extra):
    return run_cli("crawl", "--sources", str(sources), "--db", str(db), *FAST, *extra)


def start_crawl(sources, db, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "newsarchive", "crawl", "--sources", str(sources), "--db", str(db),
         *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for_articles(db, count, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if query(db, "select count(*) as n from articles")[0]["n"] >= count:
                return
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} articles after {timeout} s")


def assert_consistent(db):
    assert query(db, "pragma integrity_check")[0]["integrity_check"] == "ok"
    for table, column in (("article_urls", "article_id"), ("article_html", "article_id"),
                          ("article_versions", "article_id")):  # fmt: skip
        orphans = query(
            db, f"select count(*) as n from {table} where {column} not in (select id from articles)"
        )
        assert orphans[0]["n"] == 0, table
    html = query(db, "select count(*) as n from article_html")[0]["n"]
    assert html == query(db, "select count(*) as n from articles")[0]["n"]
    fts = query(db, "select count(*) as n from articles_fts")[0]["n"]
    assert fts == query(db, "select count(*) as n from articles")[0]["n"]


def test_changed_and_new_articles_are_fetched_and_versioned(demo_server, demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    assert crawl(demo_sources, db).returncode == 0
    site = demo_server.site
    edited = site.articles[3]
    old_text = next(a.text for a in site.expected_articles() if a.slug == edited.slug)
    time.sleep(1.1)  # archive times have second precision
    site.update_article(edited.slug, paragraphs=["Correction: the council vote was 7 to 2. " * 12])
    added = site.add_article(
        slug="tram-line-reopens",
        title="Tram line reopens after a year of works",
        paragraphs=["The tram line between the port and the old town reopened on Monday. " * 10,
                    "Passengers praised the quieter carriages and the new timetable. " * 8],
    )  # fmt: skip
    demo_server.requests.clear()
    result = crawl(demo_sources, db)
    assert result.returncode == 0, result.stderr
    run = query(db, "select * from crawl_runs order by id desc limit 1")[0]
    assert (run["articles_new"], run["articles_updated"]) == (1, 1)
    article_paths = {a.path for a in site.expected_articles()}
    fetched = set(demo_server.requests.paths()) & article_paths
    assert fetched == {site.article_path(edited.slug), site.article_path(added.slug)}
    row = query(db, "select * from articles where url like ?", [f"%{edited.slug}%"])[0]
    assert row["version"] == 2 and row["text"].startswith("Correction:")
    (version,) = query(db, "select * from article_versions where article_id = ?", [row["id"]])
    assert version["text"] == old_text and version["version"] == 1
    assert_consistent(db)


def test_killed_crawl_leaves_a_consistent_archive_and_the_next_run_finishes(
    demo_server, demo_sources, tmp_path
):
    db = tmp_path / "archive.db"
    process = start_crawl(demo_sources, db, *SLOW)
    wait_for_articles(db, 5)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert_consistent(db)
    stored = query(db, "select count(*) as n from articles")[0]["n"]
    assert 5 <= stored < 41
    assert query(db, "select status from crawl_runs")[0]["status"] == "running"

    demo_server.requests.clear()
    result = crawl(demo_sources, db)
    assert result.returncode == 0, result.stderr
    assert query(db, "select count(*) as n from articles")[0]["n"] == 41
    first, second = query(db, "select * from crawl_runs order by id")
    assert first["status"] == "interrupted"
    assert second["status"] == "completed" and second["articles_new"] == 41 - stored
    # The pages stored before the kill were not fetched again.
    fetched = set(demo_server.requests.paths())
    stored_paths = {row["url"].split(demo_server.url, 1)[1] for row in query(
        db, "select url from articles where run_id = ?", [first["id"]])}  # fmt: skip
    assert not fetched & stored_paths
    assert_consistent(db)


def test_sigterm_marks_the_run_interrupted(demo_server, demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    process = start_crawl(demo_sources, db, *SLOW)
    wait_for_articles(db, 3)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0
    (run,) = query(db, "select * from crawl_runs")
    assert run["status"] == "interrupted" and run["finish_reason"] == "shutdown"
    assert run["articles_new"] == query(db, "select count(*) as n from articles")[0]["n"]
    assert_consistent(db)


def test_a_second_crawl_on_a_busy_archive_refuses(demo_server, demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    process = start_crawl(demo_sources, db, *SLOWER)
    try:
        wait_for_articles(db, 1)
        second = crawl(demo_sources, db)
        assert second.returncode == 1
        assert "is busy: crawl by pid" in second.stderr
        assert f"pid {process.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        reextract = run_cli("reextract", "--db", str(db))
        assert reextract.returncode == 1 and "is busy" in reextract.stderr
        assert process.poll() is None  # it was busy all along
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    assert len(query(db, "select * from crawl_runs")) == 1


def test_schedule_runs_crawls_and_a_second_scheduler_refuses(demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "newsarchive", "schedule", "--every", "1h", "--db", str(db), "--",
         "--sources", str(demo_sources), *FAST],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        runs = []
        while time.monotonic() < deadline:
            try:
                runs = query(db, "select status from crawl_runs")
            except sqlite3.Error:  # not created yet
                runs = []
            if runs and runs[0]["status"] == "completed":
                break
            time.sleep(0.2)
        assert runs and runs[0]["status"] == "completed"
        second = run_cli("schedule", "--every", "1h", "--db", str(db))
        assert second.returncode == 1 and "another scheduler" in second.stderr
    finally:
        scheduler.send_signal(signal.SIGTERM)
        scheduler.communicate(timeout=30)
    assert scheduler.returncode is not None
    assert query(db, "select count(*) as n from articles")[0]["n"] == 41


def test_reextract_updates_only_what_changed(demo_server, demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    assert crawl(demo_sources, db).returncode == 0
    conn = sqlite3.connect(db)
    with conn:  # pretend an older, worse extractor stored two of the articles
        conn.execute("update articles set text = text || ' Also Read: junk' where id in (1, 2)")
        conn.execute("update articles set title = 'wrong' where id = 3")
    conn.close()
    result = run_cli("reextract", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "2 text changed" in result.stdout and "1 metadata changed" in result.stdout
    assert "38 unchanged" in result.stdout
    assert not query(db, "select id from articles where text like '%Also Read%' or title = 'wrong'")
    result = run_cli("reextract", "--db", str(db), "--source", "ledger")
    assert "21 unchanged" in result.stdout
    assert demo_server.requests.count("/robots.txt") == 1  # nothing fetched by reextract


def test_stats_show_sources_runs_and_silent_sources(demo_server, demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    for _ in range(3):
        assert crawl(demo_sources, db).returncode == 0
    result = run_cli("stats", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "41 articles" in result.stdout
    assert "ledger" in result.stdout and "harbor" in result.stdout
    # Runs 2 and 3 stored nothing new, but run 1 did: not silent after 3 runs...
    assert "Every source stored something new" in result.stdout
    # ...but silent in their last 2.
    result = run_cli("stats", "--db", str(db), "--silent-after", "2")
    assert "Sources with nothing new in their last runs" in result.stdout
    assert "  harbor: last 2 runs" in result.stdout


def test_a_killed_lock_holder_frees_the_lock(tmp_path):
    # The OS frees the lock when its holder dies, even by SIGKILL.
    db = tmp_path / "archive.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys,time; from pipelines.archive import lock; "
         f"lock.acquire({str(db)!r}); print('locked', flush=True); time.sleep(60)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "locked"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    from pipelines.archive import lock

    lock.acquire(db)
    lock.release(db)
