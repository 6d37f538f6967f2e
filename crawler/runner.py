"""Running one crawl in this process and summing up what it did."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from crawler.spiders.news import NewsSpider
from pipelines.archive import open_archive
from pipelines.runs import RUN_ID


def project_settings(overrides: Mapping[str, Any] = ()) -> Settings:
    """The project's Scrapy settings with command-line overrides applied."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    settings.setdict(dict(overrides), priority="cmdline")
    return settings


@dataclass
class CrawlResult:
    """What a finished crawl did: its `crawl_runs` row and Scrapy's final stats."""

    run: dict[str, Any] | None
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def config_error(self) -> str | None:
        return self.stats.get("newsarchive/config_error")

    @property
    def ok(self) -> bool:
        return self.run is not None and self.run["status"] == "completed"


def run_crawl(
    settings: Settings, spider_cls: type[NewsSpider] = NewsSpider, **spider_kwargs: Any
) -> CrawlResult:
    """Run one crawl to its end (or Ctrl-C) and return what it did. Once per process:
    Twisted's reactor cannot be restarted."""
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider_cls)
    process.crawl(crawler, **spider_kwargs)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    run_id = stats.get(RUN_ID)
    run = None
    if run_id is not None:
        db = open_archive(settings.get("ARCHIVE_DB"), readonly=True)
        try:
            run = db["crawl_runs"].get(run_id)
        finally:
            db.close()
    return CrawlResult(run=run, stats=stats)


def format_summary(result: CrawlResult, elapsed: float | None = None) -> str:
    """A one-screen summary of a crawl run for the terminal."""
    stopped = result.stats.get("newsarchive/storage_error")
    if result.run is None:
        return f"Crawl did not start: {result.config_error or stopped or 'see the log above'}"
    run = result.run
    status = run["status"]
    if stopped and status == "running":  # not even the run's end could be written
        status = "failed"
    lines = [
        f"Crawl run {run['id']} {status} ({run['finish_reason'] or 'storage_error'})",
        f"  pages fetched   {run['pages_fetched'] or 0}",
        f"  articles        {run['articles_new'] or 0} new, {run['articles_updated'] or 0}"
        f" updated, {run['articles_unchanged'] or 0} unchanged",
        f"  skipped         {run['pages_skipped'] or 0} archived pages (not changed, not fetched)",
    ]
    for label, column, total in (
        ("dropped", "dropped", run["pages_dropped"]),
        ("errors", "error_kinds", run["errors"]),
        ("out of scope", "out_of_scope", None),
        ("warnings", "warnings", None),
    ):
        kinds = json.loads(run.get(column) or "{}")
        if total is None:  # shown only when there is something to show
            total = sum(kinds.values())
            if not total:
                continue
        detail = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
        lines.append(f"  {label:<15} {total or 0}" + (f" ({detail})" if detail else ""))
    if stopped:
        lines.insert(1, f"  stopped         {stopped}")
    if elapsed:
        pages = run["pages_fetched"] or 0
        lines.append(f"  took            {elapsed:.1f} s ({pages / elapsed:.1f} pages/s)")
    return "\n".join(lines)
