"""Running one crawl in this process and summing up what it did."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from crawler.sources import (
    Source,
    SourcesError,
    Target,
    adhoc_targets,
    load_sources,
    select_sources,
)
from crawler.spiders.news import NewsSpider
from crawler.stats import CONFIG_ERROR, RUN_ID, STORAGE_ERROR
from newsarchive.errors import CommandError
from pipelines.archive.lock import ArchiveBusy, lock_for_writing
from pipelines.archive.schema import ArchiveError, open_archive

# Our own local sites (the demo, benchmarks) need no politeness: no AutoThrottle, no delay.
LOCAL_SITE_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
}


def project_settings(overrides: Mapping[str, Any] = ()) -> Settings:
    """The project's Scrapy settings with command-line overrides applied."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    settings.setdict(dict(overrides), priority="cmdline")
    return settings


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """`-s NAME=VALUE` pairs as a dict; CommandError for a malformed pair or a value of the
    wrong type for its setting (Scrapy would fail with a traceback halfway through starting)."""
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"-s: expected NAME=VALUE, got {pair!r}")
        overrides[name.strip()] = value
    if overrides:
        _check_types(overrides)
    return overrides


def _check_types(overrides: Mapping[str, str]) -> None:
    defaults = project_settings()
    for name, value in overrides.items():
        kind = type(defaults.get(name))
        try:
            if kind is bool:
                defaults.set(name, value, priority="cmdline")
                defaults.getbool(name)
            elif kind in (int, float):
                float(value)
        except ValueError:
            what = "true or false" if kind is bool else "a number"
            raise CommandError(f"-s: {name} must be {what}, got {value!r}") from None


def crawl_targets(
    sources_path: str,
    source_names: Sequence[str] = (),
    adhoc: Mapping[str, Sequence[str]] | None = None,
) -> tuple[list[Source], list[Target] | None]:
    """The sources a crawl was asked for: ad hoc URLs by kind ("url", "feed", "sitemap") when
    any are given (with their targets), else the named sources of the sources file (all when
    none are named, targets None). CommandError for a bad file, name or URL."""
    try:
        if adhoc and any(adhoc.values()):
            return adhoc_targets(adhoc)
        return select_sources(load_sources(sources_path), source_names), None
    except (SourcesError, ValueError) as error:
        raise CommandError(str(error)) from error


def check_crawl_arguments(
    db_path: str,
    sources_path: str,
    source_names: Sequence[str],
    adhoc: Mapping[str, Sequence[str]],
    setting_pairs: Iterable[str],
) -> None:
    """Check once what every scheduled crawl will be given (settings, sources, archive), so that
    a mistake is one error now rather than the same failure at every run."""
    parse_overrides(setting_pairs)
    crawl_targets(sources_path, source_names, adhoc)
    try:
        open_archive(db_path).close()
    except ArchiveError as error:
        raise CommandError(str(error)) from error


def lock_archive(db_path: str, what: str) -> None:
    """Take the archive's write lock for this process, or CommandError saying why not."""
    try:
        lock_for_writing(db_path, what)
    except (ArchiveBusy, ArchiveError) as error:
        raise CommandError(str(error)) from error


def crawl_here(
    db_path: str,
    sources: list[Source],
    targets: list[Target] | None,
    overrides: Mapping[str, Any] = (),
    *,
    max_pages: int | None = None,
    log_level: str = "WARNING",
    progress: bool = False,
) -> CrawlResult:
    """Crawl `sources` (or just `targets`) into the archive at `db_path` in this process,
    holding its write lock; the run's result. Once per process (Twisted's reactor)."""
    settings = {"ARCHIVE_DB": db_path, **dict(overrides)}
    if max_pages:
        settings["CLOSESPIDER_PAGECOUNT"] = max_pages
    settings["LOG_LEVEL"] = log_level.upper()
    settings["NEWSARCHIVE_PROGRESS"] = progress
    lock_archive(db_path, "crawl")
    return run_crawl(project_settings(settings), sources=sources, targets=targets)


@dataclass
class CrawlResult:
    """What a finished crawl did: its `crawl_runs` row and Scrapy's final stats."""

    run: dict[str, Any] | None
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def config_error(self) -> str | None:
        return self.stats.get(CONFIG_ERROR)

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


IMPORT_LABELS = {"run": "Import", "pages": "responses read", "out of scope": "skipped records"}


def format_summary(
    result: CrawlResult, elapsed: float | None = None, labels: dict[str, str] | None = None
) -> str:
    """A one-screen summary of a crawl run for the terminal (`labels` renames its lines, e.g.
    IMPORT_LABELS for a WARC import)."""
    labels = labels or {}
    stopped = result.stats.get(STORAGE_ERROR)
    if result.run is None:
        what = labels.get("run", "Crawl")
        return f"{what} did not start: {result.config_error or stopped or 'see the log above'}"
    run = result.run
    status = run["status"]
    if stopped and status == "running":  # not even the run's end could be written
        status = "failed"
    lines = [
        f"{labels.get('run', 'Crawl')} run {run['id']} {status}"
        f" ({run['finish_reason'] or 'storage_error'})",
        f"  {labels.get('pages', 'pages fetched'):<15} {run['pages_fetched'] or 0}",
        f"  articles        {run['articles_new'] or 0} new, {run['articles_updated'] or 0}"
        f" updated, {run['articles_unchanged'] or 0} unchanged",
    ]
    if "run" not in labels:
        lines.append(
            f"  skipped         {run['pages_skipped'] or 0} archived pages"
            " (not changed, not fetched)"
        )
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
        label = labels.get(label, label)
        lines.append(f"  {label:<15} {total or 0}" + (f" ({detail})" if detail else ""))
    if stopped:
        lines.insert(1, f"  stopped         {stopped}")
    if elapsed:
        pages = run["pages_fetched"] or 0
        unit = "responses" if "run" in labels else "pages"
        lines.append(f"  took            {elapsed:.1f} s ({pages / elapsed:.1f} {unit}/s)")
    return "\n".join(lines)
