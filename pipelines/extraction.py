"""Extraction pipeline: fetched pages in, clean articles with metadata out, extracted in a pool
of worker processes so that extraction uses every core and never blocks the crawl."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import NoReturn

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from scrapy.utils.reactor import is_asyncio_reactor_installed

from crawler.items import EXTRACTED_FIELDS, ArticleItem, PageItem
from crawler.stats import drop
from pipelines.article.pool import (
    DEFAULT_EXTRACTOR,
    ExtractionFailed,
    ExtractionPool,
    ExtractionTimeout,
    catch_swallowed_failures,
    load_extractor,
    run_extractor,
)

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_html(content_type: str, body: bytes) -> bool:
    """True for an HTML response, judged by its Content-Type or, without one, its first bytes."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind:
        return kind in HTML_TYPES
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def article_from_page(page: PageItem, extracted: dict) -> ArticleItem:
    """The article item for a page and what extraction found in it."""
    found = {name: extracted.get(name) for name in EXTRACTED_FIELDS}
    return ArticleItem(
        url=page.url,
        source=page.source,
        **found,
        word_count=len(found["text"].split()),
        content_hash=extracted.get("content_hash"),
        simhash=extracted.get("simhash"),
        fetched_url=page.url,
        requested_url=page.requested_url,
        fetched_at=page.fetched_at,
        status=page.status,
        content_type=page.content_type,
        encoding=page.encoding,
        etag=page.etag,
        last_modified=page.last_modified,
        html=page.body,
    )


class ExtractionPipeline:
    """Runs trafilatura (with our boilerplate rules) on each page in a pool of worker processes;
    drops pages that are not HTML, have no article text, make extraction fail or overrun its
    time budget.

    Settings: NEWSARCHIVE_EXTRACTION_WORKERS (processes; None: one per CPU; 0: extract in the
    crawl process itself, for debugging, without a time budget), NEWSARCHIVE_EXTRACTION_TIMEOUT
    (seconds one page may take) and NEWSARCHIVE_EXTRACTOR (dotted path of the function).
    The workers start once the spider has opened (not for a crawl that cannot start) and stop
    when it closes, or when the engine stops however it stops.
    """

    def __init__(self, stats: StatsCollector, pool: ExtractionPool | None, extractor: str):
        self.stats = stats
        self.pool = pool
        self.extractor = extractor
        self._extract_here: Callable[..., dict | None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionPipeline:
        settings = crawler.settings
        workers = settings.get("NEWSARCHIVE_EXTRACTION_WORKERS")
        workers = (os.cpu_count() or 1) if workers in (None, "") else int(workers)
        extractor = settings.get("NEWSARCHIVE_EXTRACTOR") or DEFAULT_EXTRACTOR
        pool = None
        if workers > 0:
            timeout = settings.getfloat("NEWSARCHIVE_EXTRACTION_TIMEOUT")
            pool = ExtractionPool(workers, timeout, extractor)
        pipeline = cls(crawler.stats, pool, extractor)
        crawler.signals.connect(pipeline.start_pool, signal=signals.spider_opened)
        crawler.signals.connect(pipeline.stop_pool, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.stop_pool, signal=signals.engine_stopped)
        return pipeline

    def start_pool(self) -> None:
        if self.pool is None:
            return
        if not is_asyncio_reactor_installed():
            logger.warning("extraction runs in the crawl process: the pool needs asyncio's reactor")
            self.pool = None
            return
        self.pool.start()

    def stop_pool(self) -> None:
        if self.pool is not None:
            self.pool.close()

    def process_item(self, item: object) -> object:
        """The article of a page, or DropItem with a counted reason. While the pool runs, a
        coroutine that gives it (Scrapy awaits it); otherwise extracted here and now."""
        if not isinstance(item, PageItem):
            return item
        if not is_html(item.content_type, item.body):
            drop(self.stats, "not_html", item)
        page = {
            "html": item.body,
            "url": item.url,
            "encoding": item.encoding,
            "drop_selectors": item.drop_selectors,
            "hints": item.hints,
        }
        if self.pool is not None and self.pool.running:
            return self._extract_in_pool(item, page)
        if self._extract_here is None:
            catch_swallowed_failures()
            self._extract_here = load_extractor(self.extractor)
        try:
            extracted = run_extractor(self._extract_here, page)
        except ExtractionFailed as error:
            self._drop_failed(item, error)
        return self._article(item, extracted)

    async def _extract_in_pool(self, item: PageItem, page: dict) -> ArticleItem:
        try:
            extracted = await self.pool.extract(**page)
        except ExtractionFailed as error:
            self._drop_failed(item, error)
        return self._article(item, extracted)

    def _drop_failed(self, item: PageItem, error: ExtractionFailed) -> NoReturn:
        reason = (
            "extraction_timeout" if isinstance(error, ExtractionTimeout) else "extraction_error"
        )
        logger.warning("%s: %s (%s)", reason, item.url, error)
        drop(self.stats, reason, item)

    def _article(self, item: PageItem, extracted: dict | None) -> ArticleItem:
        if extracted is None:
            drop(self.stats, "no_text", item)
        return article_from_page(item, extracted)
