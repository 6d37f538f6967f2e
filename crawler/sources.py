"""The sources file (`sources.toml`): which sites to archive and where to find their articles."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

URL_LISTS = ("feeds", "sitemaps", "start_urls", "urls")
KNOWN_KEYS = {"name", "allowed_domains", "drop_selectors", "recheck_after", *URL_LISTS}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
DURATION_PATTERN = re.compile(r"^(\d+)\s*([smhdw])$")
DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class SourcesError(ValueError):
    """The sources file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class Source:
    """One site to archive."""

    name: str
    allowed_domains: tuple[str, ...]
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    start_urls: tuple[str, ...] = ()  # front pages and section pages to follow links from
    urls: tuple[str, ...] = ()  # single pages to archive
    drop_selectors: tuple[str, ...] = ()  # XPath/CSS of blocks to remove before extraction
    recheck_after: int | None = None  # seconds before an archived URL is fetched again
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Target:
    """One place a crawl starts from."""

    kind: str  # "feed", "sitemap", "frontpage" or "url"
    url: str
    source: str


def parse_duration(value: str | int) -> int:
    """Seconds in a duration like "30m", "6h", "2d" (a bare number is seconds)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = DURATION_PATTERN.match(str(value).strip().lower())
    if not match:
        raise ValueError(f"bad duration {value!r} (use e.g. 30m, 6h, 2d)")
    return int(match.group(1)) * DURATION_SECONDS[match.group(2)]


def check_url(url: object) -> str:
    """Return `url` if it is an absolute http(s) URL without credentials, else raise ValueError."""
    if not isinstance(url, str):
        raise ValueError(f"URL must be a string, got {url!r}")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if parts.username or parts.password:
        raise ValueError(f"URLs with credentials are not allowed: {url!r}")
    return url.strip()


def url_domain(url: str) -> str:
    """The host name of a URL, lower-cased, without a leading "www."."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def in_domains(url: str, domains: tuple[str, ...] | list[str]) -> bool:
    """True when the URL's host is one of `domains` or a subdomain of one (ports ignored)."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in domains)


def adhoc_source(url: str, *, name: str | None = None) -> Source:
    """A source for one ad hoc URL given on the command line, scoped to that URL's domain."""
    check_url(url)
    domain = url_domain(url)
    return Source(name=name or domain, allowed_domains=(domain,))


def adhoc_targets(
    kind_urls: Mapping[str, Iterable[str]],
) -> tuple[list[Source], list[Target]]:
    """Sources and targets for ad hoc URLs by kind ("url", "feed", "sitemap", "frontpage"): one
    source per domain; ValueError names the first bad URL and its kind."""
    sources: dict[str, Source] = {}
    targets = []
    for kind, urls in kind_urls.items():
        for url in urls:
            try:
                source = adhoc_source(url)
            except ValueError as error:
                raise ValueError(f"--{kind}: {error}") from error
            sources.setdefault(source.name, source)
            targets.append(Target(kind, url, source.name))
    return list(sources.values()), targets


def _header_lines(text: str) -> list[int]:
    return [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip().startswith("[[sources]]")
    ]


def _string_list(entry: dict, key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SourcesError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _source_from_entry(entry: object, where: str, line: int) -> Source:
    if not isinstance(entry, dict):
        raise SourcesError(f"{where}: each [[sources]] entry must be a table")
    for key in entry:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SourcesError(f"{where}: unknown key {key!r}{hint}")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise SourcesError(f"{where}: every source needs a name (letters, digits, . _ -)")
    lists = {}
    for key in URL_LISTS:
        try:
            lists[key] = tuple(check_url(u) for u in _string_list(entry, key, where))
        except ValueError as error:
            raise SourcesError(f"{where}: source {name!r}: {key}: {error}") from error
    if not any(lists.values()):
        raise SourcesError(f"{where}: source {name!r} has no feeds, sitemaps, start_urls or urls")
    domains = _string_list(entry, "allowed_domains", where)
    if not domains:
        domains = tuple(sorted({url_domain(u) for urls in lists.values() for u in urls}))
    recheck = entry.get("recheck_after")
    try:
        recheck_after = parse_duration(recheck) if recheck is not None else None
    except ValueError as error:
        raise SourcesError(f"{where}: source {name!r}: recheck_after: {error}") from error
    return Source(
        name=name,
        allowed_domains=tuple(d.lower() for d in domains),
        drop_selectors=_string_list(entry, "drop_selectors", where),
        recheck_after=recheck_after,
        line=line,
        **lists,
    )


def parse_sources(text: str, filename: str = "sources.toml") -> list[Source]:
    """Parse the text of a sources file into sources, or raise SourcesError naming the line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SourcesError(f"{filename}: not valid TOML: {error}") from error
    entries = data.get("sources")
    if not isinstance(entries, list) or not entries:
        raise SourcesError(f"{filename}: no [[sources]] entries")
    lines = _header_lines(text)
    sources: list[Source] = []
    for index, entry in enumerate(entries):
        line = lines[index] if index < len(lines) else 0
        where = f"{filename}:{line}" if line else filename
        source = _source_from_entry(entry, where, line)
        if any(s.name == source.name for s in sources):
            raise SourcesError(f"{where}: duplicate source name {source.name!r}")
        sources.append(source)
    return sources


def load_sources(path: str | Path) -> list[Source]:
    """Read and parse a sources file; SourcesError if it is missing or malformed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise SourcesError(f"{path}: sources file not found") from error
    except (OSError, UnicodeDecodeError) as error:
        raise SourcesError(f"{path}: cannot read sources file: {error}") from error
    return parse_sources(text, str(path))


def select_sources(sources: list[Source], names: list[str] | tuple[str, ...]) -> list[Source]:
    """The sources with the given names (all when `names` is empty); SourcesError if unknown."""
    if not names:
        return sources
    by_name = {s.name: s for s in sources}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SourcesError(
            f"unknown source {unknown[0]!r}; known sources: {', '.join(by_name) or 'none'}"
        )
    return [by_name[n] for n in names]


def targets_of(source: Source) -> list[Target]:
    """Every place a crawl of `source` starts from."""
    kinds = (("feed", source.feeds), ("sitemap", source.sitemaps))
    kinds += (("frontpage", source.start_urls), ("url", source.urls))
    return [Target(kind, url, source.name) for kind, urls in kinds for url in urls]
