"""Re-running extraction over the raw HTML kept in the archive, without fetching anything."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import sqlite_utils

from crawler.clock import now_iso
from crawler.compression import read_html
from crawler.items import PageItem
from crawler.sources import SourcesError, load_sources
from newsarchive.crawl import lock_archive
from newsarchive.errors import CommandError
from newsarchive.filters import check_date
from pipelines.archive.articles import metadata_columns
from pipelines.archive.schema import open_archive
from pipelines.article.core import extract_article
from pipelines.article.fingerprints import content_hash, simhash
from pipelines.extraction import article_from_page

SELECT = """select a.id, a.url, a.source, a.published, a.published_source, h.url as fetched_url,
       h.html, h.encoding, h.content_type, h.fetched_at
from articles a join article_html h on h.article_id = a.id"""


def stored_pages(
    db: sqlite_utils.Database, source: str | None = None, since: str | None = None
) -> Iterator[dict]:
    """The archived articles with their raw HTML, optionally of one source or first seen since
    a date."""
    where, params = [], []
    if source:
        where.append("a.source = ?")
        params.append(source)
    if since:
        where.append("a.first_seen >= ?")
        params.append(since)
    sql = SELECT + (" where " + " and ".join(where) if where else "") + " order by a.id"
    yield from db.query(sql, params)


def reextract_row(row: Mapping, drop_selectors: Sequence[str] = ()) -> dict | None:
    """The columns extraction now gives for one stored page, or None if it finds no text."""
    html = read_html(row["html"])
    # A date the feed or sitemap gave at crawl time stays a hint for the page.
    hints = {}
    if row["published_source"] in ("feed", "sitemap"):
        hints = {"published": row["published"], "published_source": row["published_source"]}
    extracted = extract_article(
        html, row["fetched_url"], drop_selectors=drop_selectors, hints=hints
    )
    if extracted is None:
        return None
    page = PageItem(url=row["fetched_url"], source=row["source"], body=html)
    item = article_from_page(page, extracted)
    columns = metadata_columns(item)
    columns.update(
        text=item.text,
        word_count=item.word_count,
        content_hash=content_hash(item.text),
        simhash=simhash(item.text),
    )
    return columns


def reextract(
    db: sqlite_utils.Database,
    *,
    source: str | None = None,
    since: str | None = None,
    drop_selectors: Mapping[str, Sequence[str]] | None = None,
    progress: Callable[[Counter], None] | None = None,
) -> Counter:
    """Re-extract stored pages and update the articles whose text or metadata changed, in place
    (the page is the same, so no new version is recorded). Returns counts by outcome."""
    counts: Counter = Counter()
    for row in stored_pages(db, source, since):
        selectors = (drop_selectors or {}).get(row["source"], ())
        columns = reextract_row(row, selectors)
        if columns is None:
            counts["no_text"] += 1  # keep what was extracted before
            continue
        current = db["articles"].get(row["id"])
        changes = {k: v for k, v in columns.items() if current.get(k) != v}
        if changes:
            changes["last_changed"] = now_iso() if "text" in changes else current["last_changed"]
            with db.atomic():
                db["articles"].update(row["id"], changes)
            counts["text_changed" if "text" in changes else "metadata_changed"] += 1
        else:
            counts["unchanged"] += 1
        if progress:
            progress(counts)
    return counts


def reextract_file(
    db_path: str, *, source: str | None = None, since: str | None = None, sources_path: str = ""
) -> str:
    """Re-extract the archive at `db_path` (holding its write lock), with the drop_selectors
    of the sources file when there is one; a one-line summary of what changed. CommandError
    for a missing archive, a bad date, a bad sources file or a source with no articles."""
    since = check_date("--since", since)
    if not Path(db_path).exists():
        raise CommandError(f"{db_path} does not exist: run a crawl first")
    selectors = {}
    if sources_path and Path(sources_path).exists():
        try:
            selectors = {s.name: s.drop_selectors for s in load_sources(sources_path)}
        except SourcesError as error:
            raise CommandError(str(error)) from error
    lock_archive(db_path, "reextract")
    db = open_archive(db_path)
    try:
        if (
            source
            and not db.execute("select 1 from articles where source = ?", [source]).fetchone()
        ):
            known = [
                row[0] for row in db.execute("select distinct source from articles order by 1")
            ]
            raise CommandError(
                f"no archived articles of source {source!r}; sources: {', '.join(known) or 'none'}"
            )
        counts = reextract(db, source=source, since=since, drop_selectors=selectors)
    finally:
        db.close()
    summary = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in counts.most_common())
    return f"Re-extracted {sum(counts.values())} articles: {summary or 'nothing to do'}"
