"""Storage pipeline: articles into the SQLite archive in batched transactions, and the
crawl run's own row in `crawl_runs`."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.spiders import Spider
from scrapy.utils.defer import deferred_from_coro

from crawler.items import ArticleItem, NotModifiedItem
from pipelines import lock
from pipelines.archive import open_archive
from pipelines.drops import DROPPED_PREFIX, drop
from pipelines.runs import ARTICLES_PREFIX, RUN_ID, SOURCES_PREFIX, finish_run, start_run
from pipelines.store import mark_seen, now_iso, store_article

logger = logging.getLogger(__name__)


class StoragePipeline:
    """Writes articles to the archive (setting ARCHIVE_DB) and records the run."""

    def __init__(self, crawler: Crawler, path: str, batch_size: int, flush_seconds: float):
        self.crawler = crawler
        self.stats = crawler.stats
        self.path = path
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.buffer: list[ArticleItem] = []
        self.last_flush = time.monotonic()
        self.db = None
        self.run_id: int | None = None
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        settings = crawler.settings
        pipeline = cls(
            crawler,
            settings.get("ARCHIVE_DB"),
            settings.getint("NEWSARCHIVE_BATCH_SIZE"),
            settings.getfloat("NEWSARCHIVE_FLUSH_SECONDS"),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        lock.acquire(self.path)  # raises ArchiveBusy while another crawl writes this archive
        self.db = open_archive(self.path)
        spider = self.crawler.spider
        targets = [asdict(t) for t in getattr(spider, "targets", [])]
        self.run_id = start_run(self.db, spider.name, targets)
        self.stats.set_value(RUN_ID, self.run_id)

    def process_item(self, item: object) -> object:
        if isinstance(item, NotModifiedItem):
            self.buffer.append(item)
            return item
        if not isinstance(item, ArticleItem):
            return item
        if self.failed:
            drop(self.stats, "storage_error", item)
        self.buffer.append(item)
        if (
            len(self.buffer) >= self.batch_size
            or time.monotonic() - self.last_flush >= self.flush_seconds
        ):
            self.flush()
        return item

    def flush(self) -> None:
        """Write the buffered articles in one transaction."""
        self.last_flush = time.monotonic()
        if not self.buffer:
            return
        now = now_iso()
        try:
            with self.db.atomic():
                outcomes = [self.store(item, now) for item in self.buffer]
        except Exception as error:  # noqa: BLE001 - any failed write stops the run loudly
            self.stop_on_error(error)
            return
        for item, outcome in zip(self.buffer, outcomes, strict=True):
            self.stats.inc_value(ARTICLES_PREFIX + outcome)
            self.stats.inc_value(f"{SOURCES_PREFIX}{item.source}/{outcome}")
        self.buffer.clear()

    def store(self, item: ArticleItem | NotModifiedItem, now: str) -> str:
        if isinstance(item, NotModifiedItem):
            return mark_seen(self.db, item.url, now)
        return store_article(self.db, item, self.run_id, now)

    def stop_on_error(self, error: Exception) -> None:
        """A write failed (disk full, read-only file, corrupt database): the transaction was
        rolled back, so stop the crawl and say so rather than drop articles silently."""
        lost = len(self.buffer)
        self.buffer.clear()
        self.failed = True
        message = f"cannot write to {self.path}: {error}"
        logger.error("%s; stopping the crawl (%d articles not stored)", message, lost)
        self.stats.set_value("newsarchive/storage_error", message)
        self.stats.inc_value(DROPPED_PREFIX + "storage_error", lost)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="storage_error"))

    def close_spider(self) -> None:
        self.flush()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.db is None:
            return
        try:
            finish_run(self.db, self.run_id, self.stats.get_stats(), reason)
        except Exception as error:  # noqa: BLE001 - the run row stays "running"; next run fixes it
            logger.error("cannot record the end of run %s in %s: %s", self.run_id, self.path, error)
        self.db.close()
        self.db = None
        lock.release(self.path)
