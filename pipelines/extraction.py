"""Extraction pipeline: fetched pages in, clean articles with metadata out, extracted in a pool
of worker processes so that extraction uses every core and never blocks the crawl."""

from __future__ import annotations

import logging
import os

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from scrapy.utils.reactor import is_asyncio_reactor_installed

from crawler.items import ArticleItem, PageItem
from pipelines.drops import drop
from pipelines.workers import (
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
    text = extracted["text"]
    return ArticleItem(
        url=page.url,
        source=page.source,
        text=text,
        title=extracted["title"],
        authors=extracted["authors"],
        published=extracted["published"],
        published_source=extracted["published_source"],
        modified=extracted["modified"],
        site_name=extracted["site_name"],
        description=extracted["description"],
        language=extracted["language"],
        tags=extracted["tags"],
        categories=extracted["categories"],
        image=extracted["image"],
        canonical_url=extracted["canonical_url"],
        page_type=extracted["page_type"],
        word_count=len(text.split()),
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
    """

    def __init__(self, stats: StatsCollector, pool: ExtractionPool | None, extractor: str):
        self.stats = stats
        self.pool = pool
        self.extractor = extractor
        self._extract_here = None if pool else load_extractor(extractor)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionPipeline:
        settings = crawler.settings
        workers = settings.get("NEWSARCHIVE_EXTRACTION_WORKERS")
        workers = (os.cpu_count() or 1) if workers in (None, "") else int(workers)
        extractor = settings.get("NEWSARCHIVE_EXTRACTOR") or DEFAULT_EXTRACTOR
        if workers > 0 and not is_asyncio_reactor_installed():
            logger.warning("extraction runs in the crawl process: the pool needs asyncio's reactor")
            workers = 0
        pool = None
        if workers > 0:
            timeout = settings.getfloat("NEWSARCHIVE_EXTRACTION_TIMEOUT")
            pool = ExtractionPool(workers, timeout, extractor)
        pipeline = cls(crawler.stats, pool, extractor)
        crawler.signals.connect(pipeline.engine_stopped, signal=signals.engine_stopped)
        return pipeline

    def open_spider(self) -> None:
        if self.pool:
            self.pool.start()
        else:
            catch_swallowed_failures()

    def close_spider(self) -> None:
        if self.pool:
            self.pool.close()

    def engine_stopped(self) -> None:
        # close_spider is not reached when opening the spider failed; never leave workers.
        self.close_spider()

    async def process_item(self, item: object) -> object:
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
        try:
            if self.pool:
                extracted = await self.pool.extract(**page)
            else:
                extracted = run_extractor(self._extract_here, page)
        except ExtractionTimeout as error:
            logger.warning("extraction_timeout: %s (%s)", item.url, error)
            drop(self.stats, "extraction_timeout", item)
        except ExtractionFailed as error:
            logger.warning("extraction_error: %s (%s)", item.url, error)
            drop(self.stats, "extraction_error", item)
        if extracted is None:
            drop(self.stats, "no_text", item)
        return article_from_page(item, extracted)
