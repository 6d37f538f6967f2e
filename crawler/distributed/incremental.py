"""Incremental crawling for workers, which have no archive: what it holds comes from Redis.

The ingester publishes every archived URL key with its last fetch time and HTTP validators
(`Keys.archived`); a worker skips and conditionally re-fetches exactly as a local crawl does
(`crawler.middlewares.IncrementalMiddleware`), reading that hash instead of SQLite.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from crawler.distributed.state import WorkerState
from crawler.middlewares import IncrementalMiddleware, _parse_time
from pipelines.urls import url_key


class SharedSeenSet:
    """The run's set of skipped URL keys, shared by all workers, for IncrementalMiddleware's
    `if key not in skipped: skipped.add(key); count`: the membership test itself adds the key
    (one SADD), so of two workers skipping one URL exactly one counts it."""

    def __init__(self, server, key: str):
        self.server = server
        self.key = key

    def __contains__(self, member: str) -> bool:
        return self.server.sadd(self.key, member) == 0

    def add(self, member: str) -> None:
        pass  # added by __contains__


class RedisIncrementalMiddleware(IncrementalMiddleware):
    """IncrementalMiddleware reading the archive index the ingester keeps in Redis."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisIncrementalMiddleware:
        if not crawler.settings.get("REDIS_URL"):
            raise NotConfigured
        return super().from_crawler(crawler)

    def spider_opened(self) -> None:
        self.state = WorkerState.of(self.crawler)
        self.skipped = SharedSeenSet(self.state.server, self.state.keys.skipped)

    def spider_closed(self) -> None:
        pass

    def _archived(self, url: str) -> tuple | None:
        raw = self.state.server.hget(self.state.keys.archived, url_key(url))
        return tuple(json.loads(raw)) if raw else None

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        # "This run" began when the seeder started it, not when this worker did.
        run = self.state.run or {}
        self.run_started = _parse_time(run.get("started")) or datetime.now(UTC)
        return super().get_processed_request(request, response)
