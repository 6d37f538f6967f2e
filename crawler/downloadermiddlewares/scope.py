"""Keeping a crawl inside its targets.

Every request stays on the allowed domains of the source it was made for (a front page's link to
another source's site is out of scope, even though that site is crawled too), over http(s),
without credentials in the URL. Redirects are held to the same rules, and a redirect that loops
or goes on too long is a failure of its own. What is left out is counted by why, once per URL,
as `newsarchive/out_of_scope/<why>`: offsite, scheme, credentials, bad_url, and redirect_<why>
for where a redirect pointed.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urldefrag, urljoin, urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from w3lib.url import safe_url_string

from crawler.errors import BadResponse, OutOfScope
from crawler.sources import in_domains
from crawler.stats import OUT_OF_SCOPE_PREFIX, SOURCE_OUT_OF_SCOPE

REDIRECT_STATUSES = {301, 302, 303, 307, 308}


def scope_violation(url: str, domains: Iterable[str]) -> str | None:
    """Why a source allowed `domains` must not fetch `url`, or None if it may: "scheme" (not
    http or https), "credentials" (user:password@ in the URL), "bad_url" (no host, a bad port),
    "offsite" (a host outside the domains and their subdomains)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "bad_url"
    if parts.scheme.lower() not in ("http", "https"):
        return "scheme"
    if "@" in parts.netloc:
        return "credentials"
    if not parts.hostname:
        return "bad_url"
    if not in_domains(url, tuple(domains)):
        return "offsite"
    return None


def count_out_of_scope(stats: StatsCollector, why: str, source: str | None) -> None:
    """Count one URL left out of the crawl, overall and for its source."""
    stats.inc_value(OUT_OF_SCOPE_PREFIX + why)
    if source:
        stats.inc_value(SOURCE_OUT_OF_SCOPE.format(source))


class _Scoped:
    """What both scope middlewares share: the domains a request may reach, and counting."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.counted: set[tuple[str, str]] = set()  # a URL is often linked from many pages

    def domains_for(self, request: Request) -> tuple[str, ...]:
        """The allowed domains of the request's source; of all sources for a request that has
        none (robots.txt)."""
        spider = self.crawler.spider
        source = getattr(spider, "sources", {}).get(request.meta.get("source"))
        if source is not None:
            return tuple(source.allowed_domains)
        return tuple(getattr(spider, "allowed_domains", None) or ())

    def refuse(self, why: str, url: str, request: Request) -> OutOfScope:
        if (why, url) not in self.counted:
            self.counted.add((why, url))
            count_out_of_scope(self.stats, why, request.meta.get("source"))
        return OutOfScope(why, url)


class ScopeMiddleware(_Scoped):
    """Downloader middleware that refuses out-of-scope requests when they are scheduled (so they
    are never queued) and again before download (for requests that skip the scheduler). Replaces
    Scrapy's OffsiteMiddleware, which allows the union of all sources' domains."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.request_scheduled, signal=signals.request_scheduled)
        return middleware

    def check(self, request: Request) -> None:
        """Raise OutOfScope (an IgnoreRequest) if the request leaves its source's scope."""
        why = scope_violation(request.url, self.domains_for(request))
        if why is None:
            return
        if request.meta.get("redirect_urls"):
            why = "redirect_" + why
        raise self.refuse(why, request.url, request)

    def request_scheduled(self, request: Request, spider: object) -> None:
        self.check(request)

    def process_request(self, request: Request, spider: object = None) -> None:
        self.check(request)


class RedirectScopeMiddleware(_Scoped):
    """Downloader middleware, just outside RedirectMiddleware, that looks at a redirect before
    it is followed: one out of scope is refused (Scrapy would pass a redirect to a non-HTTP
    scheme on as an error page), one back to a URL of its own chain fails as `redirect_loop`
    (the duplicate filter would drop it silently), and one past REDIRECT_MAX_TIMES fails as
    `too_many_redirects`."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.max_redirects = crawler.settings.getint("REDIRECT_MAX_TIMES")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectScopeMiddleware:
        return cls(crawler)

    def process_response(
        self, request: Request, response: Response, spider: object = None
    ) -> Response:
        location = response.headers.get(b"Location")
        if (
            response.status not in REDIRECT_STATUSES
            or not location
            or self._not_followed(request, response)
        ):
            return response
        target = redirect_target(request.url, location)
        why = scope_violation(target, self.domains_for(request))
        if why is not None:
            raise self.refuse("redirect_" + why, target, request)
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if urldefrag(target)[0] in {urldefrag(url)[0] for url in chain}:
            raise BadResponse("redirect_loop", f"redirect loop: {' -> '.join(chain)} -> {target}")
        if request.meta.get("redirect_times", 0) >= self.max_redirects:
            raise BadResponse("too_many_redirects", f"over {self.max_redirects} redirects")
        return response

    def _not_followed(self, request: Request, response: Response) -> bool:
        # The cases where RedirectMiddleware hands a 3xx to the spider instead.
        meta = request.meta
        return bool(
            meta.get("dont_redirect")
            or meta.get("handle_httpstatus_all")
            or response.status in meta.get("handle_httpstatus_list", ())
            or response.status in getattr(self.crawler.spider, "handle_httpstatus_list", ())
        )


def redirect_target(url: str, location: bytes) -> str:
    """The absolute URL a Location header sends `url` to, resolved as RedirectMiddleware does."""
    target = safe_url_string(location)
    if location.startswith(b"//"):
        target = urlsplit(url).scheme + "://" + target.lstrip("/")
    return urljoin(url, target)
