"""Running one crawl in this process and summing up what it did."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler, CrawlerProcess
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
from crawler.stats import (
    CONFIG_ERROR,
    LISTED,
    NOT_FOLLOWED_PREFIX,
    RUN_ID,
    SKIPPED,
    SOURCE_TARGETS,
    SOURCES_PREFIX,
    STORAGE_ERROR,
)
from newsarchive.arguments import check_settings
from newsarchive.errors import CommandError
from newsarchive.problems import (
    DEFAULT_MAX_ERROR_RATE,
    ERROR,
    OK,
    RUN_FAILED,
    Problem,
    run_problems,
)
from pipelines.archive.lock import ArchiveBusy, lock_for_writing
from pipelines.archive.runs import COMPLETED_REASONS
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
    """`-s NAME=VALUE` pairs as a dict; CommandError for a malformed pair, an unknown setting
    name or a value of the wrong type for its setting (Scrapy would ignore the name, or fail
    with a traceback halfway through starting)."""
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"-s: expected NAME=VALUE, got {pair!r}")
        overrides[name.strip()] = value
    if overrides:
        check_settings(overrides, project_settings())
    return overrides


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
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE,
    log_level: str = "WARNING",
    progress: bool = False,
) -> CrawlResult:
    """Crawl `sources` (or just `targets`) into the archive at `db_path` in this process,
    holding its write lock; the run's result. Once per process (Twisted's reactor)."""
    settings = {"ARCHIVE_DB": db_path, **dict(overrides)}
    if max_pages:
        settings["NEWSARCHIVE_MAX_PAGES"] = max_pages
    settings["LOG_LEVEL"] = log_level.upper()
    settings["NEWSARCHIVE_PROGRESS"] = progress
    lock_archive(db_path, "crawl")
    result = run_crawl(project_settings(settings), sources=sources, targets=targets)
    result.max_error_rate = max_error_rate
    return result


def list_here(
    db_path: str,
    sources: list[Source],
    targets: list[Target] | None,
    overrides: Mapping[str, Any] = (),
    *,
    log_level: str = "ERROR",
) -> CrawlResult:
    """A dry run (`crawl --list`): read the feeds, sitemaps and front pages of `sources` (or
    `targets`) and list the article URLs a crawl would fetch (skipping archived, unchanged
    ones of the archive at `db_path`, as a crawl does), without fetching articles or writing
    any archive."""
    settings = {"ARCHIVE_DB": db_path, **dict(overrides)}
    settings |= {"NEWSARCHIVE_LIST_ONLY": True, "ITEM_PIPELINES": {}}
    settings["LOG_LEVEL"] = log_level.upper()
    result = run_crawl(project_settings(settings), sources=sources, targets=targets)
    result.list_only = True
    return result


@dataclass
class CrawlResult:
    """What a finished crawl did: its `crawl_runs` row and Scrapy's final stats."""

    run: dict[str, Any] | None
    stats: dict[str, Any] = field(default_factory=dict)
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE
    list_only: bool = False  # a dry run (`crawl --list`): no archive, no run row

    @property
    def config_error(self) -> str | None:
        return self.stats.get(CONFIG_ERROR)

    @property
    def ok(self) -> bool:
        """The run ended by itself and its row was written (it may still have problems)."""
        if self.list_only:
            return not self.config_error and self.stats.get("finish_reason") in COMPLETED_REASONS
        return self.run is not None and self.run["status"] == "completed"

    @property
    def problems(self) -> list[Problem]:
        """Why the run failed though it ended (newsarchive.problems); [] when it is fine."""
        stats = self.run_stats
        return run_problems(stats, self.max_error_rate) if stats else []

    @property
    def run_stats(self) -> dict[str, Any]:
        """The crawl's stats, or those kept in its run row (a distributed run's)."""
        return self.stats or json.loads((self.run or {}).get("stats") or "{}")

    @property
    def exit_status(self) -> int:
        """0 when the run did what it was asked; 1 when it could not start, was interrupted
        or could not write the archive; 2 when it ended with problems."""
        if not self.ok:
            return ERROR
        return RUN_FAILED if self.problems else OK


def crawl_outcome(result: CrawlResult, elapsed: float | None, quiet: bool) -> tuple[str, str]:
    """What `newsarchive crawl` prints: (stdout, stderr). Quiet, only the problems, one line
    each, on stderr; else the summary, on stderr when the run did not end."""
    if result.ok and quiet:
        return "", "\n".join(p.message for p in result.problems)
    summary = format_summary(result, elapsed)
    if quiet or not result.ok:
        return "", summary
    return summary, ""


def format_listing(result: CrawlResult) -> tuple[str, str]:
    """What `newsarchive crawl --list` prints: (stdout: the articles per source and how they
    were found, stderr: the problems)."""
    if result.config_error:
        return "", f"Crawl did not start: {result.config_error}"
    by_source: dict[str, list[tuple[str, str]]] = {}
    suffix = SOURCE_TARGETS.format("")[len(SOURCES_PREFIX) :]
    for key in result.stats:
        if key.startswith(SOURCES_PREFIX) and key.endswith(suffix):
            by_source[key[len(SOURCES_PREFIX) : -len(suffix)]] = []
    listed = result.stats.get(LISTED) or []
    for source, found_by, url in listed:
        by_source.setdefault(source, []).append((found_by, url))
    lines = []
    for source, found in by_source.items():
        lines.append(f"{source}: {len(found)} article{'s' if len(found) != 1 else ''}")
        lines += [f"  {how:<10} {url}" for how, url in sorted(found)]
    skipped = result.stats.get(SKIPPED, 0)
    lines.append(
        f"{len(listed)} articles to fetch from {len(by_source)} source"
        + ("s" if len(by_source) != 1 else "")
        + (f", {skipped} archived ones not changed" if skipped else "")
        + " (nothing fetched or written)"
    )
    return "\n".join(lines), "\n".join(p.message for p in result.problems)


def run_crawl(
    settings: Settings,
    spider_cls: type[Spider] = NewsSpider,
    crawler_cls: type[Crawler] = Crawler,
    **spider_kwargs: Any,
) -> CrawlResult:
    """Run one crawl to its end (or Ctrl-C) and return what it did; `crawler_cls` is a Crawler
    with another engine (a WARC import's). Once per process: Twisted's reactor cannot be
    restarted."""
    process = CrawlerProcess(settings)
    crawler = crawler_cls(spider_cls, process.settings, init_reactor=True)
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
    stats = result.run_stats
    limits = {
        k[len(NOT_FOLLOWED_PREFIX) :]: v
        for k, v in stats.items()
        if k.startswith(NOT_FOLLOWED_PREFIX) and k != NOT_FOLLOWED_PREFIX + "follow_depth"
    }
    if limits:
        detail = ", ".join(f"{k} {v}" for k, v in sorted(limits.items()))
        lines.append(f"  {'not followed':<15} {sum(limits.values())} ({detail})")
    at_depth = stats.get(NOT_FOLLOWED_PREFIX + "follow_depth")
    if at_depth:
        pages = "index page" if at_depth == 1 else "index pages"
        lines.append(
            f"  {'follow depth':<15} {at_depth} {pages} at NEWSARCHIVE_FOLLOW_DEPTH,"
            " their links not followed"
        )
    problems = result.problems if status == "completed" else []
    if problems:
        failed = [p.source for p in problems if p.source]
        names = f"{len(failed)} source{'s' if len(failed) != 1 else ''}"
        lines.append(f"  {'failed':<15} {names}" + (f": {', '.join(failed)}" if failed else ""))
        lines += [f"    {p.message}" for p in problems]
    if stopped:
        lines.insert(1, f"  stopped         {stopped}")
    if elapsed:
        pages = run["pages_fetched"] or 0
        unit = "responses" if "run" in labels else "pages"
        lines.append(f"  took            {elapsed:.1f} s ({pages / elapsed:.1f} {unit}/s)")
    return "\n".join(lines)
