"""Real crawls of fixture sites on 127.0.0.1 into real SQLite archives, through the CLI."""

import json
import re
import shutil

import pytest

from bench.extraction_data import SHARED
from tests.conftest import FAST, ROOT, query, run_cli

pytestmark = pytest.mark.slow  # runs real crawls

BOILERPLATE = ("Also Read", "Leave a Reply", "Back To Top", "Your email address will not")


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_crawl_demo_site_archives_every_article(demo_server, demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    result = run_cli("crawl", "--sources", str(demo_sources), "--db", str(db), *FAST)
    assert result.returncode == 0, result.stderr
    expected = {demo_server.url + a.path: a for a in demo_server.expected_articles()}
    rows = {row["url"]: row for row in query(db, "select * from articles")}
    assert set(rows) == set(expected)
    for url, row in rows.items():
        truth = expected[url]
        assert row["title"] == truth.title
        assert row["source"] == truth.site
        assert row["published"][:10] == truth.published.date().isoformat()
        assert row["word_count"] > 100
        assert not any(phrase in row["text"] for phrase in BOILERPLATE), url
    (run,) = query(db, "select * from crawl_runs")
    assert run["status"] == "completed"
    assert run["articles_new"] == len(expected)
    assert run["errors"] == 0
    assert json.loads(run["per_source"])["ledger"]["new"] > 0
    assert "Crawl run 1 completed" in result.stdout
    assert query(db, "select count(*) as n from article_html")[0]["n"] == len(expected)
    assert query(db, "pragma journal_mode")[0]["journal_mode"] == "wal"


def test_full_text_search_finds_crawled_articles(demo_server, demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    assert run_cli("crawl", "--sources", str(demo_sources), "--db", str(db), *FAST).returncode == 0
    article = demo_server.expected_articles()[0]
    word = max(re.findall(r"[A-Za-z]{9,}", article.text), key=len)
    hits = query(
        db,
        "select articles.url from articles_fts join articles on articles.id = articles_fts.rowid "
        "where articles_fts match ? order by rank",
        [word],
    )
    assert demo_server.url + article.path in [hit["url"] for hit in hits]


def test_seed_article_is_archived_clean(static_server, tmp_path):
    # The shared seed page, or the copy kept with the extraction fixtures.
    fixtures = SHARED / "fixtures"
    if not (fixtures / "seed-article.html").exists():
        fixtures = ROOT / "tests" / "fixtures" / "extraction"
    folder, base = static_server
    shutil.copy(fixtures / "seed-article.html", folder / "seed-article.html")
    db = tmp_path / "archive.db"
    result = run_cli("crawl", "--url", f"{base}/seed-article.html", "--db", str(db), *FAST)
    assert result.returncode == 0, result.stderr
    (row,) = query(db, "select text from articles")
    expected = (fixtures / "seed-article.expected.txt").read_text(encoding="utf-8")
    assert normalized(row["text"]) == normalized(expected)


def test_second_run_fetches_no_article_again(demo_server, demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    assert run_cli("crawl", "--sources", str(demo_sources), "--db", str(db), *FAST).returncode == 0
    article_paths = {a.path for a in demo_server.expected_articles()}
    assert all(demo_server.requests.count(p) == 1 for p in article_paths)
    demo_server.requests.clear()
    result = run_cli("crawl", "--sources", str(demo_sources), "--db", str(db), *FAST)
    assert result.returncode == 0, result.stderr
    fetched = set(demo_server.requests.paths())
    assert fetched and not fetched & article_paths
    runs = query(db, "select * from crawl_runs order by id")
    assert runs[1]["articles_new"] == 0
    assert runs[1]["pages_skipped"] == len(article_paths)


def test_adhoc_feed_sitemap_and_url(demo_server, tmp_path):
    ledger, harbor = demo_server.sources()
    db = tmp_path / "archive.db"
    result = run_cli("crawl", "--feed", ledger["feeds"][0], "--db", str(db), *FAST)
    assert result.returncode == 0, result.stderr
    from_feed = query(db, "select count(*) as n, min(published_source) as s from articles")[0]
    assert from_feed["n"] == 10  # the feed lists the latest ten
    result = run_cli("crawl", "--sitemap", harbor["sitemaps"][0], "--db", str(db), *FAST)
    assert result.returncode == 0, result.stderr
    harbor_count = query(db, "select count(*) as n from articles where url like '%/harbor/%'")
    assert harbor_count[0]["n"] == 20
    article = demo_server.expected_articles()[-1]
    result = run_cli("crawl", "--url", demo_server.url + article.path, "--db", str(db), *FAST)
    assert result.returncode == 0, result.stderr
    assert query(db, "select count(*) as n from articles where url = ?",
                 [demo_server.url + article.path])[0]["n"] == 1  # fmt: skip


def test_front_page_crawl_tells_articles_from_index_pages(demo_server, tmp_path):
    db = tmp_path / "archive.db"
    front = demo_server.url + "/ledger/"
    result = run_cli("crawl", "--url", front, "--db", str(db), *FAST)
    assert result.returncode == 0, result.stderr
    urls = [row["url"] for row in query(db, "select url from articles")]
    assert urls and all(re.search(r"/ledger/\d{4}/\d\d/\d\d/", url) for url in urls)


def test_max_pages_bounds_a_run(demo_server, demo_sources, tmp_path):
    db = tmp_path / "archive.db"
    result = run_cli(
        "crawl", "--sources", str(demo_sources), "--db", str(db), "--max-pages", "8",
        "-s", "CONCURRENT_REQUESTS=1", *FAST,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (run,) = query(db, "select * from crawl_runs")
    assert run["finish_reason"] == "closespider_pagecount"
    assert run["pages_fetched"] <= 10


def test_scrapy_crawl_from_the_repo_root(demo_sources, tmp_path):
    import subprocess
    import sys

    db = tmp_path / "archive.db"
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"sources_file={demo_sources}",
         "-s", f"ARCHIVE_DB={db}", "-s", "LOG_LEVEL=WARNING", *FAST],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert query(db, "select count(*) as n from articles")[0]["n"] == 41
    listed = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"], cwd=ROOT, capture_output=True, text=True
    )
    assert set(listed.stdout.split()) >= {"news", "feed", "sitemap", "frontpage", "urls"}


def test_bad_input_gets_one_line_errors(tmp_path):
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[[sources]]\nname = 'x'\nfeeds = ['not a url']\n")
    cases = [
        (["crawl", "--sources", str(tmp_path / "missing.toml")], "sources file not found"),
        (["crawl", "--sources", str(bad_toml)], "bad.toml:1: source 'x': feeds: not an http"),
        (["crawl", "--url", "ftp://example.com/x"], "not an http(s) URL"),
        (["crawl", "--sources", str(bad_toml), "nope"], "bad.toml:1"),
        (["stats", "--db", str(tmp_path / "none.db")], "does not exist"),
    ]
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"garbage" * 1000)
    cases.append((["crawl", "--url", "http://127.0.0.1:9/x", "--db", str(junk)], "not a SQLite"))
    for args, message in cases:
        result = run_cli(*args)
        assert result.returncode != 0, args
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 3, result.stderr
