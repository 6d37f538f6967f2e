"""Every page linked from the home page and from search result pages answers 200: the same walk
`python -m bench.scale` times, on a small synthetic archive written through store_article."""

from __future__ import annotations

import asyncio

import pytest

from bench.scale import FILTERED_SEARCHES, SEARCHES
from bench.scale_archive import build_archive
from bench.scale_walk import discover, local_links, page_kind
from browse import make_datasette


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "archive.db"
    build_archive(path, 400, progress=lambda _: None, days=4)
    return path


@pytest.mark.slow
def test_every_page_reached_from_home_and_search_answers_200(small_archive):
    ds = make_datasette(small_archive)

    async def walk():
        pages = await discover(ds.client, SEARCHES + FILTERED_SEARCHES)
        statuses = {}
        for page in pages:
            response = await ds.client.get(page.path)
            statuses[page.path] = (page.kind, response.status_code)
        return statuses

    statuses = asyncio.run(walk())
    failed = {path: got for path, got in statuses.items() if got[1] != 200}
    assert not failed
    kinds = {kind for kind, _ in statuses.values()}
    expected = {
        "home",
        "article",
        "crawl run",
        "database page",
        "search",
        "search with filters",
        "table: articles",
        "table: articles by source",
        "table: articles search",
        "query or table: articles_feed (atom)",
        "query or table: search_feed (atom)",
        "query or table: articles_per_day",
        "query or table: recent_runs",
        "query or table: authors",
    }
    assert expected <= kinds, expected - kinds
    assert sum(kind == "article" for kind, _ in statuses.values()) >= 10


@pytest.mark.slow
def test_totals_count_the_results_the_search_returns(small_archive):
    # The totals read article_facts and pair copies among the matches; the results come from
    # the search SQL, which folds copies by looking each one up: both must agree, filters and
    # all, and with the articles table instead of article_facts (an archive not yet migrated).
    import sqlite3

    from browse.queries import search_count_sql
    from browse.search import count_matches, register_functions, search

    conn = sqlite3.connect(small_archive)
    register_functions(conn)
    author = conn.execute("select author from author_counts order by articles desc").fetchone()
    older = search_count_sql(fold_copies=True, facts=False)
    copies = conn.execute("select count(*) from similar_articles").fetchone()[0]
    assert copies > 0
    counted: list[int] = []
    try:
        dated = {"q": "the", "since": "2024-11-02", "until": "2024-11-03"}  # the archive's days
        checked = [*SEARCHES, *FILTERED_SEARCHES, dated, {"q": "the", "author": author[0]}]
        for params in checked:
            filters = {k: v for k, v in params.items() if k not in ("q", "sort")}
            results = search(conn, params["q"], limit=None, **filters)
            total = count_matches(conn, params["q"], **filters)
            names = ("source", "language", "author", "since", "until")
            values = {"q": params["q"], **{name: filters.get(name, "") for name in names}}
            assert total == len(results) == conn.execute(older, values).fetchone()[0], params
            counted.append(total)
    finally:
        conn.close()
    assert sum(n > 10 for n in counted) >= 8, counted  # most of them count something


@pytest.mark.slow
def test_the_summaries_of_the_synthetic_year_match_its_articles(small_archive):
    import sqlite3

    conn = sqlite3.connect(small_archive)
    try:
        counted = conn.execute(
            "select source, count(*) from articles group by source order by source"
        ).fetchall()
        summed = conn.execute(
            "select source, sum(articles) from daily_counts group by source"
            " having sum(articles) > 0 order by source"
        ).fetchall()
        versions = conn.execute("select count(*) from article_versions").fetchone()[0]
        runs = conn.execute("select count(*) from crawl_runs").fetchone()[0]
    finally:
        conn.close()
    assert counted == summed
    assert versions > 0
    assert runs == 4 * 48  # every 30 minutes


def test_links_and_kinds():
    html = (
        '<a href="/archive/articles?source=a">x</a><a href="https://e.example/">out</a>'
        '<a href="/-/static/app.css">css</a><a href="#top">top</a>'
        '<a href="/archive/articles?source=a">again</a><a href="/archive/articles/3">a</a>'
    )
    assert local_links(html) == ["/archive/articles?source=a", "/archive/articles/3"]
    assert page_kind("/archive/articles?source=a") == "table: articles by source"
    assert page_kind("/archive/search?q=x&since=2025-01-01") == "search with filters"
    assert page_kind("/archive/search_feed.atom?q=x") == "query or table: search_feed (atom)"
    assert page_kind("/") == "home"


def test_links_to_heavy_table_views_are_bounded_and_say_so(tmp_path):
    from tests.test_browse import make_archive

    ds = make_datasette(make_archive(tmp_path / "archive.db"))

    async def pages():
        home = (await ds.client.get("/")).text
        found = (await ds.client.get("/archive/search?q=minister")).text
        dated = (await ds.client.get("/archive/search?q=minister&since=2025-01-01")).text
        return home, found, dated

    home, found, dated = asyncio.run(pages())
    # the newest article is of 2025-03-02: the last 30 days start on 2025-02-01
    assert "/archive/articles?published__gte=2025-02-01" in local_links(home)
    assert "Browse the last 30 days" in home
    assert "/archive/articles?_nofacet=1" in local_links(home)
    links = local_links(found)
    assert "/archive/articles?_search=minister&_sort_desc=id&_nocount=1&_nofacet=1" in links
    assert "add dates for counts and facets" in found
    # a search with dates of its own links all its matches with facets
    assert (
        "/archive/articles?_search=minister&_sort_desc=published&published__gte=2025-01-01"
        in local_links(dated)
    )


def test_a_search_with_too_many_matches_for_the_table_links_no_table_view(tmp_path, monkeypatch):
    from browse.plugin import search_api
    from tests.test_browse import make_archive

    ds = make_datasette(make_archive(tmp_path / "archive.db"))
    matches = asyncio.run(ds.client.get("/archive/search.json?q=minister")).json()["matches"]
    assert matches > 1
    monkeypatch.setattr(search_api, "TABLE_FACET_MAX_MATCHES", matches - 1)
    dated = asyncio.run(ds.client.get("/archive/search?q=minister&since=2025-01-01")).text
    assert "_nocount=1" in dated and "no counts or facets: they would read all" in dated
    monkeypatch.setattr(search_api, "TABLE_MAX_MATCHES", matches - 1)
    found = asyncio.run(ds.client.get("/archive/search?q=minister")).text
    assert not [link for link in local_links(found) if "_search=" in link]
    assert f"No table view: the articles table would read all {matches:,} articles" in found


@pytest.mark.slow
def test_estimated_totals_are_close_and_fold_copies(small_archive, monkeypatch):
    # The estimates of a large archive, in small: 10 runs of ids, about 100 matches sampled.
    import sqlite3

    import browse.search
    from browse.queries import folds_sql

    settings = {"EXACT_MATCHES": 10, "SAMPLE_MATCHES": 100, "SAMPLE_WINDOWS": 10}
    for name, value in {**settings, "SAMPLE_MIN_KEPT": 10}.items():
        monkeypatch.setattr(browse.search, name, value)
    conn = sqlite3.connect(small_archive)
    browse.search.register_functions(conn)
    try:
        for query, filters in (("the", {}), ("the", {"language": "en"}), ("minister", {})):
            total = browse.search.search_total(conn, query, **filters)
            exact = browse.search.count_matches(conn, query, **filters)
            assert total.exact is False and 0 < total.sampled < total.matches
            assert abs(total.value - exact) <= 0.2 * exact, (query, filters, total, exact)
        # a later copy of a story whose words its earlier copy has too folds into it
        later, earlier = conn.execute(
            "select article_id, similar_id from similar_articles where similar_id < article_id"
        ).fetchone()
        word = conn.execute("select title from articles where id = ?", [earlier]).fetchone()[0]
        params = {"q": f'"{word}"', "id": later, "source": "", "language": "", "author": ""}
        params.update(since="", until="")
        assert conn.execute(folds_sql(), params).fetchone()[0] == 1
        assert conn.execute(folds_sql(), {**params, "q": "zzzzzz"}).fetchone()[0] == 0
    finally:
        conn.close()
