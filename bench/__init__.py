"""Benchmarks that print figures: extraction, crawl throughput, search, distributed crawl."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def last_run(db_path: Path) -> dict:
    """The newest `crawl_runs` row of an archive."""
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return dict(conn.execute("select * from crawl_runs order by id desc limit 1").fetchone())
    finally:
        conn.close()


def remove_articles_after(db, last_id: int) -> None:
    """Delete the articles with ids above `last_id` and what refers to them."""
    with db.atomic():
        for table, column in (
            ("similar_articles", "similar_id"),
            ("similar_articles", "article_id"),
            ("simhash_bands", "article_id"),
            ("article_urls", "article_id"),
            ("article_html", "article_id"),
            ("article_versions", "article_id"),
        ):
            db.execute(f"delete from {table} where {column} > ?", [last_id])
        db.execute("delete from articles where id > ?", [last_id])
