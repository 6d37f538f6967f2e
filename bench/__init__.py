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
