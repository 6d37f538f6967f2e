"""The items that flow from the spiders through the pipelines into the archive."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# What extraction finds in a page besides its text: stored as `articles` columns of these names.
METADATA_FIELDS = (
    "title",
    "byline",
    "authors",
    "published",
    "published_source",
    "modified",
    "site_name",
    "description",
    "language",
    "tags",
    "categories",
    "image",
)
# Everything extraction returns for a page, in this order.
# `markdown` is the text with its headings, lists and quotes (None from an extractor without it).
EXTRACTED_FIELDS = (*METADATA_FIELDS, "canonical_url", "page_type", "text", "markdown")


@dataclass
class PageItem:
    """A fetched page that may be an article; what spiders yield."""

    url: str  # the URL the body came from, after redirects
    source: str  # name of the source (sources file) or "adhoc"
    body: bytes = field(repr=False)
    encoding: str | None = None
    status: int = 200
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: str = ""
    requested_url: str | None = None  # the URL as linked, before redirects
    hints: dict[str, Any] = field(default_factory=dict)  # published/title from feed or sitemap
    drop_selectors: list[str] = field(default_factory=list)  # per-source extraction rules


@dataclass
class ArticleItem:
    """A page turned into an article by the extraction pipeline; what gets stored."""

    url: str  # canonical URL (set by the dedup pipeline)
    source: str
    text: str = field(repr=False)
    markdown: str | None = field(default=None, repr=False)
    title: str | None = None
    byline: str | None = None  # the credit as published: people, an organisation or a desk
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    published_source: str | None = None
    modified: str | None = None
    site_name: str | None = None
    description: str | None = None
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    image: str | None = None
    canonical_url: str | None = None  # as declared by the page
    page_type: str | None = None
    word_count: int = 0
    content_hash: str | None = None
    simhash: str | None = None
    # The fetch this article came from.
    fetched_url: str = ""
    requested_url: str | None = None
    fetched_at: str = ""
    status: int = 200
    content_type: str = ""
    encoding: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    html: bytes = field(default=b"", repr=False)


@dataclass
class NotModifiedItem:
    """An archived article the server says has not changed since we fetched it (HTTP 304)."""

    url: str
    source: str
    fetched_at: str = ""
