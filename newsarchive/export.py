"""`newsarchive export`: the archive's articles out, as JSON Lines or CSV with their metadata, or
their stored raw pages as a WARC file for other tools (an archive built before `--warc`)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from crawler.compression import read_html
from crawler.warc.writer import WarcFile, crawl_fields
from newsarchive.arguments import iso_date
from newsarchive.errors import CommandError
from newsarchive.lookup import open_for_reading

COLUMNS = (
    "id", "url", "source", "site_name", "title", "authors", "published", "published_source",
    "modified", "language", "description", "tags", "categories", "image", "word_count",
    "fetched_url", "first_seen", "last_seen", "last_changed", "version", "text",
)  # fmt: skip
JSON_LISTS = ("authors", "tags", "categories")


def _where(source: str | None, since: str | None, until: str | None) -> tuple[str, list]:
    """Filters on source and publication date (first archived when the page gives none)."""
    clauses, params = [], []
    if source:
        clauses.append("a.source = ?")
        params.append(source)
    day = "coalesce(a.published, a.first_seen)"
    if since:
        clauses.append(f"{day} >= ?")
        params.append(since)
    if until:
        clauses.append(f"substr({day}, 1, {len(until)}) <= ?")
        params.append(until)
    return (" where " + " and ".join(clauses) if clauses else ""), params


def articles(
    db: sqlite_utils.Database, source: str | None, since: str | None, until: str | None
) -> Iterator[dict]:
    """The archive's articles with their metadata (lists decoded), oldest id first."""
    where, params = _where(source, since, until)
    names = ", ".join(f"a.{c}" for c in COLUMNS)
    for row in db.query(f"select {names} from articles a{where} order by a.id", params):
        for name in JSON_LISTS:
            row[name] = json.loads(row[name] or "[]")
        yield row


def raw_pages(
    db: sqlite_utils.Database, source: str | None, since: str | None, until: str | None
) -> Iterator[dict]:
    """The stored raw page of each article, with what is known of its fetch."""
    where, params = _where(source, since, until)
    sql = f"""select a.source, a.published, a.published_source, h.url, h.fetched_at, h.status,
                h.content_type, h.html, u.etag, u.last_modified
              from articles a join article_html h on h.article_id = a.id
              left join article_urls u on u.url_key = (
                select url_key from article_urls where article_id = a.id and url = h.url limit 1)
              {where} order by a.id"""
    yield from db.query(sql, params)


def _write_warc(path: Path, pages: Iterator[dict]) -> int:
    info = {"software": "newsarchive export", "format": "WARC File Format 1.1",
            "description": "raw pages of a newsarchive archive"}  # fmt: skip
    warc = WarcFile(path, info)
    count = 0
    try:
        for page in pages:
            headers = [("Content-Type", page["content_type"] or "text/html")]
            for name, key in (("ETag", "etag"), ("Last-Modified", "last_modified")):
                if page[key]:
                    headers.append((name, page[key]))
            # A feed's or sitemap's date travels with the page, as a crawl's WARC has it.
            hints = {}
            if page["published_source"] in ("feed", "sitemap"):
                hints = {
                    "published": page["published"],
                    "published_source": page["published_source"],
                }
            warc.write_response(
                page["url"],
                page["status"] or 200,
                headers,
                read_html(page["html"]),
                date=page["fetched_at"] or None,
                fields=crawl_fields(page["source"], hints),
            )
            count += 1
    finally:
        warc.close()
    return count


def export_archive(
    db_path: str,
    *,
    warc: str | None = None,
    jsonl: str | None = None,
    csv_path: str | None = None,
    source: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> str:
    """Write the archive's articles (optionally of one source, published in a date range) to
    each file asked for; a one-line account of what was written."""
    if not (warc or jsonl or csv_path):
        raise CommandError("export: give at least one of --warc, --jsonl or --csv FILE")
    since, until = iso_date("--since", since), iso_date("--until", until)
    db = open_for_reading(db_path)
    done = []
    try:
        if jsonl:
            with open(jsonl, "w", encoding="utf-8") as out:
                count = 0
                for row in articles(db, source, since, until):
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    count += 1
            done.append(f"{count} articles to {jsonl}")
        if csv_path:
            with open(csv_path, "w", encoding="utf-8", newline="") as out:
                writer = csv.DictWriter(out, fieldnames=COLUMNS)
                writer.writeheader()
                count = 0
                for row in articles(db, source, since, until):
                    writer.writerow({k: json.dumps(v) if isinstance(v, list) else v
                                     for k, v in row.items()})  # fmt: skip
                    count += 1
            done.append(f"{count} articles to {csv_path}")
        if warc:
            if not warc.endswith(".warc.gz"):
                raise CommandError(f"--warc: the file name must end in .warc.gz, got {warc!r}")
            count = _write_warc(Path(warc), raw_pages(db, source, since, until))
            done.append(f"{count} raw pages to {warc}")
    except OSError as error:
        raise CommandError(f"cannot write {error.filename}: {error.strerror}") from error
    finally:
        db.close()
    return "Exported " + "; ".join(done)
