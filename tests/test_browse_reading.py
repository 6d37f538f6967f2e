"""Reading the archive in datasette: the articles grid, crawl runs, dates and article bodies
with their structure (the real app through its test client)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from browse import make_datasette
from browse.plugin import human_date
from pipelines.archive.schema import open_archive
from tests.test_browse import ARTICLES, get, make_archive


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return make_archive(tmp_path_factory.mktemp("reading") / "archive.db")


@pytest.fixture(scope="module")
def ds(archive):
    return make_datasette(archive)


def test_articles_grid_shows_a_subset_of_columns_and_offers_all(ds):
    html = get(ds, "/archive/articles").text
    body_class = re.search(r'<body class="([^"]*)"', html).group(1)
    assert "default-columns" in body_class.split()
    assert "Columns shown: id, title, source, published, authors, word_count" in html
    link = re.search(r'<a class="all-columns" href="([^"]+)"', html).group(1)
    assert "_col=text" in link and "_col=markdown" in link
    # authors as names, never as raw JSON (article 5 has none)
    assert '<td class="col-authors type-str">Ben Becker, Carla Costa</td>' in html
    assert '<td class="col-authors type-str">[]</td>' not in html
    # the titles link to the article pages
    assert '<a href="/archive/articles/1">Ceasefire talks resume in Cairo</a>' in html
    # with a column choice of one's own, every chosen column shows
    chosen = get(ds, "/archive/articles?_col=title&_col=text").text
    assert "default-columns" not in re.search(r'<body class="([^"]*)"', chosen).group(1)
    # the JSON API keeps every column
    row = get(ds, "/archive/articles/1.json?_shape=objects").json()["rows"][0]
    assert row["text"].startswith("Ceasefire talks") and row["markdown"].startswith("Ceasefire")


def test_the_grid_hides_every_column_outside_the_subset(ds):
    css = get(ds, "/-/static-plugins/newsarchive/browse.css").text
    rule = re.search(r"\.default-columns table\.rows-and-columns :is\(th, td\):not\(([^)]*)\)", css)
    assert rule, "the default-columns rule is missing from browse.css"
    shown = {name.strip().removeprefix(".col-") for name in rule.group(1).split(",")}
    assert shown == {"id", "title", "source", "published", "authors", "word_count"}


def test_column_descriptions_are_folded_not_listed_above_the_grid(ds):
    html = get(ds, "/archive/articles").text
    folded = re.search(
        r'<details class="archive-column-descriptions"><summary>What the (\d+) columns hold'
        r"</summary>(.*?)</details>",
        html,
        re.S,
    )
    assert folded and int(folded.group(1)) >= 24
    assert "<dt>markdown</dt>" in folded.group(2)
    assert "archive-table" in re.search(r'<body class="([^"]*)"', html).group(1)
    css = get(ds, "/-/static-plugins/newsarchive/browse.css").text
    assert ".archive-table dl.column-descriptions { display: none; }" in css
    # and each column's menu has its description
    assert 'data-column-description="Headline"' in html


def test_crawl_run_counts_and_error_kinds_are_small_tables(ds):
    html = get(ds, "/archive/crawl_runs/2").text
    counts = re.findall(r'<table class="small-table counts">(.*?)</table>', html, re.S)
    assert len(counts) == 2  # dropped, error_kinds
    assert any('<td>timeout</td><td class="num">2</td>' in table for table in counts)
    assert any('<td>too_short</td><td class="num">3</td>' in table for table in counts)
    per_source = re.search(r'<table class="small-table per-source">(.*?)</table>', html, re.S)
    assert "<th>source</th><th>pages</th><th>new</th>" in per_source.group(1)
    assert '<td>herald</td><td class="num">2</td>' in per_source.group(1)
    assert "<summary>2 targets</summary>" in html
    assert "<summary>2 Scrapy stats</summary>" in html
    assert "{&#34;timeout&#34;" not in html and '{"timeout"' not in html  # no raw JSON
    grid = get(ds, "/archive/crawl_runs").text
    assert '<table class="small-table counts">' in grid


def test_dates_are_human_readable_with_the_iso_value_kept(ds):
    article = get(ds, "/archive/articles/1").text
    assert (
        '<time datetime="2025-03-01T10:00:00Z" title="2025-03-01T10:00:00Z">'
        "1 Mar 2025, 10:00 UTC</time>" in article
    )
    grid = get(ds, "/archive/articles").text
    assert '<time datetime="2025-02-15" title="2025-02-15">15 Feb 2025</time>' in grid
    runs = get(ds, "/archive/crawl_runs").text
    assert '<time datetime="2025-03-02T06:00:00Z"' in runs and "2 Mar 2025, 06:00 UTC" in runs
    home = get(ds, "/").text
    assert '<time datetime="2025-03-02T08:30:00Z" title="2025-03-02T08:30:00Z">2 Mar 2025' in home
    # JSON keeps the ISO values
    row = get(ds, "/archive/articles/1.json?_shape=objects").json()["rows"][0]
    assert row["published"] == "2025-03-01T10:00:00Z"


def test_human_date_keeps_offsets_and_leaves_other_values_alone():
    assert "2 Mar 2025, 08:30 +0200" in human_date("2025-03-02T08:30:00+02:00")
    assert human_date("yesterday") == "yesterday"
    assert human_date(None) == ""


def test_article_page_renders_headings_and_lists_from_markdown(ds):
    html = get(ds, "/archive/articles/1").text
    assert "<h2>What is on the table</h2>" in html and "<h2>What comes next</h2>" in html
    assert "<li>a halt to the shelling</li>" in html
    assert "<p>Mediators hope for a deal within days.</p>" in html


HOSTILE = "\n\n".join(
    [
        "<script>alert('md')</script>",
        "[click](javascript:alert(1)) ![img](https://evil.example/x.png) <https://evil.example>",
        '<img src="x" onerror="alert(2)">',
        "> quoted <b>bold</b>",
    ]
)


def test_markdown_from_the_archive_is_escaped(tmp_path):
    articles = [dict(ARTICLES[0], markdown=HOSTILE), *ARTICLES[1:]]
    ds = make_datasette(make_archive(tmp_path / "archive.db", articles))
    html = get(ds, "/archive/articles/1").text
    body = html[html.index('<div class="article-text') :]
    body = body[: body.index("</div>")]
    assert "<script" not in body and "<img" not in body and "<a " not in body
    assert "&lt;script&gt;alert(&#x27;md&#x27;)&lt;/script&gt;" in body or "&lt;script&gt;" in body
    assert "<blockquote>" in body and "&lt;b&gt;bold&lt;/b&gt;" in body


def test_an_archive_without_the_markdown_column_shows_paragraphs(tmp_path):
    path = make_archive(tmp_path / "archive.db")
    conn = sqlite3.connect(path)
    # an archive from before m006_article_markdown
    conn.execute("alter table articles drop column markdown")
    conn.execute("delete from _sqlite_migrations where name = 'm006_article_markdown'")
    conn.commit()
    conn.close()
    ds = make_datasette(path)
    html = get(ds, "/archive/articles/1").text
    assert "<p>Mediators hope for a deal within days.</p>" in html
    assert "<h2>" not in html.split('class="article-text')[1].split("</div>")[0]
    assert get(ds, "/archive/articles").status_code == 200
    open_archive(path).close()  # the next crawl adds the column
    assert "markdown" in {
        r[1] for r in sqlite3.connect(path).execute("pragma table_info(articles)")
    }
