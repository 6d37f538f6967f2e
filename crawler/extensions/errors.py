"""Extensions that keep failures visible: counting the errors that reach no errback, and one
log line instead of a traceback for a robots.txt that cannot be fetched."""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.crawler import Crawler
from twisted.python.failure import Failure

from crawler.stats import DROPPED_PREFIX, ERRORS_PREFIX, SOURCE_DROPPED, SOURCE_ERRORS


class ErrorCounter:
    """Counts the failures that reach no errback, so nothing fails silently: an exception in a
    spider callback (`newsarchive/errors/spider_error`) and an exception in an item pipeline
    other than DropItem, which loses the item (`newsarchive/dropped/pipeline_error`)."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ErrorCounter:
        counter = cls(crawler)
        crawler.signals.connect(counter.spider_error, signal=signals.spider_error)
        crawler.signals.connect(counter.item_error, signal=signals.item_error)
        return counter

    def spider_error(self, failure: Failure, response: object) -> None:
        self.stats.inc_value(ERRORS_PREFIX + "spider_error")
        source = getattr(response, "meta", {}).get("source")
        if source:
            self.stats.inc_value(SOURCE_ERRORS.format(source))

    def item_error(self, item: object, failure: Failure) -> None:
        # Scrapy has logged it with its traceback already.
        self.stats.inc_value(DROPPED_PREFIX + "pipeline_error")
        source = getattr(item, "source", None)
        if source:
            self.stats.inc_value(SOURCE_DROPPED.format(source))


class _OneLine(logging.Filter):
    """Turns a logged error with a traceback into a one-line warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.levelno >= logging.ERROR:
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class QuietRobotsTxtErrors:
    """A robots.txt that cannot be fetched (host down, DNS failure) is logged by Scrapy as an
    error with a full traceback, though the crawl goes on and the page's own failure is counted
    and logged by the spider: this extension makes it one warning line."""

    logger_name = "scrapy.downloadermiddlewares.robotstxt"

    def __init__(self) -> None:
        self.filter = _OneLine()
        logging.getLogger(self.logger_name).addFilter(self.filter)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QuietRobotsTxtErrors:
        extension = cls()
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self) -> None:
        logging.getLogger(self.logger_name).removeFilter(self.filter)
