"""Retrying failed downloads: exponential backoff, Retry-After honoured, client errors never.

Which failures are retried:
- 5xx responses in RETRY_HTTP_CODES, and download errors in RETRY_EXCEPTIONS (timeouts, resets,
  truncated bodies, DNS and connection failures): after a backoff of NEWSARCHIVE_RETRY_BACKOFF
  seconds, doubling with each retry up to NEWSARCHIVE_RETRY_BACKOFF_MAX, with jitter.
- 429 Too Many Requests, and a 503 that says when to come back: after the Retry-After the server
  asked for. One that asks for more than NEWSARCHIVE_RETRY_AFTER_MAX seconds is not retried at
  all, rather than retried sooner than the server allowed.
- 2xx responses with an empty body (an origin that hiccuped): like a 5xx.
- Never another 4xx: the request itself is wrong, or not ours to make.

The wait is an asynchronous sleep in the middleware, so the reactor goes on with other requests.
"""

from __future__ import annotations

import logging
import random
import time
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import sleep
from scrapy.utils.response import response_status_message

from crawler import settings as defaults
from crawler.errors import BadResponse

logger = logging.getLogger(__name__)

# Statuses whose Retry-After header says when to try again.
RETRY_AFTER_STATUSES = {429, 503}
WAITED = "newsarchive/retry/waited_seconds"
RETRY_AFTER_TOO_LONG = "newsarchive/retry/retry_after_too_long"


def parse_retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110).
    None when there is no usable value; never negative."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(retry: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number `retry` (1, 2, ...): `base` doubled for each earlier
    retry, at most `cap`, less up to half of it at random so retries of many requests spread."""
    if base <= 0:
        return 0.0
    delay = min(cap, base * 2 ** max(0, retry - 1))
    return delay * (rng or random).uniform(0.5, 1.0)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware with backoff between tries, Retry-After, no retries of client
    errors but 429, and retries of empty bodies. Replaces it in DOWNLOADER_MIDDLEWARES."""

    @staticmethod
    def _setting(settings: BaseSettings, name: str) -> float:
        # crawler.settings is the one place defaults live, also for bare test Settings
        return settings.getfloat(name, getattr(defaults, name))

    def __init__(self, settings: BaseSettings):
        super().__init__(settings)
        self.backoff = self._setting(settings, "NEWSARCHIVE_RETRY_BACKOFF")
        self.backoff_max = self._setting(settings, "NEWSARCHIVE_RETRY_BACKOFF_MAX")
        self.retry_after_max = self._setting(settings, "NEWSARCHIVE_RETRY_AFTER_MAX")
        # A client error says the request is wrong: the same request will fail the same way.
        self.retry_http_codes = {
            code for code in self.retry_http_codes if not 400 <= code < 500 or code == 429
        }

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        return middleware

    async def process_response(
        self, request: Request, response: Response, spider: object = None
    ) -> Request | Response:
        if request.meta.get("dont_retry", False):
            return response
        if is_empty_page(request, response):
            retry = await self._retry_after_wait(request, "empty body", None)
            if retry is not None:
                return retry
            raise BadResponse("empty_body", f"empty body: {response.url}")
        if response.status not in self.retry_http_codes:
            return response
        asked = None
        if response.status in RETRY_AFTER_STATUSES:
            asked = parse_retry_after(response.headers.get(b"Retry-After"))
            if asked is not None and asked > self.retry_after_max:
                self.crawler.stats.inc_value(RETRY_AFTER_TOO_LONG)
                logger.info(
                    "Not retrying %s: Retry-After %.0f s is over NEWSARCHIVE_RETRY_AFTER_MAX",
                    request.url,
                    asked,
                )
                return response
        reason = response_status_message(response.status)
        return await self._retry_after_wait(request, reason, asked) or response

    async def process_exception(
        self, request: Request, exception: Exception, spider: object = None
    ) -> Request | Response | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry"):
            return None
        return await self._retry_after_wait(request, exception, None)

    async def _retry_after_wait(
        self, request: Request, reason: str | Exception, asked: float | None
    ) -> Request | None:
        """The retry of `request`, returned after the backoff (or the `asked` Retry-After), or
        None when it has been retried enough."""
        retry = self._retry(request, reason)
        if retry is None:
            return None
        delay = backoff_delay(retry.meta["retry_times"], self.backoff, self.backoff_max)
        if asked is not None:
            delay = max(delay, asked)
        if delay > 0:
            self.crawler.stats.inc_value(WAITED, round(delay, 3))
            if not await self._wait(delay):
                return None
        return retry

    async def _wait(self, seconds: float) -> bool:
        """Sleep `seconds` without blocking the reactor; False if the crawl began to close
        meanwhile (a max-pages stop, a storage error): then the retry is dropped rather than
        holding the close up."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            await sleep(min(left, 0.5))
            if self._closing():
                return False
        return True

    def _closing(self) -> bool:
        # Scrapy has no signal for "the spider is closing"; its engine slot knows.
        slot = getattr(self.crawler.engine, "_slot", None)
        return getattr(slot, "closing", None) is not None


def is_empty_page(request: Request, response: Response) -> bool:
    """True for a successful GET of a page that came back with no body at all. Engine-internal
    downloads such as robots.txt (where empty means "allow everything") are not pages."""
    return (
        200 <= response.status < 300
        and not response.body
        and request.method == "GET"
        and request.callback is not NO_CALLBACK
    )
