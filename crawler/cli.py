"""The `newsarchive` command line: a thin click layer over the crawler and the archive."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from crawler.sources import (
    SourcesError,
    Target,
    adhoc_source,
    check_url,
    load_sources,
    select_sources,
)
from pipelines import lock
from pipelines.archive import ArchiveError, open_archive
from pipelines.lock import ArchiveBusy

DEFAULT_DB = "archive.db"
DEFAULT_SOURCES = "sources.toml"
LOG_LEVELS = click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False)


def _setting_pairs(values: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {value!r}", param_hint="-s")
        settings[name.strip()] = setting
    return settings


def _lock_archive(db_path: str, what: str) -> None:
    """Take the archive's write lock and check it is usable, or exit with a one-line error."""
    try:
        lock.acquire(db_path, what)
        open_archive(db_path).close()
    except (ArchiveBusy, ArchiveError) as error:
        raise click.ClickException(str(error)) from error


def _adhoc_targets(kind_urls: dict[str, tuple[str, ...]]) -> tuple[list, list[Target]]:
    sources, targets = {}, []
    for kind, urls in kind_urls.items():
        for url in urls:
            try:
                source = adhoc_source(url)
            except ValueError as error:
                raise click.BadParameter(str(error), param_hint=f"--{kind}") from error
            sources.setdefault(source.name, source)
            targets.append(Target(kind, url, source.name))
    return list(sources.values()), targets


@click.group()
@click.version_option(package_name="newsarchive")
def cli() -> None:
    """Crawl news sites into a searchable SQLite archive and browse it with datasette."""


@cli.command()
@click.argument("source_names", metavar="[SOURCE]...", nargs=-1)
@click.option(
    "--sources",
    "sources_path",
    default=DEFAULT_SOURCES,
    show_default=True,
    help="Sources file (TOML) listing the sites to crawl.",
)
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, help="Archive file.")
@click.option(
    "--url",
    "urls",
    multiple=True,
    help="Crawl this page (an article, or an index "
    "page whose article links are followed). Repeatable.",
)
@click.option("--feed", "feeds", multiple=True, help="Crawl the articles of this RSS/Atom feed.")
@click.option("--sitemap", "sitemaps", multiple=True, help="Crawl the articles of this sitemap.")
@click.option("--max-pages", type=click.IntRange(min=1), help="Stop after fetching N pages.")
@click.option(
    "-s",
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a Scrapy setting, as with `scrapy crawl -s`.",
)
@click.option(
    "--log-level",
    type=LOG_LEVELS,
    help="Show Scrapy's log at this level instead of the progress line.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors (for cron).")
def crawl(
    source_names,
    sources_path,
    db_path,
    urls,
    feeds,
    sitemaps,
    max_pages,
    settings,
    log_level,
    quiet,
) -> None:
    """Crawl the sources file (or ad hoc --url/--feed/--sitemap targets) into the archive.

    Give SOURCE names to crawl only those sources of the sources file.
    """
    from crawler.runner import format_summary, project_settings, run_crawl

    overrides = {"ARCHIVE_DB": db_path, **_setting_pairs(settings)}
    if max_pages:
        overrides["CLOSESPIDER_PAGECOUNT"] = max_pages
    adhoc = {"url": urls, "feed": feeds, "sitemap": sitemaps}
    if any(adhoc.values()):
        sources, targets = _adhoc_targets(adhoc)
    else:
        try:
            sources = select_sources(load_sources(sources_path), source_names)
        except SourcesError as error:
            raise click.ClickException(str(error)) from error
        targets = None
    _lock_archive(db_path, "crawl")
    progress = sys.stderr.isatty() and not quiet and not log_level
    overrides["LOG_LEVEL"] = (log_level or ("ERROR" if quiet or progress else "WARNING")).upper()
    overrides["NEWSARCHIVE_PROGRESS"] = progress
    started = time.monotonic()
    result = run_crawl(project_settings(overrides), sources=sources, targets=targets)
    if not quiet or not result.ok:
        click.echo(format_summary(result, time.monotonic() - started), err=not result.ok)
    if not result.ok:
        sys.exit(1)


def _extract_one(html: bytes, url: str | None, as_json: bool, path: str | None = None) -> str:
    from pipelines.extract import extract_article

    article = extract_article(html, url)
    if as_json:
        record = {"path": path, "url": url, **(article or {"text": None})}
        return json.dumps(
            record if path else {k: v for k, v in record.items() if k != "path"}, ensure_ascii=False
        )
    return article["text"] if article else ""


def _fetch(url: str) -> bytes:
    import urllib.request

    from crawler.runner import project_settings

    agent = project_settings().get("USER_AGENT")
    request = urllib.request.Request(url, headers={"User-Agent": agent})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - http(s) only
        return response.read()


@cli.command()
@click.argument("target", metavar="PATH_OR_URL")
@click.option("--url", help="The page's original URL (helps resolve links and metadata).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON with all metadata.")
def extract(target, url, as_json) -> None:
    """Print the clean text the archive would store for a saved page, a directory of .html
    files, or a live URL."""
    if target.startswith(("http://", "https://")):
        try:
            html = _fetch(check_url(target))
        except (OSError, ValueError) as error:
            raise click.ClickException(f"cannot fetch {target}: {error}") from error
        click.echo(_extract_one(html, url or target, as_json))
        return
    path = Path(target)
    if path.is_dir():
        files = sorted(path.rglob("*.html")) + sorted(path.rglob("*.htm"))
        for file in files:
            text = _extract_one(file.read_bytes(), url, as_json, path=str(file))
            click.echo(text if as_json else f"==> {file} <==\n{text}\n")
        return
    if not path.is_file():
        raise click.ClickException(f"{target}: no such file, directory or URL")
    click.echo(_extract_one(path.read_bytes(), url, as_json))
