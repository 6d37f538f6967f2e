"""The `crawl_runs` table: one row per crawl run, what it targeted and what it did."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from typing import Any

import sqlite_utils

from pipelines.drops import DROPPED_PREFIX
from pipelines.store import now_iso

ERRORS_PREFIX = "newsarchive/errors/"
ARTICLES_PREFIX = "newsarchive/articles/"
# Scrapy's reasons for closing a spider that mean the run did what it was asked.
COMPLETED_REASONS = {"finished", "closespider_pagecount", "closespider_itemcount"}
COMPLETED_REASONS |= {"closespider_timeout", "closespider_errorcount"}


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_stale_runs(db: sqlite_utils.Database) -> int:
    """Mark runs left "running" by a process that is gone (killed) as interrupted."""
    host = socket.gethostname()
    stale = [
        row["id"]
        for row in db.query("select id, pid, hostname from crawl_runs where status = 'running'")
        if row["hostname"] == host and not _pid_alive(row["pid"])
    ]
    for run_id in stale:
        db["crawl_runs"].update(
            run_id, {"status": "interrupted", "finish_reason": "killed", "ended": None}
        )
    return len(stale)


def start_run(db: sqlite_utils.Database, spider: str, targets: list[dict[str, str]]) -> int:
    """Insert the row of a run that starts now and return its id."""
    with db.atomic():
        mark_stale_runs(db)
        return (
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


def _counts(stats: Mapping[str, Any], prefix: str) -> dict[str, int]:
    return {k[len(prefix) :]: v for k, v in sorted(stats.items()) if k.startswith(prefix)}


def finish_run(
    db: sqlite_utils.Database, run_id: int, stats: Mapping[str, Any], reason: str
) -> dict[str, Any]:
    """Record how a run ended from Scrapy's stats; return the updated row."""
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
        "pages_fetched": stats.get("response_received_count", 0)
        - stats.get("robotstxt/response_count", 0),
        "articles_new": articles.get("new", 0),
        "articles_updated": articles.get("updated", 0),
        "articles_unchanged": articles.get("unchanged", 0),
        "pages_dropped": sum(dropped.values()),
        "dropped": json.dumps(dropped),
        "errors": sum(errors.values()),
        "error_kinds": json.dumps(errors),
        "stats": json.dumps(stats, default=str, sort_keys=True),
    }
    with db.atomic():
        db["crawl_runs"].update(run_id, row)
    return db["crawl_runs"].get(run_id)
