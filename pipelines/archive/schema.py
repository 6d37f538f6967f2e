"""The archive database: opening it, its schema and the migrations that build it.

Everything that writes `archive.db` goes through `open_archive`, so every writer gets WAL mode,
a busy timeout and an up-to-date schema.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils import Migrations

from crawler.urls import readonly_sqlite_uri

migrations = Migrations("newsarchive")

# Seconds a writer waits for another connection's lock before giving up.
BUSY_TIMEOUT_MS = 30_000


class ArchiveError(Exception):
    """The archive file cannot be used: not a database, not ours, or not writable."""


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["crawl_runs"].create(
        {
            "id": int,
            "started": str,
            "ended": str,
            "status": str,  # running, completed, interrupted, failed
            "finish_reason": str,
            "spider": str,
            "targets": str,  # JSON list of {kind, url, source}
            "pages_fetched": int,
            "articles_new": int,
            "articles_updated": int,
            "articles_unchanged": int,
            "pages_dropped": int,
            "dropped": str,  # JSON {reason: count}
            "errors": int,
            "error_kinds": str,  # JSON {kind: count}
            "pid": int,
            "hostname": str,
            "stats": str,  # JSON of Scrapy's stats at the end of the run
        },
        pk="id",
    )
    db["articles"].create(
        {
            "id": int,
            "url": str,
            "source": str,
            "site_name": str,
            "title": str,
            "authors": str,  # JSON list
            "published": str,
            "published_source": str,
            "modified": str,
            "language": str,
            "description": str,
            "tags": str,  # JSON list
            "categories": str,  # JSON list
            "image": str,
            "text": str,
            "word_count": int,
            "content_hash": str,
            "simhash": str,
            "fetched_url": str,
            "first_seen": str,
            "last_seen": str,
            "last_changed": str,
            "version": int,
            "run_id": int,
        },
        pk="id",
        not_null={"url", "text"},
        foreign_keys=[("run_id", "crawl_runs", "id")],
    )
    db["articles"].create_index(["url"], unique=True)
    db["articles"].create_index(["published"])
    db["articles"].create_index(["source", "published"])
    db["articles"].create_index(["content_hash"])
    db["articles"].enable_fts(
        ["title", "text"], fts_version="FTS5", create_triggers=True, tokenize="porter"
    )
    # sqlite-utils' update trigger re-indexes on any update; re-crawls only touch last_seen,
    # so re-index only when the indexed columns change.
    db.execute("DROP TRIGGER articles_au")
    db.execute(
        """CREATE TRIGGER articles_au AFTER UPDATE OF title, text ON articles BEGIN
          INSERT INTO articles_fts (articles_fts, rowid, title, text)
            VALUES ('delete', old.rowid, old.title, old.text);
          INSERT INTO articles_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);
        END"""
    )
    # Every URL that led to an article (canonical, tracking variants, AMP, redirects), with the
    # HTTP validators needed for conditional re-fetches.
    db["article_urls"].create(
        {
            "url_key": str,  # crawler.urls.url_key of the URL
            "url": str,
            "article_id": int,
            "first_seen": str,
            "last_seen": str,
            "etag": str,
            "last_modified": str,
        },
        pk="url_key",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["article_urls"].create_index(["article_id"])
    db["article_versions"].create(
        {
            "id": int,
            "article_id": int,
            "version": int,
            "title": str,
            "text": str,
            "word_count": int,
            "content_hash": str,
            "first_seen": str,
            "last_seen": str,
            "run_id": int,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id"), ("run_id", "crawl_runs", "id")],
    )
    db["article_versions"].create_index(["article_id", "version"], unique=True)
    # Raw HTML of the newest fetch of each article, zstd-compressed, for re-extraction.
    db["article_html"].create(
        {
            "article_id": int,
            "url": str,
            "fetched_at": str,
            "status": int,
            "content_type": str,
            "encoding": str,
            "size": int,
            "html": bytes,
        },
        pk="article_id",
        foreign_keys=[("article_id", "articles", "id")],
    )


def describe_error(path: str | Path, error: sqlite3.Error, doing: str = "use") -> str:
    """A one-line account of what is wrong with the archive file at `path`: not a database,
    corrupt, or else what SQLite said when we tried to `doing` it."""
    code = getattr(error, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_NOTADB:
        return f"{path} is not a SQLite database ({error})"
    if code == sqlite3.SQLITE_CORRUPT:
        return f"{path} is corrupt ({error}): restore a backup, or try `sqlite3 {path} .recover`"
    return f"cannot {doing} {path}: {error}"


def _check_is_archive(db: sqlite_utils.Database, path: str) -> None:
    try:
        tables = set(db.table_names())
    except sqlite3.DatabaseError as error:
        raise ArchiveError(describe_error(path, error)) from error
    if tables and "articles" not in tables and "_sqlite_migrations" not in tables:
        raise ArchiveError(f"{path} is a SQLite database but not a news archive")


def open_archive(path: str | Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """Open (creating if needed) the archive at `path`, in WAL mode with the schema applied."""
    path = str(path)
    if Path(path).is_dir():
        raise ArchiveError(f"{path} is a directory, not an archive file")
    if readonly:
        if not Path(path).exists():
            raise ArchiveError(f"{path} does not exist: run a crawl first")
        uri = readonly_sqlite_uri(path)
        try:
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        except sqlite3.Error as error:
            raise ArchiveError(describe_error(path, error)) from error
        db = sqlite_utils.Database(conn)
        _check_is_archive(db, path)
        if not db.table_names():
            raise ArchiveError(f"{path} is an empty database: run a crawl first")
        return db
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    except sqlite3.Error as error:
        raise ArchiveError(f"cannot open {path}: {error}") from error
    db = sqlite_utils.Database(conn)
    _check_is_archive(db, path)
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        migrations.apply(db)
        # A read-only file (or folder) shows only when writing: find out now, not mid-crawl.
        version = db.execute("PRAGMA user_version").fetchone()[0]
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(f"PRAGMA user_version = {int(version)}")  # a write that changes nothing
        finally:
            db.execute("ROLLBACK")
    except sqlite3.DatabaseError as error:
        conn.close()
        raise ArchiveError(describe_error(path, error, "write to")) from error
    return db


@migrations()
def m002_similar_articles(db: sqlite_utils.Database) -> None:
    # Near-duplicate stories (the same wire copy on several sites), linked both ways.
    db["similar_articles"].create(
        {"article_id": int, "similar_id": int, "distance": int},
        pk=("article_id", "similar_id"),
        foreign_keys=[("article_id", "articles", "id"), ("similar_id", "articles", "id")],
    )
    db["similar_articles"].create_index(["similar_id"])
    # Counts by source ({source: {pages, new, updated, unchanged, dropped, errors}}).
    db["crawl_runs"].add_column("per_source", str)
    # Archived article URLs a run did not fetch again (nothing said they changed).
    db["crawl_runs"].add_column("pages_skipped", int)
    db["articles"].create_index(["first_seen"])


@migrations()
def m003_language_index(db: sqlite_utils.Database) -> None:
    # The search form's language list and the language facet read it.
    db["articles"].create_index(["language"], if_not_exists=True)


@migrations()
def m004_ingested_messages(db: sqlite_utils.Database) -> None:
    # The distributed ingester's last committed batch of Redis message ids, so a restarted
    # ingester stores each article exactly once (see newsarchive/ingest.py).
    db["ingested_messages"].create(
        {"message_id": str, "run_id": int}, pk="message_id", if_not_exists=True
    )


@migrations()
def m005_out_of_scope_and_warnings(db: sqlite_utils.Database) -> None:
    # What each run left out of scope ({why: count}: offsite, scheme, credentials...) and the
    # pages it archived despite a defect ({kind: count}: charset_mismatch, invalid_utf8...).
    db["crawl_runs"].add_column("out_of_scope", str)
    db["crawl_runs"].add_column("warnings", str)


@migrations()
def m006_warc_files(db: sqlite_utils.Database) -> None:
    # WARC files imported (`newsarchive import`), with the filters used: how far each is done,
    # so an import that stopped goes on from there and a file imported before is skipped.
    db["warc_files"].create(
        {
            "location": str,  # path (absolute) or URL
            "filters": str,  # JSON of the import's --source/--domain/--since/--until
            "offset": int,  # every record before this byte offset is archived or counted
            "completed": str,  # when it was read to its end (null: not yet)
            "updated": str,
            "run_id": int,
        },
        pk=("location", "filters"),
        if_not_exists=True,
    )
