"""Which other articles an article page links to (related posts, inline teasers).

Links prefer older stories, the way a real page is written once at publication time. So
adding a new article changes listings, feeds and sitemaps but leaves older article pages
byte-for-byte the same, which keeps incremental crawls honest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .content import Article


@dataclass(frozen=True)
class ArticleLinks:
    """Links on one article page, to other articles of the same site."""

    related: list[Article]
    also_read: list[Article]
    read_more: Article | None
    popular: list[Article]


def _older_first(article: Article, others: list[Article]) -> list[Article]:
    older = [other for other in others if other.published < article.published]
    newer = [other for other in others if other.published >= article.published]
    older.sort(key=lambda other: other.published, reverse=True)  # closest in time first
    newer.sort(key=lambda other: other.published)
    return older + newer


def _popularity(article: Article) -> bytes:
    return hashlib.sha256(article.slug.encode()).digest()


def links_for(
    article: Article, site_articles: list[Article], related_count: int = 4
) -> ArticleLinks:
    """Pick related posts (same section first), 1-2 inline teasers and a sidebar list."""
    candidates = _older_first(article, [a for a in site_articles if a.slug != article.slug])
    same_section = [a for a in candidates if a.section == article.section]
    other_sections = [a for a in candidates if a.section != article.section]
    related = (same_section + other_sections)[:related_count]
    rest = [a for a in candidates if a not in related]
    teaser_count = 2 if len(article.blocks) >= 8 else 1
    also_read = rest[:teaser_count]
    read_more = rest[teaser_count] if len(rest) > teaser_count else None
    popular = sorted(candidates[:12], key=_popularity)[:5]
    return ArticleLinks(related, also_read, read_more, popular)
