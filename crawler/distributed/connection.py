"""Settings and connections of a distributed crawl."""

from __future__ import annotations

from typing import Any

from scrapy.settings import Settings

from crawler.distributed.frontier import Frontier
from crawler.distributed.keys import Keys


def redis_overrides(redis_url: str, namespace: str) -> dict[str, Any]:
    """The settings that point every part of a distributed crawl at one Redis namespace."""
    keys = Keys(namespace)
    return {
        "REDIS_URL": redis_url,
        "NEWSARCHIVE_REDIS_NAMESPACE": namespace,
        "SCHEDULER_QUEUE_KEY": keys.sites,  # LeasedQueue queues by site under this ring
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
    }


def connect(settings: Settings) -> Any:
    """A Redis client for the settings' REDIS_URL (scrapy-redis's connection defaults)."""
    from scrapy_redis.connection import get_redis_from_settings

    return get_redis_from_settings(settings)


def keys_of(settings: Settings) -> Keys:
    """The Redis key names of the settings' namespace."""
    return Keys(settings.get("NEWSARCHIVE_REDIS_NAMESPACE"))


def frontier_of(settings: Settings, server: Any) -> Frontier:
    """The leased frontier the settings describe."""
    return Frontier(
        server,
        keys_of(settings),
        lease_seconds=settings.getfloat("NEWSARCHIVE_LEASE_SECONDS"),
        max_deliveries=settings.getint("NEWSARCHIVE_MAX_DELIVERIES"),
        download_delay=settings.getfloat("DOWNLOAD_DELAY"),
    )
