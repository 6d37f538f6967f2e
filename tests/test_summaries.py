"""Summary tables kept by triggers (daily_counts, author_counts) and the SimHash band index:
what lets the overviews and near-duplicate lookups stay quick on a million articles."""

from __future__ import annotations

import random

import pytest

from pipelines.archive.articles import SIMILAR_MAX_DISTANCE
from pipelines.archive.schema import (
    m008_summaries_for_scale,
    m012_article_facts,
    m015_published_days,
    open_archive,
    simhash_bands,
)
from tests.test_storage import article, store


@pytest.fixture
def db(tmp_path):
    database = open_archive(tmp_path / "archive.db")
    yield database
    database.close()


def _daily(db) -> dict[tuple[str, str], tuple[int, int]]:
    return {
        (r["day"], r["source"]): (r["articles"], r["words"])
        for r in db.query("select * from daily_counts where articles > 0")
    }


def _authors(db) -> dict[str, int]:
    return {
        r["author"]: r["articles"] for r in db.query("select * from author_counts where articles")
    }


def _recount(db) -> tuple[dict, dict]:
    """The summaries computed from the articles themselves."""
    daily = {
        (r["day"], r["source"]): (r["n"], r["words"])
        for r in db.query(
            "select coalesce(substr(published, 1, 10), '') as day, source, count(*) as n,"
            " sum(word_count) as words from articles group by 1, 2"
        )
    }
    authors = {
        r["value"]: r["n"]
        for r in db.query(
            "select value, count(*) as n from articles, json_each(authors) group by value"
        )
    }
    return daily, authors


def test_summaries_follow_inserts_updates_and_deletes(db):
    store(db, article(published="2025-03-01T10:00:00Z", authors=["Ann", "Bo"]))
    store(db, article(url="https://news.example/b", text="Other story here.", authors=["Ann"]))
    other = article(url="https://paper.example/c", text="A third one.", published="2025-03-02")
    other.source = "paper"
    store(db, other)
    assert _daily(db) == {
        ("2025-03-01", "news"): (1, 5),
        ("", "news"): (1, 3),
        ("2025-03-02", "paper"): (1, 3),
    }
    assert _authors(db) == {"Ann": 2, "Bo": 1}
    # a new version: other words, another date, other authors
    changed = article(
        text="First version, now corrected and longer.",
        published="2025-03-04T08:00:00Z",
        authors=["Cy"],
    )
    assert store(db, changed, "2025-03-04T09:00:00Z") == "updated"
    assert _daily(db)[("2025-03-04", "news")] == (1, 6)
    assert ("2025-03-01", "news") not in _daily(db)
    assert _authors(db) == {"Ann": 1, "Cy": 1}
    assert set(db.execute("select author, article_id from article_authors").fetchall()) == {
        ("Ann", 2),
        ("Cy", 1),
    }
    db.execute("delete from article_urls")
    db.execute("delete from article_html")
    db.execute("delete from articles where source = 'paper'")
    assert ("2025-03-02", "paper") not in _daily(db)
    assert (_daily(db), _authors(db)) == _recount(db)


def test_the_migration_fills_the_summaries_of_an_existing_archive(db):
    for n in range(30):
        item = article(
            url=f"https://news.example/{n}",
            text=f"Story number {n} " + "word " * (70 + n),
            published=f"2025-01-{n % 5 + 1:02d}",
            authors=[f"Writer {n % 3}"],
        )
        store(db, item)
    expected = (_daily(db), _authors(db))
    assert expected == _recount(db)
    bands = db.execute("select count(*) from simhash_bands").fetchone()[0]
    assert bands == 7 * 23  # the articles of 80 words or more (n >= 7)
    for name in ("daily_counts", "author_counts", "simhash_bands"):
        db.execute(f"drop table {name}")
    for name in ("ai", "ad", "au_day", "au_authors"):
        db.execute(f"drop trigger articles_summary_{name}")
    m008_summaries_for_scale(db)  # as on an archive written before it
    assert (_daily(db), _authors(db)) == expected
    assert db.execute("select count(*) from simhash_bands").fetchone()[0] == bands


def _facts(db) -> set[tuple]:
    return set(db.execute("select id, published, source, language, paired from article_facts"))


def _facts_recounted(db) -> set[tuple]:
    return set(
        db.execute(
            "select id, published, source, language,"
            " exists (select 1 from similar_articles where article_id = articles.id)"
            " from articles"
        )
    )


def test_article_facts_follow_the_articles_and_their_copies(db):
    store(db, article(published="2025-03-01T10:00:00Z"))
    store(db, article(url="https://news.example/b", text="Other story here."))
    other = article(url="https://paper.example/c", text="A third one.", published="2025-03-02")
    other.source = "paper"
    store(db, other)
    assert _facts(db) == _facts_recounted(db)
    assert {row[4] for row in _facts(db)} == {0}
    db["similar_articles"].insert_all(
        [{"article_id": 1, "similar_id": 3, "distance": 2}, {"article_id": 3, "similar_id": 1}]
    )
    assert {row[0] for row in _facts(db) if row[4]} == {1, 3}
    changed = article(text="First version, now corrected.", published="2025-03-04T08:00:00Z")
    changed.language = "de"
    assert store(db, changed, "2025-03-04T09:00:00Z") == "updated"
    db.execute("update articles set source = 'wire' where id = 2")
    assert (1, "2025-03-04T08:00:00Z", "news", "de", 1) in _facts(db)
    from newsarchive.report import archive_stats  # its changed articles read article_facts

    changed = {s["source"]: s["changed"] for s in archive_stats(db)["sources"]}
    assert changed == {"news": 1, "paper": 0, "wire": 0}
    db.execute("delete from similar_articles where article_id = 3")
    assert {row[0] for row in _facts(db) if row[4]} == {1}
    db.execute("delete from similar_articles")
    for table in ("article_urls", "article_html", "simhash_bands"):
        db.execute(f"delete from {table} where article_id = 2")
    db.execute("delete from articles where id = 2")
    assert _facts(db) == _facts_recounted(db)
    assert len(_facts(db)) == 2
    # the migration fills the table of an archive written before it
    db.execute("drop table article_facts")
    for name in ("article_facts_ai", "article_facts_au", "article_facts_ad"):
        db.execute(f"drop trigger {name}")
    for name in ("similar_articles_paired_ai", "similar_articles_paired_ad"):
        db.execute(f"drop trigger {name}")
    db["similar_articles"].insert({"article_id": 3, "similar_id": 1, "distance": 2})
    m012_article_facts(db)
    assert _facts(db) == _facts_recounted(db)
    assert {row[0] for row in _facts(db) if row[4]} == {3}


def _days(db) -> dict[str, tuple[int, int]]:
    return {day: (lo, hi) for day, lo, hi in db.execute("select * from published_days")}


def _days_recounted(db) -> dict[str, tuple[int, int]]:
    rows = db.execute(
        "select substr(published, 1, 10), min(id), max(id) from articles"
        " where published is not null group by 1"
    )
    return {day: (lo, hi) for day, lo, hi in rows}


def test_published_days_hold_the_ids_of_each_days_articles(db):
    for n in range(12):  # ids in crawl order, dates not: a story found late gets a high id
        day, hour = n % 4 + 1, n % 10
        item = article(url=f"https://news.example/{n}", text=f"Story number {n}.")
        item.published = f"2025-03-0{day}T1{hour}:00:00Z"
        store(db, item)
    store(db, article(url="https://news.example/undated", text="No date on this one."))
    assert _days(db) == _days_recounted(db)
    assert _days(db)["2025-03-01"] == (1, 9)
    db.execute("update articles set published = '2025-02-28T23:00:00Z' where id = 9")
    assert _days(db)["2025-02-28"] == (9, 9)
    # the day it left keeps its range: wider than its articles' ids, never narrower
    assert _days(db)["2025-03-01"] == (1, 9) != _days_recounted(db)["2025-03-01"]
    for day, (lo, hi) in _days_recounted(db).items():
        assert _days(db)[day][0] <= lo and _days(db)[day][1] >= hi
    # the migration fills the table of an archive written before it
    db.execute("drop table published_days")
    for name in ("published_days_ai", "published_days_au"):
        db.execute(f"drop trigger {name}")
    m015_published_days(db)
    assert _days(db) == _days_recounted(db)


def test_hashes_a_few_bits_apart_share_a_band():
    rng = random.Random(5)
    for _ in range(2000):
        value = rng.getrandbits(64)
        flipped = value
        for bit in rng.sample(range(64), SIMILAR_MAX_DISTANCE):
            flipped ^= 1 << bit
        ours, theirs = simhash_bands(f"{value:016x}"), simhash_bands(f"{flipped:016x}")
        assert set(ours) & set(theirs)
    assert len(set(simhash_bands("ffffffffffffffff"))) == len(simhash_bands("0" * 16))


def test_the_chart_draws_the_long_tail_of_sources_as_one_bar_a_day():
    from browse.chart import articles_per_day_svg

    rows = [
        {"day": f"2025-01-0{d}", "source": f"s{n:02d}", "articles": n + 1}
        for d in range(1, 4)
        for n in range(30)
    ]
    svg = str(articles_per_day_svg(rows, max_sources=7))
    legend = 8  # seven sources and "other"
    assert svg.count("<rect") == 3 * 8 + legend
    assert "2025-01-01 23 other sources: " + str(sum(range(1, 24))) in svg


def test_article_html_is_counted_from_an_index_that_grows_at_its_end(db):
    # datasette's database page counts every table: from this index, not from the rows (each
    # a compressed page) nor from an index that takes each new entry in its middle (`size`)
    plan = db.execute("explain query plan select count(*) from article_html").fetchone()
    assert plan[3] == "SCAN article_html USING COVERING INDEX idx_article_html_article_id"
    assert [index.name for index in db["article_html"].indexes] == ["idx_article_html_article_id"]
