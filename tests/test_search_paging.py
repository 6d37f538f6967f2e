"""Complete answers: the search page, its JSON API, the library and `newsarchive search` give the
total and page through every match; copies of one story on several sources are one result."""

from __future__ import annotations

import gc
import json
import logging
import re
import sqlite3
from html import unescape
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from browse import make_datasette
from browse.queries import RANK_WINDOW
from browse.search import count_matches, search
from pipelines.archive.schema import open_archive
from tests.conftest import run_cli
from tests.test_browse import get

MATCHES = 45  # articles saying "harbour": 30 from "herald", 15 from "metro"


def _archive(path: Path) -> Path:
    db = open_archive(path)
    rows = []
    for i in range(1, MATCHES + 6):
        source = "herald" if i % 3 else "metro"
        word = "harbour" if i <= MATCHES else "inland"
        rows.append(
            {
                "id": i,
                "url": f"https://{source}.example/{i}",
                "source": source,
                "site_name": source.title(),
                "title": f"Story {i}",
                "authors": "[]",
                "published": f"2025-03-{1 + i % 28:02d}T10:00:00Z",
                "language": "en",
                "text": f"The {word} story number {i}, " + "more words " * (i % 7),
            }
        )
    db["articles"].insert_all(rows)
    db.close()
    return path


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return _archive(tmp_path_factory.mktemp("paging") / "archive.db")


@pytest.fixture(scope="module")
def ds(archive):
    return make_datasette(archive)


def _page(ds, **params) -> str:
    response = get(ds, "/archive/search?" + urlencode(params))
    assert response.status_code == 200, response.text
    return response.text


def _result_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<h3><a href="/archive/articles/(\d+)">', html)]


def _link(html: str, rel: str) -> str | None:
    match = re.search(rf'<a rel="{rel}" href="([^"]+)"', html)
    return unescape(match.group(1)) if match else None


def test_search_page_shows_the_total_and_pages_through_every_match(ds):
    html = _page(ds, q="harbour")
    assert f"{MATCHES} results, 1–20 shown" in html
    assert _link(html, "prev") is None
    seen = _result_ids(html)
    pages = 1
    while next_url := _link(html, "next"):
        assert "q=harbour" in next_url
        html = get(ds, next_url).text
        seen += _result_ids(html)
        pages += 1
    assert pages == 3 and "41–45 shown" in html
    assert sorted(seen) == list(range(1, MATCHES + 1))  # each match once
    previous = _link(html, "prev")
    assert "offset=20" in previous and _result_ids(get(ds, previous).text) == seen[20:40]


def test_paging_keeps_the_filters(ds):
    html = _page(ds, q="harbour", source="herald", sort="newest", limit="10")
    assert "30 results, 1–10 shown" in html
    next_url = _link(html, "next")
    query = urlsplit(next_url).query
    assert {"source=herald", "sort=newest", "limit=10", "offset=10"} <= set(query.split("&"))
    assert "11–20 shown" in get(ds, next_url).text


def test_a_page_past_the_end_says_so(ds):
    html = _page(ds, q="harbour", offset="100")
    assert f"{MATCHES} results; none on this page" in html
    assert _link(html, "prev")


def test_json_api_gives_the_total_and_pages_with_next(ds):
    data = get(ds, "/archive/search.json?q=harbour&limit=20").json()
    assert data["ok"] is True and data["total"] == MATCHES
    assert data["next"] == "20" and len(data["rows"]) == 20
    ids = [row["id"] for row in data["rows"]]
    while data["next_url"]:
        assert data["next_url"].startswith("http://localhost/archive/search.json?")
        assert "_next=" in data["next_url"]
        path = data["next_url"].removeprefix("http://localhost")
        data = get(ds, path).json()
        ids += [row["id"] for row in data["rows"]]
    assert data["next"] is None and sorted(ids) == list(range(1, MATCHES + 1))
    array = get(ds, "/archive/search.json?_shape=array&q=harbour&limit=40")
    assert len(array.json()) == 40
    assert array.headers["link"].endswith('_next=40>; rel="next"')
    assert "link" not in get(ds, "/archive/search.json?_shape=array&q=inland").headers


def test_json_api_errors_are_one_line_json(ds):
    response = get(ds, "/archive/search.json?" + urlencode({"q": '"open'}))
    assert response.status_code == 400
    data = response.json()
    assert data["ok"] is False and "double quote" in data["error"]


def test_library_returns_up_to_limit_or_everything(archive):
    assert len(search(archive, "harbour", limit=30)) == 30
    assert len(search(archive, "harbour", limit=None)) == MATCHES
    assert len(search(archive, "harbour", limit=500)) == MATCHES  # no cap of 100
    assert count_matches(archive, "harbour") == MATCHES
    assert count_matches(archive, "harbour", source="metro") == 15


@pytest.fixture(scope="module")
def wide_archive(tmp_path_factory) -> Path:
    """More matches than RANK_WINDOW (in fewer than half of the articles: a word in more than
    half is shown newest first), with texts of many lengths (as real articles have): equal
    scores come in small groups, never more than browse.queries.TIES of them."""
    path = tmp_path_factory.mktemp("wide") / "archive.db"
    db = open_archive(path)
    rows = [
        {
            "id": i,
            "url": f"https://example.com/{i}",
            "source": "wire",
            "title": f"Story {i}",
            "authors": "[]",
            "published": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "text": ("common " * (1 + i % 7) if i <= RANK_WINDOW + 300 else "")
            + "filler " * (i % 211)
            + f"end {i}",
        }
        for i in range(1, 2 * RANK_WINDOW + 700)
    ]
    db["articles"].insert_all(rows, batch_size=1000)
    db.close()
    return path


def test_pages_across_the_ranking_window_neither_repeat_nor_skip(wide_archive):
    every = [row["id"] for row in search(wide_archive, "common", limit=None)]
    total = count_matches(wide_archive, "common")
    assert len(every) == len(set(every)) == total > RANK_WINDOW
    for start in (0, 20, 40, RANK_WINDOW - 10, RANK_WINDOW + 100):
        page = search(wide_archive, "common", limit=20, offset=start)
        assert [row["id"] for row in page] == every[start : start + 20], start


@pytest.fixture(scope="module")
def copies_archive(tmp_path_factory) -> Path:
    """Article 1 (herald) and its copies 2 (metro) and 3 (ledger): one wire story."""
    path = _archive(tmp_path_factory.mktemp("copies") / "archive.db")
    db = open_archive(path)
    db["articles"].update(2, {"source": "metro", "site_name": "Metro Wire"})
    db["articles"].update(3, {"source": "ledger", "site_name": "The Ledger"})
    pairs = [(1, 2), (1, 3), (2, 3)]
    db["similar_articles"].insert_all(
        [
            {"article_id": a, "similar_id": b, "distance": 2}
            for x, y in pairs
            for a, b in ((x, y), (y, x))
        ]
    )
    db.close()
    return path


def test_copies_of_a_story_are_one_result_with_also_on(copies_archive):
    results = search(copies_archive, "harbour", limit=None)
    ids = [row["id"] for row in results]
    assert 1 in ids and 2 not in ids and 3 not in ids
    assert len(results) == count_matches(copies_archive, "harbour") == MATCHES - 2
    first = next(row for row in results if row["id"] == 1)
    assert {copy["site_name"] for copy in first["also_on"]} == {"Metro Wire", "The Ledger"}
    # filtered to one source, its copy is the result
    metro = search(copies_archive, "harbour", source="metro", limit=None)
    assert 2 in [row["id"] for row in metro]
    ds = make_datasette(copies_archive)
    html = get(ds, "/archive/search?q=harbour&limit=100").text
    assert f"{MATCHES - 2} results" in html
    also = re.search(r'<p class="also-on">Also on (.*?)</p>', html).group(1)
    assert '<a href="/archive/articles/2">Metro Wire</a>' in also
    data = get(ds, "/archive/search.json?q=harbour").json()
    assert data["total"] == MATCHES - 2


def test_cli_search_returns_up_to_n_and_says_when_more_matched(archive):
    result = run_cli("search", "harbour", "--db", str(archive), "-n", "500", "--json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == MATCHES and not result.stderr
    result = run_cli("search", "harbour", "--db", str(archive), "-n", "5")
    assert result.stdout.count("https://") == 5
    assert f"5 of {MATCHES} matches shown" in result.stderr and "--all" in result.stderr
    result = run_cli("search", "harbour", "--db", str(archive), "--all", "--json")
    assert len(json.loads(result.stdout)) == MATCHES and not result.stderr


def test_cli_search_prints_the_copies_of_a_story(copies_archive):
    result = run_cli("search", "harbour story number 1", "--db", str(copies_archive), "--all")
    assert result.returncode == 0, result.stderr
    block = next(b for b in result.stdout.split("\n\n") if "Story 1\n" in b + "\n")
    assert "also on Metro Wire, The Ledger" in block or "also on The Ledger, Metro Wire" in block


def test_a_search_table_of_another_database_keeps_datasettes_json(tmp_path, archive):
    from datasette.app import Datasette

    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("create table search (id integer primary key, term text)")
    conn.execute("insert into search values (1, 'harbour')")
    conn.commit()
    conn.close()
    ds = Datasette([str(archive), str(other)])
    data = get(ds, "/other/search.json?_shape=objects").json()
    assert data["rows"] == [{"id": 1, "term": "harbour"}] and "total" not in data
    data = get(ds, f"/{archive.stem}/search.json?q=harbour").json()
    assert data["total"] == MATCHES


def test_a_total_too_costly_to_count_is_an_estimate_that_says_so(ds, archive, monkeypatch):
    # A common word in a very large archive, in small: past EXACT_MATCHES matches the total is
    # estimated from runs of ids (5 runs of 4 ids here), and the page says so.
    import browse.search

    for name, value in (("EXACT_MATCHES", 10), ("SAMPLE_MATCHES", 20), ("SAMPLE_WINDOWS", 5)):
        monkeypatch.setattr(browse.search, name, value)
    # The articles with the words are estimated from the sample too: 19 in 20 of 50 ids.
    estimated_matches = round(19 * 50 / 20)
    # the filter keeps too few of the sample (under SAMPLE_MIN_KEPT): the articles it keeps
    # are looked up among the matches instead, all of them when they are few (exact)...
    expected = browse.search.Total(15, True, estimated_matches, matches_exact=False)
    assert browse.search.search_total(archive, "harbour", source="metro") == expected
    # ...or FILTER_SAMPLE of them, spread evenly (an estimate)
    monkeypatch.setattr(browse.search, "FILTER_SAMPLE", 4)
    total = browse.search.search_total(archive, "harbour", source="metro")
    assert total.exact is False and total.sampled == 4 and 0 < total.value <= 17
    assert total.sampled_filtered is True
    html = _page(ds, q="harbour", source="metro")
    assert "of the articles that pass the filters, the share that has them" in html
    data = get(ds, "/archive/search.json?q=harbour&source=metro").json()
    assert data["sampled_from"] == "filtered" and data["estimated_total"] == total.value
    monkeypatch.setattr(browse.search, "FILTER_SAMPLE", 500)
    monkeypatch.setattr(browse.search, "SAMPLE_MIN_KEPT", 3)
    total = browse.search.search_total(archive, "harbour", source="metro")
    assert total.exact is False and total.matches == estimated_matches
    assert total.matches_exact is False
    assert total.sampled == 20 - 1  # ids 3-6, 13-16, ..., 43-46: 46 says "inland"
    assert abs(total.value - 15) <= 5
    html = _page(ds, q="harbour", source="metro", limit="10")
    assert f"About {total.value} results, 1–10 shown" in html
    assert "The number of results is an estimate" in html
    assert f"about {estimated_matches} articles have these words" in html
    seen = _result_ids(html)
    while next_url := _link(html, "next"):  # pages go on while they are full
        html = get(ds, next_url).text
        seen += _result_ids(html)
    assert len(seen) == len(set(seen)) == 15
    data = get(ds, "/archive/search.json?q=harbour&source=metro").json()
    assert data["total"] is None and data["estimated_total"] == total.value
    assert data["sampled"] == total.sampled and data["matches"] == estimated_matches
    assert data["sampled_from"] == "matches" and data["matches_exact"] is False
    assert browse.search.count_matches(archive, "harbour", source="metro") == 15  # exact
    # a prefix query is counted exactly, however many it matches (its sample costs more)
    total = browse.search.search_total(archive, "harbou*", source="metro")
    assert total == browse.search.Total(15, True, MATCHES)
    data = get(ds, "/archive/search.json?q=harbou*&source=metro").json()
    assert data["total"] == 15 and data["matches"] == MATCHES and data["matches_exact"] is True


def test_a_phrase_is_estimated_past_fewer_matches(archive, monkeypatch):
    # Reading a phrase's matches costs more: it is estimated past EXACT_MATCHES_PHRASE.
    import browse.search

    for name, value in (("SAMPLE_MATCHES", 20), ("SAMPLE_WINDOWS", 5), ("SAMPLE_MIN_KEPT", 3)):
        monkeypatch.setattr(browse.search, name, value)
    monkeypatch.setattr(browse.search, "EXACT_MATCHES_PHRASE", 10)
    assert browse.search.search_total(archive, '"the harbour"', source="metro").exact is False
    assert browse.search.search_total(archive, "harbour", source="metro").exact is True


def test_the_page_says_when_only_the_newest_matches_are_ranked_first(wide_archive):
    html = get(make_datasette(wide_archive), "/archive/search?q=common").text
    assert f"best match first among the {RANK_WINDOW:,} newest matches, then the others" in html
    data = get(make_datasette(wide_archive), "/archive/search.json?q=common").json()
    assert data["order"].startswith(f"best match first among the {RANK_WINDOW:,} newest")


def test_a_bad_query_fails_once_on_the_page_with_no_error_left_unread(ds, caplog):
    # The page's total is started beside its results: a query that is not valid fails in
    # both, the page says why once, and the total's error is read, not logged by asyncio.
    caplog.set_level(logging.ERROR, logger="asyncio")
    response = get(ds, "/archive/search?" + urlencode({"q": '"open harbour'}))
    assert response.status_code == 400
    assert response.text.count("Bad search query") == 1 and "double quote" in response.text
    gc.collect()  # asyncio logs an unread task error when the task is collected
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]


def test_a_total_that_overruns_the_time_limit_says_so(archive):
    # datasette's SQL time limit also bounds the total: a page whose total could not be found
    # in time says so, and still offers the next page while pages are full.
    ds = make_datasette(archive)
    ds._settings["sql_time_limit_ms"] = 0  # every count is interrupted at once
    html = _page(ds, q="harbour")
    assert "More results than could be counted in time, 1–20 shown" in html
    assert _link(html, "next")
    data = get(ds, "/archive/search.json?q=harbour").json()
    assert data["total"] is None and data["order"] is None and data["next"] == "20"
