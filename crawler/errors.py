"""Naming what went wrong with a request, so runs can count failures by kind.

Every failed request ends in the spider's errback, which counts it as
`newsarchive/errors/<kind>` with the kind named here. Requests skipped on purpose (robots.txt,
out of scope, already archived) are not failures: `error_kind` gives None for them.
"""

from __future__ import annotations

import gzip
import zlib

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotSupported,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net_error
from twisted.python.failure import Failure
from twisted.web._newclient import ParseError, ResponseFailed, ResponseNeverReceived

try:  # private to Scrapy: what HttpCompressionMiddleware raises past DOWNLOAD_MAXSIZE
    from scrapy.utils._compression import _DecompressionMaxSizeExceeded as DecompressionTooLarge
except ImportError:  # pragma: no cover - then gzip bombs count as skipped requests
    DecompressionTooLarge = None

try:  # brotli is what Scrapy decodes "br" with
    import brotli

    BROTLI_ERRORS: tuple[type[Exception], ...] = (brotli.error,)
except (ImportError, AttributeError):  # pragma: no cover
    BROTLI_ERRORS = ()


class BadResponse(Exception):
    """A response this crawler refuses (an empty body, a redirect loop...); `kind` names why."""

    def __init__(self, kind: str, message: str = ""):
        super().__init__(message or kind)
        self.kind = kind


class OutOfScope(IgnoreRequest):
    """A request the crawl must not make: another host, a non-HTTP scheme, credentials in the
    URL. Skipped on purpose, so not an error; `why` is counted as newsarchive/out_of_scope/."""

    def __init__(self, why: str, url: str):
        super().__init__(f"out of scope ({why}): {url}")
        self.why = why


class LeftOut(IgnoreRequest):
    """A request not made on purpose, by a limit (`newsarchive crawl --max-pages`) or because
    the run only lists articles (`crawl --list`): counted by the component that left it out,
    neither an error nor a failed target."""


# Download failures by exception, first match wins. Scrapy 2.19 wraps Twisted's errors in its
# own; the Twisted ones stay for handlers that raise them unwrapped.
KINDS: tuple[tuple[type[BaseException], str], ...] = (
    (CannotResolveHostError, "dns"),
    (net_error.DNSLookupError, "dns"),
    (DownloadTimeoutError, "timeout"),
    (net_error.TimeoutError, "timeout"),
    (net_error.TCPTimedOutError, "timeout"),
    (DownloadConnectionRefusedError, "connection_refused"),
    (net_error.ConnectionRefusedError, "connection_refused"),
    (ResponseDataLossError, "truncated"),
    # Downloads are only cancelled for DOWNLOAD_MAXSIZE (timeouts raise their own error).
    (DownloadCancelledError, "too_large"),
    (net_error.ConnectionLost, "connection_lost"),
    (net_error.ConnectionDone, "connection_lost"),
    (ResponseNeverReceived, "connection_lost"),
    # A Content-Encoding the body does not follow: a corrupt gzip, deflate or brotli stream.
    (zlib.error, "bad_encoding"),
    (gzip.BadGzipFile, "bad_encoding"),
    (EOFError, "bad_encoding"),
    *((error, "bad_encoding") for error in BROTLI_ERRORS),
    (UnsupportedURLSchemeError, "unsupported_scheme"),
    (NotSupported, "unsupported_scheme"),
)


def _failed_download_kind(error: BaseException) -> str:
    """The kind of a DownloadFailedError: what Twisted said about the connection."""
    cause = error.__cause__
    reasons = getattr(cause, "reasons", None) or []
    for reason in reasons:
        if isinstance(reason, Failure) and reason.check(ParseError):
            return "bad_response"  # not HTTP, or HTTP too broken to read
    if isinstance(cause, ResponseFailed) or reasons:
        return "connection_lost"
    return "download_failed"


def error_kind(failure: Failure) -> str | None:
    """A short name for a failed request (http_404, http_5xx, timeout, dns, too_large...), or
    None when the request was skipped on purpose (robots.txt, out of scope)."""
    error = failure.value
    if isinstance(error, HttpError):
        status = error.response.status
        return f"http_{status}" if status < 500 else "http_5xx"
    if isinstance(error, BadResponse):
        return error.kind
    if isinstance(error, IgnoreRequest):
        if DecompressionTooLarge is not None and isinstance(error.__cause__, DecompressionTooLarge):
            return "gzip_bomb"
        if str(error) == "max redirections reached":  # Scrapy's message, e.g. meta refreshes
            return "too_many_redirects"
        return None
    if isinstance(error, DownloadFailedError):
        return _failed_download_kind(error)
    for exception_type, kind in KINDS:
        if isinstance(error, exception_type):
            return kind
    if isinstance(error, ValueError) and "hostname" in str(error):
        return "bad_url"
    return type(error).__name__ if failure.type else "unknown"
