"""The rules behind the hostile-web handling, one by one: Retry-After and backoff, scope, charset
repair and naming failures."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.downloadermiddlewares.charset import check_charset
from crawler.downloadermiddlewares.retry import backoff_delay, parse_retry_after
from crawler.downloadermiddlewares.scope import redirect_target, scope_violation
from crawler.errors import BadResponse, OutOfScope, error_kind

NOW = 1_750_000_000.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (b"120", 120.0),
        (" 5 ", 5.0),
        (formatdate(NOW + 30, usegmt=True), 30.0),
        (formatdate(NOW - 30, usegmt=True), 0.0),  # a date in the past: now
        (b"", None),
        (None, None),
        (b"soon", None),
        (b"-5", None),
        (b"1.5", None),
        ("Wed, 99 Foo 2025 99:99:99 GMT", None),
    ],
)
def test_retry_after(header, seconds):
    assert parse_retry_after(header, now=NOW) == seconds


def test_backoff_doubles_up_to_the_cap_with_jitter():
    rng = random.Random(1)
    for retry, full in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 30.0)]:
        delays = [backoff_delay(retry, 1.0, 30.0, rng) for _ in range(50)]
        assert all(full / 2 <= delay <= full for delay in delays)
    assert backoff_delay(3, 0, 30) == 0


DOMAINS = ("news.example", "127.0.0.1")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://news.example/2025/a-story", None),
        ("https://www.news.example/2025/a-story", None),
        ("http://NEWS.example:8080/x", None),
        ("http://127.0.0.1:9999/x", None),
        ("https://evilnews.example/x", "offsite"),
        ("https://news.example.evil.example/x", "offsite"),
        ("http://localhost/x", "offsite"),
        ("file:///etc/passwd", "scheme"),
        ("ftp://news.example/pub/x", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("data:text/html,<p>hi</p>", "scheme"),
        ("https://user:secret@news.example/x", "credentials"),
        ("https://user@news.example/x", "credentials"),
        ("https://news.example@evil.example/x", "credentials"),
        ("http:///x", "bad_url"),
        ("http://news.example:port/x", "bad_url"),
    ],
)
def test_scope(url, why):
    assert scope_violation(url, DOMAINS) == why


@pytest.mark.parametrize(
    ("location", "target"),
    [
        (b"/b", "http://news.example/b"),
        (b"b", "http://news.example/a/b"),
        (b"//other.example/x", "http://other.example/x"),
        (b"https://news.example/\xc3\xa9t\xc3\xa9", "https://news.example/%C3%A9t%C3%A9"),
        (b"file:///etc/passwd", "file:///etc/passwd"),
    ],
)
def test_redirect_target(location, target):
    assert redirect_target("http://news.example/a/", location) == target


TEXT = "Zürich and Malmö — café owners"


@pytest.mark.parametrize(
    ("body", "labelled", "encoding", "problem"),
    [
        (TEXT.encode("utf-8"), "utf-8", "utf-8", None),
        (TEXT.encode("utf-8"), "cp1252", "utf-8", "charset_mismatch"),
        (TEXT.encode("utf-8"), "latin-1", "utf-8", "charset_mismatch"),
        (TEXT.encode("cp1252"), "utf-8", "cp1252", "charset_mismatch"),
        (TEXT.encode("cp1252"), "cp1252", "cp1252", None),
        (TEXT.encode("utf-8") + b"\xff", "utf-8", "utf-8", "invalid_utf8"),
        (b"plain ascii", "cp1252", "cp1252", None),
        (TEXT.encode("shift_jis", "replace"), "shift_jis", "shift_jis", None),
        (TEXT.encode("utf-8"), "no-such-charset", "no-such-charset", None),
    ],
)
def test_charset(body, labelled, encoding, problem):
    assert check_charset(body, labelled) == (encoding, problem)


def failure_of(error: BaseException) -> Failure:
    try:
        raise error
    except BaseException:  # noqa: BLE001 - building the Failure of any exception
        return Failure()


def http_error(status: int) -> HttpError:
    request = Request("http://news.example/x")
    return HttpError(Response(request.url, status=status, request=request), "Ignoring")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (http_error(404), "http_404"),
        (http_error(503), "http_5xx"),
        (BadResponse("redirect_loop"), "redirect_loop"),
        (CannotResolveHostError(), "dns"),
        (DownloadTimeoutError(), "timeout"),
        (ResponseDataLossError(), "truncated"),
        (DownloadCancelledError(), "too_large"),
        (IgnoreRequest("max redirections reached"), "too_many_redirects"),
        (IgnoreRequest("Forbidden by robots.txt"), None),
        (OutOfScope("offsite", "https://evil.example/"), None),
        (ValueError("invalid hostname: a b"), "bad_url"),
        (KeyError("x"), "KeyError"),
    ],
)
def test_error_kinds(error, kind):
    assert error_kind(failure_of(error)) == kind


def test_errors_that_reach_no_errback_are_counted():
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    from crawler.extensions.errors import ErrorCounter
    from crawler.items import PageItem

    crawler = get_crawler(Spider)
    crawler._apply_settings()
    counter = ErrorCounter(crawler)
    request = Request("http://news.example/x", meta={"source": "news"})
    response = Response(request.url, request=request)
    counter.spider_error(failure_of(KeyError("x")), response)
    counter.item_error(PageItem(url=request.url, source="news", body=b""), failure_of(KeyError()))
    stats = crawler.stats.get_stats()
    assert stats["newsarchive/errors/spider_error"] == 1
    assert stats["newsarchive/source/news/errors"] == 1
    assert stats["newsarchive/dropped/pipeline_error"] == 1
    assert stats["newsarchive/source/news/dropped"] == 1
