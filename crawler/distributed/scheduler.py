"""scrapy-redis's scheduler and queue, with leases: a worker's requests stay in Redis until done.

What is scrapy-redis's and what is ours:
- `scrapy_redis.scheduler.Scheduler` connects, and builds the queue and the duplicate filter
  from its settings; `LeasedScheduler` adds: each popped request's lease is remembered, leases
  are given back on close, and the shared queue is never flushed (SCHEDULER_PERSIST forced on).
- `scrapy_redis.queue.PriorityQueue` encodes requests; `LeasedQueue` queues them by site
  (`Frontier.push`) and pops through `Frontier.pop` (a lease, from the site whose turn comes
  first) instead of ZRANGE+ZREMRANGEBYRANK on one sorted set.
- `enqueue_request`/`next_request` are restated without a deprecated argument (see there).
- `scrapy_redis.dupefilter.RFPDupeFilter` is used as it is (see DUPEFILTER_CLASS in the worker
  settings: scrapy-redis falls back to `DUPEFILTER_CLASS.from_settings()`, which Scrapy 2.19's
  own filter no longer has).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.spiders import Spider
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from crawler.distributed.frontier import slot_of
from crawler.distributed.state import LEASE_META, WorkerState

logger = logging.getLogger(__name__)


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop takes a lease instead of deleting."""

    def __init__(self, server: Any, spider: Spider, key: str, serializer: Any = None):
        super().__init__(server, spider, key, serializer)
        self.state = WorkerState.of(spider.crawler)

    def _encode_request(self, request: Request) -> bytes:
        # A redirect or retry copies the meta of the request it replaces, lease included.
        if LEASE_META in request.meta:
            request = request.replace(
                meta={k: v for k, v in request.meta.items() if k != LEASE_META}
            )
        return super()._encode_request(request)

    def push(self, request: Request) -> None:
        data = self._encode_request(request)
        self.state.frontier.push([(slot_of(request), -request.priority, data)])

    def __len__(self) -> int:
        return self.state.frontier.queued()

    def clear(self) -> None:
        raise RuntimeError("the shared frontier is never cleared by a worker")

    def pop(self, timeout: int = 0) -> Request | None:
        popped = self.state.frontier.pop(self.state.worker_id)
        if popped is None:
            return None
        lease, data, run = popped
        try:
            request = self._decode_request(data)
        except Exception:  # noqa: BLE001 - a request we cannot read is given up on, loudly
            logger.exception("cannot decode a queued request; dropping it: %r", data[:200])
            self.state.frontier.ack([lease])
            return None
        request.meta[LEASE_META] = lease
        self.state.hold(request, lease, run)
        return request


class LeasedScheduler(Scheduler):
    """scrapy-redis's Redis scheduler for workers: leased pops, never a flush of shared data."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeasedScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.persist = True  # the queue and the duplicate filter belong to every worker
        return scheduler

    # enqueue_request and next_request are scrapy-redis's, without the `spider=` argument to
    # StatsCollector.inc_value() that Scrapy 2.19 deprecates, and with Redis failures ending
    # the worker instead of losing requests.

    def enqueue_request(self, request: Request) -> bool:
        try:
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            self.queue.push(request)
        except Exception as error:  # a lost follow-up request: this worker must not ack
            WorkerState.of(self.crawler).fail(f"cannot queue {request.url}: {error}")
            raise
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        state = WorkerState.of(self.crawler)
        if state.broken:
            return None
        try:
            request = self.queue.pop()
        except Exception as error:  # noqa: BLE001 - Redis is gone: stop taking work
            state.fail(f"cannot take a request: {error}")
            return None
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        state = WorkerState.of(self.crawler)
        if state.broken:
            return False
        try:
            return super().has_pending_requests()
        except Exception as error:  # noqa: BLE001
            state.fail(f"cannot read the queue: {error}")
            return False

    def close(self, reason: str) -> None:
        WorkerState.of(self.crawler).release_held()
