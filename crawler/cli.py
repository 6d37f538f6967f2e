"""The `newsarchive` command line: a thin click layer over the crawler and the archive."""

from __future__ import annotations

import functools
import json
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

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
from pipelines.archive import ArchiveError, describe_error, open_archive
from pipelines.lock import ArchiveBusy

DEFAULT_DB = "archive.db"
DEFAULT_SOURCES = "sources.toml"
# -s NAME=VALUE, as `scrapy crawl` has it.
setting_option = click.option(
    "-s",
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a Scrapy setting, as with `scrapy crawl -s`.",
)
LOG_LEVELS = click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False)


def _setting_pairs(values: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {value!r}", param_hint="-s")
        settings[name.strip()] = setting
    _check_setting_types(settings)
    return settings


def _check_setting_types(overrides: dict[str, str]) -> None:
    """A setting whose default is a number or a flag must be given as one: Scrapy would fail
    with a traceback halfway through starting the crawl."""
    if not overrides:
        return
    from crawler.runner import project_settings

    defaults = project_settings()
    for name, value in overrides.items():
        default = defaults.get(name)
        kind = type(default)
        try:
            if kind is bool:
                defaults.set(name, value, priority="cmdline")
                defaults.getbool(name)
            elif kind in (int, float):
                float(value)
        except ValueError:
            what = "true or false" if kind is bool else "a number"
            raise click.BadParameter(
                f"{name} must be {what}, got {value!r}", param_hint="-s"
            ) from None


def archive_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a SQLite error met while using the archive (`db_path`) into a one-line message: a
    corrupt page can lie anywhere, so it may only show up halfway through a query."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ArchiveError as error:
            raise click.ClickException(str(error)) from error
        except sqlite3.Error as error:
            raise click.ClickException(describe_error(kwargs["db_path"], error)) from error

    return wrapper


def _lock_archive(db_path: str, what: str) -> None:
    """Take the archive's write lock and check it is usable, or exit with a one-line error."""
    try:
        lock.acquire(db_path, what)
        open_archive(db_path).close()
    except (ArchiveBusy, ArchiveError) as error:
        raise click.ClickException(str(error)) from error
    except OSError as error:  # the lock file next to it: a missing folder, no space, no access
        raise click.ClickException(f"cannot use {db_path}: {error.strerror or error}") from error


def _crawl_targets(
    source_names: tuple[str, ...],
    sources_path: str,
    urls: tuple[str, ...],
    feeds: tuple[str, ...],
    sitemaps: tuple[str, ...],
) -> tuple[list, list[Target] | None]:
    """The sources (and ad hoc targets) a crawl was asked for, or a one-line error."""
    adhoc = {"url": urls, "feed": feeds, "sitemap": sitemaps}
    if any(adhoc.values()):
        return _adhoc_targets(adhoc)
    try:
        return select_sources(load_sources(sources_path), source_names), None
    except SourcesError as error:
        raise click.ClickException(str(error)) from error


def _adhoc_targets(kind_urls: dict[str, tuple[str, ...]]) -> tuple[list, list[Target]]:
    sources, targets = {}, []
    for kind, urls in kind_urls.items():
        for url in urls:
            try:
                source = adhoc_source(url)
            except ValueError as error:
                raise click.ClickException(f"--{kind}: {error}") from error
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
@setting_option
@click.option(
    "--log-level",
    type=LOG_LEVELS,
    help="Show Scrapy's log at this level instead of the progress line.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors (for cron).")
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help="Seed a distributed crawl on this Redis (redis://HOST:6379/0) for `newsarchive worker`"
    " processes instead of crawling here; `newsarchive ingest` stores it.",
)
@click.option(
    "--namespace",
    default="newsarchive",
    show_default=True,
    help="With --redis: prefix of the Redis keys (one per archive).",
)
@click.option(
    "--wait",
    is_flag=True,
    help="With --redis: wait until the run is crawled and stored, then print its summary.",
)
@archive_errors
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
    redis_url,
    namespace,
    wait,
) -> None:
    """Crawl the sources file (or ad hoc --url/--feed/--sitemap targets) into the archive.

    Give SOURCE names to crawl only those sources of the sources file. With --redis, seed a
    distributed crawl instead (see `newsarchive worker` and `newsarchive ingest`).
    """
    from crawler.runner import format_summary, project_settings, run_crawl

    overrides = {"ARCHIVE_DB": db_path, **_setting_pairs(settings)}
    if max_pages:
        overrides["CLOSESPIDER_PAGECOUNT"] = max_pages
    sources, targets = _crawl_targets(source_names, sources_path, urls, feeds, sitemaps)
    if redis_url:
        if max_pages:
            raise click.ClickException("--max-pages does not apply to a distributed crawl")
        from crawler.distributed.commands import CommandError, seed

        echo = (lambda _: None) if quiet else click.echo
        try:
            ok = seed(redis_url, namespace, _setting_pairs(settings), sources, targets, wait, echo)
        except CommandError as error:
            raise click.ClickException(str(error)) from error
        sys.exit(0 if ok else 1)
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


# Our own local demo site needs no politeness: no AutoThrottle, no delay.
LOCAL_SITE_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
}


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, help="Archive file.")
@click.option("--no-serve", is_flag=True, help="Crawl and print the summary, then exit.")
@click.option(
    "--site-port",
    default=8737,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port of the demo news site (0: any free port).",
)
@click.option(
    "--port",
    default=8001,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port of datasette.",
)
@archive_errors
def demo(db_path, no_serve, site_port, port) -> None:
    """Crawl the bundled demo news site (served offline on 127.0.0.1) into the archive, print
    a summary, and browse the archive in datasette (Ctrl-C stops)."""
    from crawler.demo_site import serve_demo_site
    from crawler.runner import format_summary, project_settings, run_crawl
    from crawler.sources import parse_sources

    _lock_archive(db_path, "demo crawl")
    try:
        server = serve_demo_site(port=site_port)
    except OSError:  # the port is taken: any free one will do
        server = serve_demo_site(port=0)
    with server:
        click.echo(f"Demo news site on {server.url}/ (The Daily Ledger, Harbor Times)")
        sources = parse_sources(server.sources_toml(), "demo sources")
        overrides = {"ARCHIVE_DB": db_path, "LOG_LEVEL": "ERROR", **LOCAL_SITE_SETTINGS}
        overrides["NEWSARCHIVE_PROGRESS"] = sys.stderr.isatty()
        started = time.monotonic()
        result = run_crawl(project_settings(overrides), sources=sources)
        click.echo(format_summary(result, time.monotonic() - started), err=not result.ok)
    lock.release(db_path)
    if not result.ok:
        sys.exit(1)
    if not no_serve:
        from browse import serve

        click.echo(f"Browse the archive at http://127.0.0.1:{port}/ (Ctrl-C stops)")
        serve(db_path, port=port)


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
        _echo_extracted(target, _extract_one(html, url or target, as_json), as_json)
        return
    path = Path(target)
    try:
        if path.is_dir():
            files = sorted(path.rglob("*.html")) + sorted(path.rglob("*.htm"))
            if not files:
                raise click.ClickException(f"{target}: no .html or .htm files in this directory")
            for file in files:
                text = _extract_one(file.read_bytes(), url, as_json, path=str(file))
                click.echo(text if as_json else f"==> {file} <==\n{text}\n")
            return
        if not path.is_file():
            raise click.ClickException(f"{target}: no such file, directory or URL")
        _echo_extracted(target, _extract_one(path.read_bytes(), url, as_json), as_json)
    except OSError as error:
        message = f"cannot read {error.filename or target}: {error.strerror}"
        raise click.ClickException(message) from error


def _echo_extracted(target: str, output: str, as_json: bool) -> None:
    if not as_json and not output:
        raise click.ClickException(f"{target}: no article text found")
    click.echo(output)


def _read_archive(db_path: str):
    try:
        return open_archive(db_path, readonly=True)
    except ArchiveError as error:
        raise click.ClickException(str(error)) from error


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, help="Archive file.")
@click.option("--runs", default=10, show_default=True, help="How many recent runs to show.")
@click.option(
    "--silent-after",
    default=3,
    show_default=True,
    help="Flag sources with nothing new in this many of their last runs.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@archive_errors
def stats(db_path, runs, silent_after, as_json) -> None:
    """Show the archive at a glance: articles per source, recent runs, silent sources."""
    from crawler.report import archive_stats, format_stats

    db = _read_archive(db_path)
    try:
        result = archive_stats(db, runs=runs, silent_after=silent_after)
    finally:
        db.close()
    click.echo(json.dumps(result, indent=2) if as_json else format_stats(result))


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, help="Archive file.")
@click.option("--source", help="Only the articles of this source.")
@click.option("--since", help="Only articles first archived on or after this date (ISO).")
@click.option(
    "--sources",
    "sources_path",
    default=DEFAULT_SOURCES,
    show_default=True,
    help="Sources file, for the sources' drop_selectors (optional).",
)
@archive_errors
def reextract(db_path, source, since, sources_path) -> None:
    """Re-run extraction over the stored raw HTML and update articles whose text or metadata
    changed, without fetching anything."""
    from pipelines.reextract import reextract as reextract_archive

    if since:
        try:
            since = (date if len(since) == 10 else datetime).fromisoformat(since).isoformat()
        except ValueError:
            raise click.BadParameter(
                f"expected a date like 2025-03-14, got {since!r}", param_hint="--since"
            ) from None
    if not Path(db_path).exists():
        raise click.ClickException(f"{db_path} does not exist: run a crawl first")
    selectors = {}
    if Path(sources_path).exists():
        try:
            selectors = {s.name: s.drop_selectors for s in load_sources(sources_path)}
        except SourcesError as error:
            raise click.ClickException(str(error)) from error
    _lock_archive(db_path, "reextract")
    db = open_archive(db_path)
    if source and not db.execute("select 1 from articles where source = ?", [source]).fetchone():
        known = [row[0] for row in db.execute("select distinct source from articles order by 1")]
        db.close()
        raise click.ClickException(
            f"no archived articles of source {source!r}; sources: {', '.join(known) or 'none'}"
        )
    try:
        counts = reextract_archive(db, source=source, since=since, drop_selectors=selectors)
    finally:
        db.close()
    total = sum(counts.values())
    summary = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in counts.most_common())
    click.echo(f"Re-extracted {total} articles: {summary or 'nothing to do'}")


def _check_crawl_args(db_path: str, crawl_args: tuple[str, ...]) -> None:
    """Check what every scheduled crawl will be given (its options, sources file, archive) once,
    now, rather than let each run fail the same way."""
    try:
        context = crawl.make_context("crawl", ["--db", db_path, *crawl_args])
    except click.ClickException as error:
        raise click.ClickException(f"crawl arguments: {error.format_message()}") from error
    params = context.params
    _setting_pairs(params["settings"])
    names = ("source_names", "sources_path", "urls", "feeds", "sitemaps")
    _crawl_targets(*(params[name] for name in names))
    try:
        open_archive(params["db_path"]).close()
    except ArchiveError as error:
        raise click.ClickException(str(error)) from error


@cli.command(context_settings={"ignore_unknown_options": True})
@click.option("--every", help="Run a crawl this often: 15m, 1h, 1d...")
@click.option("--cron", help='Run a crawl on this cron schedule, e.g. "*/30 * * * *".')
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, help="Archive file.")
@click.option("--no-run-now", is_flag=True, help="Wait for the first scheduled time.")
@click.argument("crawl_args", nargs=-1, type=click.UNPROCESSED)
def schedule(every, cron, db_path, no_run_now, crawl_args) -> None:
    """Run `newsarchive crawl` on a schedule, forever, one run at a time.

    Arguments after the options go to each crawl, e.g.
    `newsarchive schedule --every 30m -- --sources my.toml -s DOWNLOAD_DELAY=1`.
    """
    import logging

    from crawler.schedule import CrawlScheduler, make_trigger

    try:
        trigger = make_trigger(every, cron)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--every/--cron") from error
    _check_crawl_args(db_path, crawl_args)
    try:
        lock.acquire(f"{db_path}.scheduler", "scheduler")
    except ArchiveBusy as error:
        raise click.ClickException(f"another scheduler runs on {db_path}: {error}") from error
    except OSError as error:
        raise click.ClickException(f"cannot use {db_path}: {error.strerror or error}") from error
    logging.basicConfig(level=logging.INFO, format="%(asctime)s schedule: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    click.echo(f"Crawling into {db_path} on {trigger}; Ctrl-C stops.")
    CrawlScheduler(trigger, ["--db", db_path, *crawl_args], run_now=not no_run_now).run_forever()


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, help="Archive file.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on (0.0.0.0 to serve other machines).",
)
@click.option("--port", default=8001, show_default=True, help="Port to listen on.")
def serve(db_path, host, port) -> None:
    """Browse and search the archive in datasette (read-only), until Ctrl-C."""
    from browse import serve as serve_archive

    _read_archive(db_path).close()
    click.echo(f"Serving {db_path} on http://{host}:{port}/ (Ctrl-C stops)")
    serve_archive(db_path, host=host, port=port)


@cli.command()
@click.argument("query")
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, help="Archive file.")
@click.option("-n", "--limit", default=10, show_default=True, help="How many matches.")
@click.option("--source", help="Only articles of this source.")
@click.option("--since", help="Only articles published on or after this date (ISO).")
@click.option("--until", help="Only articles published on or before this date (ISO).")
@click.option("--language", help="Only articles in this language (e.g. en).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, one list of matches.")
def search(query, db_path, limit, source, since, until, language, as_json) -> None:
    """Full-text search of the archive: best matches with title, site, date, URL and a
    snippet. QUERY uses FTS5 syntax: words, "exact phrases", prefix*, AND/OR/NOT."""
    from browse.search import SearchQueryError
    from browse.search import search as search_archive

    db = _read_archive(db_path)
    style = ("\033[1m", "\033[0m") if sys.stdout.isatty() and not as_json else ("", "")
    try:
        matches = search_archive(
            db,
            query,
            limit=limit,
            source=source,
            since=since,
            until=until,
            language=language,
            highlight=style if not as_json else ("**", "**"),
        )
    except SearchQueryError as error:
        raise click.ClickException(str(error)) from error
    finally:
        db.close()
    if as_json:
        click.echo(json.dumps(matches, indent=2, ensure_ascii=False))
        return
    if not matches:
        click.echo("No matches.")
    for match in matches:
        date = (match["published"] or "")[:10] or "no date"
        click.echo(
            f"{match['title']}\n  {match['site_name'] or match['source']} | {date} | "
            f"{match['url']}\n  {' '.join((match['snippet'] or '').split())}\n"
        )


REDIS_HELP = "Redis of the distributed crawl, e.g. redis://HOST:6379/0."
NAMESPACE_HELP = "Prefix of the Redis keys: the same as the crawl's --namespace."


@cli.command()
@click.option("--redis", "redis_url", required=True, metavar="URL", help=REDIS_HELP)
@click.option("--namespace", default="newsarchive", show_default=True, help=NAMESPACE_HELP)
@click.option("--id", "worker_id", help="This worker's name in stats and logs (default host:pid).")
@click.option(
    "--max-idle",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    help="Stop after this many seconds with nothing to do (0: run until stopped).",
)
@setting_option
@click.option("--log-level", type=LOG_LEVELS, help="Show Scrapy's log at this level.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def worker(redis_url, namespace, worker_id, max_idle, settings, log_level, quiet) -> None:
    """Crawl for a distributed run: take requests from the shared frontier on Redis, download
    and extract them, and hand finished articles to `newsarchive ingest`.

    Run any number of workers on any machines. Ctrl-C or SIGTERM stops one after it finished
    what it had in hand; the work of a worker that dies goes back to the queue when its leases
    expire.
    """
    from crawler.distributed.commands import CommandError, work

    overrides = {
        **_setting_pairs(settings),
        "NEWSARCHIVE_WORKER_MAX_IDLE": max_idle,
        "LOG_LEVEL": (log_level or ("ERROR" if quiet else "INFO")).upper(),
    }
    if worker_id:
        overrides["NEWSARCHIVE_WORKER_ID"] = worker_id
    try:
        ok = work(redis_url, namespace, overrides, (lambda _: None) if quiet else click.echo)
    except CommandError as error:
        raise click.ClickException(str(error)) from error
    sys.exit(0 if ok else 1)


@cli.command()
@click.option("--redis", "redis_url", required=True, metavar="URL", help=REDIS_HELP)
@click.option("--namespace", default="newsarchive", show_default=True, help=NAMESPACE_HELP)
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, help="Archive file.")
@click.option("--once", is_flag=True, help="Exit once the current (or next) run is stored.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Articles per write transaction.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def ingest(redis_url, namespace, db_path, once, batch_size, quiet) -> None:
    """Store distributed crawls into the archive: the single writer that drains the articles
    workers hand to Redis, with the same dedup, versions and `crawl_runs` rows as a local crawl.

    Run one per archive (it holds the archive's write lock and the Redis namespace); it runs
    until stopped, closing each run once everything the run found is stored.
    """
    import logging

    from crawler.distributed.commands import CommandError
    from crawler.distributed.commands import ingest as run_ingest

    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s ingest: %(message)s",
    )
    try:
        ok = run_ingest(
            redis_url,
            namespace,
            db_path,
            once,
            batch_size,
            (lambda _: None) if quiet else click.echo,
        )
    except CommandError as error:
        raise click.ClickException(str(error)) from error
    sys.exit(0 if ok else 1)
