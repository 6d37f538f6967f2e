"""One-kind spiders: `scrapy crawl feed -a urls=URL[,URL]` and likewise sitemap, frontpage, urls."""

from __future__ import annotations

from crawler.spiders.news import NewsSpider


class FeedSpider(NewsSpider):
    """Archives the articles listed in RSS, Atom or JSON feeds (`-a urls=FEED_URL,...`)."""

    name = "feed"
    adhoc_kind = "feed"


class SitemapNewsSpider(NewsSpider):
    """Archives the articles listed in sitemaps, sitemap indexes and Google News sitemaps."""

    name = "sitemap"
    adhoc_kind = "sitemap"


class FrontPageSpider(NewsSpider):
    """Archives the articles linked from front and section pages, within their domains."""

    name = "frontpage"
    adhoc_kind = "frontpage"


class UrlListSpider(NewsSpider):
    """Archives a list of article URLs (`-a urls=URL,...` or `-a urls_file=PATH`)."""

    name = "urls"
    adhoc_kind = "url"

    def __init__(self, urls_file: str | None = None, **kwargs):
        if urls_file:
            with open(urls_file, encoding="utf-8") as lines:
                listed = [line.strip() for line in lines if line.strip() and line[0] != "#"]
            kwargs["urls"] = ",".join(filter(None, [kwargs.get("urls"), *listed]))
        super().__init__(**kwargs)
