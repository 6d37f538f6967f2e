"""The `newsarchive` command line: a thin click layer. Each command parses its arguments and
calls one library function; every expected failure is a one-line error (exit 1)."""

from __future__ import annotations

import functools
import sqlite3
import sys
import time
from collections.abc import Callable
from typing import Any

import click

from crawler import settings as defaults
from newsarchive.errors import CommandError
from newsarchive.problems import DEFAULT_MAX_ERROR_RATE
from pipelines.archive.schema import ArchiveError, describe_error

LOG_LEVELS = click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False)
REDIS_HELP = "Redis of the distributed crawl, e.g. redis://HOST:6379/0."
NAMESPACE_HELP = "Prefix of the Redis keys: the same as the crawl's --namespace."

# -s NAME=VALUE, as `scrapy crawl` has it.
setting_option = click.option(
    "-s",
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a Scrapy setting, as with `scrapy crawl -s`.",
)
db_option = click.option(
    "--db", "db_path", default=defaults.ARCHIVE_DB, show_default=True, help="Archive file."
)


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Print the library's one-line errors as click errors (exit 1). A SQLite error met while
    using the archive becomes one line too: a corrupt page can lie anywhere, so it may only
    show up halfway through a query."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (CommandError, ArchiveError) as error:
            raise click.ClickException(str(error)) from error
        except sqlite3.Error as error:
            where = kwargs.get("db_path") or defaults.ARCHIVE_DB
            raise click.ClickException(describe_error(where, error)) from error

    return wrapper


def _echo_or_silent(quiet: bool) -> Callable[[str], None]:
    return (lambda _: None) if quiet else click.echo


class Commands(click.Group):
    """The command group: a bad option or argument exits 1, like every other bad value (click
    would use 2, which `newsarchive crawl` gives a run that ended with problems)."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as error:
            error.exit_code = 1
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            error.exit_code = 1
            raise


@click.group(cls=Commands)
@click.version_option(package_name="newsarchive")
def cli() -> None:
    """Crawl news sites into a searchable SQLite archive and browse it with datasette."""


@cli.command()
@click.argument("source_names", metavar="[SOURCE]...", nargs=-1)
@click.option(
    "--sources",
    "sources_path",
    default=defaults.NEWSARCHIVE_SOURCES,
    show_default=True,
    help="Sources file (TOML) listing the sites to crawl.",
)
@db_option
@click.option(
    "--url",
    "urls",
    multiple=True,
    help="Crawl this page (an article, or an index "
    "page whose article links are followed). Repeatable.",
)
@click.option("--feed", "feeds", multiple=True, help="Crawl the articles of this RSS/Atom feed.")
@click.option("--sitemap", "sitemaps", multiple=True, help="Crawl the articles of this sitemap.")
@click.option(
    "--max-pages",
    type=click.IntRange(min=1),
    help="Fetch at most N pages (robots.txt not counted); what is left is counted.",
)
@click.option(
    "--max-error-rate",
    type=click.FloatRange(0, 1),
    default=DEFAULT_MAX_ERROR_RATE,
    show_default=True,
    help="Exit 2 when more than this share of the run's requests failed.",
)
@click.option(
    "--list",
    "list_only",
    is_flag=True,
    help="Dry run: print the article URLs a crawl would fetch, per source and how they were "
    "found (feed, sitemap, page link, url); fetch no article, write nothing.",
)
@click.option(
    "--warc",
    "warc_dir",
    metavar="DIR",
    help="Also write every response into WARC files in DIR (sets NEWSARCHIVE_WARC_DIR).",
)
@setting_option
@click.option(
    "--log-level",
    type=LOG_LEVELS,
    help="Show Scrapy's log at this level instead of the progress line.",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print only what went wrong, one line each, on stderr (for cron).",
)
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help="Seed a distributed crawl on this Redis (redis://HOST:6379/0) for `newsarchive worker`"
    " processes instead of crawling here; `newsarchive ingest` stores it.",
)
@click.option(
    "--namespace",
    default=defaults.NEWSARCHIVE_REDIS_NAMESPACE,
    show_default=True,
    help="With --redis: prefix of the Redis keys (one per archive).",
)
@click.option(
    "--wait",
    is_flag=True,
    help="With --redis: wait until the run is crawled and stored, then print its summary.",
)
@one_line_errors
def crawl(
    source_names,
    sources_path,
    db_path,
    urls,
    feeds,
    sitemaps,
    max_pages,
    max_error_rate,
    list_only,
    warc_dir,
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

    \b
    Exit status:
      0  the run stored or checked what it was asked to
      1  bad input; the run could not start, was interrupted or could not write the archive
      2  the run ended but fetched nothing, a source failed entirely (all its targets failed,
         or a feed or sitemap listed nothing), or more requests failed than --max-error-rate;
         --quiet prints one line per problem, naming the source
    """
    from newsarchive import crawl as runs

    overrides = runs.parse_overrides(settings)
    if warc_dir:
        overrides["NEWSARCHIVE_WARC_DIR"] = warc_dir
    adhoc = {"url": urls, "feed": feeds, "sitemap": sitemaps}
    sources, targets = runs.crawl_targets(sources_path, source_names, adhoc)
    if list_only:
        if redis_url:
            raise click.ClickException("--list does not apply to a distributed crawl")
        result = runs.list_here(
            db_path, sources, targets, overrides, log_level=log_level or "ERROR"
        )
        out, err = runs.format_listing(result)
        _print_outcome(out, err, result.exit_status)
    if redis_url:
        from newsarchive.distributed import seed

        echo = _echo_or_silent(quiet)
        ok = seed(redis_url, namespace, overrides, sources, targets, wait, echo, max_pages)
        sys.exit(0 if ok else 1)
    progress = sys.stderr.isatty() and not quiet and not log_level
    started = time.monotonic()
    result = runs.crawl_here(
        db_path,
        sources,
        targets,
        overrides,
        max_pages=max_pages,
        max_error_rate=max_error_rate,
        log_level=log_level or ("ERROR" if quiet or progress else "WARNING"),
        progress=progress,
    )
    out, err = runs.crawl_outcome(result, time.monotonic() - started, quiet)
    _print_outcome(out, err, result.exit_status)


def _print_outcome(out: str, err: str, status: int) -> None:
    if out:
        click.echo(out)
    if err:
        click.echo(err, err=True)
    sys.exit(status)


@cli.command()
@click.option(
    "--db",
    "db_path",
    default="demo.db",  # its own file: the demo never writes into a real archive
    show_default=True,
    help="The demo's archive file (never your real archive).",
)
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
    type=click.IntRange(1, 65535),
    help="Port of datasette.",
)
@one_line_errors
def demo(db_path, no_serve, site_port, port) -> None:
    """Crawl the bundled demo news site (served offline on 127.0.0.1) into its own archive
    (demo.db, never archive.db), print a summary, and browse it in datasette (Ctrl-C stops)."""
    from newsarchive.crawl import format_summary
    from newsarchive.demo import crawl_demo

    started = time.monotonic()
    serve_port = None if no_serve else port
    result = crawl_demo(db_path, site_port, click.echo, sys.stderr.isatty(), serve_port)
    click.echo(format_summary(result, time.monotonic() - started), err=not result.ok)
    if result.exit_status:
        sys.exit(result.exit_status)
    if not no_serve:
        from browse import serve

        click.echo(f"Browse the archive at http://127.0.0.1:{port}/ (Ctrl-C stops)")
        serve(db_path, port=port)


@cli.command()
@click.argument("target", metavar="PATH_OR_URL")
@click.option("--url", help="The page's original URL (helps resolve links and metadata).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="The plain text, the body as markdown (headings, lists, quotes), or JSON with all "
    "metadata.",
)
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@one_line_errors
def extract(target, url, output_format, as_json) -> None:
    """Print the clean text the archive would store for a saved page, a directory of .html
    files, or a live URL."""
    from newsarchive.page_text import extracted_pages

    for output in extracted_pages(target, url, "json" if as_json else output_format):
        click.echo(output)


@cli.command()
@db_option
@click.option("--runs", default=10, show_default=True, help="How many recent runs to show.")
@click.option(
    "--silent-after",
    default=3,
    show_default=True,
    help="Flag sources with nothing new in this many of their last runs.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@one_line_errors
def stats(db_path, runs, silent_after, as_json) -> None:
    """Show the archive at a glance: articles per source, recent runs, silent sources."""
    from newsarchive.lookup import stats_report

    click.echo(stats_report(db_path, runs=runs, silent_after=silent_after, as_json=as_json))


@cli.command()
@db_option
@click.option("--source", help="Only the articles of this source.")
@click.option("--since", help="Only articles first archived on or after this date (ISO).")
@click.option(
    "--sources",
    "sources_path",
    default=defaults.NEWSARCHIVE_SOURCES,
    show_default=True,
    help="Sources file, for the sources' drop_selectors (optional).",
)
@one_line_errors
def reextract(db_path, source, since, sources_path) -> None:
    """Re-run extraction over the stored raw HTML and update articles whose text or metadata
    changed, without fetching anything."""
    from newsarchive.reextract import reextract_file

    click.echo(reextract_file(db_path, source=source, since=since, sources_path=sources_path))


@cli.command(context_settings={"ignore_unknown_options": True})
@click.option("--every", help="Run a crawl this often: 15m, 1h, 1d...")
@click.option("--cron", help='Run a crawl on this cron schedule, e.g. "*/30 * * * *".')
@db_option
@click.option("--no-run-now", is_flag=True, help="Wait for the first scheduled time.")
@click.argument("crawl_args", nargs=-1, type=click.UNPROCESSED)
@one_line_errors
def schedule(every, cron, db_path, no_run_now, crawl_args) -> None:
    """Run `newsarchive crawl` on a schedule, forever, one run at a time.

    Arguments after the options go to each crawl, e.g.
    `newsarchive schedule --every 30m -- --sources my.toml -s DOWNLOAD_DELAY=1`.
    """
    from newsarchive.crawl import check_crawl_arguments
    from newsarchive.schedule import make_trigger, run_schedule

    try:
        trigger = make_trigger(every, cron)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--every/--cron") from error
    try:  # each run's arguments are parsed by `crawl` itself: check them once, now
        params = crawl.make_context("crawl", ["--db", db_path, *crawl_args]).params
    except click.ClickException as error:
        raise click.ClickException(f"crawl arguments: {error.format_message()}") from error
    adhoc = {"url": params["urls"], "feed": params["feeds"], "sitemap": params["sitemaps"]}
    check_crawl_arguments(
        params["db_path"], params["sources_path"], params["source_names"], adhoc, params["settings"]
    )
    click.echo(f"Crawling into {db_path} on {trigger}; Ctrl-C stops.")
    run_schedule(trigger, db_path, crawl_args, run_now=not no_run_now)


@cli.command()
@db_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on (0.0.0.0 to serve other machines).",
)
@click.option(
    "--port",
    default=8001,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@one_line_errors
def serve(db_path, host, port) -> None:
    """Browse and search the archive in datasette (read-only), until Ctrl-C."""
    from browse import serve as serve_archive
    from newsarchive.lookup import check_can_serve

    check_can_serve(db_path, host, port)
    click.echo(f"Serving {db_path} on http://{host}:{port}/ (Ctrl-C stops)")
    serve_archive(db_path, host=host, port=port)


@cli.command()
@click.argument("query")
@db_option
@click.option(
    "-n", "--limit", default=10, show_default=True, type=click.IntRange(min=1),
    help="How many matches, best first.",
)  # fmt: skip
@click.option("--all", "everything", is_flag=True, help="Every match (no -n limit).")
@click.option("--source", help="Only articles of this source.")
@click.option("--since", help="Only articles published on or after this date (ISO).")
@click.option("--until", help="Only articles published on or before this date (ISO).")
@click.option("--language", help="Only articles in this language (e.g. en).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, one list of matches.")
@one_line_errors
def search(query, db_path, limit, everything, source, since, until, language, as_json) -> None:
    """Full-text search of the archive: best matches with title, site, date, URL and a
    snippet. QUERY uses FTS5 syntax: words, "exact phrases", prefix*, AND/OR/NOT."""
    from newsarchive.lookup import search_report

    output, note = search_report(
        db_path,
        query,
        as_json=as_json,
        bold=sys.stdout.isatty(),
        limit=None if everything else limit,
        source=source,
        since=since,
        until=until,
        language=language,
    )
    click.echo(output, nl=False)
    if note:
        click.echo(note, err=True)


@cli.command()
@click.option("--redis", "redis_url", required=True, metavar="URL", help=REDIS_HELP)
@click.option(
    "--namespace",
    default=defaults.NEWSARCHIVE_REDIS_NAMESPACE,
    show_default=True,
    help=NAMESPACE_HELP,
)
@click.option("--id", "worker_id", help="This worker's name in stats and logs (default host:pid).")
@click.option(
    "--max-idle",
    type=click.FloatRange(min=0),
    default=defaults.NEWSARCHIVE_WORKER_MAX_IDLE,
    show_default=True,
    help="Stop after this many seconds with nothing to do (0: run until stopped).",
)
@click.option(
    "--warc",
    "warc_dir",
    metavar="DIR",
    help="Also write every response into WARC files in DIR (sets NEWSARCHIVE_WARC_DIR).",
)
@setting_option
@click.option("--log-level", type=LOG_LEVELS, help="Show Scrapy's log at this level.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@one_line_errors
def worker(redis_url, namespace, worker_id, max_idle, warc_dir, settings, log_level, quiet) -> None:
    """Crawl for a distributed run: take requests from the shared frontier on Redis, download
    and extract them, and hand finished articles to `newsarchive ingest`.

    Run any number of workers on any machines. Ctrl-C or SIGTERM stops one after it finished
    what it had in hand; the work of a worker that dies goes back to the queue when its leases
    expire.
    """
    from newsarchive.crawl import parse_overrides
    from newsarchive.distributed import work

    overrides = {
        **parse_overrides(settings),
        "NEWSARCHIVE_WORKER_MAX_IDLE": max_idle,
        "LOG_LEVEL": (log_level or ("ERROR" if quiet else "INFO")).upper(),
    }
    if worker_id:
        overrides["NEWSARCHIVE_WORKER_ID"] = worker_id
    if warc_dir:
        overrides["NEWSARCHIVE_WARC_DIR"] = warc_dir
    sys.exit(0 if work(redis_url, namespace, overrides, _echo_or_silent(quiet)) else 1)


@cli.command()
@click.option("--redis", "redis_url", required=True, metavar="URL", help=REDIS_HELP)
@click.option(
    "--namespace",
    default=defaults.NEWSARCHIVE_REDIS_NAMESPACE,
    show_default=True,
    help=NAMESPACE_HELP,
)
@db_option
@click.option("--once", is_flag=True, help="Exit once the current (or next) run is stored.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=defaults.NEWSARCHIVE_BATCH_SIZE,
    show_default=True,
    help="Articles per write transaction.",
)
@setting_option
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@one_line_errors
def ingest(redis_url, namespace, db_path, once, batch_size, settings, quiet) -> None:
    """Store distributed crawls into the archive: the single writer that drains the articles
    workers hand to Redis, with the same dedup, versions and `crawl_runs` rows as a local crawl.

    Run one per archive (it holds the archive's write lock and the Redis namespace); it runs
    until stopped, closing each run once everything the run found is stored.
    """
    from newsarchive.crawl import parse_overrides
    from newsarchive.distributed import ingest as run_ingest

    echo = _echo_or_silent(quiet)
    overrides = parse_overrides(settings)
    ok = run_ingest(
        redis_url, namespace, db_path, once, batch_size, echo, quiet=quiet, overrides=overrides
    )
    sys.exit(0 if ok else 1)


@cli.command("import")
@click.argument("files", metavar="FILE_OR_URL...", nargs=-1, required=True)
@db_option
@click.option("--source", "source_names", multiple=True, help="Only records of this source.")
@click.option("--domain", "domains", multiple=True, help="Only records of this domain.")
@click.option("--since", help="Only records captured on or after this date (WARC-Date, ISO).")
@click.option("--until", help="Only records captured on or before this date (WARC-Date, ISO).")
@click.option(
    "--sources",
    "sources_path",
    default=defaults.NEWSARCHIVE_SOURCES,
    show_default=True,
    help="Sources file naming the records' sources (optional).",
)
@setting_option
@click.option("--log-level", type=LOG_LEVELS, help="Show Scrapy's log at this level.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@one_line_errors
def import_(
    files, db_path, source_names, domains, since, until, sources_path, settings, log_level, quiet
) -> None:
    """Import WARC files (.warc, .warc.gz; paths or http(s) URLs, streamed) into the archive,
    through the same extraction, dedup and storage as a crawl. Files imported before are
    skipped; an import that stopped goes on where it stopped."""
    from newsarchive.crawl import IMPORT_LABELS, format_summary, parse_overrides
    from newsarchive.warc_import import import_warcs, unfinished

    progress = sys.stderr.isatty() and not quiet and not log_level
    started = time.monotonic()
    result = import_warcs(
        db_path,
        files,
        sources_path=sources_path,
        source_names=source_names,
        domains=domains,
        since=since,
        until=until,
        settings=parse_overrides(settings),
        log_level=log_level or ("ERROR" if quiet or progress else "WARNING"),
        progress=progress,
        echo=_echo_or_silent(quiet),
    )
    if result is None:
        return  # every file was imported before: said so above
    failed = unfinished(result)
    ok = result.ok and not failed
    if not quiet or not ok:
        summary = format_summary(result, time.monotonic() - started, IMPORT_LABELS)
        click.echo(summary, err=not ok)
    for line in failed:
        click.echo(f"not read to its end: {line}", err=True)
    if not ok:
        sys.exit(1)


@cli.command()
@db_option
@click.option(
    "--warc", "warc", metavar="FILE", help="Write the stored raw pages as WARC (.warc.gz)."
)
@click.option(
    "--jsonl", metavar="FILE", help="Write the articles with their metadata as JSON Lines."
)
@click.option(
    "--csv", "csv_path", metavar="FILE", help="Write the articles with their metadata as CSV."
)
@click.option("--source", help="Only the articles of this source.")
@click.option("--since", help="Only articles published on or after this date (ISO).")
@click.option("--until", help="Only articles published on or before this date (ISO).")
@one_line_errors
def export(db_path, warc, jsonl, csv_path, source, since, until) -> None:
    """Export the archive: articles with their metadata (--jsonl, --csv) and the raw pages
    (--warc) for replay tools and other archives."""
    from newsarchive.export import export_archive

    click.echo(
        export_archive(
            db_path,
            warc=warc,
            jsonl=jsonl,
            csv_path=csv_path,
            source=source,
            since=since,
            until=until,
        )  # fmt: skip
    )
