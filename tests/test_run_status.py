"""A crawl's exit status tells the truth, from the user's side: 0 when the run archived what it
was asked to, 2 when it ended but fetched nothing, lost a source or passed --max-error-rate
(with one line per problem on stderr under --quiet, naming the source), 1 for bad input; and
--max-pages N fetches at most N pages."""

from __future__ import annotations

import re

import pytest

from tests.conftest import FAST, query, run_cli

# Fast failures: a refused connection is retried with backoff, which is not what is tested.
NO_RETRY = ["-s", "RETRY_TIMES=0"]


def problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.mark.slow
def test_cron_run_against_an_unreachable_source_exits_non_zero_naming_it(tmp_path, refused_port):
    port = refused_port
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[sources]]\nname = "wire"\nfeeds = ["http://127.0.0.1:{port}/feed.xml"]\n'
        f'start_urls = ["http://127.0.0.1:{port}/"]\n'
    )
    result = run_cli("crawl", "--quiet", "--sources", str(sources), "--db", str(tmp_path / "a.db"))
    assert result.returncode == 2, result
    assert result.stdout == ""
    (line,) = problem_lines(result.stderr)  # one line per failing source, nothing else
    assert line.startswith("source wire failed: all 2 targets failed (")
    assert "connection_refused" in line and f"127.0.0.1:{port}/feed.xml" in line


@pytest.mark.slow
def test_url_on_a_closed_port_exits_non_zero_and_says_so(tmp_path):
    result = run_cli(
        "crawl",
        "--quiet",
        "--url",
        "http://127.0.0.1:9/",
        "--db",
        str(tmp_path / "a.db"),
        *NO_RETRY,
    )
    assert result.returncode == 2, result
    assert problem_lines(result.stderr) == [
        "source 127.0.0.1 failed: its target failed (http://127.0.0.1:9/ connection_refused)"
    ]


@pytest.mark.slow
def test_offline_sources_that_do_not_resolve_exit_non_zero(tmp_path):
    # What the bundled sources.toml is offline: every host fails to resolve.
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[sources]]\nname = "npr"\nfeeds = ["https://feeds.npr.invalid/1001/rss.xml"]\n\n'
        '[[sources]]\nname = "apnews"\nstart_urls = ["https://apnews.invalid/"]\n'
    )
    db = tmp_path / "a.db"
    result = run_cli("crawl", "--sources", str(sources), "--db", str(db), *NO_RETRY)
    assert result.returncode == 2, result
    assert re.search(r"failed +2 sources: apnews, npr", result.stdout), result.stdout
    assert "source npr failed: its target failed (https://feeds.npr.invalid/1001/rss.xml dns)" in (
        result.stdout
    )
    (run,) = query(db, "select status, errors from crawl_runs")
    assert run == {"status": "completed", "errors": 2}  # the run itself ended normally


@pytest.mark.slow
def test_one_dead_source_among_good_ones_fails_the_run_but_keeps_the_rest(
    demo_server, demo_sources, tmp_path, refused_port
):
    port = refused_port
    dead = f'\n[[sources]]\nname = "gone"\nfeeds = ["http://127.0.0.1:{port}/rss"]\n'
    demo_sources.write_text(demo_sources.read_text() + dead)
    db = tmp_path / "a.db"
    result = run_cli("crawl", "--sources", str(demo_sources), "--db", str(db), *FAST, *NO_RETRY)
    assert result.returncode == 2, result
    assert re.search(r"failed +1 source: gone\n", result.stdout), result.stdout
    assert query(db, "select count(*) as n from articles")[0]["n"] == 41
    quiet = run_cli(
        "crawl", "-q", "--sources", str(demo_sources), "--db", str(db), *FAST, *NO_RETRY
    )
    assert quiet.returncode == 2
    assert [line.split(":")[0] for line in problem_lines(quiet.stderr)] == ["source gone failed"]


def test_a_feed_that_is_not_a_feed_fails_its_source(demo_server, tmp_path):
    front = demo_server.url + "/ledger/"  # HTML, not RSS
    result = run_cli("crawl", "-q", "--feed", front, "--db", str(tmp_path / "a.db"), *FAST)
    assert result.returncode == 2, result
    assert problem_lines(result.stderr) == [
        f"source 127.0.0.1 failed: feed {front} is empty or not a feed"
    ]


@pytest.mark.slow
def test_errors_past_the_threshold_fail_the_run(static_server, tmp_path):
    folder, base = static_server
    article = "<html><body><article><p>" + "A sentence about the harbour. " * 40
    (folder / "story.html").write_text(article + "</p></article></body></html>")
    urls = [f"{base}/story.html", *(f"{base}/missing-{n}.html" for n in range(3))]
    args = [arg for url in urls for arg in ("--url", url)]
    db = str(tmp_path / "a.db")
    result = run_cli("crawl", "-q", *args, "--db", db, *FAST)
    assert result.returncode == 2, result
    assert problem_lines(result.stderr) == [
        "3 of 4 requests failed (75%), more than --max-error-rate 25%"
    ]
    tolerant = run_cli("crawl", "-q", *args, "--db", db, "--max-error-rate", "0.8", *FAST)
    assert tolerant.returncode == 0, tolerant
    assert tolerant.stdout == tolerant.stderr == ""


@pytest.mark.slow
def test_a_good_run_exits_0_and_quiet_prints_nothing(demo_sources, tmp_path):
    result = run_cli(
        "crawl", "-q", "--sources", str(demo_sources), "--db", str(tmp_path / "a.db"), *FAST
    )
    assert result.returncode == 0, result
    assert result.stdout == result.stderr == ""


def test_exit_statuses_are_in_the_help_and_usage_errors_exit_1():
    help_text = run_cli("crawl", "--help").stdout
    assert "Exit status:" in help_text and "--max-error-rate" in help_text
    bad = run_cli("crawl", "--no-such-option")
    assert bad.returncode == 1
    assert "No such option" in bad.stderr


@pytest.mark.slow
def test_max_pages_fetches_at_most_n_pages(demo_server, demo_sources, tmp_path):
    for limit in (3, 10):
        demo_server.requests.clear()
        db = tmp_path / f"{limit}.db"
        result = run_cli(
            "crawl",
            "--sources",
            str(demo_sources),
            "--db",
            str(db),
            "--max-pages",
            str(limit),
            *FAST,
        )
        assert result.returncode == 0, result
        fetched = [p for p in demo_server.requests.paths() if not p.endswith("/robots.txt")]
        assert len(fetched) <= limit, fetched
        (run,) = query(db, "select * from crawl_runs")
        assert run["finish_reason"] == "closespider_pagecount"
        assert run["pages_fetched"] == len(fetched)
        left = re.search(r"not followed +(\d+) \(max_pages (\d+)\)", result.stdout)
        assert left and int(left.group(1)) > 0, result.stdout
