"""URL canonicalization: one key for every URL variant of the same article."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

# Query parameters that identify a campaign or a click, never a page.
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|_ga|_gl|"
    r"ref|ref_src|ref_url|cmpid|cmp|ito|ns_mchannel|ns_source|ns_campaign|ns_linkname|"
    r"ns_fee|ocid|sr_share|share|smid|s_cid|xtor|at_medium|at_campaign|amp|outputType|"
    r"__twitter_impression|taid|guccounter|spm|trk|mbid|wt_mc|rss|feed|source)$",
    re.IGNORECASE,
)
AMP_PATH = re.compile(r"(/amp/?$|/amp(?=/)|\.amp(?=\.html?$)|\.amp$)", re.IGNORECASE)


# Each article's URLs are canonicalized about ten times on their way (dedup, storage's lookups
# and URL rows): w3lib's canonicalization is a tenth of a millisecond a URL, so remember some.
@functools.lru_cache(maxsize=4096)
def clean_url(url: str) -> str:
    """The URL without tracking parameters or fragment, query sorted, host lower-cased."""
    canonical = canonicalize_url(url, keep_fragments=False)
    parts = urlsplit(canonical)
    params = [p.split("=", 1)[0] for p in parts.query.split("&") if p]
    tracking = [p for p in params if TRACKING_PARAMS.match(p)]
    if tracking:
        canonical = url_query_cleaner(canonical, tracking, remove=True, unique=False)
        parts = urlsplit(canonical)
    netloc = parts.netloc.lower()
    if (parts.scheme, parts.port) in (("http", 80), ("https", 443)):
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


@functools.lru_cache(maxsize=4096)
def url_key(url: str) -> str:
    """A key equal for variants of one page: scheme, www., AMP, trailing slash and tracking
    parameters don't matter."""
    parts = urlsplit(clean_url(url))
    host = parts.netloc
    host = host[4:] if host.startswith("www.") else host
    host = host[4:] if host.startswith("amp.") else host
    path = AMP_PATH.sub("", parts.path).rstrip("/") or "/"
    return f"{host}{path}" + (f"?{parts.query}" if parts.query else "")


def same_site(url_a: str, url_b: str) -> bool:
    """True when both URLs are on the same host, ignoring www. and amp. prefixes."""
    return url_key(url_a).split("/", 1)[0] == url_key(url_b).split("/", 1)[0]


def canonical_url(fetched_url: str, declared: str | None) -> str:
    """The URL to archive a page under: its declared canonical link when that stays on the
    same site (AMP and tracking variants point there), else the cleaned fetched URL."""
    if (
        declared
        and urlsplit(declared).scheme in ("http", "https")
        and same_site(fetched_url, declared)
    ):
        return clean_url(declared)
    return clean_url(fetched_url)


def readonly_sqlite_uri(path: str | Path) -> str:
    """The URI that opens the SQLite file at `path` read-only (`sqlite3.connect(uri, uri=True)`);
    `as_uri` escapes the "?" and "#" a file name may hold."""
    return Path(path).resolve().as_uri() + "?mode=ro"
