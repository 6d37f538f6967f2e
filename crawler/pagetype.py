"""Telling article pages from section, tag and index pages, for crawls that follow links."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from courlan import is_navigation_page, is_not_crawlable
from scrapy.http import Response

ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "reviewnewsarticle",
    "blogposting",
    "liveblogposting",
    "report",
}
DATE_IN_PATH = re.compile(r"/(19|20)\d{2}[/-](0?[1-9]|1[0-2])([/-](0?[1-9]|[12]\d|3[01]))?/")
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+){3,}", re.IGNORECASE)
ID_IN_PATH = re.compile(r"[-_/]\d{5,}(?:\.html?)?/?$")


def _jsonld_types(response: Response) -> set[str]:
    types: set[str] = set()
    for block in response.xpath('//script[@type="application/ld+json"]/text()').getall()[:10]:
        try:
            data = json.loads(block)
        except ValueError:
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                kind = node.get("@type")
                for name in kind if isinstance(kind, list) else [kind]:
                    if isinstance(name, str):
                        types.add(name.lower())
                stack.extend(v for k, v in node.items() if k == "@graph")
    return types


def url_looks_like_article(url: str) -> bool:
    """True when the URL has the shape of an article: a date, a long slug or a numeric id."""
    if is_navigation_page(url) or is_not_crawlable(url):
        return False
    path = urlsplit(url).path
    if path in ("", "/"):
        return False
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return bool(DATE_IN_PATH.search(path) or SLUG.fullmatch(last.split(".")[0])) or bool(
        ID_IN_PATH.search(path)
    )


def is_article_page(response: Response) -> bool:
    """True when the page declares itself an article, or its URL has an article's shape."""
    og_type = response.xpath('//meta[@property="og:type"]/@content').get("").strip().lower()
    if og_type:
        return og_type == "article"
    if ARTICLE_TYPES & _jsonld_types(response):
        return True
    if response.xpath('//meta[@property="article:published_time"]'):
        return True
    return url_looks_like_article(response.url)


def is_followable(url: str) -> bool:
    """False for links a news crawl never needs: logins, feeds of comments, share links."""
    return not is_not_crawlable(url)
