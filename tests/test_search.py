"""browse.search: the search library behind `newsarchive search` (same SQL as the search page)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from browse import make_datasette
from browse.queries import RANK_WINDOW
from browse.search import (
    Order,
    SearchQueryError,
    Total,
    fts_query,
    register_functions,
    search,
    search_order,
    search_total,
    snippet_html,
)
from pipelines.archive.schema import open_archive
from tests.test_browse import get, make_archive

COLUMNS = {"id", "title", "source", "site_name", "published", "url", "snippet", "rank", "also_on"}


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return make_archive(tmp_path_factory.mktemp("search") / "archive.db")


def ids(results: list[dict]) -> list[int]:
    return [row["id"] for row in results]


def test_results_best_first_with_highlighted_snippets(archive):
    results = search(str(archive), "ceasefire talks")
    assert ids(results) == [1]
    assert set(results[0]) == COLUMNS
    assert "**ceasefire**" in results[0]["snippet"].lower()
    results = search(archive, "ceasefire", highlight=("[", "]"))
    assert ids(results) == [1, 2]
    assert "[ceasefire]" in results[1]["snippet"]
    assert results[0]["rank"] < results[1]["rank"]


def test_accepts_a_path_a_connection_or_a_sqlite_utils_database(archive):
    conn = sqlite3.connect(archive)
    assert ids(search(conn, "election")) == [2]
    assert ids(search(sqlite_utils.Database(archive), "election")) == [2]
    with pytest.raises(FileNotFoundError):
        search(archive.parent / "missing.db", "election")


def test_filters_and_limit(archive):
    assert set(ids(search(archive, "minister", source="metro"))) == {2, 4}
    assert ids(search(archive, "minister", language="de")) == [3]
    assert set(ids(search(archive, "minister", author="Ben Becker"))) == {2, 4}
    assert set(ids(search(archive, "minist*", since="2025-02-01", until="2025-02-28"))) == {3, 5}
    assert len(search(archive, "minist*", limit=2)) == 2


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ('"ceasefire talks', 'a double quote (") is not closed'),
        ("ceasefire AND", "AND, OR or NOT needs something after it"),
        ("OR talks", 'unexpected "OR"'),
        ("(talks OR deal", 'a "(" is not closed'),
    ],
)
def test_syntax_errors_raise_a_one_line_message(archive, query, reason):
    with pytest.raises(SearchQueryError) as error:
        search(archive, query)
    message = str(error.value)
    assert reason in message and "\n" not in message
    assert message.startswith(f"Bad search query {query!r}")


def test_fts_query_quotes_words_with_punctuation_and_keeps_the_syntax():
    assert fts_query("covid-19 vaccine") == '"covid-19" vaccine'
    assert fts_query("O'Brien U.S.") == '"O\'Brien" "U.S."'
    assert fts_query('"prime minister" OR elect*') == '"prime minister" OR elect*'
    assert fts_query("(a OR b) AND NOT c") == "(a OR b) AND NOT c"
    assert fts_query("title:budget ex-minister*") == 'title:budget "ex-minister"*'
    assert fts_query("NEAR(ceasefire talks, 5)") == "NEAR(ceasefire talks, 5)"
    assert fts_query('say "hi') == 'say "hi'  # left for FTS5 to report
    assert fts_query("  ") == '""'


def test_snippet_html_escapes_the_text_and_marks_the_matches():
    assert snippet_html("a <b>\ue000x\ue001 & y") == "a &lt;b&gt;<mark>x</mark> &amp; y"


# Broad queries: more matches than RANK_WINDOW. The first RANK_WINDOW + 200 articles say
# "common" (fewer than half of the archive: a word in more than half is not ranked); the oldest
# ones come from "oldsource", were published in 2020 and say "common" most often (best bm25).
# Every article says "daily".
OLD = 30
BROAD = RANK_WINDOW + 200


@pytest.fixture(scope="module")
def broad_archive(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("broad") / "archive.db"
    db = open_archive(path)
    rows = []
    for i in range(1, 2 * BROAD + 201):
        old = i <= OLD
        rows.append(
            {
                "id": i,
                "url": f"https://example.com/{i}",
                "source": "oldsource" if old else "newsource",
                "title": f"Story {i}",
                "authors": json.dumps([]),
                "published": f"2020-01-{i:02d}" if old else f"2025-{1 + i % 12:02d}-10",
                "language": "en",
                "text": ("common " * (5 if old else 1) if i <= BROAD else "")
                + f"daily filler words of story number {i}",
            }
        )
    db["articles"].insert_all(rows, batch_size=1000)
    db.close()
    return path


def test_broad_query_is_ranked_among_its_newest_matches(broad_archive):
    results = search(broad_archive, "common", limit=5)
    assert len(results) == 5
    assert min(ids(results)) > OLD  # the best-ranked old stories are outside the window


def test_a_word_in_more_than_half_of_the_articles_is_shown_newest_first(broad_archive):
    conn = sqlite3.connect(broad_archive)
    register_functions(conn)
    try:
        daily = search_total(conn, "daily")
        assert daily == Total(2 * BROAD + 200, True, 2 * BROAD + 200)
        assert search_order(conn, "daily", daily.matches) == Order(True, too_common=True)
        common = search_total(conn, "common")
        assert common.value == BROAD
        assert search_order(conn, "common", common.matches) == Order(False, window=RANK_WINDOW)
        assert search_order(conn, "common", BROAD, "newest") == Order(True)
    finally:
        conn.close()
    results = search(broad_archive, "daily", limit=20)
    published = [(row["published"], row["id"]) for row in results]
    assert published == sorted(published, reverse=True)  # newest first, not by bm25
    ranked = search(broad_archive, "common", limit=20)
    assert [row["rank"] for row in ranked] == sorted(row["rank"] for row in ranked)
    html = get(make_datasette(broad_archive), "/archive/search?q=daily").text
    assert f"{2 * BROAD + 200:,} results, 1–20 shown, newest first." in html
    assert "These words are in more than half of the articles" in html
    from newsarchive.lookup import search_report

    _, note = search_report(str(broad_archive), "daily", limit=5)
    assert note.splitlines()[0].startswith("Newest first: these words are in more than half")
    _, note = search_report(str(broad_archive), "common", limit=5)
    assert "Newest first" not in note


def test_broad_query_with_a_selective_filter_ranks_all_its_matches(broad_archive):
    results = search(broad_archive, "common", source="oldsource", limit=5)
    assert len(results) == 5 and all(r["source"] == "oldsource" for r in results)


def test_broad_query_in_a_past_date_range(broad_archive):
    results = search(broad_archive, "common", since="2020-01-01", until="2020-01-31", limit=50)
    assert sorted(ids(results)) == list(range(1, OLD + 1))
    results = search(broad_archive, "common", until="2020-01-10", limit=50)
    assert sorted(ids(results)) == list(range(1, 11))


def test_a_search_with_dates_finds_the_same_with_the_days_summary(broad_archive):
    # browse.queries reads a date range's ids from published_days (m015) when the archive has
    # it, else from the articles: the same pages either way, late-found stories included.
    from browse.queries import search_sql

    conn = sqlite3.connect(broad_archive)
    register_functions(conn)
    conn.execute(
        "update articles set published = '2020-01-15T08:00:00Z' where id = ?", [BROAD + 50]
    )
    blank = dict.fromkeys(("source", "language", "author", "sort", "limit", "offset"), "")
    try:
        for q, since, until, offset in (
            ("common", "2020-01-01", "2020-01-31", ""),
            ("common", "2020-01-15", "", ""),
            ("daily", "", "2020-01-20", "20"),
            ("daily", "2025-03-01", "2025-06-30T12:00", "40"),
            ("common", "2025-01-01", "", str(RANK_WINDOW - 10)),
        ):
            params = {**blank, "q": q, "since": since, "until": until, "offset": offset}
            found = [conn.execute(search_sql(days=days), params).fetchall() for days in (0, 1)]
            assert found[0] == found[1] and found[0], params
    finally:
        conn.rollback()
        conn.close()


def test_past_many_articles_too_common_is_decided_from_runs_of_ids(tmp_path):
    # Past COMMON_SPREAD_FROM articles, "more than half of the articles" is read from runs of
    # ids spread over the archive (browse.queries.TOO_COMMON), and browse.search agrees.
    from browse.queries import COMMON_SPREAD_FROM, search_ctes
    from browse.search import match_count, too_common_to_rank

    path = tmp_path / "archive.db"
    db = open_archive(path)
    count = COMMON_SPREAD_FROM + 500
    db["articles"].insert_all(
        (
            {
                "id": i,
                "url": f"https://example.com/{i}",
                "source": "wire",
                "published": "2025-01-01",
                # "often" in 3 of 5 articles, "seldom" in 2 of 5, "rare" in the newest 600
                "text": ("often" if i % 5 < 3 else "seldom") + (" rare" if i > count - 600 else ""),
            }
            for i in range(1, count + 1)
        ),
        batch_size=5000,
    )
    db.close()
    conn = sqlite3.connect(path)
    register_functions(conn)
    try:
        for word, common in (("often", True), ("seldom", False), ("rare", False)):
            params = dict.fromkeys(("source", "language", "author", "since", "until"), "")
            params.update(q=word, sort="", limit="", offset="")
            sql = f"{search_ctes()} select newest from ordering"
            in_sql = conn.execute(sql, params).fetchone()[0]
            in_python = too_common_to_rank(conn, word, match_count(conn, word))
            assert bool(in_sql) is in_python is common, word
    finally:
        conn.close()
    newest = search(path, "often", limit=3)
    expected = [i for i in range(count, 0, -1) if i % 5 < 3][:3]
    assert ids(newest) == expected  # newest first, not ranked
