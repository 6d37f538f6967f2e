"""The pages a reader reaches from the archive's home page and from a search: found by
following the links of the real pages, each named by its kind.

`bench.scale` times these pages; tests/test_scale_walk.py checks on a small archive that every
one of them answers 200.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

# Pages that are not the archive's: datasette's own static files and instance pages.
_SKIPPED = re.compile(r"^/-/(static|static-plugins)/")


@dataclass(frozen=True)
class Page:
    """A page to fetch: its kind (what the reader sees) and its path with query string."""

    kind: str
    path: str


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def local_links(html: str, base: str = "/") -> list[str]:
    """The links of a page to the same site (paths with query strings), in page order, once
    each; links to static files are left out."""
    parser = _Links()
    parser.feed(html)
    seen: dict[str, None] = {}
    for href in parser.hrefs:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith("#"):
            continue
        path = parts.path or urlsplit(base).path
        if not path.startswith("/"):
            path = urlsplit(base).path.rsplit("/", 1)[0] + "/" + path
        if _SKIPPED.match(path):
            continue
        seen.setdefault(path + (f"?{parts.query}" if parts.query else ""), None)
    return list(seen)


def page_kind(path: str, database: str = "archive") -> str:
    """A name for the kind of page at `path` (e.g. "article", "table: articles by source")."""
    parts = urlsplit(path)
    args = dict(parse_qsl(parts.query, keep_blank_values=True))
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        return "home"
    if segments[0] != database:
        return "instance: " + parts.path
    rest = segments[1:]
    if not rest:
        return "database page"
    name, _, ext = rest[0].partition(".")
    feed = " (atom)" if ext == "atom" or parts.path.endswith(".atom") else ""
    if ext == "json" or parts.path.endswith(".json"):
        feed = " (json)"
    if len(rest) > 1:
        return {"articles": "article", "crawl_runs": "crawl run"}.get(name, f"row: {name}") + feed
    if name == "search":
        if not args.get("q"):
            return "search: empty form" + feed
        page = " page 2+" if any(k.startswith("_next") or k == "page" for k in args) else ""
        filters = {"source", "language", "author", "since", "until", "sort"}
        filtered = " with filters" if any(args.get(k) for k in filters) else ""
        return f"search{page}{filtered}" + feed
    if name == "articles":
        if args.get("_search"):
            return "table: articles search" + feed
        facet = [k for k in args if not k.startswith("_")]
        if facet:
            return "table: articles by " + "+".join(sorted(facet)) + feed
        if any(k.startswith("_sort") for k in args):
            return "table: articles sorted" + feed
        return "table: articles" + feed
    return f"query or table: {name}" + feed


def search_path(**params: str) -> str:
    """The search page's path for query-string parameters (q, source, since...)."""
    return "/archive/search?" + urlencode(params)


async def _get_html(client, path: str) -> tuple[int, str]:
    response = await client.get(path)
    return response.status_code, response.text


async def discover(
    client, search_queries: list[dict[str, str]], errors: list[str] | None = None
) -> list[Page]:
    """The home page, every local link on it, the search pages of `search_queries` (query-string
    parameters) and every local link on those, as Pages (each path once). A search page that
    fails on this first visit is added to `errors` ("path: HTTP status"): a cold archive can
    fail where a warm one does not. So can the home page, which is asked for once more (its
    links are the walk) before this raises RuntimeError."""
    found: dict[str, Page] = {"/": Page("home", "/")}
    status, html = await _get_html(client, "/")
    if status != 200:
        if errors is not None:
            errors.append(f"/: HTTP {status}")
        status, html = await _get_html(client, "/")
        if status != 200:
            raise RuntimeError(f"/: HTTP {status} twice")
    for path in local_links(html, "/"):
        found.setdefault(path, Page(page_kind(path), path))
    for params in search_queries:
        path = search_path(**params)
        found.setdefault(path, Page(page_kind(path), path))
        status, html = await _get_html(client, path)
        if status != 200:  # kept: timing it again reports the error; it has no links to follow
            if errors is not None:
                errors.append(f"{path}: HTTP {status}")
            continue
        for link in local_links(html, path):
            found.setdefault(link, Page(page_kind(link), link))
    return list(found.values())
