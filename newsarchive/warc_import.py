"""`newsarchive import`: WARC files (CC-NEWS, any crawler's, our own crawls') into the archive,
through the crawl's own pipelines (crawler.importer), resumable file by file."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from crawler.clock import now_iso
from crawler.importer import UNFINISHED, ImportCrawler, WarcImportSpider
from crawler.sources import SourcesError, load_sources
from crawler.warc.reader import NotAWarc, check_warc, is_url
from newsarchive.arguments import iso_date
from newsarchive.crawl import CrawlResult, lock_archive, project_settings, run_crawl
from newsarchive.errors import CommandError
from pipelines.archive.schema import open_archive

logger = logging.getLogger(__name__)


def _locations(files: Sequence[str]) -> list[str]:
    """Absolute paths or URLs, each checked to be a readable WARC file."""
    locations = []
    for name in files:
        location = name if is_url(name) else str(Path(name).resolve())
        if not is_url(name) and not Path(name).is_file():
            raise CommandError(f"{name}: no such file")
        try:
            check_warc(location)
        except NotAWarc as error:
            raise CommandError(str(error).replace(location, name, 1)) from None
        except OSError as error:
            raise CommandError(f"{name}: cannot read it ({error})") from None
        locations.append(location)
    return locations


class Progress:
    """Where each file of an import stands, in the archive's `warc_files` table."""

    def __init__(self, db_path: str, filters: dict):
        self.db = open_archive(db_path)
        self.filters = json.dumps(filters, sort_keys=True)

    def done(self) -> dict[str, tuple[int, bool]]:
        """location -> (offset to go on from, read to its end) for these filters."""
        rows = self.db.execute(
            "select location, offset, completed from warc_files where filters = ?",
            [self.filters],
        ).fetchall()
        return {location: (offset, bool(completed)) for location, offset, completed in rows}

    def record(self, location: str, offset: int, completed: bool) -> None:
        """Save how far `location` is done. A write the crawl's writer holds up is given up
        on (logged): the next checkpoint, a second later, saves as much."""
        values = [location, self.filters, offset, now_iso() if completed else None, now_iso()]
        try:
            # IMMEDIATE: a deferred transaction that another writer overtakes fails at once.
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                """insert into warc_files (location, filters, offset, completed, updated)
                   values (?, ?, ?, ?, ?) on conflict (location, filters) do update set
                   offset = excluded.offset, completed = excluded.completed,
                   updated = excluded.updated""",
                values,
            )
            self.db.execute("COMMIT")
        except sqlite3.Error as error:
            logger.warning("cannot record how far %s is imported: %s", location, error)
            if self.db.conn.in_transaction:
                self.db.execute("ROLLBACK")

    def close(self) -> None:
        self.db.close()


def import_warcs(
    db_path: str,
    files: Sequence[str],
    *,
    sources_path: str = "",
    source_names: Sequence[str] = (),
    domains: Sequence[str] = (),
    since: str | None = None,
    until: str | None = None,
    settings: dict | None = None,
    log_level: str = "WARNING",
    progress: bool = False,
    echo=None,
) -> CrawlResult | None:
    """Import WARC files into the archive at `db_path` (holding its write lock), through the
    crawl's pipelines; files imported before with the same filters are skipped, files an
    import stopped in go on where it stopped. The run's result; CommandError for a file that is
    missing or not WARC, a bad date, or a source the sources file does not have. None when
    every file was imported before (no run)."""
    since, until = iso_date("--since", since), iso_date("--until", until)
    sources = []
    if sources_path and Path(sources_path).exists():
        try:
            sources = load_sources(sources_path)
        except SourcesError as error:
            raise CommandError(str(error)) from error
        known = {s.name for s in sources}
        unknown = [name for name in source_names if name not in known]
        if unknown:
            names = ", ".join(sorted(known))
            raise CommandError(f"unknown source {unknown[0]!r} in {sources_path}; sources: {names}")
    locations = _locations(files)
    lock_archive(db_path, "import")
    filters = {"source": sorted(source_names), "domain": sorted(domains)}
    filters.update(since=since, until=until)
    state = Progress(db_path, filters)
    try:
        done = state.done()
        todo = [loc for loc in locations if not done.get(loc, (0, False))[1]]
        for location in locations:
            if location not in todo and echo:
                echo(f"{location}: imported before with these filters, skipped")
        if not todo:
            return None  # nothing new: no run
        resume = {loc: done[loc][0] for loc in todo if loc in done}
        overrides = {"ARCHIVE_DB": db_path, "LOG_LEVEL": log_level.upper(), **(settings or {})}
        overrides["NEWSARCHIVE_PROGRESS"] = progress
        result = run_crawl(
            project_settings(overrides),
            spider_cls=WarcImportSpider,
            crawler_cls=ImportCrawler,
            files=todo,
            sources=sources,
            source_names=source_names,
            domains=domains,
            since=since,
            until=until,
            resume=resume,
            on_checkpoint=state.record,
        )
        if result.run is not None:
            with state.db.atomic():
                state.db.execute(
                    "update warc_files set run_id = ? where run_id is null", [result.run["id"]]
                )
    finally:
        state.close()
    return result


def unfinished(result: CrawlResult) -> list[str]:
    """The files an import could not read to their end, with why."""
    return list(result.stats.get(UNFINISHED) or [])
