"""The news spider: finds article pages through feeds, sitemaps, front pages and URL lists."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import SitemapSpider
from twisted.python.failure import Failure

from crawler.errors import LeftOut, OutOfScope, error_kind
from crawler.feeds import Entry, NewsSitemap, parse_feed, sitemap_entry
from crawler.items import NotModifiedItem, PageItem
from crawler.pagetype import is_article_page, is_followable
from crawler.sources import (
    Source,
    SourcesError,
    Target,
    adhoc_targets,
    load_sources,
    select_sources,
    targets_of,
)
from crawler.stats import (
    CONFIG_ERROR,
    ERRORS_PREFIX,
    NOT_FOLLOWED_PREFIX,
    SOURCE_EMPTY_LISTINGS,
    SOURCE_ERRORS,
    SOURCE_PAGES,
    SOURCE_TARGETS,
    SOURCE_TARGETS_FAILED,
    WARNINGS_PREFIX,
    note_failure,
    record_listed,
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _split(value: str | Iterable[str] | None) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)


def page_from_response(
    response: Response,
    source: str,
    drop_selectors: Iterable[str] = (),
    *,
    fetched_at: str,
    requested_url: str | None = None,
    hints: dict | None = None,
) -> PageItem:
    """The item for a fetched (or archived) page, with what the pipelines need to extract and
    store it."""
    headers = response.headers
    return PageItem(
        url=response.url,
        source=source,
        body=response.body,
        encoding=getattr(response, "encoding", None),
        status=response.status,
        content_type=headers.get(b"Content-Type", b"").decode("latin-1"),
        etag=(headers.get(b"ETag") or b"").decode("latin-1") or None,
        last_modified=(headers.get(b"Last-Modified") or b"").decode("latin-1") or None,
        fetched_at=fetched_at,
        requested_url=requested_url or response.url,
        hints=dict(hints or {}),
        drop_selectors=list(drop_selectors),
    )


class NewsSpider(SitemapSpider):
    """Crawls the sources of a sources file, or ad hoc feeds, sitemaps and URLs.

    Spider arguments (`scrapy crawl news -a NAME=VALUE`): `sources_file` (default: the
    NEWSARCHIVE_SOURCES setting), `source` (comma-separated names to crawl), or instead ad hoc
    `feed`, `sitemap`, `frontpage` and `url` (comma-separated URLs). From Python, `sources`
    (a list of Source) and `targets` (a list of Target) may be passed directly.
    """

    name = "news"
    # Article pages are yielded as items; feeds, sitemaps and index pages are parsed for links.
    sitemap_rules = [("", "parse_article")]
    adhoc_kind: str | None = None  # set by the one-kind spiders below

    def __init__(
        self,
        sources_file: str | None = None,
        source: str | None = None,
        feed: str | None = None,
        sitemap: str | None = None,
        frontpage: str | None = None,
        url: str | None = None,
        sources: list[Source] | None = None,
        targets: list[Target] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.sources_file = sources_file
        self.source_names = _split(source)
        adhoc = {"feed": feed, "sitemap": sitemap, "frontpage": frontpage, "url": url}
        if self.adhoc_kind and kwargs.get("urls"):
            adhoc[self.adhoc_kind] = kwargs["urls"]
        self.sources: dict[str, Source] = {}
        self.targets: list[Target] = []
        if sources is not None:
            self._add_sources(sources, targets)
        ad_sources, ad_targets = adhoc_targets({kind: _split(v) for kind, v in adhoc.items()})
        for ad_source in ad_sources:
            self.sources.setdefault(ad_source.name, ad_source)
        self.targets.extend(ad_targets)

    def _add_sources(self, sources: list[Source], targets: list[Target] | None) -> None:
        for item in sources:
            self.sources[item.name] = item
        if targets is None:
            targets = [t for item in sources for t in targets_of(item)]
        self.targets.extend(targets)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if not spider.targets:
            # Loaded here, before OffsiteMiddleware reads allowed_domains.
            path = spider.sources_file or crawler.settings.get("NEWSARCHIVE_SOURCES")
            try:
                sources = select_sources(load_sources(path), spider.source_names)
            except SourcesError as error:
                spider.logger.error("%s", error)
                crawler.stats.set_value(CONFIG_ERROR, str(error))
            else:
                spider._add_sources(sources, None)
        return spider

    @property
    def allowed_domains(self) -> list[str]:  # read by Scrapy's OffsiteMiddleware
        return sorted({d for s in self.sources.values() for d in s.allowed_domains})

    async def start(self) -> AsyncIterator[Any]:
        for target in self.targets:
            self.crawler.stats.inc_value(SOURCE_TARGETS.format(target.source))
            yield self.request_for(target)

    def request_for(self, target: Target) -> Request:
        """The first request of a crawl target. A front page, and a URL that turns out not to
        be an article, have their links followed NEWSARCHIVE_FOLLOW_DEPTH hops."""
        callbacks = {
            "feed": self.parse_feed,
            "sitemap": self._parse_sitemap,
            "frontpage": self.parse_page,
            "url": self.parse_page,
        }
        meta = {
            "source": target.source,
            "kind": target.kind,
            "hops_left": self.settings.getint("NEWSARCHIVE_FOLLOW_DEPTH"),
            "target": True,
            "found_by": target.kind,
        }
        return Request(
            target.url, callback=callbacks[target.kind], errback=self.on_error, meta=meta
        )

    @property
    def list_only(self) -> bool:
        """True when the run only lists the articles it finds (`newsarchive crawl --list`)."""
        return self.settings.getbool("NEWSARCHIVE_LIST_ONLY")

    # Discovery -----------------------------------------------------------------------------

    def empty_listing(self, response: Response, why: str) -> None:
        """Count a feed or sitemap that lists no article: a failure of its source."""
        self.crawler.stats.inc_value(WARNINGS_PREFIX + why)
        source = response.meta.get("source", "adhoc")
        note_failure(self.crawler.stats, source, response.url, why, SOURCE_EMPTY_LISTINGS)

    def parse_feed(self, response: Response) -> Iterable[Request]:
        """Requests for the articles an RSS, Atom or JSON feed lists. An ill-formed feed is read
        as far as feedparser reads it, and counted."""
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        feed = parse_feed(response.body, response.url, content_type)
        why = f" ({feed.problem})" if feed.problem else ""
        if not feed.entries:
            self.logger.warning("Not a feed, or an empty one: %s%s", response.url, why)
            self.empty_listing(response, "empty_feed")
        elif feed.problem:
            self.logger.warning("Ill-formed feed, read as far as it goes: %s%s", response.url, why)
            self.crawler.stats.inc_value(WARNINGS_PREFIX + "ill_formed_feed")
        yield from self.entry_requests(response, feed.entries, "feed")

    def _parse_sitemap(self, response: Response) -> Iterable[Request]:
        # Scrapy's parser drops the Google News tags, so urlsets are read with NewsSitemap;
        # robots.txt and sitemap indexes stay with SitemapSpider.
        body = None if response.url.endswith("/robots.txt") else self._get_sitemap_body(response)
        if body and NewsSitemap(body).type == "urlset":
            raws = self.sitemap_filter(NewsSitemap(body))
            entries = [sitemap_entry(raw) for raw in raws if raw.get("loc")]
            if not entries:  # a quiet news sitemap, or a broken one
                self.empty_listing(response, "empty_sitemap")
            yield from self.entry_requests(response, entries, "sitemap")
            return
        requests = list(super()._parse_sitemap(response))
        if not requests and not response.url.endswith("/robots.txt"):
            self.empty_listing(response, "invalid_sitemap")
        for request in requests:  # sitemaps of an index belong to the same source
            meta = {"source": response.meta["source"], "kind": "sitemap", **request.meta}
            yield request.replace(meta=meta, errback=self.on_error)

    def parse_page(self, response: Response) -> Iterable[Any]:
        """An article page becomes an item; an index page has its links followed.

        A front page given as a target is always treated as an index page.
        """
        if not isinstance(response, TextResponse):
            yield self.page_item(response)  # the pipelines count it as not HTML
            return
        if response.status == 304:
            yield self.not_modified(response)
            return
        if response.meta.get("kind") != "frontpage" and is_article_page(response):
            if self.list_only:
                record_listed(self.crawler.stats, response.meta, response.url)
                return
            yield self.page_item(response)
            return
        hops_left = response.meta.get("hops_left", 0)
        if hops_left <= 0:  # an index page NEWSARCHIVE_FOLLOW_DEPTH hops away: counted
            self.crawler.stats.inc_value(NOT_FOLLOWED_PREFIX + "follow_depth")
            return
        source = self.sources[response.meta["source"]]
        # Links to other sites are requested too: ScopeMiddleware refuses and counts them.
        for link in LinkExtractor(unique=True).extract_links(response):
            if not is_followable(link.url):
                continue
            yield response.follow(
                link.url,
                callback=self.parse_page,
                errback=self.on_error,
                meta={
                    "source": source.name,
                    "kind": "page",
                    "hops_left": hops_left - 1,
                    "found_by": "page link",
                },
            )

    def entry_requests(
        self, response: Response, entries: list[Entry], listed_by: str
    ) -> Iterable[Request]:
        """Requests for the articles a feed or sitemap lists, with the dates it gives as
        hints (`listed_by`: "feed" or "sitemap", recorded as the date's source)."""
        for entry in entries:
            hints = {"title": entry.title, "updated": entry.updated}
            if entry.published:
                hints.update(published=entry.published, published_source=listed_by)
            yield self.article_request(response, entry.url, hints, listed_by)

    def article_request(
        self, response: Response, url: str, hints: dict, found_by: str = "feed"
    ) -> Request:
        """A request for an article page listed by a feed or sitemap (`found_by`)."""
        hints = {k: v for k, v in hints.items() if v}
        meta = {"source": response.meta["source"], "kind": "article", "hints": hints}
        meta["found_by"] = found_by
        return response.follow(url, callback=self.parse_article, errback=self.on_error, meta=meta)

    # Articles ------------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterable[PageItem | NotModifiedItem]:
        """A page a feed or sitemap says is an article: hand it to the pipelines."""
        yield self.page_item(response)

    def not_modified(self, response: Response) -> NotModifiedItem:
        """The item for an archived article the server says is unchanged (HTTP 304)."""
        return NotModifiedItem(
            url=response.url, source=response.meta.get("source", "adhoc"), fetched_at=_now()
        )

    def page_item(self, response: Response) -> PageItem | NotModifiedItem:
        """The item for a fetched page, with what the pipelines need to extract and store it."""
        if response.status == 304:
            return self.not_modified(response)
        source = self.sources.get(response.meta.get("source", ""))
        self.crawler.stats.inc_value(SOURCE_PAGES.format(response.meta.get("source")))
        redirects = response.meta.get("redirect_urls") or [response.url]
        return page_from_response(
            response,
            source.name if source else "adhoc",
            source.drop_selectors if source else (),
            fetched_at=_now(),
            requested_url=redirects[0],
            hints=dict(response.meta.get("hints") or {}),
        )

    def on_error(self, failure: Failure) -> None:
        """Count a failed request by kind and log one line; the crawl goes on. Requests skipped
        on purpose (robots.txt, out of scope) are no errors: they have counts of their own. A
        target that fails in any way but a limit is a failed target of its source."""
        kind = error_kind(failure)
        request = getattr(failure, "request", None)
        if request is not None and request.meta.get("target") and not failure.check(LeftOut):
            why = kind or ("out_of_scope" if failure.check(OutOfScope) else "ignored")
            if "robots.txt" in str(failure.value):
                why = "robots_txt"
            source = request.meta.get("source", "adhoc")
            note_failure(self.crawler.stats, source, request.url, why, SOURCE_TARGETS_FAILED)
        if kind is None:
            return
        self.crawler.stats.inc_value(ERRORS_PREFIX + kind)
        if request is not None:
            source = request.meta.get("source")
            self.crawler.stats.inc_value(SOURCE_ERRORS.format(source))
        url = request.url if request is not None else "?"
        message = failure.getErrorMessage() or type(failure.value).__name__
        self.logger.warning("%s: %s (%s)", kind, url, message[:200])
