"""What writing an article costs, and how much of it is full-text indexing and compression.

The articles of a crawled archive are stored again, in batches as the crawl writes them, into
two fresh archives: one as is, one without the FTS triggers. The difference is what keeping
the FTS index up to date costs; compression's share is timed on its own.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from crawler.clock import now_iso
from crawler.compression import compress_html, read_html
from crawler.items import ArticleItem
from pipelines.archive.articles import METADATA_COLUMNS, store_article
from pipelines.archive.schema import open_archive

LIST_COLUMNS = ("authors", "tags", "categories")


@dataclass(frozen=True)
class StoreCosts:
    """Milliseconds per article: writing it in all, of which the FTS index and compression."""

    articles: int
    total_ms: float
    fts_ms: float
    compress_ms: float


def archived_items(db_path: Path, count: int) -> list[ArticleItem]:
    """The first `count` articles of an archive as the items the crawl stored."""
    db = open_archive(db_path, readonly=True)
    try:
        rows = db.query(
            "select a.*, h.html, h.url as html_url from articles a "
            "join article_html h on h.article_id = a.id order by a.id limit ?",
            [count],
        )
        items = []
        for row in rows:
            values = {name: row[name] for name in METADATA_COLUMNS}
            for name in LIST_COLUMNS:
                values[name] = json.loads(values[name] or "[]")
            items.append(
                ArticleItem(
                    url=row["url"],
                    source=row["source"],
                    text=row["text"],
                    word_count=row["word_count"],
                    content_hash=row["content_hash"],
                    simhash=row["simhash"],
                    fetched_url=row["html_url"],
                    html=read_html(row["html"]),
                    **values,
                )
            )
        return items
    finally:
        db.close()


def _store_all(path: Path, items: list[ArticleItem], batch: int, fts: bool) -> float:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = open_archive(path)
    try:
        if not fts:
            for trigger in ("articles_ai", "articles_ad", "articles_au"):
                db.execute(f"drop trigger if exists {trigger}")
        started = time.process_time()
        for start in range(0, len(items), batch):
            now = now_iso()
            with db.atomic():
                for item in items[start : start + batch]:
                    store_article(db, item, None, now)
        return time.process_time() - started
    finally:
        db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def store_costs(db_path: Path, workdir: Path, count: int = 1000, batch: int = 50) -> StoreCosts:
    """Time storing up to `count` archived articles (CPU time, best of two runs each)."""
    items = archived_items(db_path, count)
    scratch = workdir / "store-timing.db"
    with_fts = min(_store_all(scratch, items, batch, fts=True) for _ in range(2))
    without_fts = min(_store_all(scratch, items, batch, fts=False) for _ in range(2))
    started = time.process_time()
    for item in items:
        compress_html(item.html)
    compress = time.process_time() - started
    per = 1000 / max(len(items), 1)
    return StoreCosts(
        len(items), with_fts * per, max(0.0, with_fts - without_fts) * per, compress * per
    )
