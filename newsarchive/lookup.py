"""Read-only answers from an archive file for the command line: full-text search and stats."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from browse.search import (
    SearchQueryError,
    count_matches,
    match_count,
    search,
    too_common_to_rank,
)
from newsarchive.arguments import check_port_free, iso_date
from newsarchive.errors import CommandError
from newsarchive.report import archive_stats, format_stats
from pipelines.archive.schema import ArchiveError, open_archive

BOLD = ("\033[1m", "\033[0m")


def open_for_reading(db_path: str) -> sqlite_utils.Database:
    """The archive at `db_path`, read-only; CommandError when it is missing or not an archive."""
    try:
        return open_archive(db_path, readonly=True)
    except ArchiveError as error:
        raise CommandError(str(error)) from error


def check_can_serve(db_path: str, host: str, port: int) -> None:
    """CommandError unless the archive can be read and `host`:`port` is free to listen on."""
    open_for_reading(db_path).close()
    check_port_free(host, port)


def check_source(db: sqlite_utils.Database, option: str, source: str | None) -> None:
    """CommandError when `source` is given but no archived article has it."""
    if source and not db.execute("select 1 from articles where source = ?", [source]).fetchone():
        known = [row[0] for row in db.execute("select distinct source from articles order by 1")]
        raise CommandError(
            f"{option}: no archived articles of source {source!r};"
            f" sources: {', '.join(known) or 'none'}"
        )


def _checked_filters(db: sqlite_utils.Database, filters: dict[str, Any]) -> dict[str, Any]:
    check_source(db, "--source", filters.get("source"))
    dates = {name: iso_date(f"--{name}", filters.get(name)) for name in ("since", "until")}
    return {**filters, **{name: value for name, value in dates.items() if value}}


def search_report(
    db_path: str,
    query: str,
    *,
    limit: int | None = 10,
    as_json: bool = False,
    bold: bool = False,
    **filters: Any,
) -> tuple[str, str | None]:
    """The best `limit` matches of `query` (None: all) as text for a terminal (matches in bold
    with `bold`) or as JSON, ending in a newline, and a note saying how many matches there are
    when that is more than were printed, and that they are newest first when the words are too
    common to rank (None when there is nothing to say). `filters` are
    `browse.search.search`'s (source, since, until, language, author)."""
    db = open_for_reading(db_path)
    highlight = ("**", "**") if as_json else BOLD if bold else ("", "")
    try:
        filters = _checked_filters(db, filters)
        matches = search(db, query, limit=limit, highlight=highlight, **filters)
        total = count_matches(db, query, **filters) if len(matches) == limit else len(matches)
        too_common = len(matches) > 1 and too_common_to_rank(db.conn, query, match_count(db, query))
    except SearchQueryError as error:
        raise CommandError(str(error)) from error
    finally:
        db.close()
    notes = []
    if too_common:  # said, as the search page says it
        notes.append(
            "Newest first: these words are in more than half of the articles, too common to rank."
        )
    if total > len(matches):
        notes.append(
            f"{len(matches)} of {total:,} matches shown: -n {total} or --all shows all of them."
        )
    note = "\n".join(notes) or None
    if as_json:
        return json.dumps(matches, indent=2, ensure_ascii=False) + "\n", note
    if not matches:
        return "No matches.\n", note
    return "".join(_match_text(match) for match in matches), note


def _match_text(match: dict[str, Any]) -> str:
    day = (match["published"] or "")[:10] or "no date"
    snippet = " ".join((match["snippet"] or "").split())
    site = match["site_name"] or match["source"]
    copies = ", ".join(c["site_name"] or c["source"] for c in match.get("also_on") or [])
    also_on = f"  also on {copies}\n" if copies else ""
    return f"{match['title']}\n  {site} | {day} | {match['url']}\n  {snippet}\n{also_on}\n"


def stats_report(db_path: str, *, runs: int, silent_after: int, as_json: bool = False) -> str:
    """Articles per source, recent runs and silent sources, as text or JSON."""
    db = open_for_reading(db_path)
    try:
        stats = archive_stats(db, runs=runs, silent_after=silent_after)
    finally:
        db.close()
    return json.dumps(stats, indent=2) if as_json else format_stats(stats)
