"""Scrapy's depth limit, counted: each URL that DEPTH_LIMIT keeps the crawl from following is
counted once as `newsarchive/not_followed/depth_limit`, so the summary says what was cut."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response
from scrapy.spidermiddlewares.depth import DepthMiddleware

from crawler.stats import NOT_FOLLOWED_PREFIX
from crawler.urls import url_key


class CountedDepthMiddleware(DepthMiddleware):
    """DepthMiddleware (DEPTH_LIMIT, DEPTH_PRIORITY...) that counts the distinct URLs it drops;
    Scrapy's own `depth/request_ignored_count` counts every link, duplicates too."""

    def __init__(self, *args, **kwargs):  # noqa: ANN002, ANN003 - DepthMiddleware's signature
        super().__init__(*args, **kwargs)
        self.cut: set[str] = set()

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        processed = super().get_processed_request(request, response)
        if processed is None:  # DepthMiddleware drops a request only past the limit
            key = url_key(request.url)
            if key not in self.cut:
                self.cut.add(key)
                self.stats.inc_value(NOT_FOLLOWED_PREFIX + "depth_limit")
        return processed
