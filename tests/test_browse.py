"""The archive's datasette (browse.make_datasette), through its real app and test client."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest

from browse import make_datasette
from crawler.compression import compress_html
from pipelines.archive.schema import open_archive

P = "\n"  # paragraphs of an extracted text are lines

ARTICLES = [
    {
        "id": 1,
        "url": "https://herald.example/world/ceasefire-talks",
        "source": "herald",
        "site_name": "The Daily Herald",
        "title": "Ceasefire talks resume in Cairo",
        "authors": ["Anna Adams"],
        "published": "2025-03-01T10:00:00Z",
        "language": "en",
        "description": "Negotiators meet again.",
        "text": P.join(
            [
                "Ceasefire talks resumed in Cairo on Saturday, officials said.",
                "The talks on a ceasefire are the first since January.",
                "Mediators hope for a deal within days.",
            ]
        ),
        # the body with its structure (pipelines.article.markdown)
        "markdown": "\n\n".join(
            [
                "Ceasefire talks resumed in Cairo on Saturday, officials said.",
                "## What is on the table",
                "The talks on a ceasefire are the first since January.",
                "- a halt to the shelling\n- the release of prisoners",
                "## What comes next",
                "Mediators hope for a deal within days.",
            ]
        ),
        "version": 2,
    },
    {
        "id": 2,
        "url": "https://metro.example/politics/snap-election",
        "source": "metro",
        "site_name": "Metro Wire",
        "title": "Prime minister calls snap election",
        "authors": ["Ben Becker", "Carla Costa"],
        "published": "2025-03-02T08:30:00Z",
        "language": "en",
        "text": P.join(
            [
                "The prime minister called a snap election for May.",
                "Opposition parties said they were ready; a ceasefire was not mentioned.",
            ]
        ),
    },
    {
        "id": 3,
        "url": "https://rundschau.example/politik/haushalt",
        "source": "rundschau",
        "site_name": "Rundschau",
        "title": "Regierung plant neuen Haushalt",
        "authors": ["Karin Fischer"],
        "published": "2025-02-15",
        "language": "de",
        "text": "Die Regierung plant einen neuen Haushalt. Die Minister beraten.",
    },
    {
        "id": 4,
        "url": "https://metro.example/health/covid-19-vaccines",
        "source": "metro",
        "site_name": "Metro Wire",
        "title": "Covid-19 vaccine rollout speeds up",
        "authors": ["Ben Becker"],
        "published": "2025-01-10T12:00:00Z",
        "language": "en",
        "text": "The covid-19 vaccine rollout reached elderly patients, the minister said.",
    },
    {
        "id": 5,
        "url": "https://herald.example/tech/<script>",
        "source": "herald",
        "site_name": "The Daily Herald",
        "title": "Hackers post <script>alert('x')</script> in comments",
        "authors": [],
        "published": "2025-02-20T09:00:00Z",
        "language": "en",
        "text": "A post said <b>bold</b> and <script>alert('x')</script> on the ministry site.",
    },
]


def make_archive(path: Path, articles: list[dict] = ARTICLES) -> Path:
    """An archive created by the project's own schema, holding `articles`, two crawl runs,
    one earlier version of article 1 and the raw HTML of article 5."""
    db = open_archive(path)
    db["crawl_runs"].insert_all(
        [
            {
                "id": 1,
                "started": "2025-03-01T06:00:00Z",
                "ended": "2025-03-01T06:05:00Z",
                "status": "completed",
                "finish_reason": "finished",
                "spider": "news",
                "pages_fetched": 12,
                "articles_new": 4,
                "errors": 0,
            },
            {
                "id": 2,
                "started": "2025-03-02T06:00:00Z",
                "ended": "2025-03-02T06:02:00Z",
                "status": "failed",
                "finish_reason": "shutdown",
                "spider": "news",
                "pages_fetched": 3,
                "articles_new": 1,
                "articles_updated": 1,
                "errors": 2,
                "error_kinds": json.dumps({"timeout": 2}),
                "pages_dropped": 4,
                "dropped": json.dumps({"too_short": 3, "not_html": 1}),
                "per_source": json.dumps(
                    {
                        "herald": {"pages": 2, "new": 1, "updated": 1, "dropped": 3, "errors": 2},
                        "metro": {"pages": 1, "new": 0, "updated": 0, "dropped": 1, "errors": 0},
                    }
                ),
                "targets": json.dumps(
                    [
                        {
                            "kind": "feed",
                            "url": "https://herald.example/feed.xml",
                            "source": "herald",
                        },
                        {"kind": "start_url", "url": "https://metro.example/", "source": "metro"},
                    ]
                ),
                "stats": json.dumps({"downloader/request_count": 5, "finish_reason": "shutdown"}),
            },
        ]
    )
    for article in articles:
        row = {
            "first_seen": article["published"],
            "last_seen": "2025-03-02T06:01:00Z",
            "last_changed": article["published"],
            "version": 1,
            "run_id": 1,
            "tags": "[]",
            "categories": "[]",
            **article,
        }
        row["authors"] = json.dumps(article["authors"])
        row["word_count"] = len(article["text"].split())
        db["articles"].insert(row)
    db["article_versions"].insert(
        {
            "article_id": 1,
            "version": 1,
            "title": "Ceasefire talks to resume",
            "text": "Talks were due to resume.\nNo date was set.",
            "word_count": 9,
            "first_seen": "2025-02-28T06:00:00Z",
            "last_seen": "2025-03-01T06:00:00Z",
            "run_id": 1,
        }
    )
    html = b"<html><body><script>alert('raw')</script><p>RAW-HTML-MARKER</p></body></html>"
    db["article_html"].insert(
        {
            "article_id": 5,
            "url": ARTICLES[4]["url"],
            "fetched_at": "2025-02-20T09:05:00Z",
            "status": 200,
            "content_type": "text/html",
            "encoding": "utf-8",
            "size": len(html),
            "html": compress_html(html),
        }
    )
    db.close()
    return path


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return make_archive(tmp_path_factory.mktemp("archive") / "archive.db")


@pytest.fixture(scope="module")
def ds(archive):
    return make_datasette(archive)


def get(ds, path: str, method: str = "get", **kwargs):
    """A response of the real datasette app (in-process ASGI)."""
    return asyncio.run(getattr(ds.client, method)(path, **kwargs))


def search_ids(ds, **params) -> list[int]:
    response = get(ds, "/archive/search.json?_shape=array&" + urlencode(params))
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()]


def test_home_page_shows_sources_newest_articles_runs_and_chart(ds):
    page = get(ds, "/")
    assert page.status_code == 200
    html = page.text
    assert "5 articles from 3 sources" in html
    assert '<a href="/archive/articles?source=herald">The Daily Herald</a>' in html
    assert html.index("Prime minister calls snap election") < html.index("Ceasefire talks resume")
    assert 'class="status-failed"' in html  # the last run failed
    assert "<svg" in html and "Articles per day per source" in html
    assert 'action="/archive/search"' in html


def test_search_ranks_title_matches_first_and_returns_the_contract_columns(ds):
    response = get(ds, "/archive/search.json?_shape=array&q=ceasefire")
    rows = response.json()
    assert [row["id"] for row in rows] == [1, 2]
    assert set(rows[0]) == {
        "id",
        "title",
        "source",
        "site_name",
        "published",
        "url",
        "snippet",
        "rank",
        "also_on",
    }
    assert rows[0]["rank"] < rows[1]["rank"]  # bm25: lower is better


def test_search_page_highlights_matched_words_in_escaped_snippets(ds):
    html = get(ds, "/archive/search?q=ceasefire").text
    assert "<mark>ceasefire</mark>" in html
    assert '<a href="/archive/articles/1">Ceasefire talks resume in Cairo</a>' in html
    html = get(ds, "/archive/search?q=bold").text  # text holding markup stays text
    assert "&lt;b&gt;<mark>bold</mark>&lt;/b&gt;" in html
    assert "<script>alert" not in html


def test_phrase_prefix_and_boolean_queries(ds):
    assert search_ids(ds, q='"prime minister"') == [2]
    assert search_ids(ds, q='"called minister"') == []
    assert set(search_ids(ds, q="minist*")) == {2, 3, 4, 5}  # minister, ministry, Minister
    assert search_ids(ds, q="ceasefire NOT election") == [1]
    assert set(search_ids(ds, q="election OR haushalt")) == {2, 3}
    assert search_ids(ds, q="title:ceasefire") == [1]
    assert search_ids(ds, q="covid-19") == [4]  # punctuation is quoted, not an FTS5 error
    assert search_ids(ds, q="") == []


def test_search_filters(ds):
    assert set(search_ids(ds, q="minister", source="metro")) == {2, 4}
    assert search_ids(ds, q="minister", language="de") == [3]
    assert set(search_ids(ds, q="minister", author="Ben Becker")) == {2, 4}
    assert set(search_ids(ds, q="minist*", since="2025-02-01", until="2025-02-28")) == {3, 5}
    assert 2 in search_ids(ds, q="minister", until="2025-03-02")  # until takes in that day
    assert search_ids(ds, q="minister", since="2025-03-03") == []


def test_search_newest_first(ds):
    assert search_ids(ds, q="minist*", sort="newest") == [2, 5, 3, 4]
    assert search_ids(ds, q="minist*", sort="newest", limit="2") == [2, 5]


@pytest.mark.parametrize(
    ("query", "reason"),
    [('"abc', "double quote"), ("ceasefire AND", "ends too early"), ("(talks OR", "not closed")],
)
def test_bad_search_query_gets_a_clear_message_not_a_500(ds, query, reason):
    page = get(ds, "/archive/search?" + urlencode({"q": query}))
    assert page.status_code == 400
    assert "Bad search query: " in page.text and reason in page.text
    assert "Traceback" not in page.text
    data = get(ds, "/archive/search.json?" + urlencode({"q": query})).json()
    assert data["ok"] is False and data["error"]


def test_bad_search_in_the_table_search_box_gets_a_clear_message(ds):
    page = get(ds, "/archive/articles?" + urlencode({"_search": '"abc'}))
    assert page.status_code == 400
    assert "Search query error" in page.text and "double quote" in page.text
    assert "Invalid SQL" not in page.text
    data = get(ds, "/archive/articles.json?" + urlencode({"_search": "talks AND"})).json()
    assert data["status"] == 400 and "ends too early" in data["error"]
    data = get(ds, "/archive/articles.json?" + urlencode({"_search": "covid-19"})).json()
    assert data["status"] == 400 and 'double quotes, as in "covid-19"' in data["error"]


def test_table_search_is_raw_fts_sorted_newest_first_with_facets(ds):
    data = get(
        ds,
        "/archive/articles.json?_shape=objects&"
        + urlencode({"_search": '"prime minister" OR minist*', "_facet_array": "authors"}),
    ).json()
    assert [row["id"] for row in data["rows"]] == [2, 5, 3, 4]  # sort_desc: published
    facets = data["facet_results"]
    assert {"source", "language", "authors"} <= set(facets)
    authors = {item["value"]: item["count"] for item in facets["authors"]["results"]}
    assert authors["Ben Becker"] == 2


def test_article_page_renders_paragraphs_byline_and_versions(ds):
    html = get(ds, "/archive/articles/1").text
    assert "<h1>Ceasefire talks resume in Cairo</h1>" in html
    assert "By Anna Adams" in html
    assert "<p>Ceasefire talks resumed in Cairo on Saturday, officials said.</p>" in html
    assert "<p>Mediators hope for a deal within days.</p>" in html
    assert 'href="https://herald.example/world/ceasefire-talks"' in html
    assert '<a href="/archive/article_versions/1">Version 1</a>' in html
    version = get(ds, "/archive/article_versions/1").text
    assert "<p>No date was set.</p>" in version
    assert '<a href="/archive/articles/1">Current version (2)</a>' in version
    assert "Earlier versions" not in get(ds, "/archive/articles/2").text


def test_archived_text_is_escaped_and_raw_html_never_rendered(ds):
    html = get(ds, "/archive/articles/5").text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(" in html
    page = get(ds, "/archive/article_html/5").text
    assert "bytes of compressed HTML (not shown)" in page
    assert ".blob" not in page and "RAW-HTML-MARKER" not in page
    assert "article_html" not in get(ds, "/archive").text.split("hidden")[0]


def test_writes_are_refused(ds):
    for sql in (
        "update articles set title = 'x'",
        "delete from articles",
        "insert into crawl_runs (status) values ('x')",
        "drop table articles",
    ):
        data = get(ds, "/archive.json?" + urlencode({"sql": sql})).json()
        assert data["ok"] is False
    for path in ("/archive/search", "/archive/articles", "/archive/articles/1"):
        assert get(ds, path, method="post", data={"title": "x"}).status_code >= 400
    plugins = {p["name"] for p in get(ds, "/-/plugins.json").json()}
    assert not [
        name
        for name in plugins
        if any(w in name for w in ("write", "insert", "edit", "upload", "update"))
    ]
    queries = get(ds, "/archive.json").json()["queries"]
    assert queries and not [q for q in queries if q.get("write")]
    assert (
        get(ds, "/archive/articles/1.json?_shape=objects")
        .json()["rows"][0]["title"]
        .startswith("Ceasefire")
    )


def test_settings_of_a_public_instance(ds):
    settings = get(ds, "/-/settings.json").json()
    assert settings["sql_time_limit_ms"] <= 1000
    assert settings["max_returned_rows"] <= 1000
    assert settings["allow_download"] is False


def _feed(ds, path: str) -> list[dict]:
    response = get(ds, path)
    assert response.status_code == 200, response.text
    root = ElementTree.fromstring(response.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    return [
        {
            "title": entry.findtext("a:title", namespaces=ns),
            "link": entry.find("a:link", ns).get("href"),
            "html": entry.findtext("a:content", namespaces=ns),
        }
        for entry in root.findall("a:entry", ns)
    ]


def test_atom_feeds_of_a_search_and_of_a_filtered_table(ds):
    entries = _feed(ds, "/archive/search_feed.atom?q=ceasefire")
    assert {e["title"] for e in entries} == {
        "Ceasefire talks resume in Cairo",
        "Prime minister calls snap election",
    }
    assert "<b>ceasefire</b>" in " ".join(e["html"] for e in entries)
    entries = _feed(ds, "/archive/articles_feed.atom?source=herald")
    assert {e["link"] for e in entries} == {ARTICLES[4]["url"], ARTICLES[0]["url"]}
    html = " ".join(e["html"] for e in entries)  # the entries' HTML, once unescaped from XML
    assert "<script" not in html and "&lt;script&gt;" in html
    assert _feed(ds, "/archive/search_feed.atom?q=nothingmatches") == []
    table = get(ds, "/archive/articles?source=metro").text
    assert 'href="/archive/articles_feed.atom?source=metro"' in table


def test_canned_queries(ds):
    def rows(name: str, **params) -> list[dict]:
        response = get(ds, f"/archive/{name}.json?_shape=array&" + urlencode(params))
        assert response.status_code == 200, response.text
        return response.json()

    assert {r["source"]: r["articles"] for r in rows("sources")} == {
        "herald": 2,
        "metro": 2,
        "rundschau": 1,
    }
    assert [r["id"] for r in rows("latest_articles")] == [2, 1, 5, 3, 4]
    assert [r["id"] for r in rows("latest_articles", source="metro", limit="1")] == [2]
    per_day = rows("articles_per_day")
    assert {"day": "2025-03-02", "source": "metro", "articles": 1} in per_day
    assert [r["id"] for r in rows("recent_runs")] == [2, 1]
    assert [r["id"] for r in rows("runs_with_errors")] == [2]
    changed = rows("changed_articles")
    assert [(r["id"], r["earlier_versions"]) for r in changed] == [(1, 1)]
    chart = get(ds, "/archive/articles_per_day").text
    assert "<svg" in chart


def test_every_table_and_column_is_described(ds, archive):
    metadata = ds.metadata()
    tables = metadata["databases"]["archive"]["tables"]
    conn = sqlite3.connect(archive)
    names = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
    for table in names:
        if table.startswith("articles_fts"):
            continue  # the full-text index, maintained by triggers
        assert tables[table]["description"], table
        columns = [r[1] for r in conn.execute(f"pragma table_info([{table}])")]
        assert set(columns) <= set(tables[table]["columns"]), table


def test_similar_articles_are_shown(tmp_path):
    path = make_archive(tmp_path / "archive.db")
    db = open_archive(path)
    db["similar_articles"].insert_all(
        [{"article_id": 1, "similar_id": 2, "distance": 3},
         {"article_id": 2, "similar_id": 1, "distance": 3}]
    )  # fmt: skip
    db.close()
    ds = make_datasette(path)
    assert "Similar stories" in get(ds, "/archive/articles/1").text
    rows = get(ds, "/archive/similar_articles.json?_shape=array&id=1").json()
    assert rows[0]["similar_title"] == "Prime minister calls snap election"


def test_an_archive_without_similar_articles_still_works(tmp_path):
    path = make_archive(tmp_path / "archive.db")
    conn = sqlite3.connect(path)
    conn.execute("drop table similar_articles")  # an archive from before that table
    conn.close()
    ds = make_datasette(path)
    page = get(ds, "/archive/articles/1")
    assert page.status_code == 200 and "Similar stories" not in page.text
    names = [q["name"] for q in get(ds, "/archive.json").json()["queries"]]
    assert "similar_articles" not in names and "search" in names
