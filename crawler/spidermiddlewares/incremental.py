"""Incremental crawling: skip article URLs the archive already holds unless their feed or sitemap
says they changed or the source's recheck_after has passed; re-check them conditionally."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from crawler.stats import RUN_ID, SKIPPED
from crawler.urls import readonly_sqlite_uri, url_key

# Requests for pages that may be articles; feeds, sitemaps and front pages are always fetched.
ARTICLE_KINDS = ("article", "page")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class IncrementalMiddleware(BaseSpiderMiddleware):
    """Fetches only what is new: an article URL already in the archive is not requested, unless
    its feed or sitemap says it changed since we fetched it, or its source's `recheck_after`
    has passed; then it is fetched with If-None-Match/If-Modified-Since, so an unchanged page
    costs a 304. Setting NEWSARCHIVE_INCREMENTAL = False turns it off.

    A spider middleware, so a skipped request never reaches the duplicate filter: the same URL
    may still come from a sitemap that says it changed, after a feed that did not."""

    def __init__(self, crawler: Crawler, db_path: str, default_recheck: int):
        super().__init__(crawler)
        self.db_path = db_path
        self.stats = crawler.stats
        self.default_recheck = default_recheck
        self.conn: sqlite3.Connection | None = None
        self.skipped: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalMiddleware:
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_INCREMENTAL"):
            raise NotConfigured
        middleware = cls(
            crawler, settings.get("ARCHIVE_DB"), settings.getint("NEWSARCHIVE_RECHECK_AFTER")
        )
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self) -> None:
        if Path(self.db_path).exists():
            uri = readonly_sqlite_uri(self.db_path)
            self.conn = sqlite3.connect(uri, uri=True, check_same_thread=False)

    def spider_closed(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _archived(self, url: str) -> tuple | None:
        if self.conn is None:
            return None
        try:
            return self.conn.execute(
                """select u.last_seen, u.etag, u.last_modified, a.run_id
                   from article_urls u join articles a on a.id = u.article_id
                   where u.url_key = ?""",
                [url_key(url)],
            ).fetchone()
        except sqlite3.Error:  # a new archive without tables yet
            return None

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if request.meta.get("kind") not in ARTICLE_KINDS:
            return request
        archived = self._archived(request.url)
        if archived is None:
            return request
        last_seen, etag, last_modified, run_id = archived
        if run_id is not None and run_id == self.stats.get_value(RUN_ID):
            return None  # stored earlier in this very run: a duplicate link, not a skip
        fetched = _parse_time(last_seen)
        updated = _parse_time(request.meta.get("hints", {}).get("updated"))
        sources = getattr(self.crawler.spider, "sources", {})
        source = sources.get(request.meta.get("source"))
        recheck = (source.recheck_after if source else None) or self.default_recheck
        changed = bool(updated and fetched and updated > fetched)
        due = bool(recheck and fetched and datetime.now(UTC) - fetched > timedelta(seconds=recheck))
        if not (changed or due or fetched is None):
            key = url_key(request.url)
            if key not in self.skipped:  # a URL is often linked from feed, sitemap and pages
                self.skipped.add(key)
                self.stats.inc_value(SKIPPED)
            return None
        if etag:
            request.headers.setdefault(b"If-None-Match", etag.encode("latin-1"))
        if last_modified:
            request.headers.setdefault(b"If-Modified-Since", last_modified.encode("latin-1"))
        handled = request.meta.get("handle_httpstatus_list", [])
        request.meta["handle_httpstatus_list"] = [*handled, 304]
        self.stats.inc_value("newsarchive/rechecked")
        return request
