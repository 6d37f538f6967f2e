"""Validation pipeline: keeps articles, drops index pages, error pages and short snippets."""

from __future__ import annotations

import re

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import ArticleItem
from crawler.stats import drop

ERROR_TITLE = re.compile(
    r"\b(404|page not found|not found|error|access denied|forbidden|file not found)\b", re.I
)
# og:type values of pages that are not articles even when they carry a lot of text.
NON_ARTICLE_TYPES = {"profile", "video.other", "video.movie", "music.song", "book"}


class ValidationPipeline:
    """Drops extracted pages that are not articles: too short, an error page, a profile."""

    def __init__(self, stats: StatsCollector, min_words: int):
        self.stats = stats
        self.min_words = min_words

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidationPipeline:
        return cls(crawler.stats, crawler.settings.getint("NEWSARCHIVE_MIN_WORDS"))

    def process_item(self, item: object) -> object:
        if not isinstance(item, ArticleItem):
            return item
        if item.word_count < self.min_words:
            drop(self.stats, "too_short", item)
        if item.title and ERROR_TITLE.search(item.title) and item.word_count < 300:
            drop(self.stats, "error_page", item)
        if (item.page_type or "").lower() in NON_ARTICLE_TYPES:
            drop(self.stats, "not_article", item)
        return item
