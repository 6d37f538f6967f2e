"""Storage pipeline: articles into the SQLite archive in batched transactions, and the
crawl run's own row in `crawl_runs`.

Batches are written by one writer thread, one at a time and in order, so the event loop goes on
fetching while zstd compresses pages and SQLite writes them (both release the GIL).
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import NoReturn

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.spiders import Spider
from scrapy.utils.defer import deferred_from_coro

from crawler.clock import now_iso
from crawler.items import ArticleItem, NotModifiedItem
from crawler.signals import articles_stored
from crawler.stats import (
    ARTICLES_PREFIX,
    DROPPED_PREFIX,
    RUN_ID,
    SOURCES_PREFIX,
    STORAGE_ERROR,
    drop,
)
from pipelines.archive import lock
from pipelines.archive.articles import mark_seen, store_article
from pipelines.archive.lock import ArchiveBusy
from pipelines.archive.runs import finish_run, start_run
from pipelines.archive.schema import ArchiveError, describe_error, open_archive

logger = logging.getLogger(__name__)

# A write that finds the archive locked by another writer has waited BUSY_TIMEOUT_MS already;
# it is tried this many more times before the crawl stops.
BUSY_RETRIES = 2
SQLITE_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
PRAGMA = re.compile(r"^\s*([a-z_]+)\s*=\s*([A-Za-z0-9_-]+)\s*$")


def is_busy(error: Exception) -> bool:
    """True for "database is locked": another connection holds the write lock."""
    return getattr(error, "sqlite_errorcode", None) in SQLITE_BUSY_CODES


def parse_pragmas(pragmas: list[str]) -> list[tuple[str, str]]:
    """The (name, value) pairs of "name=value" strings (setting NEWSARCHIVE_SQLITE_PRAGMAS);
    ValueError for anything else."""
    pairs = []
    for pragma in pragmas:
        match = PRAGMA.match(pragma)
        if not match:
            raise ValueError(f"NEWSARCHIVE_SQLITE_PRAGMAS: expected name=value, got {pragma!r}")
        pairs.append((match[1], match[2]))
    return pairs


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
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="archive-writer")
        self.writing = asyncio.Lock()  # one batch at a time, in the order they filled
        self.busy_retries = 0  # counted by the writer thread, added to the stats by the loop

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
        try:
            # For the crawl's writes once its run is recorded: e.g. a busy_timeout, a
            # cache_size, a max_page_count that caps the archive's size (the fault tests fill
            # the disk with it).
            pragmas = parse_pragmas(self.crawler.settings.getlist("NEWSARCHIVE_SQLITE_PRAGMAS"))
            lock.acquire(self.path)  # raises ArchiveBusy while another crawl writes this archive
            self.db = open_archive(self.path)
            spider = self.crawler.spider
            targets = [asdict(t) for t in getattr(spider, "targets", [])]
            self.run_id = start_run(self.db, spider.name, targets)
            for name, value in pragmas:
                self.db.execute(f"PRAGMA {name} = {value}")
        except (ArchiveBusy, ArchiveError, OSError, sqlite3.Error, ValueError) as error:
            self.cannot_start(error)
        self.stats.set_value(RUN_ID, self.run_id)

    def cannot_start(self, error: Exception) -> NoReturn:
        """The archive cannot take this run (busy, not an archive, no space): say why in one
        line and close the spider before it fetches anything."""
        if isinstance(error, sqlite3.Error):
            message = describe_error(self.path, error, "write to")
        elif isinstance(error, OSError):
            message = f"cannot write to {self.path}: {error.strerror or error}"
        else:
            message = str(error)
        logger.error("%s; the crawl does not start", message)
        self.stats.set_value(STORAGE_ERROR, message)
        self.failed = True
        if self.db is not None:
            self.db.close()
            self.db = None
        lock.release(self.path)
        raise CloseSpider("storage_error")

    async def process_item(self, item: object) -> object:
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
            await self.flush()
        return item

    async def flush(self) -> None:
        """Write the buffered articles in one transaction, in the writer thread. Waits for the
        batch before, so at most one batch is written while the next one fills."""
        self.last_flush = time.monotonic()
        async with self.writing:
            batch, self.buffer = self.buffer, []
            if not batch or self.failed:  # stopping: no more writes (those were counted dropped)
                return
            now = now_iso()
            try:
                outcomes = await asyncio.wrap_future(self.writer.submit(self.write, batch, now))
            except Exception as error:  # noqa: BLE001 - any failed write stops the run loudly
                self.stop_on_error(error, batch)
                return
            finally:
                if self.busy_retries:
                    self.stats.inc_value("newsarchive/storage/busy_retries", self.busy_retries)
                    self.busy_retries = 0
        for item, outcome in zip(batch, outcomes, strict=True):
            self.stats.inc_value(ARTICLES_PREFIX + outcome)
            self.stats.inc_value(f"{SOURCES_PREFIX}{item.source}/{outcome}")
        self.crawler.signals.send_catch_log(signal=articles_stored, items=batch)

    def write(self, batch: list[ArticleItem | NotModifiedItem], now: str) -> list[str]:
        """Store a batch in one transaction (in the writer thread), trying again while another
        writer holds the archive's lock; the outcome of each item."""
        for attempt in range(BUSY_RETRIES + 1):
            try:
                with self.db.atomic():
                    return [self.store(item, now) for item in batch]
            except Exception as error:
                if not (is_busy(error) and attempt < BUSY_RETRIES):
                    raise
                logger.warning("%s is locked by another writer; trying again", self.path)
                self.busy_retries += 1
        raise AssertionError("unreachable")

    def store(self, item: ArticleItem | NotModifiedItem, now: str) -> str:
        if isinstance(item, NotModifiedItem):
            return mark_seen(self.db, item.url, now)
        return store_article(self.db, item, self.run_id, now)

    def stop_on_error(self, error: Exception, batch: list) -> None:
        """A write failed (disk full, read-only file, corrupt database): the transaction was
        rolled back, so stop the crawl and say so rather than drop articles silently. Articles
        buffered meanwhile for the next batch are not stored either."""
        lost = len(batch) + len(self.buffer)
        self.buffer.clear()
        self.failed = True
        if isinstance(error, sqlite3.Error):
            message = describe_error(self.path, error, "write to")
        else:
            message = f"cannot write to {self.path}: {error}"
        logger.error(
            "%s; stopping the crawl (%d articles not stored; those stored before are intact)",
            message,
            lost,
        )
        self.stats.set_value(STORAGE_ERROR, message)
        self.stats.inc_value(DROPPED_PREFIX + "storage_error", lost)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="storage_error"))

    async def close_spider(self) -> None:
        await self.flush()

    def mark_failed(self, reason: str) -> None:
        """Record at least how the run ended when its full record cannot be written (a full
        disk has room for a row that does not grow)."""
        try:
            with self.db.atomic():
                self.db.execute(
                    "update crawl_runs set status = 'failed', finish_reason = ?, ended = ? "
                    "where id = ?",
                    [reason, now_iso(), self.run_id],
                )
        except sqlite3.Error:
            pass  # then the next run marks it interrupted

    def record_end(self, reason: str) -> None:
        """Record the run's end in the pages its reserve frees (an archive at its size cap). On a
        really full disk the write-ahead log cannot grow for those pages: then update the row
        alone, in the log's room left by the write that failed."""
        try:
            finish_run(self.db, self.run_id, self.stats.get_stats(), reason)
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", None) != sqlite3.SQLITE_FULL:
                raise
            stats = self.stats.get_stats()
            finish_run(self.db, self.run_id, stats, reason, free_reserve=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.writer.shutdown(wait=True)
        if self.db is None:
            return
        if self.failed:  # also when the last write failed while the spider was closing anyway
            reason = "storage_error"
        try:
            self.record_end(reason)
        except Exception as error:  # noqa: BLE001 - the run row stays "running"; next run fixes it
            logger.error("cannot record the end of run %s in %s: %s", self.run_id, self.path, error)
            self.mark_failed(reason)
        self.db.close()
        self.db = None
        lock.release(self.path)
