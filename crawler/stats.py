"""The crawl's own stats keys, declared once: every component counts under these names, the
progress line shows them and the archive's `crawl_runs` row is made from them.

Keys are `newsarchive/<what>/<kind>`; per-source counts are `newsarchive/source/<name>/<what>`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:  # importing scrapy takes a quarter second; the CLI's reports only need names
    from scrapy.statscollectors import StatsCollector

ERRORS_PREFIX = "newsarchive/errors/"  # failed requests by kind (crawler.errors)
DROPPED_PREFIX = "newsarchive/dropped/"  # fetched pages not stored, by reason
OUT_OF_SCOPE_PREFIX = "newsarchive/out_of_scope/"  # requests refused by scope, by reason
WARNINGS_PREFIX = "newsarchive/warnings/"  # stored despite a problem (charset, empty feed...)
ARTICLES_PREFIX = "newsarchive/articles/"  # new, updated, unchanged
SOURCES_PREFIX = "newsarchive/source/"  # then <source>/<what>: pages, new, updated, errors...
SOURCE_DROPPED = SOURCES_PREFIX + "{}/dropped"
SOURCE_ERRORS = SOURCES_PREFIX + "{}/errors"
SOURCE_PAGES = SOURCES_PREFIX + "{}/pages"
SOURCE_OUT_OF_SCOPE = SOURCES_PREFIX + "{}/out_of_scope"
SOURCE_TARGETS = SOURCES_PREFIX + "{}/targets"  # the places the run started from
SOURCE_TARGETS_FAILED = SOURCES_PREFIX + "{}/targets_failed"  # ...that failed
SOURCE_EMPTY_LISTINGS = SOURCES_PREFIX + "{}/empty_listings"  # feeds, sitemaps listing nothing
# The first few of a source's failed targets and empty listings, as {"url", "why"}, so that a
# failure can be named (newsarchive.problems).
FAILED_TARGETS = "newsarchive/failed_targets/{}"
FAILED_TARGETS_KEPT = 5
NOT_FOLLOWED_PREFIX = "newsarchive/not_followed/"  # requests a limit stopped, by limit
LISTED = "newsarchive/listed"  # crawl --list: [source, found_by, url] of each article found
RUN_ID = "newsarchive/run_id"  # the archive's id of the current run
SKIPPED = "newsarchive/skipped_archived"  # article URLs not fetched: archived and unchanged
CONFIG_ERROR = "newsarchive/config_error"  # why the spider could not start (bad sources...)
STORAGE_ERROR = "newsarchive/storage_error"  # why the archive could not be written
# Scrapy's own keys that the archive reads.
PAGES = "response_received_count"
ROBOTS_PAGES = "robotstxt/response_count"


def note_failure(stats: StatsCollector, source: str, url: str, why: str, counter: str) -> None:
    """Count a failed target or an empty listing of `source` under `counter` (SOURCE_TARGETS_
    FAILED or SOURCE_EMPTY_LISTINGS) and keep its URL and why for the run's report."""
    stats.inc_value(counter.format(source))
    key = FAILED_TARGETS.format(source)
    failed = stats.get_value(key) or []
    if len(failed) < FAILED_TARGETS_KEPT:
        stats.set_value(key, [*failed, {"url": url, "why": why}])


def record_listed(stats: StatsCollector, meta: dict, url: str) -> None:
    """`crawl --list`: note an article URL the crawl would fetch, its source and how it was
    found (meta "found_by": feed, sitemap, page link, url)."""
    listed = stats.get_value(LISTED) or []
    listed.append([meta.get("source", "adhoc"), meta.get("found_by", "url"), url])
    stats.set_value(LISTED, listed)


def drop(stats: StatsCollector, reason: str, item: Any) -> NoReturn:
    """Count `reason` (overall and for the item's source) in the crawl stats and drop the item."""
    from scrapy.exceptions import DropItem  # a crawl has scrapy loaded; see the imports above

    stats.inc_value(DROPPED_PREFIX + reason)
    stats.inc_value(SOURCE_DROPPED.format(item.source))
    url = getattr(item, "fetched_url", None) or item.url
    raise DropItem(f"{reason}: {url}")
