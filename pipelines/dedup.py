"""Dedup pipeline: the canonical URL and content fingerprints of each article, and no article
twice in one run."""

from __future__ import annotations

import hashlib
import re

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from trafilatura.deduplication import Simhash

from crawler.items import ArticleItem
from pipelines.drops import drop
from pipelines.urls import canonical_url, url_key

WHITESPACE = re.compile(r"\s+")


def content_hash(text: str) -> str:
    """SHA-256 of the text with whitespace normalized: equal for the same article text."""
    return hashlib.sha256(WHITESPACE.sub(" ", text).strip().encode("utf-8")).hexdigest()


def simhash(text: str) -> str:
    """A 64-bit SimHash (hex) of the text: close hashes mean near-duplicate texts."""
    return f"{Simhash(text).hash:016x}"


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
        item.content_hash = content_hash(item.text)
        item.simhash = simhash(item.text)
        key = (url_key(item.fetched_url), item.content_hash)
        if key in self.seen:
            drop(self.stats, "duplicate", item)
        self.seen.add(key)
        return item
