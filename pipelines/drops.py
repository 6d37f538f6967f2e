"""Dropping an item with a counted reason, so every run can say why pages were not stored."""

from __future__ import annotations

from typing import NoReturn

from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

DROPPED_PREFIX = "newsarchive/dropped/"


def drop(stats: StatsCollector, reason: str, url: str) -> NoReturn:
    """Count `reason` in the crawl stats and drop the item."""
    stats.inc_value(DROPPED_PREFIX + reason)
    raise DropItem(f"{reason}: {url}")
