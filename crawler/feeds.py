"""Reading feeds and news sitemaps: article URLs with the dates their publishers give them.

RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and CDF are read by feedparser, with its two decades of
publishers' quirks: `xml:base`, the real encoding, odd dates, ill-formed XML ("bozo" feeds,
read as far as its loose parser goes). feedparser 6 does not read JSON Feed, so JSON Feed 1.0 and
1.1 are read here with the json module. Every date is ISO 8601 UTC, or None when implausible.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.datetimes import _parse_date  # feedparser's date handlers; no public name
from feedparser.exceptions import ThingsNobodyCaresAboutButMe
from lxml import etree
from scrapy.utils.sitemap import Sitemap

from crawler.clock import plausible

JSON_FEED_VERSION = "https://jsonfeed.org/version/"
# What parse_feed reads of an item or entry; feedparser's time goes per element, so the rest
# (summaries, content, categories, authors, media) is cut out before it parses.
_ENTRY_PARTS = frozenset(
    ("title", "link", "guid", "id", "pubDate", "date", "updated", "published", "issued",
     "modified", "created")
)  # fmt: skip
# A bare `&` (not an entity or character reference), outside CDATA sections and comments.
_BARE_AMPERSAND = re.compile(
    rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->|&(?!#[0-9]+;|#x[0-9a-fA-F]+;|[A-Za-z_][\w.-]*;)", re.S
)
_STRICT_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass(frozen=True)
class Entry:
    """An article URL listed by a feed or sitemap."""

    url: str
    published: str | None = None
    updated: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Feed:
    """What a feed lists. `kind` is feedparser's name of the format ("rss20", "atom10", ...,
    "json11"), "" when the body is no feed; `problem` says why the feed is ill-formed, if it is."""

    entries: list[Entry] = field(default_factory=list)
    kind: str = ""
    problem: str | None = None


def _iso(parsed: time.struct_time | None) -> str | None:
    if not parsed:
        return None
    try:
        moment = datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None
    if not plausible(moment):
        return None
    return moment.isoformat().replace("+00:00", "Z")


def to_iso(value: str | None) -> str | None:
    """A date as feeds and sitemaps write it (RFC 822, W3C/ISO 8601 and the variants feedparser
    knows) as ISO 8601 UTC; None when unreadable, before 1990 or in the future."""
    if not isinstance(value, str) or not value.strip():
        return None
    return _iso(_parse_date(value.strip()))


def _http_url(base: str, value: Any, *, relative: bool = True) -> str | None:
    """`value` as an absolute http(s) URL (resolved against `base` if `relative`), else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    url = urljoin(base, value.strip()) if relative else value.strip()
    return url if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc else None


def _is_json(body: bytes, content_type: str) -> bool:
    if "json" in content_type.lower():
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_feed(body: bytes, url: str = "", content_type: str = "") -> Feed:
    """The entries of an RSS, Atom, CDF or JSON feed served at `url` with `content_type`.

    Relative links resolve against `xml:base` and `url`; an entry without a link is listed
    under its id (Atom `<id>`, RSS `<guid>`, JSON `id`) when that is an http(s) URL.
    """
    if _is_json(body, content_type):
        return _parse_json_feed(body, url)
    headers = {"content-type": content_type} if content_type else {}
    if b"xml:base" in body:
        # Relative xml:base chains need the document's URL. Without xml:base, feedparser is a
        # third faster without it, and links it leaves relative are resolved against `url` below.
        headers["content-location"] = url
    problem = None
    if (pruned := _pruned(body)) is not None:
        body, problem = pruned
    parsed = feedparser.parse(
        body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    entries = []
    for item in parsed.entries:
        link = _http_url(url, item.get("link")) or _http_url(url, item.get("id"), relative=False)
        if not link:
            continue
        # dict.get: feedparser's own get() answers `updated` with the published date.
        updated = _iso(dict.get(item, "updated_parsed"))
        published = _iso(item.get("published_parsed") or item.get("created_parsed"))
        if published is None and not parsed.get("version", "").startswith("atom"):
            published = updated  # RSS 1.0 and many RSS 2.0 feeds date items with dc:date only
        entries.append(Entry(link, published, updated, item.get("title") or None))
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        if isinstance(problem, ThingsNobodyCaresAboutButMe):
            problem = None  # a wrong declared encoding or content type: feedparser coped
    return Feed(entries, parsed.get("version", ""), str(problem) if problem else None)


def _pruned(body: bytes) -> tuple[bytes, str | None] | None:
    """The feed with only the parts of its entries that parse_feed reads, in its own encoding,
    and the problem that was mended (bare `&`s escaped), if any; None when lxml cannot read it
    as it stands or with its `&`s escaped, or it is one that needs feedparser's own handling
    (a DOCTYPE, which may declare entities; UTF-16 or UTF-32), which then reads it whole."""
    head = body[:1024]
    if b"\x00" in head or b"<!DOCTYPE" in head.upper():
        return None
    problem = None
    try:
        root = etree.fromstring(body, _STRICT_XML)
    except etree.XMLSyntaxError as error:
        mended = _BARE_AMPERSAND.sub(lambda m: b"&amp;" if m.group() == b"&" else m.group(), body)
        if mended == body:
            return None
        try:
            root = etree.fromstring(mended, _STRICT_XML)
        except etree.XMLSyntaxError:
            return None
        problem = f"not well-formed XML, an unescaped & ({error})"
    for entry in root.iter("{*}item", "{*}entry"):
        for part in list(entry):
            if not isinstance(part.tag, str) or etree.QName(part).localname not in _ENTRY_PARTS:
                entry.remove(part)
    tree = root.getroottree()
    encoding = tree.docinfo.encoding or "UTF-8"
    return etree.tostring(tree, encoding=encoding, xml_declaration=True), problem


def _parse_json_feed(body: bytes, url: str) -> Feed:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        return Feed(problem=f"not JSON: {error}")
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not version.startswith(JSON_FEED_VERSION):
        return Feed(problem="JSON without a JSON Feed version")
    items = document.get("items")
    entries = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        link = _http_url(url, item.get("url")) or _http_url(url, item.get("id"), relative=False)
        if not link:
            continue
        title = item.get("title") if isinstance(item.get("title"), str) else ""
        published, updated = item.get("date_published"), item.get("date_modified")
        entries.append(Entry(link, to_iso(published), to_iso(updated), title.strip() or None))
    kind = "json" + version.removeprefix(JSON_FEED_VERSION).replace(".", "")
    return Feed(entries, kind)


def _local(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


class NewsSitemap(Sitemap):
    """Scrapy's sitemap parser, keeping the nested Google News tags it otherwise drops."""

    def _process_sitemap_element(self, elem):  # noqa: ANN001, ANN202 - Scrapy's signature
        news = {}
        for child in elem:  # read before the parent clears the element
            if _local(child) == "news":
                for news_field in child:
                    name = _local(news_field)
                    if name in ("publication_date", "title") and news_field.text:
                        news[f"news_{name}"] = news_field.text.strip()
        entry = super()._process_sitemap_element(elem)
        if entry is not None:
            entry.update(news)
        return entry


def sitemap_entry(entry: dict) -> Entry:
    """An Entry from a parsed sitemap <url> element."""
    return Entry(
        url=entry["loc"],
        published=to_iso(entry.get("news_publication_date")),
        updated=to_iso(entry.get("lastmod")),
        title=entry.get("news_title"),
    )
