"""Syndication feeds: RSS 2.0 (WordPress flavour), Atom 1.0, JSON Feed 1.1, and an RSS feed
written by a careless plugin (an unescaped `&` in its links: ill-formed XML, as real feeds are)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from .content import Article
from .resource import ATOM, JSON_FEED, RSS, Resource, absolute

if TYPE_CHECKING:
    from .publication import Publication

FEED_SIZE = 10  # like WordPress's default "Syndication feeds show the most recent 10 items"


def _last_change(articles: list[Article]) -> Article:
    return max(articles, key=lambda article: article.updated)


def rss_feed(publication: Publication, articles: list[Article]) -> Resource:
    """An RSS 2.0 feed of the newest articles; lastBuildDate is the site's latest change."""
    changed = _last_change(articles).updated
    items = "\n".join(_rss_item(publication, article) for article in articles[:FEED_SIZE])
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" \
xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{escape(publication.title)}</title>
<atom:link href="{absolute(publication.feed_path)}" rel="self" type="application/rss+xml"/>
<link>{absolute(publication.prefix)}</link>
<description>{escape(publication.tagline)}</description>
<lastBuildDate>{format_datetime(changed)}</lastBuildDate>
<language>en-US</language>
<generator>https://wordpress.org/?v=6.8.1</generator>
{items}
</channel>
</rss>
"""
    return Resource.text(text, RSS, changed)


def _rss_item(publication: Publication, article: Article) -> str:
    url = absolute(publication.article_path(article))
    creators = "\n".join(f"<dc:creator>{escape(name)}</dc:creator>" for name in article.authors)
    categories = "\n".join(
        f"<category>{escape(term)}</category>" for term in (article.section, *article.tags)
    )
    return f"""<item>
<title>{escape(article.title)}</title>
<link>{url}</link>
<comments>{url}#comments</comments>
{creators}
<pubDate>{format_datetime(article.published)}</pubDate>
{categories}
<guid isPermaLink="false">{publication.guid(article)}</guid>
<description>{escape(article.description)}</description>
</item>"""


def atom_feed(publication: Publication, articles: list[Article]) -> Resource:
    """An Atom 1.0 feed of the newest articles; <updated> is the site's latest change."""
    changed = _last_change(articles).updated
    entries = "\n".join(_atom_entry(publication, article) for article in articles[:FEED_SIZE])
    text = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
<title>{escape(publication.title)}</title>
<subtitle>{escape(publication.tagline)}</subtitle>
<link rel="self" type="application/atom+xml" href="{absolute(publication.feed_path)}"/>
<link rel="alternate" type="text/html" href="{absolute(publication.prefix)}"/>
<id>tag:{publication.name}.example,2025:feed</id>
<updated>{_atom_date(changed)}</updated>
{entries}
</feed>
"""
    return Resource.text(text, ATOM, changed)


def _atom_date(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _atom_entry(publication: Publication, article: Article) -> str:
    url = absolute(publication.article_path(article))
    authors = "\n".join(
        f"<author><name>{escape(name)}</name>"
        f"<uri>{absolute(publication.author_path(name))}</uri></author>"
        for name in article.authors
    )
    categories = "\n".join(f"<category term={quoteattr(tag)}/>" for tag in article.tags)
    return f"""<entry>
<title>{escape(article.title)}</title>
<link rel="alternate" type="text/html" href="{url}"/>
<id>tag:{publication.name}.example,{article.published:%Y-%m-%d}:{article.slug}</id>
<published>{_atom_date(article.published)}</published>
<updated>{_atom_date(article.updated)}</updated>
{authors}
{categories}
<summary>{escape(article.description)}</summary>
</entry>"""


def json_feed(publication: Publication, articles: list[Article], path: str) -> Resource:
    """A JSON Feed 1.1 (jsonfeed.org) of the newest articles, served at `path`, as many blogs
    and some papers publish beside their XML feeds."""
    changed = _last_change(articles).updated
    items = [
        {
            "id": absolute(publication.article_path(article)),
            "url": absolute(publication.article_path(article)),
            "title": article.title,
            "summary": article.description,
            "date_published": _atom_date(article.published),
            "date_modified": _atom_date(article.updated),
            "authors": [{"name": name} for name in article.authors],
            "tags": list(article.tags),
        }
        for article in articles[:FEED_SIZE]
    ]
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": publication.title,
        "home_page_url": absolute(publication.prefix),
        "feed_url": absolute(path),
        "language": "en",
        "items": items,
    }
    return Resource.text(json.dumps(document, indent=1, ensure_ascii=False), JSON_FEED, changed)


def picks_feed(publication: Publication, articles: list[Article]) -> Resource:
    """An RSS 2.0 feed of editors' picks from a plugin that writes URLs without escaping `&`:
    not well-formed XML, so strict parsers reject it; lenient ones read every item."""
    changed = _last_change(articles).updated
    picks = articles[FEED_SIZE // 2 : FEED_SIZE + FEED_SIZE // 2]
    items = "\n".join(_picks_item(publication, article) for article in picks)
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
<channel>
<title>{escape(publication.title)}: Editors' picks</title>
<link>{absolute(publication.prefix)}?utm_source=picks&utm_medium=rss</link>
<description>Stories our editors think you should not miss</description>
<lastBuildDate>{format_datetime(changed)}</lastBuildDate>
{items}
</channel>
</rss>
"""
    return Resource.text(text, RSS, changed)


def _picks_item(publication: Publication, article: Article) -> str:
    url = absolute(publication.article_path(article))
    image = absolute(publication.image_path(article))
    return f"""<item>
<title>{escape(article.title)}</title>
<link>{url}</link>
<comments>{url}?share=comments&utm_source=picks#respond</comments>
<enclosure url="{image}?resize=1200,630&ssl=1" type="image/png" length="0"/>
<pubDate>{format_datetime(article.published)}</pubDate>
</item>"""
