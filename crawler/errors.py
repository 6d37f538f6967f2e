"""Naming what went wrong with a request, so runs can count failures by kind."""

from __future__ import annotations

from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net_error
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

try:  # the DNS error moved between Twisted/Scrapy versions
    from twisted.internet.error import DNSLookupError
except ImportError:  # pragma: no cover
    DNSLookupError = net_error.DNSLookupError

KINDS = (
    (DNSLookupError, "dns"),
    (net_error.TimeoutError, "timeout"),
    (net_error.TCPTimedOutError, "timeout"),
    (net_error.ConnectionRefusedError, "connection_refused"),
    (net_error.ConnectionLost, "connection_lost"),
    (net_error.ConnectionDone, "connection_lost"),
    (ResponseNeverReceived, "connection_lost"),
    (ResponseFailed, "truncated"),
)


def error_kind(failure: Failure) -> str:
    """A short name for a failed request: http_404, http_5xx, timeout, dns, ..."""
    if failure.check(HttpError):
        status = failure.value.response.status
        return f"http_{status}" if status < 500 else "http_5xx"
    for exception_type, kind in KINDS:
        if failure.check(exception_type):
            return kind
    return failure.type.__name__ if failure.type else "unknown"
