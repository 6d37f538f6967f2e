"""Entry points of the demo sites, as the crawler's sources file describes them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .publication import Publication

SOURCE_KEYS = ("name", "allowed_domains", "feeds", "sitemaps", "start_urls")


def site_sources(publications: Iterable[Publication], origin: str) -> list[dict[str, Any]]:
    """One source per site: name, allowed_domains, feeds, sitemaps and start_urls."""
    origin = origin.rstrip("/")
    host = urlsplit(origin).hostname or ""
    return [
        {
            "name": publication.name,
            "allowed_domains": [host],
            "feeds": [
                origin + path for path in (publication.feed_path, *publication.extra_feed_paths)
            ],
            "sitemaps": [origin + publication.sitemap_path],
            "start_urls": [origin + publication.prefix],
        }
        for publication in publications
    ]


def _toml_value(value: Any) -> str:
    # JSON strings, numbers, booleans and arrays of them are valid TOML values too.
    return json.dumps(value, ensure_ascii=False)


def render_sources_toml(sources: Iterable[dict[str, Any]]) -> str:
    """A sources.toml text with one [[sources]] table per source."""
    tables = []
    for source in sources:
        lines = ["[[sources]]"]
        keys = [key for key in SOURCE_KEYS if key in source]
        keys += sorted(set(source) - set(SOURCE_KEYS))
        lines += [f"{key} = {_toml_value(source[key])}" for key in keys]
        tables.append("\n".join(lines) + "\n")
    return "\n".join(tables)
