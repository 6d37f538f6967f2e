"""Reading RSS, Atom and news sitemaps: article URLs with the dates the publisher gives them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from lxml import etree
from scrapy.utils.sitemap import Sitemap

# recover=True reads the broken feeds real sites publish; entities are never resolved (XXE).
_PARSER_OPTIONS = {
    "recover": True,
    "resolve_entities": False,
    "no_network": True,
    "remove_comments": True,
    "huge_tree": False,
}


@dataclass(frozen=True)
class Entry:
    """An article URL listed by a feed or sitemap."""

    url: str
    published: str | None = None
    updated: str | None = None
    title: str | None = None


def to_iso(value: str | None) -> str | None:
    """An RFC 822 or ISO 8601 date as ISO 8601 (UTC when it has a zone), else None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
        return parsed.isoformat().replace("+00:00", "Z")
    return parsed.isoformat()


def _local(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(element: etree._Element, *names: str) -> str | None:
    for name in names:
        for child in element:
            if _local(child) == name and child.text and child.text.strip():
                return child.text.strip()
    return None


def _atom_link(entry: etree._Element) -> str | None:
    links = [child for child in entry if _local(child) == "link"]
    for link in links:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href").strip()
    return None


def parse_feed(body: bytes) -> list[Entry]:
    """The entries of an RSS 0.9x/1.0/2.0 or Atom feed; [] if the body is not a feed."""
    try:
        root = etree.fromstring(body, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError:
        return []
    if root is None:
        return []
    entries = []
    for element in root.iter():
        kind = _local(element)
        if kind == "item":  # RSS
            url = _child_text(element, "link")
            if not url:
                guid = [c for c in element if _local(c) == "guid"]
                if guid and guid[0].get("isPermaLink", "true") == "true" and guid[0].text:
                    url = guid[0].text.strip()
            published = _child_text(element, "pubDate", "date", "published")
            updated = _child_text(element, "updated", "modified")
        elif kind == "entry":  # Atom
            url = _atom_link(element)
            published = _child_text(element, "published", "issued")
            updated = _child_text(element, "updated", "modified")
        else:
            continue
        if url:
            entries.append(
                Entry(url, to_iso(published), to_iso(updated), _child_text(element, "title"))
            )
    return entries


class NewsSitemap(Sitemap):
    """Scrapy's sitemap parser, keeping the nested Google News tags it otherwise drops."""

    def _process_sitemap_element(self, elem):  # noqa: ANN001, ANN202 - Scrapy's signature
        news = {}
        for child in elem:  # read before the parent clears the element
            if _local(child) == "news":
                for field in child:
                    name = _local(field)
                    if name in ("publication_date", "title") and field.text:
                        news[f"news_{name}"] = field.text.strip()
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
