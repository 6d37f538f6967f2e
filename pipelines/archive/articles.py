"""Writing one article into the archive: new, a new version of a stored one, or unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from crawler.compression import compress_html
from crawler.items import METADATA_FIELDS, ArticleItem
from crawler.urls import url_key
from pipelines.archive.schema import SIMHASH_BANDS, SIMILAR_MIN_WORDS, simhash_bands

# Near-duplicates: SimHash bits that may differ, and how far apart in time copies appear.
# Unrelated articles differ in 16+ of 64 bits; a copy with an extra or missing paragraph in 2-9.
SIMILAR_MAX_DISTANCE = 6
SIMILAR_WINDOW = timedelta(days=3)
# Band lookups find every pair at most SIMHASH_BANDS - 1 bits apart.
assert SIMILAR_MAX_DISTANCE < SIMHASH_BANDS

METADATA_COLUMNS = METADATA_FIELDS  # stored as `articles` columns of the same names


def metadata_columns(item: ArticleItem) -> dict[str, Any]:
    """The item's metadata as `articles` columns (lists as JSON)."""
    values = {name: getattr(item, name) for name in METADATA_COLUMNS}
    for name in ("authors", "tags", "categories"):
        values[name] = json.dumps(values[name] or [], ensure_ascii=False)
    return values


def find_article(db: sqlite_utils.Database, item: ArticleItem) -> dict | None:
    """The stored article this item is a fetch of: by any of its URLs, else by the same text
    on the same source."""
    keys = {url_key(u) for u in (item.url, item.fetched_url, item.requested_url) if u}
    marks = ", ".join("?" for _ in keys)
    rows = db.query(
        f"""select articles.* from article_urls join articles on articles.id = article_id
            where url_key in ({marks}) limit 1""",
        list(keys),
    )
    for row in rows:
        return row
    for row in db.query(
        "select * from articles where source = ? and content_hash = ? limit 1",
        [item.source, item.content_hash],
    ):
        return row
    return None


def store_article(
    db: sqlite_utils.Database, item: ArticleItem, run_id: int | None, now: str
) -> str:
    """Store `item` and return what happened: "new", "updated" or "unchanged".

    An updated article keeps its earlier text in `article_versions`. Call inside a transaction.
    """
    existing = find_article(db, item)
    record = {
        **metadata_columns(item),
        "text": item.text,
        "markdown": item.markdown,
        "word_count": item.word_count,
        "content_hash": item.content_hash,
        "simhash": item.simhash,
        "fetched_url": item.fetched_url,
        "last_seen": now,
    }
    if existing is None:
        outcome = "new"
        record.update(
            url=item.url,
            source=item.source,
            first_seen=now,
            last_changed=now,
            version=1,
            run_id=run_id,
        )
        article_id = _insert(db, "articles", record)
    elif existing["content_hash"] == item.content_hash:
        outcome = "unchanged"
        article_id = existing["id"]
        # Metadata may be corrected without a new version of the text; a value that went
        # missing on this fetch does not erase the stored one.
        changes = {
            k: v for k, v in record.items() if existing.get(k) != v and v not in (None, "", "[]")
        }
        changes.pop("text", None)
        db["articles"].update(article_id, changes)
    else:
        outcome = "updated"
        article_id = existing["id"]
        db["article_versions"].insert(
            {
                "article_id": article_id,
                "version": existing["version"],
                "title": existing["title"],
                "text": existing["text"],
                "word_count": existing["word_count"],
                "content_hash": existing["content_hash"],
                "first_seen": existing["last_changed"],
                "last_seen": existing["last_seen"],
                "run_id": existing["run_id"],
            }
        )
        record.update(version=existing["version"] + 1, last_changed=now, run_id=run_id)
        db["articles"].update(article_id, record)
    _record_urls(db, item, article_id, now)
    if outcome != "unchanged" or item.html:
        _store_html(db, item, article_id)
    if outcome != "unchanged":
        link_similar(db, article_id, item, now)
    return outcome


def _day(value: str) -> datetime:
    day = datetime.fromisoformat(value[:10])
    return day.replace(tzinfo=UTC)


def link_similar(db: sqlite_utils.Database, article_id: int, item: ArticleItem, now: str) -> int:
    """Link the article to near-duplicates from other sources (the same wire story), found by
    SimHash distance among articles published within a few days of it; return the links made.
    """
    if not item.simhash or item.word_count < SIMILAR_MIN_WORDS:
        return 0
    day = _day(item.published or now)
    window = range(-SIMILAR_WINDOW.days, SIMILAR_WINDOW.days + 1)
    days = [(day + timedelta(days=n)).isoformat()[:10] for n in window]
    own = int(item.simhash, 16)
    bands = simhash_bands(item.simhash)
    # Refresh this article's bands (its text or date may have changed), then read the
    # articles sharing a band within the window: a few dozen, not a week of articles.
    db.execute("delete from simhash_bands where article_id = ?", [article_id])
    published_day = (item.published or now)[:10]
    db.conn.executemany(
        "insert or ignore into simhash_bands (band, day, article_id) values (?, ?, ?)",
        [(band, published_day, article_id) for band in bands],
    )
    rows = db.execute(
        f"""select id, simhash from articles where id in (
              select article_id from simhash_bands
              where day in ({", ".join("?" for _ in days)})
                and band in ({", ".join("?" for _ in bands)}))
            and source != ? and id != ? and word_count >= ?""",
        [*days, *bands, item.source, article_id, SIMILAR_MIN_WORDS],
    ).fetchall()
    links = []
    for other_id, other_hash in rows:
        distance = (own ^ int(other_hash, 16)).bit_count() if other_hash else 64
        if distance <= SIMILAR_MAX_DISTANCE:
            links += [(article_id, other_id, distance), (other_id, article_id, distance)]
    db.conn.executemany(
        "insert or replace into similar_articles (article_id, similar_id, distance) values "
        "(?, ?, ?)",
        links,
    )
    return len(links) // 2


def mark_seen(db: sqlite_utils.Database, url: str, now: str) -> str:
    """Record that an archived article was seen unchanged (a 304) at `now`; "unchanged"."""
    key = url_key(url)
    db.execute("update article_urls set last_seen = ? where url_key = ?", [now, key])
    db.execute(
        "update articles set last_seen = ? where id = "
        "(select article_id from article_urls where url_key = ?)",
        [now, key],
    )
    return "unchanged"


def _record_urls(db: sqlite_utils.Database, item: ArticleItem, article_id: int, now: str) -> None:
    urls = {item.url: (None, None), item.requested_url: (None, None)}
    urls[item.fetched_url] = (item.etag, item.last_modified)
    for url, (etag, last_modified) in urls.items():
        if not url:
            continue
        db.execute(
            """insert into article_urls (url_key, url, article_id, first_seen, last_seen,
                   etag, last_modified)
               values (?, ?, ?, ?, ?, ?, ?)
               on conflict (url_key) do update set url = excluded.url,
                   article_id = excluded.article_id, last_seen = excluded.last_seen,
                   etag = coalesce(excluded.etag, etag),
                   last_modified = coalesce(excluded.last_modified, last_modified)""",
            [url_key(url), url, article_id, now, now, etag, last_modified],
        )


def _insert(db: sqlite_utils.Database, table: str, row: dict[str, Any], upsert: str = "") -> int:
    """Insert one row (or, with `upsert` naming the key, update the row it collides with);
    its rowid. A plain statement: sqlite-utils' insert() costs a quarter of storing an
    article in Python alone (bench.warc)."""
    names = ", ".join(row)
    sql = f"insert into {table} ({names}) values ({', '.join('?' for _ in row)})"
    if upsert:
        updates = ", ".join(f"{name} = excluded.{name}" for name in row if name != upsert)
        sql += f" on conflict ({upsert}) do update set {updates}"
    return db.execute(sql, list(row.values())).lastrowid


def _store_html(db: sqlite_utils.Database, item: ArticleItem, article_id: int) -> None:
    row = {
        "article_id": article_id,
        "url": item.fetched_url,
        "fetched_at": item.fetched_at,
        "status": item.status,
        "content_type": item.content_type,
        "encoding": item.encoding,
        "size": len(item.html),
        "html": compress_html(item.html),
    }
    _insert(db, "article_html", row, upsert="article_id")
