"""Limits on what a run downloads, and the list-only run: requests they leave out are counted
(`newsarchive/not_followed/<limit>`) or listed, never dropped silently."""

from __future__ import annotations

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured

from crawler.errors import LeftOut
from crawler.pagetype import url_looks_like_article
from crawler.stats import NOT_FOLLOWED_PREFIX, record_listed


def _is_robots_txt(request: Request) -> bool:
    return bool(request.meta.get("dont_obey_robotstxt")) and request.url.endswith("/robots.txt")


class PageBudget:
    """At most NEWSARCHIVE_MAX_PAGES downloads (robots.txt excluded; retries and redirects
    count, they are downloads too). Requests past the budget are not sent and are counted as
    `newsarchive/not_followed/max_pages`; the run then ends as `closespider_pagecount`.

    Scrapy's CLOSESPIDER_PAGECOUNT counts responses and closes the spider while requests are
    still in flight, so a run fetches many more pages than asked: this stops at the request."""

    def __init__(self, crawler: Crawler, max_pages: int):
        self.stats = crawler.stats
        self.max_pages = max_pages
        self.sent = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageBudget:
        max_pages = crawler.settings.getint("NEWSARCHIVE_MAX_PAGES")
        if max_pages <= 0:
            raise NotConfigured
        budget = cls(crawler, max_pages)
        crawler.signals.connect(budget.spider_idle, signal=signals.spider_idle)
        return budget

    def process_request(self, request: Request) -> None:
        if _is_robots_txt(request):
            return
        if self.sent >= self.max_pages:
            self.stats.inc_value(NOT_FOLLOWED_PREFIX + "max_pages")
            raise LeftOut(f"past --max-pages {self.max_pages}: {request.url}")
        self.sent += 1

    def spider_idle(self) -> None:
        if self.stats.get_value(NOT_FOLLOWED_PREFIX + "max_pages"):
            raise CloseSpider("closespider_pagecount")


class ArticleLister:
    """`newsarchive crawl --list` (NEWSARCHIVE_LIST_ONLY): article pages are listed with their
    source and how they were found instead of being fetched. Feed and sitemap entries are
    articles; a linked page or a --url is one when its URL has an article's shape (other pages
    are fetched, as index pages, and listed by the spider if they turn out to be articles)."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleLister:
        if not crawler.settings.getbool("NEWSARCHIVE_LIST_ONLY"):
            raise NotConfigured
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        kind = request.meta.get("kind")
        if kind == "article" or (kind in ("page", "url") and url_looks_like_article(request.url)):
            record_listed(self.stats, request.meta, request.url)
            raise LeftOut(f"listed: {request.url}")
