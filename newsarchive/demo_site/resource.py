"""What the demo server serves: a body, its content type and when it last changed.

The port is chosen at run time, so absolute URLs (feeds, sitemaps, canonical links) are
rendered with a placeholder origin that the server swaps for the request's own origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

# Rendered into pages wherever an absolute URL is needed; `.invalid` can never resolve.
ORIGIN_PLACEHOLDER = "http://demo-origin.invalid"

_ENCODED_PLACEHOLDER = quote(ORIGIN_PLACEHOLDER, safe="").encode("ascii")

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
JSON_FEED = "application/feed+json; charset=utf-8"
XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
PNG = "image/png"


def absolute(path: str) -> str:
    """An absolute URL for a site path, to be completed with the request's origin."""
    return ORIGIN_PLACEHOLDER + path


@dataclass(frozen=True)
class Resource:
    """One servable file. `body` may contain ORIGIN_PLACEHOLDER; see `body_for`."""

    body: bytes
    content_type: str
    last_modified: datetime

    @classmethod
    def text(cls, text: str, content_type: str, last_modified: datetime) -> Resource:
        """A resource from text, encoded as UTF-8 (every text content type says so)."""
        return cls(text.encode("utf-8"), content_type, last_modified)

    def body_for(self, origin: str) -> bytes:
        """The body with absolute URLs on `origin`, e.g. "http://127.0.0.1:8000"."""
        if self.content_type == PNG:
            return self.body
        body = self.body.replace(ORIGIN_PLACEHOLDER.encode(), origin.encode("ascii"))
        # Share links carry the page URL percent-encoded inside another URL.
        return body.replace(_ENCODED_PLACEHOLDER, quote(origin, safe="").encode("ascii"))
