"""Reading a page in the charset it is really in, whatever the server says.

Servers often label UTF-8 pages as ISO-8859-1 (a default of many web servers) and old CMSes
send Windows-1252 text as UTF-8. Read as labelled, either turns every accented letter into
debris (ZÃ¼rich, Z�rich). The body tells: UTF-8 has a strict structure that Latin-1 text almost
never has by chance. Pages read differently than labelled, and labels that are missing or do
not fit the body, are counted as `newsarchive/warnings/<kind>`: the page is still archived.
"""

from __future__ import annotations

import codecs
import re

from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Request, Response
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding

from crawler.stats import WARNINGS_PREFIX

# Charsets that can hold any byte, so a label of one of them is never contradicted by decoding.
SINGLE_BYTE = {"cp1252", "latin-1", "iso8859-1", "iso8859-15", "ascii"}
# One well-formed UTF-8 multi-byte sequence.
UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _codec(name: str | None) -> str | None:
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def check_charset(body: bytes, encoding: str) -> tuple[str, str | None]:
    """The charset to read `body` with, given the one it was read with, and what was wrong
    (None, "charset_mismatch" when the label was wrong, "invalid_utf8" when UTF-8 with bad
    bytes is best read as UTF-8 anyway, with replacement characters)."""
    codec = _codec(encoding)
    if body.isascii() or codec is None:
        return encoding, None
    if codec in SINGLE_BYTE and _decodes(body, "utf-8"):
        return "utf-8", "charset_mismatch"
    if codec == "utf-8" and not _decodes(body, "utf-8"):
        # Not one valid multi-byte sequence: legacy single-byte text under a UTF-8 label.
        if not UTF8_SEQUENCE.search(body) and _decodes(body, "cp1252"):
            return "cp1252", "charset_mismatch"
        return encoding, "invalid_utf8"
    return encoding, None


class CharsetMiddleware:
    """Downloader middleware that re-reads HTML responses whose charset label is wrong (see the
    module doc) and counts labels that are wrong or missing."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CharsetMiddleware:
        return cls(crawler)

    def process_response(
        self, request: Request, response: Response, spider: object = None
    ) -> Response:
        if not isinstance(response, HtmlResponse) or response.status != 200 or not response.body:
            return response
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        labelled = http_content_type_encoding(content_type) or html_body_declared_encoding(
            response.body
        )
        if not labelled and not response.body.startswith(codecs.BOM_UTF8):
            self.stats.inc_value(WARNINGS_PREFIX + "charset_missing")
        encoding, problem = check_charset(response.body, response.encoding)
        if problem is None:
            return response
        self.stats.inc_value(WARNINGS_PREFIX + problem)
        if encoding == response.encoding:
            return response
        return response.replace(encoding=encoding)
