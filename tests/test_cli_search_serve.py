"""`newsarchive search` and `newsarchive serve` on a crawled archive."""

import json
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import FAST, ROOT, free_port, run_cli

pytestmark = pytest.mark.slow  # runs real crawls


@pytest.fixture
def archive(demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    result = run_cli("crawl", "--sources", str(demo_sources), "--db", str(db), *FAST)
    assert result.returncode == 0, result.stderr
    return db


def test_search_prints_best_matches(archive, demo_server):
    tunnel = next(a for a in demo_server.expected_articles() if "tunnel" in a.title.lower())
    result = run_cli("search", "tunnel vote", "--db", str(archive))
    assert result.returncode == 0, result.stderr
    first = result.stdout.split("\n\n")[0]
    assert tunnel.title in first and demo_server.url + tunnel.path in first
    matches = json.loads(run_cli("search", "tunnel", "--db", str(archive), "--json").stdout)
    assert matches[0]["title"] == tunnel.title
    assert "**tunnel**" in matches[0]["snippet"].lower()
    assert {"title", "source", "published", "url", "snippet", "rank"} <= set(matches[0])


def test_search_filters_and_bad_queries(archive):
    result = run_cli("search", "harbour", "--db", str(archive), "--source", "ledger", "--json")
    assert all(m["source"] == "ledger" for m in json.loads(result.stdout))
    bad = run_cli("search", '"unclosed', "--db", str(archive))
    assert bad.returncode == 1
    assert bad.stderr.startswith("Error: Bad search query")
    assert len(bad.stderr.strip().splitlines()) == 1
    assert run_cli("search", "zzzzqqq", "--db", str(archive)).stdout.strip() == "No matches."


def test_serve_starts_datasette_and_stops_on_ctrl_c(archive):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "newsarchive", "serve", "--db", str(archive), "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
                break
            except OSError:
                assert time.monotonic() < deadline, server.stderr.read()
                time.sleep(0.2)
        assert b"41" in page
        data = urllib.request.urlopen(
            f"http://127.0.0.1:{port}/archive/articles.json?_search=tunnel&_shape=array"
        ).read()
        assert any("tunnel" in row["title"].lower() for row in json.loads(data))
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert server.returncode in (0, -signal.SIGINT)
