"""Sitemaps (a Google News sitemap, a sitemap index of monthly sitemaps) and robots.txt."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from .content import Article
from .markup import iso
from .resource import TEXT, XML, Resource, absolute

if TYPE_CHECKING:
    from .publication import Publication

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
IMAGE_NS = "http://www.google.com/schemas/sitemap-image/1.1"


def news_sitemap(publication: Publication, articles: list[Article]) -> Resource:
    """A Google News sitemap of every article.

    Google asks for only the last two days of articles; the demo lists them all so a
    crawler can find the whole site from one file.
    """
    urls = "\n".join(
        f"""<url>
<loc>{absolute(publication.article_path(article))}</loc>
<lastmod>{iso(article.updated)}</lastmod>
<news:news>
<news:publication><news:name>{escape(publication.title)}</news:name>\
<news:language>en</news:language></news:publication>
<news:publication_date>{iso(article.published)}</news:publication_date>
<news:title>{escape(article.title)}</news:title>
<news:keywords>{escape(", ".join(article.tags))}</news:keywords>
</news:news>
<image:image><image:loc>{absolute(publication.image_path(article))}</image:loc></image:image>
</url>"""
        for article in articles
    )
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}" xmlns:image="{IMAGE_NS}">
{urls}
</urlset>
"""
    return Resource.text(text, XML, max(article.updated for article in articles))


def monthly_sitemaps(
    publication: Publication, articles: list[Article], index_path: str, month_path: str
) -> dict[str, Resource]:
    """A sitemap index at `index_path` and one sitemap per month of publication.

    `month_path` is a format string with a `{month}` field, e.g. "/harbor/sitemaps/{month}.xml".
    """
    by_month: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        by_month[f"{article.published:%Y-%m}"].append(article)
    resources: dict[str, Resource] = {}
    entries = []
    for month in sorted(by_month, reverse=True):
        path = month_path.format(month=month)
        resources[path] = _urlset(publication, by_month[month])
        lastmod = iso(resources[path].last_modified)
        entries.append(
            f"<sitemap><loc>{absolute(path)}</loc><lastmod>{lastmod}</lastmod></sitemap>"
        )
    index = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="{SITEMAP_NS}">
{chr(10).join(entries)}
</sitemapindex>
"""
    changed = max(article.updated for article in articles)
    resources[index_path] = Resource.text(index, XML, changed)
    return resources


def _urlset(publication: Publication, articles: list[Article]) -> Resource:
    urls = "\n".join(
        f"<url><loc>{absolute(publication.article_path(article))}</loc>"
        f"<lastmod>{iso(article.updated)}</lastmod></url>"
        for article in articles
    )
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="{SITEMAP_NS}">
{urls}
</urlset>
"""
    return Resource.text(text, XML, max(article.updated for article in articles))


def robots_txt(publications: Iterable[Publication], last_modified: datetime) -> Resource:
    """robots.txt for the whole host: crawling allowed, admin areas not, sitemaps listed."""
    publications = list(publications)
    rules = "\n".join(rule for p in publications for rule in p.robots_rules)
    sitemaps = "\n".join(f"Sitemap: {absolute(p.sitemap_path)}" for p in publications)
    text = f"User-agent: *\n{rules}\n\n{sitemaps}\n"
    return Resource.text(text, TEXT, last_modified)
