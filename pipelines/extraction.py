"""Extraction pipeline: fetched pages in, clean articles with metadata out."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import ArticleItem, PageItem
from pipelines.drops import drop
from pipelines.extract import extract_article

HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_html(content_type: str, body: bytes) -> bool:
    """True for an HTML response, judged by its Content-Type or, without one, its first bytes."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind:
        return kind in HTML_TYPES
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def article_from_page(page: PageItem, extracted: dict) -> ArticleItem:
    """The article item for a page and what extraction found in it."""
    text = extracted["text"]
    return ArticleItem(
        url=page.url,
        source=page.source,
        text=text,
        title=extracted["title"],
        authors=extracted["authors"],
        published=extracted["published"],
        published_source=extracted["published_source"],
        modified=extracted["modified"],
        site_name=extracted["site_name"],
        description=extracted["description"],
        language=extracted["language"],
        tags=extracted["tags"],
        categories=extracted["categories"],
        image=extracted["image"],
        canonical_url=extracted["canonical_url"],
        page_type=extracted["page_type"],
        word_count=len(text.split()),
        fetched_url=page.url,
        requested_url=page.requested_url,
        fetched_at=page.fetched_at,
        status=page.status,
        content_type=page.content_type,
        encoding=page.encoding,
        etag=page.etag,
        last_modified=page.last_modified,
        html=page.body,
    )


class ExtractionPipeline:
    """Runs trafilatura (with our boilerplate rules) on each page; drops pages that are not
    HTML or have no article text."""

    def __init__(self, stats: StatsCollector):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionPipeline:
        return cls(crawler.stats)

    def process_item(self, item: object) -> object:
        if not isinstance(item, PageItem):
            return item
        if not is_html(item.content_type, item.body):
            drop(self.stats, "not_html", item)
        extracted = extract_article(
            item.body,
            item.url,
            encoding=item.encoding,
            drop_selectors=item.drop_selectors,
            hints=item.hints,
        )
        if extracted is None:
            drop(self.stats, "no_text", item)
        return article_from_page(item, extracted)
