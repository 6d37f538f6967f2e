"""Hand-off pipeline: a worker's finished articles go to the ingester through Redis.

Replaces the storage pipeline in `newsarchive worker`; the single writer (`newsarchive.ingest`)
stores them. Only configured when REDIS_URL is set.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.items import ArticleItem, NotModifiedItem

HANDED_OFF = "newsarchive/handed_off"


class HandoffPipeline:
    """Hands each article (and each 304 of an archived one) to the worker's outbox for the Redis
    list the ingester drains: sent in one transaction with the acknowledgement of the request
    it came from, or before it, never after."""

    def __init__(self, crawler: Crawler):
        from crawler.distributed.state import WorkerState

        self.state = WorkerState.of(crawler)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HandoffPipeline:
        if not crawler.settings.get("REDIS_URL"):
            raise NotConfigured
        return cls(crawler)

    def process_item(self, item: object) -> object:
        from crawler.distributed.messages import article_message, not_modified_message

        if isinstance(item, ArticleItem):
            self.state.hand_off(article_message(item))
        elif isinstance(item, NotModifiedItem):
            self.state.hand_off(not_modified_message(item))
        else:
            return item
        self.stats.inc_value(HANDED_OFF)
        return item
