"""The truth about each demo article, for comparing a crawled archive against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .content import Article


@dataclass(frozen=True)
class ExpectedArticle:
    """What a perfect crawl + extraction would store for one article.

    `text` holds the body only: paragraphs, subheadings, quotes and list items, one per
    line in page order, without the title, byline or any boilerplate.
    """

    site: str
    slug: str
    path: str
    title: str
    authors: tuple[str, ...]
    published: datetime
    modified: datetime | None
    section: str
    tags: tuple[str, ...]
    description: str
    text: str

    def url(self, origin: str) -> str:
        """The article's absolute URL on a server at `origin`, e.g. server.url."""
        return origin.rstrip("/") + self.path


def expected_article(article: Article, path: str) -> ExpectedArticle:
    """The expected archive record of `article`, published at `path`."""
    return ExpectedArticle(
        site=article.site,
        slug=article.slug,
        path=path,
        title=article.title,
        authors=article.authors,
        published=article.published,
        modified=article.modified,
        section=article.section,
        tags=article.tags,
        description=article.description,
        text=article.expected_text,
    )
