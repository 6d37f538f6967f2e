"""What both demo sites have in common: URL scheme hooks, listings, and page assembly.

A `Publication` renders its articles into a mapping of path -> Resource. Subclasses
(`ledger.DailyLedger`, `harbor.HarborTimes`) supply the URL scheme and the templates.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime

from .comments import Comment, comments_for
from .content import Article
from .images import placeholder_image
from .links import ArticleLinks, links_for
from .resource import HTML, PNG, Resource, absolute

PER_PAGE = 10
# Pages that are not articles (about, landing) claim to be this old.
SITE_LAUNCH = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Listing:
    """One page of teasers: the front page, an archive page, a section, tag or author."""

    kind: str  # "front", "section", "tag" or "author"
    heading: str
    articles: list[Article]
    page: int
    page_count: int
    path: str
    older_path: str | None
    newer_path: str | None


class Publication(ABC):
    """One news site served under `prefix`, e.g. "/ledger/"."""

    name: str
    title: str
    tagline: str
    prefix: str
    feed_path: str
    extra_feed_paths: tuple[str, ...] = ()  # feeds beside the main one, also crawled
    sitemap_path: str
    robots_rules: tuple[str, ...] = ()  # Allow/Disallow lines for robots.txt
    # The nav menu, as an editor would configure it.
    section_order: tuple[str, ...] = ()
    related_count = 4

    # URL scheme -------------------------------------------------------------------------

    @abstractmethod
    def article_path(self, article: Article) -> str:
        """Path of an article page."""

    @abstractmethod
    def image_path(self, article: Article) -> str:
        """Path of an article's lead image."""

    @abstractmethod
    def listing_path(self, kind: str, key: str, page: int = 1) -> str:
        """Path of a listing page; `key` is a section, tag or author name ("" for front)."""

    def section_path(self, section: str) -> str:
        """Path of a section's first page."""
        return self.listing_path("section", section)

    def tag_path(self, tag: str) -> str:
        """Path of a tag's first page."""
        return self.listing_path("tag", tag)

    def author_path(self, author: str) -> str:
        """Path of an author's first page."""
        return self.listing_path("author", author)

    def guid(self, article: Article) -> str:
        """The permanent ID of an article in feeds; its URL unless a site says otherwise."""
        return absolute(self.article_path(article))

    @property
    def about_path(self) -> str:
        """Path of the about page."""
        return self.prefix + "about/"

    # Templates --------------------------------------------------------------------------

    @abstractmethod
    def render_article(self, article: Article, links: ArticleLinks, comments: list[Comment]) -> str:
        """HTML of an article page."""

    @abstractmethod
    def render_listing(self, listing: Listing) -> str:
        """HTML of a listing page."""

    @abstractmethod
    def render_about(self) -> str:
        """HTML of the about page."""

    @abstractmethod
    def render_syndication(self, articles: list[Article]) -> dict[str, Resource]:
        """The feed and sitemap resources, keyed by path."""

    # Assembly ---------------------------------------------------------------------------

    def render(self, articles: list[Article]) -> dict[str, Resource]:
        """Every resource of this site. `articles` must be this site's, newest first."""
        resources: dict[str, Resource] = {}
        for article in articles:
            links = links_for(article, articles, self.related_count)
            page = self.render_article(article, links, comments_for(article))
            resources[self.article_path(article)] = Resource.text(page, HTML, article.updated)
            image = placeholder_image(article.slug)
            resources[self.image_path(article)] = Resource(image, PNG, article.published)
        resources.update(self._render_listings("front", "", articles))
        for section in sorted({a.section for a in articles}):
            chosen = [a for a in articles if a.section == section]
            resources.update(self._render_listings("section", section, chosen))
        for tag in sorted({tag for a in articles for tag in a.tags}):
            chosen = [a for a in articles if tag in a.tags]
            resources.update(self._render_listings("tag", tag, chosen))
        for author in sorted({name for a in articles for name in a.authors}):
            chosen = [a for a in articles if author in a.authors]
            resources.update(self._render_listings("author", author, chosen))
        resources[self.about_path] = Resource.text(self.render_about(), HTML, SITE_LAUNCH)
        resources.update(self.render_syndication(articles))
        return resources

    def _render_listings(self, kind: str, key: str, articles: list[Article]) -> dict[str, Resource]:
        page_count = max(1, -(-len(articles) // PER_PAGE))
        heading = self.title if kind == "front" else key
        resources = {}

        def path_of(page: int) -> str:
            return self.listing_path(kind, key, page)

        for page in range(1, page_count + 1):
            chosen = articles[(page - 1) * PER_PAGE : page * PER_PAGE]
            listing = Listing(
                kind=kind,
                heading=heading,
                articles=chosen,
                page=page,
                page_count=page_count,
                path=path_of(page),
                older_path=path_of(page + 1) if page < page_count else None,
                newer_path=path_of(page - 1) if page > 1 else None,
            )
            changed = max((a.updated for a in chosen), default=SITE_LAUNCH)
            resources[listing.path] = Resource.text(self.render_listing(listing), HTML, changed)
        return resources
