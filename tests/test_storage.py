import json
import sqlite3

import pytest

from crawler.compression import read_html
from crawler.items import ArticleItem
from pipelines.archive.articles import store_article
from pipelines.archive.schema import ArchiveError, open_archive
from pipelines.article.fingerprints import content_hash, simhash


def article(url="https://news.example/2025/a-story", text="First version of the story.", **kw):
    item = ArticleItem(url=url, source="news", text=text, title="A story", **kw)
    item.fetched_url = item.fetched_url or url
    item.word_count = len(text.split())
    item.content_hash = content_hash(text)
    item.simhash = simhash(text)
    item.html = item.html or f"<html><body><p>{text}</p></body></html>".encode()
    return item


@pytest.fixture
def db(tmp_path):
    database = open_archive(tmp_path / "archive.db")
    yield database
    database.close()


def store(db, item, now="2025-01-01T00:00:00Z"):
    with db.atomic():
        return store_article(db, item, None, now)


def test_new_then_unchanged(db):
    assert store(db, article(authors=["A. Writer"])) == "new"
    assert store(db, article(), now="2025-01-02T00:00:00Z") == "unchanged"
    (row,) = db["articles"].rows
    assert row["version"] == 1
    assert row["first_seen"] == "2025-01-01T00:00:00Z"
    assert row["last_seen"] == "2025-01-02T00:00:00Z"
    assert json.loads(row["authors"]) == ["A. Writer"]
    assert db["article_versions"].count == 0


def test_changed_text_keeps_the_old_version(db):
    store(db, article())
    assert store(db, article(text="Second, corrected version."), "2025-01-05T00:00:00Z") == (
        "updated"
    )
    (row,) = db["articles"].rows
    assert row["text"] == "Second, corrected version."
    assert row["version"] == 2
    (old,) = db["article_versions"].rows
    assert old["text"] == "First version of the story."
    assert old["version"] == 1
    assert old["last_seen"] == "2025-01-01T00:00:00Z"


def test_url_variants_are_one_article(db):
    store(db, article())
    variant = article(
        url="https://news.example/2025/a-story",
        fetched_url="https://www.news.example/2025/a-story/amp/?utm_source=twitter",
    )
    assert store(db, variant) == "unchanged"
    assert db["articles"].count == 1
    assert db["article_urls"].count == 1  # one key for all the variants


def test_same_text_under_another_url_of_the_same_source_is_one_article(db):
    store(db, article())
    assert store(db, article(url="https://news.example/print/12345")) == "unchanged"
    assert db["articles"].count == 1


def test_raw_html_is_kept_compressed(db):
    item = article()
    store(db, item)
    (row,) = db["article_html"].rows
    assert read_html(row["html"]) == item.html
    assert row["size"] == len(item.html)


def test_full_text_search_follows_updates(db):
    store(db, article(text="The ceasefire talks collapsed overnight in Istanbul."))
    search = "select rowid from articles_fts where articles_fts match ?"
    assert len(db.execute(search, ["ceasefire"]).fetchall()) == 1
    store(db, article(text="Negotiators resumed the summit after a pause."))
    assert db.execute(search, ["ceasefire"]).fetchall() == []
    assert len(db.execute(search, ["negotiator"]).fetchall()) == 1  # porter stemming


def test_archive_is_in_wal_mode(db):
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_not_an_archive_is_refused(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ArchiveError, match="not a SQLite database"):
        open_archive(junk)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("create table stuff (x)").connection.commit()
    with pytest.raises(ArchiveError, match="not a news archive"):
        open_archive(other)


WIRE_STORY = " ".join(
    f"Paragraph {n} of the wire story about the regional grid operator, which said on "
    f"Tuesday that demand had reached a record during the heatwave number {n}."
    for n in range(12)
)


def test_syndicated_copies_on_other_sources_are_linked(db):
    original = article(url="https://wire.example/grid", text=WIRE_STORY)
    copy = article(
        url="https://paper.example/grid-record", text=WIRE_STORY + " Reporting by the desk."
    )
    copy.source = "paper"
    unrelated = article(url="https://paper.example/other", text=WIRE_STORY[::-1])
    unrelated.source = "paper"
    for item in (original, copy, unrelated):
        item.published = "2025-06-01"
        store(db, item)
    links = {(r["article_id"], r["similar_id"]) for r in db["similar_articles"].rows}
    assert links == {(1, 2), (2, 1)}
    assert db["articles"].count == 3  # kept as separate articles


def test_raw_html_reads_back_from_zstd_and_older_zlib():
    import zlib

    from crawler.compression import compress_html

    html = b"<html><body>" + b"<p>Some text.</p>" * 500 + b"</body></html>"
    packed = compress_html(html)
    assert len(packed) < len(html) / 10
    assert read_html(packed) == html
    assert read_html(zlib.compress(html, 6)) == html
