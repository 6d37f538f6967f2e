"""The offline demo: the bundled demo news sites served on 127.0.0.1, crawled into an archive."""

from __future__ import annotations

from collections.abc import Callable

from crawler.sources import parse_sources
from newsarchive.crawl import (
    LOCAL_SITE_SETTINGS,
    CrawlResult,
    lock_archive,
    project_settings,
    run_crawl,
)
from newsarchive.demo_site import serve_demo_site
from pipelines.archive import lock


def crawl_demo(
    db_path: str, site_port: int, echo: Callable[[str], None], progress: bool = False
) -> CrawlResult:
    """Serve the demo sites on `site_port` (any free port if it is taken), crawl them into the
    archive at `db_path`, stop the sites and return the run's result."""
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
