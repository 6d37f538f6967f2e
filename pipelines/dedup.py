"""Dedup pipeline: the canonical URL and content fingerprints of each article, and no article
twice in one run."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import ArticleItem
from crawler.stats import drop
from crawler.urls import canonical_url, url_key
from pipelines.article.fingerprints import content_hash, simhash


class DedupPipeline:
    """Sets the canonical URL, content hash and SimHash that storage matches articles by, and
    drops a page fetched twice in one run (e.g. reached again through a redirect).

    A different URL with the same canonical URL or text goes on to storage, which records it
    as another URL of the stored article.
    """

    def __init__(self, stats: StatsCollector):
        self.stats = stats
        self.seen: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        return cls(crawler.stats)

    def process_item(self, item: object) -> object:
        if not isinstance(item, ArticleItem):
            return item
        item.url = canonical_url(item.fetched_url, item.canonical_url)
        # Normally computed by the extraction workers already.
        item.content_hash = item.content_hash or content_hash(item.text)
        item.simhash = item.simhash or simhash(item.text)
        key = (url_key(item.fetched_url), item.content_hash)
        if key in self.seen:
            drop(self.stats, "duplicate", item)
        self.seen.add(key)
        return item
