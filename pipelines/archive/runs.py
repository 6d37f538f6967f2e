"""The `crawl_runs` table: one row per crawl run, what it targeted and what it did."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Mapping
from typing import Any

import sqlite_utils

from crawler.clock import now_iso
from crawler.stats import (
    ARTICLES_PREFIX,
    DROPPED_PREFIX,
    ERRORS_PREFIX,
    OUT_OF_SCOPE_PREFIX,
    PAGES,
    ROBOTS_PAGES,
    SKIPPED,
    SOURCES_PREFIX,
    WARNINGS_PREFIX,
)

# Scrapy's reasons for closing a spider that mean the run did what it was asked.
COMPLETED_REASONS = {"finished", "closespider_pagecount", "closespider_itemcount"}
COMPLETED_REASONS |= {"closespider_timeout", "closespider_errorcount"}

# Bytes held in `run_reserve` while a run goes on and freed, in the same transaction, just before
# its end is recorded: on a full disk the record (stats, counts by source) fits in those pages.
RESERVE_BYTES = 32 * 1024


def mark_stale_runs(db: sqlite_utils.Database) -> int:
    """Mark runs left "running" by a killed process as interrupted. Call with the archive's
    write lock held: then no other run can really be running."""
    cursor = db.execute(
        "update crawl_runs set status = 'interrupted', finish_reason = 'killed' "
        "where status = 'running'"
    )
    db.execute(
        "delete from run_reserve where run_id not in "
        "(select id from crawl_runs where status = 'running')"
    )
    return cursor.rowcount


def start_run(db: sqlite_utils.Database, spider: str, targets: list[dict[str, str]]) -> int:
    """Insert the row of a run that starts now and return its id."""
    with db.atomic():
        mark_stale_runs(db)
        run_id = (
            db["crawl_runs"]
            .insert(
                {
                    "started": now_iso(),
                    "status": "running",
                    "spider": spider,
                    "targets": json.dumps(targets),
                    "pid": os.getpid(),
                    "hostname": socket.gethostname(),
                }
            )
            .last_pk
        )
    try:
        with db.atomic():
            db.execute(
                "insert into run_reserve (run_id, space) values (?, zeroblob(?))",
                [run_id, RESERVE_BYTES],
            )
    except sqlite3.OperationalError as error:
        if getattr(error, "sqlite_errorcode", None) != sqlite3.SQLITE_FULL:
            raise  # a disk already full: the run goes on without it, its writes will tell
    return run_id


def _counts(stats: Mapping[str, Any], prefix: str) -> dict[str, int]:
    return {k[len(prefix) :]: v for k, v in sorted(stats.items()) if k.startswith(prefix)}


def per_source(stats: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """Counts by source from stats keys like newsarchive/source/<name>/<what>."""
    counts: dict[str, dict[str, int]] = {}
    for key, value in _counts(stats, SOURCES_PREFIX).items():
        name, _, what = key.rpartition("/")
        counts.setdefault(name, {})[what] = value
    return counts


def finish_run(
    db: sqlite_utils.Database,
    run_id: int,
    stats: Mapping[str, Any],
    reason: str,
    *,
    free_reserve: bool = True,
) -> dict[str, Any]:
    """Record how a run ended from Scrapy's stats; return the updated row. The run's reserve
    is freed first, in the same transaction, so the row fits when the archive is full."""
    dropped = _counts(stats, DROPPED_PREFIX)
    errors = _counts(stats, ERRORS_PREFIX)
    articles = _counts(stats, ARTICLES_PREFIX)
    if reason in COMPLETED_REASONS:
        status = "completed"
    elif reason == "shutdown":
        status = "interrupted"
    else:
        status = "failed"
    row = {
        "ended": now_iso(),
        "status": status,
        "finish_reason": reason,
        "pages_fetched": stats.get(PAGES, 0) - stats.get(ROBOTS_PAGES, 0),
        "articles_new": articles.get("new", 0),
        "articles_updated": articles.get("updated", 0),
        "articles_unchanged": articles.get("unchanged", 0),
        "pages_dropped": sum(dropped.values()),
        "pages_skipped": stats.get(SKIPPED, 0),
        "dropped": json.dumps(dropped),
        "errors": sum(errors.values()),
        "error_kinds": json.dumps(errors),
        "out_of_scope": json.dumps(_counts(stats, OUT_OF_SCOPE_PREFIX)),
        "warnings": json.dumps(_counts(stats, WARNINGS_PREFIX)),
        "per_source": json.dumps(per_source(stats)),
        "stats": json.dumps(stats, default=str, sort_keys=True),
    }
    with db.atomic():
        if free_reserve:
            db.execute("delete from run_reserve where run_id = ?", [run_id])  # room for the row
        db["crawl_runs"].update(run_id, row)
    return db["crawl_runs"].get(run_id)
