"""`DemoSite`: both demo news sites rendered into servable resources, and editable.

Edits re-render everything, which takes milliseconds. A resource whose bytes changed gets a
newer Last-Modified even when its articles' dates did not move, so conditional requests
never miss a change.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from .content import Article, load_articles, paragraph_blocks
from .expected import ExpectedArticle, expected_article
from .harbor import HarborTimes
from .landing import landing_page
from .ledger import DailyLedger
from .markup import slugify
from .publication import SITE_LAUNCH, Publication
from .resource import Resource
from .sitemaps import robots_txt
from .sources import site_sources


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class DemoSite:
    """The Daily Ledger (/ledger/) and Harbor Times (/harbor/) as path -> Resource."""

    def __init__(self, articles: Iterable[Article] | None = None) -> None:
        self.publications: dict[str, Publication] = {
            publication.name: publication for publication in (DailyLedger(), HarborTimes())
        }
        chosen = load_articles() if articles is None else list(articles)
        self._articles: dict[str, Article] = {}
        for article in chosen:
            self._check_new(article)
            self._articles[article.slug] = article
        # Edits hold the lock; readers need none because both dicts are replaced, never changed.
        self._lock = threading.Lock()
        self._resources: dict[str, Resource] = {}
        self._render()

    # Reading ----------------------------------------------------------------------------

    @property
    def articles(self) -> list[Article]:
        """All articles of both sites, newest first."""
        return sorted(self._articles.values(), key=lambda a: a.published, reverse=True)

    @property
    def resources(self) -> Mapping[str, Resource]:
        """A read-only snapshot of every servable path and its resource."""
        return MappingProxyType(self._resources)

    def get(self, path: str) -> Resource | None:
        """The resource at `path`, or None."""
        return self._resources.get(path)

    def article(self, slug: str) -> Article:
        """The article with this slug; KeyError if there is none."""
        return self._articles[slug]

    def article_path(self, slug: str) -> str:
        """The URL path of an article page."""
        article = self._articles[slug]
        return self.publications[article.site].article_path(article)

    def expected_articles(self) -> list[ExpectedArticle]:
        """The truth about every article (path, clean text, metadata), newest first."""
        return [expected_article(a, self.article_path(a.slug)) for a in self.articles]

    def sources(self, origin: str) -> list[dict[str, Any]]:
        """Crawler sources for both sites when served at `origin`, e.g. "http://127.0.0.1:8000"."""
        return site_sources(self.publications.values(), origin)

    # Editing ----------------------------------------------------------------------------

    def update_article(
        self,
        slug: str,
        *,
        paragraphs: list[str] | None = None,
        title: str | None = None,
        description: str | None = None,
        modified: datetime | None = None,
    ) -> Article:
        """Edit an article and re-render the site; `modified` defaults to now.

        New `paragraphs` replace the whole body (subheadings, quotes and lists included).
        """
        article = self.article(slug)
        changes: dict[str, Any] = {"modified": modified or _now()}
        if paragraphs is not None:
            changes["blocks"] = paragraph_blocks(paragraphs)
        if title is not None:
            changes["title"] = title
        if description is not None:
            changes["description"] = description
        updated = dataclasses.replace(article, **changes)
        if updated.updated < updated.published:
            raise ValueError(f"{slug}: modified date is before the published date")
        if not updated.blocks:
            raise ValueError(f"{slug}: an article needs at least one paragraph")
        with self._lock:
            self._articles = {**self._articles, slug: updated}
            self._render()
        return updated

    def add_article(
        self,
        *,
        slug: str,
        title: str,
        paragraphs: list[str],
        site: str = "ledger",
        section: str = "World",
        authors: tuple[str, ...] = ("Staff Reporter",),
        published: datetime | None = None,
        tags: tuple[str, ...] = (),
        description: str | None = None,
    ) -> Article:
        """Publish a new article on `site` and re-render; `published` defaults to now."""
        article = Article(
            slug=slug,
            site=site,
            title=title,
            section=section,
            authors=tuple(authors),
            published=published or _now(),
            description=description or (paragraphs[0] if paragraphs else title),
            blocks=paragraph_blocks(paragraphs),
            tags=tuple(tags),
        )
        if not article.blocks:
            raise ValueError(f"{slug}: an article needs at least one paragraph")
        with self._lock:
            self._check_new(article)
            self._articles = {**self._articles, slug: article}
            self._render()
        return article

    # Rendering --------------------------------------------------------------------------

    def _check_new(self, article: Article) -> None:
        if article.site not in self.publications:
            raise ValueError(f"{article.slug}: unknown site {article.site!r}")
        if slugify(article.slug) != article.slug:
            raise ValueError(f"{article.slug!r} is not a valid slug")
        if article.slug in self._articles:
            raise ValueError(f"an article with slug {article.slug!r} already exists")

    def _render(self) -> None:
        fresh: dict[str, Resource] = {"/": landing_page(self.publications.values())}
        fresh["/robots.txt"] = robots_txt(self.publications.values(), SITE_LAUNCH)
        articles = self.articles
        for name, publication in self.publications.items():
            own = [article for article in articles if article.site == name]
            if own:
                fresh.update(publication.render(own))
        self._resources = self._keep_dates_honest(self._resources, fresh)

    @staticmethod
    def _keep_dates_honest(
        old: Mapping[str, Resource], fresh: dict[str, Resource]
    ) -> dict[str, Resource]:
        # A page can change without any of its dates moving (e.g. a linked title was edited):
        # move its Last-Modified forward so If-Modified-Since still sees the change.
        now = _now()
        for path, resource in fresh.items():
            before = old.get(path)
            if before and before.body != resource.body:
                if resource.last_modified <= before.last_modified:
                    later = max(now, before.last_modified + timedelta(seconds=1))
                    fresh[path] = dataclasses.replace(resource, last_modified=later)
            elif before:
                fresh[path] = before  # unchanged: keep the date it was first served with
        return fresh
