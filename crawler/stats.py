"""The crawl's own stats keys, declared once: every component counts under these names, the
progress line shows them and the archive's `crawl_runs` row is made from them.

Keys are `newsarchive/<what>/<kind>`; per-source counts are `newsarchive/source/<name>/<what>`.
"""

from __future__ import annotations

from typing import Any, NoReturn

from scrapy.exceptions import DropItem
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
RUN_ID = "newsarchive/run_id"  # the archive's id of the current run
SKIPPED = "newsarchive/skipped_archived"  # article URLs not fetched: archived and unchanged
CONFIG_ERROR = "newsarchive/config_error"  # why the spider could not start (bad sources...)
STORAGE_ERROR = "newsarchive/storage_error"  # why the archive could not be written
# Scrapy's own keys that the archive reads.
PAGES = "response_received_count"
ROBOTS_PAGES = "robotstxt/response_count"


def drop(stats: StatsCollector, reason: str, item: Any) -> NoReturn:
    """Count `reason` (overall and for the item's source) in the crawl stats and drop the item."""
    stats.inc_value(DROPPED_PREFIX + reason)
    stats.inc_value(SOURCE_DROPPED.format(item.source))
    url = getattr(item, "fetched_url", None) or item.url
    raise DropItem(f"{reason}: {url}")
