"""The offline demo: the bundled demo news sites served on 127.0.0.1, crawled into an archive."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from crawler.sources import parse_sources
from newsarchive.arguments import check_port_free
from newsarchive.crawl import (
    LOCAL_SITE_SETTINGS,
    CrawlResult,
    lock_archive,
    project_settings,
    run_crawl,
)
from newsarchive.demo_site import serve_demo_site
from newsarchive.demo_site.harbor import HarborTimes
from newsarchive.demo_site.ledger import DailyLedger
from newsarchive.errors import CommandError
from pipelines.archive import lock
from pipelines.archive.schema import ArchiveError, open_archive

DEMO_SOURCES = (HarborTimes.name, DailyLedger.name)


def _refuse_real_archive(db_path: str) -> None:
    if not Path(db_path).is_file() or Path(db_path).stat().st_size == 0:
        return  # a new file, or a mistake the crawl reports in its own words
    try:
        db = open_archive(db_path, readonly=True)
    except ArchiveError:
        return
    try:
        marks = ", ".join("?" for _ in DEMO_SOURCES)
        other = db.execute(
            f"select count(*) from articles where source not in ({marks})", DEMO_SOURCES
        ).fetchone()[0]
    except sqlite3.Error:  # a corrupt archive: the crawl says so when it meets it
        return
    finally:
        db.close()
    if other:
        raise CommandError(
            f"{db_path} holds {other} articles of other sources than the demo's: the demo"
            " writes only to its own file (--db demo.db, the default)"
        )


def crawl_demo(
    db_path: str,
    site_port: int,
    echo: Callable[[str], None],
    progress: bool = False,
    serve_port: int | None = None,
) -> CrawlResult:
    """Serve the demo sites on `site_port` (any free port if it is taken), crawl them into the
    demo's archive at `db_path`, stop the sites and return the run's result. CommandError,
    before anything is crawled, when `db_path` holds other sources' articles (a real
    archive) or datasette's `serve_port` is taken."""
    if serve_port is not None:
        check_port_free("127.0.0.1", serve_port)
    _refuse_real_archive(db_path)
    lock_archive(db_path, "demo crawl")
    try:
        server = serve_demo_site(port=site_port)
    except OSError:  # the port is taken: any free one will do
        server = serve_demo_site(port=0)
    with server:
        echo(f"Demo news site on {server.url}/ (The Daily Ledger, Harbor Times)")
        sources = parse_sources(server.sources_toml(), "demo sources")
        overrides = {"ARCHIVE_DB": db_path, "LOG_LEVEL": "ERROR", **LOCAL_SITE_SETTINGS}
        overrides["NEWSARCHIVE_PROGRESS"] = progress
        result = run_crawl(project_settings(overrides), sources=sources)
    lock.release(db_path)
    return result
