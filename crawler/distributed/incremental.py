"""Incremental crawling for workers, which have no archive: what it holds comes from Redis.

The ingester publishes every archived URL key with its last fetch time, its HTTP validators
and the run that stored it (`Keys.archived`, compact: `crawler.distributed.archive_index`); a
worker skips and conditionally re-fetches exactly as a local crawl does
(`crawler.spidermiddlewares.incremental.IncrementalMiddleware`), reading that hash instead of
SQLite.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.distributed.archive_index import decode_entry, index_field
from crawler.distributed.state import WorkerState
from crawler.spidermiddlewares.incremental import IncrementalMiddleware
from crawler.stats import RUN_ID
from crawler.urls import url_key


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
        self.archive_runs: dict[str, int] = {}  # Redis run id -> its crawl_runs id
        self.state = WorkerState.of(self.crawler)
        self.skipped = SharedSeenSet(self.state.server, self.state.keys.skipped)

    def spider_closed(self) -> None:
        pass

    def _archived(self, url: str) -> tuple | None:
        raw = self.state.server.hget(self.state.keys.archived, index_field(url_key(url)))
        if not raw:
            return None
        last_seen, etag, last_modified, run_id = decode_entry(raw)
        if run_id is not None:
            # IncrementalMiddleware tells this run's own articles by the archive's run id.
            self.stats.set_value(RUN_ID, self._archive_run_id())
        return last_seen, etag, last_modified, run_id

    def _archive_run_id(self) -> int | None:
        """The `crawl_runs` id of the run being crawled, once the ingester has started it
        (before that, no article of this run is in the archive)."""
        run_id = self.state.run_id
        if run_id not in self.archive_runs:
            value = self.state.server.hget(self.state.keys.run, "archive_run_id")
            if (
                value is None
                or self.state.server.hget(self.state.keys.run, "id") != run_id.encode()
            ):
                return None
            self.archive_runs[run_id] = int(value)
        return self.archive_runs[run_id]
