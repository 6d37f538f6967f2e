"""One discovery rule, from the user's side: a --url that is not an article is followed exactly
like a start_url (NEWSARCHIVE_FOLLOW_DEPTH), a limit that cuts the crawl is counted in the
summary, and `crawl --list` prints what a crawl would fetch without fetching it."""

from __future__ import annotations

import re

import pytest

from tests.conftest import FAST, query, run_cli


def archived_urls(db) -> set[str]:
    return {row["url"] for row in query(db, "select url from articles")}


@pytest.mark.slow
def test_url_of_a_front_page_finds_what_start_urls_find(demo_server, tmp_path):
    front = demo_server.url + "/ledger/"
    ledger = {
        demo_server.url + a.path for a in demo_server.expected_articles() if a.site == "ledger"
    }
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[sources]]\nname = "ledger"\nstart_urls = ["{front}"]\n')
    for depth in ("2", "1"):
        setting = ["-s", f"NEWSARCHIVE_FOLLOW_DEPTH={depth}", *FAST]
        by_url, by_start = tmp_path / f"url-{depth}.db", tmp_path / f"start-{depth}.db"
        assert run_cli("crawl", "--url", front, "--db", str(by_url), *setting).returncode == 0
        result = run_cli("crawl", "--sources", str(sources), "--db", str(by_start), *setting)
        assert result.returncode == 0, result
        assert archived_urls(by_url) == archived_urls(by_start)
        if depth == "2":  # front -> section -> article reaches every article of the paper
            assert archived_urls(by_url) == ledger
        else:  # the front page's own links only
            assert 0 < len(archived_urls(by_url)) < len(ledger)


@pytest.mark.slow
def test_a_depth_limit_that_cuts_the_crawl_is_counted(demo_server, tmp_path):
    front = demo_server.url + "/ledger/"
    db = tmp_path / "a.db"
    result = run_cli("crawl", "--url", front, "--db", str(db), "-s", "DEPTH_LIMIT=1", *FAST)
    assert result.returncode == 0, result
    cut = re.search(r"not followed +(\d+) \(depth_limit (\d+)\)", result.stdout)
    assert cut and int(cut.group(1)) > 0, result.stdout
    stored = len(archived_urls(db))
    assert 0 < stored < 21


def test_list_prints_the_articles_a_crawl_would_fetch_without_fetching_them(
    demo_server, demo_sources, tmp_path
):
    db = tmp_path / "archive.db"
    result = run_cli("crawl", "--list", "--sources", str(demo_sources), "--db", str(db), *FAST)
    assert result.returncode == 0, result
    expected = {demo_server.url + a.path: a.site for a in demo_server.expected_articles()}
    listed: dict[str, tuple[str, str]] = {}
    source = None
    for line in result.stdout.splitlines():
        if header := re.fullmatch(r"(\w+): (\d+) articles?", line):
            source = header.group(1)
        elif item := re.fullmatch(r"  (feed|sitemap|page link) +(\S+)", line):
            assert item.group(2) not in listed, line  # each article once
            listed[item.group(2)] = (source, item.group(1))
    assert {url: site for url, (site, _) in listed.items()} == expected
    assert {how for _, how in listed.values()} >= {"feed", "sitemap"}
    assert result.stdout.rstrip().endswith(
        "41 articles to fetch from 2 sources (nothing fetched or written)"
    )
    fetched = set(demo_server.requests.paths())
    assert not fetched & {a.path for a in demo_server.expected_articles()}  # no article fetched
    assert not db.exists()  # and nothing written


@pytest.mark.slow
def test_list_leaves_out_what_the_archive_has(demo_server, demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    assert run_cli("crawl", "--sources", str(demo_sources), "--db", str(db), *FAST).returncode == 0
    result = run_cli("crawl", "--list", "--sources", str(demo_sources), "--db", str(db), *FAST)
    assert result.returncode == 0, result
    assert result.stdout.rstrip().endswith(
        "0 articles to fetch from 2 sources, 41 archived ones not changed"
        " (nothing fetched or written)"
    )
    assert len(query(db, "select id from crawl_runs")) == 1  # the listing was no run


@pytest.mark.slow
def test_list_reports_a_source_that_fails(tmp_path):
    result = run_cli("crawl", "--list", "--url", "http://127.0.0.1:9/", "-s", "RETRY_TIMES=0")
    assert result.returncode == 2
    assert result.stdout.startswith("127.0.0.1: 0 articles")
    assert result.stderr.strip() == (
        "source 127.0.0.1 failed: its target failed (http://127.0.0.1:9/ connection_refused)"
    )
