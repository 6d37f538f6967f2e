"""Dropping an item with a counted reason, so every run can say why pages were not stored."""

from __future__ import annotations

from typing import Any, NoReturn

from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

DROPPED_PREFIX = "newsarchive/dropped/"
SOURCE_DROPPED = "newsarchive/source/{}/dropped"


def drop(stats: StatsCollector, reason: str, item: Any) -> NoReturn:
    """Count `reason` (overall and for the item's source) in the crawl stats and drop the item."""
    stats.inc_value(DROPPED_PREFIX + reason)
    stats.inc_value(SOURCE_DROPPED.format(item.source))
    url = getattr(item, "fetched_url", None) or item.url
    raise DropItem(f"{reason}: {url}")
