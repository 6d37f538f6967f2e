"""Limits on what a run downloads, and the list-only run: requests they leave out are counted
(`newsarchive/not_followed/<limit>`) or listed, never dropped silently."""

from __future__ import annotations

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured

from crawler.errors import LeftOut
from crawler.pagetype import url_looks_like_article
from crawler.stats import LISTED, NOT_FOLLOWED_PREFIX, record_listed
from crawler.urls import url_key


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
    articles, and so is a linked page or a --url with an article's shape (a date, a long slug,
    an id). Other linked pages are held back until every feed and sitemap has been read (the
    spider is idle); those no feed or sitemap listed are then fetched as index pages (and
    listed by the spider if they turn out to be articles)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.held: list[Request] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleLister:
        if not crawler.settings.getbool("NEWSARCHIVE_LIST_ONLY"):
            raise NotConfigured
        lister = cls(crawler)
        crawler.signals.connect(lister.spider_idle, signal=signals.spider_idle)
        return lister

    def process_request(self, request: Request) -> None:
        kind = request.meta.get("kind")
        if kind == "article" or (kind in ("page", "url") and url_looks_like_article(request.url)):
            record_listed(self.stats, request.meta, request.url)
            raise LeftOut(f"listed: {request.url}")
        if kind == "page" and not request.meta.get("released"):
            self.held.append(request)
            raise LeftOut(f"held until the feeds and sitemaps are read: {request.url}")

    def spider_idle(self) -> None:
        listed = {url_key(url) for _, _, url in self.stats.get_value(LISTED) or []}
        released = [r for r in self.held if url_key(r.url) not in listed]
        self.held = []
        for request in released:  # past the duplicate filter once already
            meta = {**request.meta, "released": True}
            self.crawler.engine.crawl(request.replace(meta=meta, dont_filter=True))
        if released:
            raise DontCloseSpider
