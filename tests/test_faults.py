"""The archive under faults: a full disk, a read-only file, a writer that holds the lock, readers
that hold transactions. A crawl that cannot write stops with a clear error and a non-zero exit;
what it stored before stays intact and consistent; readers and the crawl do not block each
other (WAL)."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines.archive.schema import open_archive
from tests.conftest import FAST, ROOT, run_cli

pytestmark = pytest.mark.slow  # runs real crawls

ONE_BY_ONE = ["-s", "NEWSARCHIVE_BATCH_SIZE=1"]  # a transaction per article


def check_consistent(db: Path) -> dict[str, int]:
    """Assert the archive is sound: SQLite's own checks, the full-text index, and no article
    half-written (each has its URLs and HTML; nothing points at a missing article). Returns
    row counts."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        conn.rollback()
        orphans = {
            "urls": "select count(*) from article_urls where article_id not in "
            "(select id from articles)",
            "html": "select count(*) from article_html where article_id not in "
            "(select id from articles)",
            "versions": "select count(*) from article_versions where article_id not in "
            "(select id from articles)",
            "without html": "select count(*) from articles where id not in "
            "(select article_id from article_html)",
            "without urls": "select count(*) from articles where id not in "
            "(select article_id from article_urls)",
            "unknown run": "select count(*) from articles where run_id not in "
            "(select id from crawl_runs)",
        }
        for what, sql in orphans.items():
            assert conn.execute(sql).fetchone()[0] == 0, what
        return {
            table: conn.execute(f"select count(*) from {table}").fetchone()[0]
            for table in ("articles", "article_urls", "article_html", "crawl_runs")
        }
    finally:
        conn.close()


def snapshot(db: Path) -> set[tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return set(conn.execute("select id, url, content_hash, text from articles"))
    finally:
        conn.close()


def runs(db: Path) -> list[dict]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute("select * from crawl_runs order by id")]
    finally:
        conn.close()


def assert_stopped_cleanly(result: subprocess.CompletedProcess, message: str) -> None:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert message in result.stderr
    stopped = [line for line in result.stderr.splitlines() if line.startswith("  stopped ")]
    assert stopped and message in stopped[0], result.stderr


def start_crawl(sources: Path, db: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "newsarchive", "crawl", "--sources", str(sources), "--db", str(db),
         *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def count(db: Path, table: str = "articles") -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
        try:
            return conn.execute(f"select count(*) from {table}").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


# A full disk ------------------------------------------------------------------------------------


def test_disk_full_mid_run_stops_the_crawl_and_keeps_what_was_stored(demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    first = run_cli("crawl", "ledger", "--sources", str(demo_sources), "--db", str(db), *FAST)
    assert first.returncode == 0, first.stderr
    before = snapshot(db)
    pages = sqlite3.connect(db).execute("PRAGMA page_count").fetchone()[0]
    # Room for a few more articles, not for all of them: the disk fills up mid-run.
    cap = f"NEWSARCHIVE_SQLITE_PRAGMAS=max_page_count={pages + 40}"
    result = run_cli(
        "crawl", "--sources", str(demo_sources), "--db", str(db), *FAST, *ONE_BY_ONE, "-s", cap
    )
    assert_stopped_cleanly(result, "database or disk is full")
    counts = check_consistent(db)
    assert before <= snapshot(db)  # the first run's articles, untouched
    first_run, second_run = runs(db)
    assert first_run["status"] == "completed"
    assert second_run["status"] == "failed"
    assert second_run["finish_reason"] == "storage_error"
    assert 0 < second_run["articles_new"] < 20  # some harbor articles made it, not all
    assert counts["articles"] == len(before) + second_run["articles_new"]
    assert json.loads(second_run["dropped"])["storage_error"] >= 1  # none lost silently


@pytest.fixture
def tiny_filesystem():
    """A 600 KiB tmpfs: a real disk that fills up (root only)."""
    folder = Path(tempfile.mkdtemp())
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)
    folder.rmdir()


def test_a_really_full_disk(demo_sources, tiny_filesystem):
    db = tiny_filesystem / "archive.db"
    result = run_cli("crawl", "--sources", str(demo_sources), "--db", str(db), *FAST, *ONE_BY_ONE)
    assert_stopped_cleanly(result, "database or disk is full")
    check_consistent(db)
    (run,) = runs(db)
    assert run["articles_new"] > 0
    assert run["status"] in ("failed", "running")  # "running" if not even that fitted


# A read-only archive ------------------------------------------------------------------------


def test_archive_read_only_from_the_start_of_writing(demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    result = run_cli(
        "crawl", "--sources", str(demo_sources), "--db", str(db), *FAST,
        "-s", "NEWSARCHIVE_SQLITE_PRAGMAS=query_only=1",
    )  # fmt: skip
    assert_stopped_cleanly(result, "attempt to write a readonly database")
    check_consistent(db)
    assert count(db) == 0


def test_archive_made_read_only_mid_run(demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    slow = ["-s", "DOWNLOAD_DELAY=0.05", "-s", "DOWNLOAD_DELAY_JITTER=0"]
    crawl = start_crawl(
        demo_sources, db, "-s", "AUTOTHROTTLE_ENABLED=False", "-s",
        "CONCURRENT_REQUESTS_PER_DOMAIN=1", *slow, *ONE_BY_ONE,
    )  # fmt: skip
    files = [db, db.with_name(db.name + "-wal")]
    try:
        wait_for(lambda: count(db) >= 3)
        for path in files:
            marked = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
            if marked.returncode != 0:
                crawl.kill()
                pytest.skip(f"chattr +i does not work here: {marked.stderr.decode().strip()}")
        stdout, stderr = crawl.communicate(timeout=120)
    finally:
        crawl.kill()
        for path in files:
            subprocess.run(["chattr", "-i", str(path)], check=False)
    result = subprocess.CompletedProcess(crawl.args, crawl.returncode, stdout, stderr)
    assert_stopped_cleanly(result, f"cannot write to {db}")
    counts = check_consistent(db)
    assert counts["articles"] >= 3


# Other connections: writers and readers -------------------------------------------------------


def hold_write_lock(db: Path, seconds: float, started: threading.Event) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    started.set()
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


def test_a_writer_holding_the_lock_for_a_while_only_delays_the_crawl(
    demo_server, demo_sources, tmp_path
):
    db = tmp_path / "archive.db"
    open_archive(db).close()
    started = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(db, 2.0, started))
    holder.start()
    started.wait()
    result = run_cli("crawl", "--sources", str(demo_sources), "--db", str(db), *FAST)
    holder.join()
    assert result.returncode == 0, result.stderr
    assert check_consistent(db)["articles"] == len(demo_server.expected_articles())


def test_a_writer_holding_the_lock_too_long_stops_the_crawl_cleanly(demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    crawl = start_crawl(
        demo_sources, db, *FAST, *ONE_BY_ONE,
        "-s", "NEWSARCHIVE_SQLITE_PRAGMAS=busy_timeout=200",
    )  # fmt: skip
    holder = sqlite3.connect(db, isolation_level=None, timeout=30)
    try:
        wait_for(lambda: count(db, "crawl_runs") == 1)
        holder.execute("BEGIN IMMEDIATE")  # and keep it until the crawl gave up
        stdout, stderr = crawl.communicate(timeout=120)
    finally:
        crawl.kill()
        holder.execute("ROLLBACK")
        holder.close()
    result = subprocess.CompletedProcess(crawl.args, crawl.returncode, stdout, stderr)
    assert_stopped_cleanly(result, "database is locked")
    assert "locked by another writer; trying again" in stderr
    check_consistent(db)


def test_a_long_read_transaction_does_not_block_the_crawl(demo_server, demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    open_archive(db).close()
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("select count(*) from articles").fetchone() == (0,)
    result = run_cli("crawl", "--sources", str(demo_sources), "--db", str(db), *FAST)
    assert result.returncode == 0, result.stderr
    # The reader still sees its snapshot; once it lets go, everything the crawl wrote.
    assert reader.execute("select count(*) from articles").fetchone() == (0,)
    reader.execute("COMMIT")
    expected = len(demo_server.expected_articles())
    assert reader.execute("select count(*) from articles").fetchone() == (expected,)
    reader.close()
    check_consistent(db)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_datasette_reads_while_a_crawl_writes(demo_server, demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    open_archive(db).close()
    port = free_port()
    datasette = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", str(db), "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = (
        f"http://127.0.0.1:{port}/archive.json?sql=select+count(*)+as+n+from+articles&_shape=array"
    )

    def ask() -> tuple[int, float]:
        started = time.monotonic()
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - 127.0.0.1
            rows = json.loads(response.read())
        return rows[0]["n"], time.monotonic() - started

    try:
        wait_for(lambda: _answers(ask))
        crawl = start_crawl(demo_sources, db, *FAST, *ONE_BY_ONE)
        answers = []
        while crawl.poll() is None:
            answers.append(ask())
            time.sleep(0.02)
        assert crawl.returncode == 0, crawl.stderr.read()
        final, _ = ask()
    finally:
        datasette.kill()
        datasette.wait(timeout=10)
    expected = len(demo_server.expected_articles())
    assert final == expected
    assert len(answers) >= 10
    assert max(seconds for _, seconds in answers) < 1.0  # never blocked by the writer
    counts = [n for n, _ in answers]
    assert counts == sorted(counts)  # readers see the crawl's progress, commit by commit
    assert len(set(counts)) > 1  # including counts from the middle of the crawl


def _answers(ask) -> bool:
    try:
        ask()
    except OSError:
        return False
    return True
