"""What went wrong in a crawl run that completed: the exit status and `--quiet` output.

A run fails (exit status RUN_FAILED) when it fetched nothing, when a source failed entirely
(every one of its targets failed, or a feed or sitemap of it listed no article), or when more
than `max_error_rate` of its requests failed. Each problem is one line, naming the source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crawler.stats import (
    ERRORS_PREFIX,
    FAILED_TARGETS,
    LISTED,
    PAGES,
    ROBOTS_PAGES,
    SKIPPED,
    SOURCE_TARGETS,
    SOURCE_TARGETS_FAILED,
    SOURCES_PREFIX,
)

# Exit statuses of `newsarchive crawl` (documented in the README and `--help`).
OK = 0
ERROR = 1  # bad input, could not start or write the archive, interrupted
RUN_FAILED = 2  # the run ended, but fetched nothing, lost a source or passed --max-error-rate
DEFAULT_MAX_ERROR_RATE = 0.25

EMPTY_WHY = {
    "empty_feed": "is empty or not a feed",
    "empty_sitemap": "lists no article",
    "invalid_sitemap": "is not a sitemap",
}


@dataclass(frozen=True)
class Problem:
    """One reason a run failed; `source` is None for the run as a whole."""

    message: str
    source: str | None = None


def _sources(stats: Mapping[str, Any]) -> list[str]:
    suffix = SOURCE_TARGETS.format("")[len(SOURCES_PREFIX) :]  # "/targets"
    return sorted(
        key[len(SOURCES_PREFIX) : -len(suffix)]
        for key in stats
        if key.startswith(SOURCES_PREFIX) and key.endswith(suffix)
    )


def _source_problem(stats: Mapping[str, Any], name: str) -> Problem | None:
    failed = stats.get(FAILED_TARGETS.format(name)) or []
    empty = [f for f in failed if f["why"] in EMPTY_WHY]
    if empty:
        first = empty[0]
        kind = "feed" if first["why"] == "empty_feed" else "sitemap"
        more = f" (and {len(empty) - 1} more)" if len(empty) > 1 else ""
        message = f"{kind} {first['url']} {EMPTY_WHY[first['why']]}{more}"
        return Problem(f"source {name} failed: {message}", name)
    targets = stats.get(SOURCE_TARGETS.format(name), 0)
    errored = stats.get(SOURCE_TARGETS_FAILED.format(name), 0)
    if targets and errored >= targets:
        named = [f"{f['url']} {f['why']}" for f in failed]
        if errored > len(failed):
            named.append(f"{errored - len(failed)} more")
        every = "its target" if targets == 1 else f"all {targets} targets"
        detail = f" ({', '.join(named)})" if named else ""
        return Problem(f"source {name} failed: {every} failed{detail}", name)
    return None


def run_problems(
    stats: Mapping[str, Any], max_error_rate: float = DEFAULT_MAX_ERROR_RATE
) -> list[Problem]:
    """Why a run that ended failed, from its Scrapy stats: one Problem per failing source,
    then the run's own ("fetched nothing", too many errors) unless every source failed.
    Empty when the run is fine."""
    names = _sources(stats)
    problems = [p for name in names if (p := _source_problem(stats, name))]
    if names and len(problems) == len(names):
        return problems  # every source failed: that says it all
    fetched = stats.get(PAGES, 0) - stats.get(ROBOTS_PAGES, 0)
    if fetched <= 0 and not stats.get(SKIPPED, 0) and not stats.get(LISTED) and not problems:
        problems.append(Problem("the run fetched nothing"))
    errors = {k[len(ERRORS_PREFIX) :]: v for k, v in stats.items() if k.startswith(ERRORS_PREFIX)}
    failed = sum(errors.values())
    # Requests that got no response at all, next to the pages that did (HTTP errors among them).
    attempted = max(fetched, 0) + sum(v for k, v in errors.items() if not k.startswith("http_"))
    if failed and attempted and failed / attempted > max_error_rate:
        problems.append(
            Problem(
                f"{failed} of {attempted} requests failed ({failed / attempted:.0%}),"
                f" more than --max-error-rate {max_error_rate:.0%}"
            )
        )
    return problems
