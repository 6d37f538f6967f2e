"""`newsarchive worker`: a Scrapy crawl that takes its requests from the shared frontier.

A worker runs the news spider's own callbacks (feeds, sitemaps, pages, articles) and the same
extraction, validation and dedup pipelines as a local crawl, then hands articles to Redis
instead of writing an archive. It never stops by itself while there may be more work, unless
told to (`NEWSARCHIVE_WORKER_MAX_IDLE`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from crawler.distributed.liveness import HEARTBEAT_SECONDS
from crawler.distributed.redis_runs import source_from_json
from crawler.distributed.state import WorkerState
from crawler.sources import Target
from crawler.spiders.news import NewsSpider

logger = logging.getLogger(__name__)

# What a worker changes in the project settings: scrapy-redis's scheduler (with our leased
# queue and JSON serializer) and duplicate filter, and components that need no archive.
WORKER_SETTINGS: dict[str, Any] = {
    "SCHEDULER": "crawler.distributed.scheduler.LeasedScheduler",
    "SCHEDULER_QUEUE_CLASS": "crawler.distributed.scheduler.LeasedQueue",
    "SCHEDULER_SERIALIZER": "crawler.distributed.serializer",
    "SCHEDULER_PERSIST": True,
    "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
    # Per-site limits for the whole cluster (crawler/distributed/politeness.py).
    "DOWNLOADER": "crawler.distributed.downloader.ClusterDownloader",
}
COMPONENTS = {
    "DOWNLOADER_MIDDLEWARES": {
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "crawler.distributed.robots.SharedRobotsTxtMiddleware": 100,
    },
    "SPIDER_MIDDLEWARES": {
        "crawler.spidermiddlewares.incremental.IncrementalMiddleware": None,
        "crawler.distributed.incremental.RedisIncrementalMiddleware": 800,
    },
    "ITEM_PIPELINES": {
        "pipelines.storage.StoragePipeline": None,
        "pipelines.handoff.HandoffPipeline": 400,
    },
    "EXTENSIONS": {"crawler.distributed.worker.WorkerExtension": 100},
}


def worker_settings(settings: Settings, overrides: Mapping[str, Any] = ()) -> Settings:
    """The project settings turned into a worker's (on top of any command-line overrides)."""
    settings.setdict({**WORKER_SETTINGS, **dict(overrides)}, priority="cmdline")
    for name, changes in COMPONENTS.items():
        components = settings.getdict(name)
        components.update(changes)
        settings.set(name, components, priority="cmdline")
    return settings


class WorkerSpider(NewsSpider):
    """The news spider without targets of its own: its sources come with each run."""

    name = "worker"

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> WorkerSpider:
        # Skip NewsSpider.from_crawler: a worker reads no sources file.
        return super(NewsSpider, cls).from_crawler(crawler, *args, **kwargs)

    async def start(self) -> AsyncIterator[Any]:
        for _ in ():  # the frontier holds the start requests; the seeder put them there
            yield _

    def use_run(self, run: dict[str, Any]) -> None:
        """Crawl with the sources and targets of `run` (OffsiteMiddleware re-reads them)."""
        self.sources = {s.name: s for s in map(source_from_json, run.get("sources") or [])}
        self.targets = [Target(**t) for t in run.get("targets") or []]


class WorkerExtension:
    """Keeps a worker in step with the frontier, every NEWSARCHIVE_WORKER_TICK seconds: sends
    acknowledgements and stats, beats its heart, renews leases, reaps expired ones, takes new
    work at once when some is queued, and stops the worker after NEWSARCHIVE_WORKER_MAX_IDLE
    idle seconds.

    It also learns when the engine is completely done with a request by wrapping
    `engine._slot.remove_request`, Scrapy's one place that knows (after the download, the
    callback, its follow-ups being queued and its items leaving the pipelines). That is
    private API; a Scrapy without it stops the worker at start rather than lose requests.
    """

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.tick_seconds = settings.getfloat("NEWSARCHIVE_WORKER_TICK")
        self.max_idle = settings.getfloat("NEWSARCHIVE_WORKER_MAX_IDLE")
        lease = settings.getfloat("NEWSARCHIVE_LEASE_SECONDS")
        self.renew_every = lease / 3
        self.reap_every = lease / 2
        self.last_renew = self.last_reap = self.last_beat = 0.0
        self.idle_since: float | None = None
        self.loop: task.LoopingCall | None = None
        self.state: WorkerState | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerExtension:
        if not crawler.settings.get("REDIS_URL"):
            raise NotConfigured
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        self.state = WorkerState.of(self.crawler)
        slot = getattr(self.crawler.engine, "_slot", None)
        remove_request = getattr(slot, "remove_request", None)
        if remove_request is None:
            raise RuntimeError("this Scrapy has no engine._slot.remove_request to hook")

        def removed(request: Any) -> None:
            self.state.done(request)
            remove_request(request)

        slot.remove_request = removed
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(self.tick_seconds, now=False)
        logger.info("Worker %s takes requests from %s", self.state.worker_id, self.state.keys.sites)

    def tick(self) -> None:
        state = self.state
        if state is None or state.broken:
            return
        now = time.monotonic()
        try:
            state.flush()
            if now - self.last_beat >= HEARTBEAT_SECONDS:
                self.last_beat = now
                state.heartbeat()
            if now - self.last_renew >= self.renew_every:
                self.last_renew = now
                state.renew()
            if now - self.last_reap >= self.reap_every:
                self.last_reap = now
                state.reap()
            queued = state.frontier.queued()
        except Exception as error:  # noqa: BLE001 - Redis is gone
            state.fail(f"lost Redis: {error}")
            return
        if queued:
            # Take it now rather than at the engine's next heartbeat (every 5 s).
            slot = getattr(self.crawler.engine, "_slot", None)
            if slot is not None:
                slot.nextcall.schedule()
        if queued or state.held or state.finished:
            self.idle_since = None
        elif self.idle_since is None:
            self.idle_since = now
        elif self.max_idle and now - self.idle_since >= self.max_idle:
            self.idle_since = None
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="idle"))

    def spider_idle(self) -> None:
        # Nothing to do now does not mean nothing to do: other workers may queue more.
        raise DontCloseSpider

    def spider_closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.state is not None:
            self.state.stopping()


def run_worker(settings: Settings) -> dict[str, Any]:
    """Run a worker until it is stopped (Ctrl-C, SIGTERM, idle) and return its final stats."""
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(WorkerSpider)
    process.crawl(crawler)
    process.start()
    return crawler.stats.get_stats() if crawler.stats else {}
