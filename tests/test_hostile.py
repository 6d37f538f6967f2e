"""One real crawl of the hostile site (tests/hostile_site.py): every way a server can fail, in one
run, next to a few good pages. The run must finish, archive every good page, and count each bad
one under its reason in its `crawl_runs` row."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.conftest import FAST, query, run_cli
from tests.hostile_site import DATE, HostileSite

pytestmark = [
    pytest.mark.slow,  # runs real crawls
    # Every test reads the one module-scoped crawl: on one worker of `make test`, it runs once.
    pytest.mark.xdist_group("test_hostile"),
]

BAD = "/bad" + DATE
RETRIES = 1
BACKOFF = 0.3
# Short timeouts and waits, so the whole hostile crawl takes seconds.
HOSTILE = [
    *FAST,
    "-s", "DOWNLOAD_TIMEOUT=2",
    "-s", f"RETRY_TIMES={RETRIES}",
    "-s", f"NEWSARCHIVE_RETRY_BACKOFF={BACKOFF}",
    "-s", "NEWSARCHIVE_RETRY_AFTER_MAX=2",
    "-s", "DOWNLOAD_MAXSIZE=1000000",
    "-s", "REDIRECT_MAX_TIMES=5",
]  # fmt: skip


@dataclass
class Crawl:
    site: HostileSite
    db: Path
    result: CompletedProcess
    run: dict
    stats: dict


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> Crawl:
    folder = tmp_path_factory.mktemp("hostile")
    with HostileSite() as site:
        sources = folder / "sources.toml"
        sources.write_text(site.sources_toml(), encoding="utf-8")
        db = folder / "archive.db"
        result = run_cli("crawl", "--sources", str(sources), "--db", str(db), *HOSTILE)
        (run,) = query(db, "select * from crawl_runs")
        yield Crawl(site, db, result, run, json.loads(run["stats"]))


def test_the_run_finishes(crawl):
    assert crawl.run["status"] == "completed"
    assert "Traceback" not in crawl.result.stderr
    assert "Crawl run 1 completed" in crawl.result.stdout


def test_the_broken_sitemap_fails_its_source_and_the_run(crawl):
    # Exit status 2: the run ended, but a sitemap of the hostile source is garbage.
    assert crawl.result.returncode == 2, crawl.result.stderr
    garbage = crawl.site.url + "/sitemap-garbage.xml"
    assert re.search(r"failed +1 source: hostile\n", crawl.result.stdout), crawl.result.stdout
    assert f"source hostile failed: sitemap {garbage} lists no article" in crawl.result.stdout


def test_every_good_page_is_archived(crawl):
    archived = {row["url"] for row in query(crawl.db, "select url from article_urls")}
    site = crawl.site
    wanted = {site.url + path for path, case in site.cases.items() if "archived" in case.expect}
    wanted.add(site.extra_targets()[2][0])  # the other source's own page
    assert wanted <= archived
    assert crawl.run["articles_new"] == len(wanted)
    texts = {row["url"]: row["text"] for row in query(crawl.db, "select url, text from articles")}
    assert all("story continues" in text for text in texts.values())


@pytest.mark.parametrize(
    ("group", "column"),
    [
        ("error", "error_kinds"),
        ("dropped", "dropped"),
        ("out_of_scope", "out_of_scope"),
        ("warning", "warnings"),
    ],
)
def test_each_bad_page_is_counted_under_its_reason(crawl, group, column):
    assert json.loads(crawl.run[column]) == crawl.site.expected(group)


def test_the_totals_add_up(crawl):
    assert crawl.run["errors"] == sum(crawl.site.expected("error").values())
    assert crawl.run["pages_dropped"] == sum(crawl.site.expected("dropped").values())
    per_source = json.loads(crawl.run["per_source"])
    assert per_source["hostile"]["errors"] == crawl.run["errors"]
    assert per_source["hostile"]["out_of_scope"] == sum(
        crawl.site.expected("out_of_scope").values()
    )
    assert per_source["neighbour"]["new"] == 1


def test_charsets_are_read_right(crawl):
    texts = {row["url"]: row["text"] for row in query(crawl.db, "select url, text from articles")}
    for name in ("charset-wrong", "charset-missing", "cp1252-declared-utf8"):
        text = texts[crawl.site.url + BAD + name + ".html"]
        assert "Zürich and Malmö — café owners, naïvely" in text, name
    assert "\ufffd" not in texts[crawl.site.url + BAD + "charset-wrong.html"]


def test_client_errors_are_never_retried(crawl):
    for name in ("not-found", "gone", "forbidden", "rate-limited-for-an-hour"):
        assert len(crawl.site.hits(BAD + name + ".html")) == 1, name


def test_server_errors_and_timeouts_are_retried_with_backoff(crawl):
    for name in ("server-error", "slow", "reset", "truncated", "empty"):
        hits = crawl.site.hits(BAD + name + ".html")
        assert len(hits) == 1 + RETRIES, name
    first, second = crawl.site.hits(BAD + "server-error.html")
    assert second.at - first.at >= BACKOFF * 0.5  # jitter takes off up to half


def test_retry_after_is_honoured(crawl):
    for name in ("rate-limited-once", "unavailable"):
        first, second = crawl.site.hits(BAD + name + ".html")
        assert second.at - first.at >= 0.95, name  # Retry-After: 1
    assert crawl.stats["newsarchive/retry/retry_after_too_long"] == 1


def test_robots_txt_is_obeyed(crawl):
    assert crawl.site.hits("/private" + DATE + "members-only.html") == []
    assert crawl.stats["robotstxt/forbidden"] == 1


def test_nothing_out_of_scope_is_fetched(crawl):
    hosts = {(hit.host.split(":")[0], hit.path) for hit in crawl.site.hits()}
    assert ("localhost", "/neighbour/2025/03/14/another-source-story.html") not in hosts
    assert not any("with-credentials" in path or "/pub/" in path for _, path in hosts)
    assert not any("elsewhere" in host for host, _ in hosts)


def test_stats_command_shows_the_counts(crawl):
    result = run_cli("stats", "--db", str(crawl.db))
    assert result.returncode == 0, result.stderr
    assert "http_404 1" in result.stdout
    assert "out of scope: " in result.stdout and "credentials 1" in result.stdout
    as_json = json.loads(run_cli("stats", "--db", str(crawl.db), "--json").stdout)
    assert as_json["runs"][0]["error_kinds"] == crawl.site.expected("error")
    assert as_json["runs"][0]["out_of_scope"] == crawl.site.expected("out_of_scope")


def test_an_adhoc_url_is_scoped_to_its_own_host(tmp_path):
    with HostileSite() as site:
        db = tmp_path / "archive.db"
        result = run_cli("crawl", "--url", site.url + "/", "--db", str(db), *HOSTILE)
        assert result.returncode == 0, result.stderr
        hosts = {hit.host.split(":")[0] for hit in site.hits()}
    assert hosts == {"127.0.0.1"}
    (run,) = query(db, "select * from crawl_runs")
    out_of_scope = json.loads(run["out_of_scope"])
    assert out_of_scope == {"offsite": 2, "credentials": 1, "scheme": 2}
    assert "out of scope    5 (offsite 2, scheme 2, credentials 1)" in result.stdout
