"""Live progress of a crawl on a terminal: one line that updates, instead of log lines."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.stats import ARTICLES_PREFIX, DROPPED_PREFIX, ERRORS_PREFIX, PAGES


def progress_line(stats: dict, elapsed: float) -> str:
    """One line saying what the crawl has done so far."""

    def total(prefix: str) -> int:
        return sum(v for k, v in stats.items() if k.startswith(prefix))

    pages = stats.get(PAGES, 0)
    new = stats.get(ARTICLES_PREFIX + "new", 0)
    updated = stats.get(ARTICLES_PREFIX + "updated", 0)
    rate = pages / elapsed if elapsed > 0 else 0.0
    return (
        f"fetched {pages} pages ({rate:.1f}/s) | stored {new} new, {updated} updated"
        f" | dropped {total(DROPPED_PREFIX)} | errors {total(ERRORS_PREFIX)}"
    )


class Progress:
    """Scrapy extension that redraws a progress line every half second (NEWSARCHIVE_PROGRESS)."""

    def __init__(self, crawler: Crawler, stream: TextIO = sys.stderr, interval: float = 0.5):
        self.crawler = crawler
        self.stream = stream
        self.interval = interval
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        if not crawler.settings.getbool("NEWSARCHIVE_PROGRESS"):
            raise NotConfigured
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def draw(self) -> None:
        # A spider that is no crawl (the WARC import) says what its progress is itself.
        line_of = getattr(self.crawler.spider, "progress_line", None) or progress_line
        line = line_of(self.crawler.stats.get_stats(), time.monotonic() - self.started)
        self.stream.write("\r\033[K" + line)
        self.stream.flush()

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.draw)
        self.loop.start(self.interval)

    def spider_closed(self) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()
        self.draw()
        self.stream.write("\n")
        self.stream.flush()
