"""The archive database: opening it, its schema and the migrations that build it.

Everything that writes `archive.db` goes through `open_archive`, so every writer gets WAL mode,
a busy timeout and an up-to-date schema.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils import Migrations

from crawler.urls import readonly_sqlite_uri

migrations = Migrations("newsarchive")

# Seconds a writer waits for another connection's lock before giving up.
BUSY_TIMEOUT_MS = 30_000
# The writer's page cache, in KiB (SQLite's default is 2 MB): storing an article touches pages
# all over the url, content-hash and URL-key indexes; in a year-old archive those do not fit
# in 2 MB, and each miss is a read (storing into 100,000 articles: 1.3 -> 1.15 times the CPU
# of an empty archive).
WRITER_CACHE_KIB = 65_536


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


def _apply_migrations(db: sqlite_utils.Database) -> None:
    """Apply the pending migrations one at a time, each folded into the file once done (a
    checkpoint that waits for no reader): a new archive's write-ahead log then holds one
    migration's pages at most, not all of them (0.46 MB, near what a full disk leaves)."""
    pending = [migration.name for migration in migrations.pending(db)]
    for index, _ in enumerate(pending):
        migrations.apply(db, stop_before=pending[index + 1 :])
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")


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
        managed = "_sqlite_migrations" in db.table_names()
        if managed and migrations.pending(db) and os.access(path, os.W_OK):
            # Written by an older version: add what readers expect (summary tables), once.
            db.close()
            open_archive(path).close()
            return open_archive(path, readonly=True)
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
        db.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
        db.execute("PRAGMA foreign_keys = ON")
        _apply_migrations(db)
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


# SimHash bands: a 64-bit hash cut into SIMHASH_BANDS pieces. Two hashes at most
# SIMHASH_BANDS - 1 bits apart agree on at least one piece (pigeonhole), so near-duplicates are
# found by exact band lookups instead of reading every article of the week.
SIMHASH_BANDS = 7
# Shorter texts are not compared for near-duplicates (pipelines/archive/articles.py).
SIMILAR_MIN_WORDS = 80


def simhash_bands(simhash: str) -> list[int]:
    """The band keys of a hex SimHash (band number * 1024 + the band's bits)."""
    value = int(simhash, 16)
    bands, shift = [], 0
    for band in range(SIMHASH_BANDS):
        width = (64 - shift) // (SIMHASH_BANDS - band)
        bands.append(band * 1024 + ((value >> shift) & ((1 << width) - 1)))
        shift += width
    return bands


# The day an article counts under: its publication day, else the day it was first archived.
ARTICLE_DAY = "coalesce(substr({row}.published, 1, 10), substr({row}.first_seen, 1, 10), '')"


@migrations()
def m006_article_markdown(db: sqlite_utils.Database) -> None:
    # The body with its headings, lists and block quotes, as markdown (the article page shows
    # it); `text` stays the plain text that the full-text index reads.
    db["articles"].add_column("markdown", str)


@migrations()
def m007_byline(db: sqlite_utils.Database) -> None:
    # The credit as the page publishes it (people, an organisation or a desk); `authors` keeps
    # the people in it. Existing archives get it from their stored HTML: `newsarchive reextract`.
    db["articles"].add_column("byline", str)


@migrations()
def m008_summaries_for_scale(db: sqlite_utils.Database) -> None:
    # Overviews read these small tables instead of a million articles (issue 18). Triggers keep
    # them exact under every writer: crawls, the distributed ingester, re-extraction, SQL.
    db.execute(
        """create table daily_counts (
             day text not null, source text not null, articles integer not null,
             words integer not null, newest_first_seen text,
             primary key (day, source)) without rowid"""
    )
    db.execute(
        """create table author_counts (
             author text primary key, articles integer not null) without rowid"""
    )
    day = "substr({row}.published, 1, 10)"
    plus = f"""insert into daily_counts (day, source, articles, words, newest_first_seen)
          values (coalesce({day.format(row="new")}, ''), coalesce(new.source, ''), 1,
                  coalesce(new.word_count, 0), new.first_seen)
          on conflict (day, source) do update set articles = articles + 1,
            words = words + excluded.words,
            newest_first_seen = max(coalesce(newest_first_seen, ''), excluded.newest_first_seen);"""
    # A deleted article leaves newest_first_seen as it was: it is a high-water mark.
    minus = f"""update daily_counts set articles = articles - 1,
            words = words - coalesce(old.word_count, 0)
          where day = coalesce({day.format(row="old")}, '')
            and source = coalesce(old.source, '');"""
    author_plus = """insert into author_counts (author, articles)
          select distinct value, 1 from json_each(case when json_valid(new.authors)
                                            and json_type(new.authors) = 'array'
                                          then new.authors else '[]' end)
          where type = 'text'
          on conflict (author) do update set articles = articles + 1;"""
    author_minus = """update author_counts set articles = articles - 1
          where author in (select value from json_each(case when json_valid(old.authors)
                                                         and json_type(old.authors) = 'array'
                                                       then old.authors else '[]' end)
                           where type = 'text');"""
    db.execute(
        f"create trigger articles_summary_ai after insert on articles begin {plus} "
        f"{author_plus} end"
    )
    db.execute(
        f"create trigger articles_summary_ad after delete on articles begin {minus} "
        f"{author_minus} end"
    )
    db.execute(
        f"""create trigger articles_summary_au_day
            after update of published, source, word_count on articles
            when {day.format(row="old")} is not {day.format(row="new")}
              or old.source is not new.source or old.word_count is not new.word_count
            begin {minus} {plus} end"""
    )
    db.execute(
        f"""create trigger articles_summary_au_authors after update of authors on articles
            when old.authors is not new.authors begin {author_minus} {author_plus} end"""
    )
    db.execute(
        f"""insert into daily_counts (day, source, articles, words, newest_first_seen)
            select coalesce({day.format(row="articles")}, ''), coalesce(source, ''), count(*),
              coalesce(sum(word_count), 0), max(first_seen)
            from articles group by 1, 2"""
    )
    db.execute(
        """insert into author_counts (author, articles)
           select value, count(*) from articles, json_each(case when json_valid(authors)
                                                     and json_type(authors) = 'array'
                                                   then authors else '[]' end)
           where type = 'text' group by value"""
    )
    # Near-duplicate candidates by SimHash band and day (see SIMHASH_BANDS).
    db.execute(
        # day first: new articles are written next to each other (the newest days), not at
        # random places of an index as big as the archive
        """create table simhash_bands (
             day text not null, band integer not null, article_id integer not null,
             primary key (day, band, article_id)) without rowid"""
    )
    db.execute("create index simhash_bands_article_id on simhash_bands (article_id)")
    rows = db.execute(
        f"select id, simhash, {ARTICLE_DAY.format(row='articles')} from articles"
        " where simhash is not null and simhash != '' and word_count >= ?",
        [SIMILAR_MIN_WORDS],
    ).fetchall()
    db.conn.executemany(
        "insert or ignore into simhash_bands (band, day, article_id) values (?, ?, ?)",
        [(band, day_, id_) for id_, hash_, day_ in rows for band in simhash_bands(hash_)],
    )


@migrations()
def m009_indexes_for_scale(db: sqlite_utils.Database) -> None:
    # Covering indexes: the table's default order (published), a source's or a language's
    # articles, the source and language facets and counts over a date range read the index
    # alone (with a one-column language index SQLite read every row of a date range).
    for old in ("published", "source_published", "language"):
        db.execute(f"drop index if exists idx_articles_{old}")
    db["articles"].create_index(["published", "source", "language"], if_not_exists=True)
    db["articles"].create_index(["source", "published", "language"], if_not_exists=True)
    db["articles"].create_index(["language", "published", "source"], if_not_exists=True)
    # A crawl run's page counts the articles and versions it stored.
    db["articles"].create_index(["run_id"], if_not_exists=True)
    db["article_versions"].create_index(["run_id"], if_not_exists=True)
    # Who wrote what, from the authors lists: the author filter of search reads it instead of
    # every matching article's authors.
    db.execute(
        """create table article_authors (
             author text not null, article_id integer not null,
             primary key (author, article_id)) without rowid"""
    )
    db.execute("create index article_authors_article_id on article_authors (article_id)")
    names = """select distinct value from json_each(case when json_valid({row}.authors)
                 and json_type({row}.authors) = 'array' then {row}.authors else '[]' end)
               where type = 'text'"""
    add = f"""insert or ignore into article_authors (author, article_id)
              select value, new.id from ({names.format(row="new")});"""
    remove = "delete from article_authors where article_id = old.id;"
    db.execute(f"create trigger articles_authors_ai after insert on articles begin {add} end")
    db.execute(f"create trigger articles_authors_ad after delete on articles begin {remove} end")
    db.execute(
        f"""create trigger articles_authors_au after update of authors on articles
            when old.authors is not new.authors begin {remove} {add} end"""
    )
    db.execute(
        """insert or ignore into article_authors (author, article_id)
            select j.value, a.id from articles a, json_each(case when json_valid(a.authors)
              and json_type(a.authors) = 'array' then a.authors else '[]' end) j
            where j.type = 'text'"""
    )


@migrations()
def m010_warc_files(db: sqlite_utils.Database) -> None:
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


@migrations()
def m011_run_reserve(db: sqlite_utils.Database) -> None:
    # Room held for the record of each running run: a run stopped by a full disk frees its
    # reserve first, so its counts still fit (pipelines/archive/runs.py).
    db["run_reserve"].create({"run_id": int, "space": bytes}, pk="run_id", if_not_exists=True)


@migrations()
def m012_article_facts(db: sqlite_utils.Database) -> None:
    # What search filters and counts read of each match, 40-odd bytes a row in id order: counting
    # a common word's matches with a filter (or with copies folded) looks each one up here, not
    # in `articles`, whose rows hold the text (0.07 µs a match instead of 0.5-1 µs, measured on
    # 100,000 articles). `paired`: the article is in similar_articles (a copy of a story on
    # another source, or copied), so folding copies reads only the matches that are. Triggers
    # keep it exact under every writer, as the other summaries (issue 18).
    db.execute(
        """create table article_facts (
             id integer primary key, published text, source text, language text,
             paired integer not null default 0)"""
    )
    db.execute(
        """create trigger article_facts_ai after insert on articles begin
             insert into article_facts (id, published, source, language)
               values (new.id, new.published, new.source, new.language);
           end"""
    )
    db.execute(
        """create trigger article_facts_au after update of id, published, source, language
             on articles
           begin
             delete from article_facts where id = old.id and old.id is not new.id;
             insert into article_facts (id, published, source, language, paired)
               values (new.id, new.published, new.source, new.language,
                       exists (select 1 from similar_articles where article_id = new.id))
               on conflict (id) do update set published = excluded.published,
                 source = excluded.source, language = excluded.language;
           end"""
    )
    db.execute(
        """create trigger article_facts_ad after delete on articles begin
             delete from article_facts where id = old.id;
           end"""
    )
    # Pairs are stored both ways (article_id, similar_id) and (similar_id, article_id).
    db.execute(
        """create trigger similar_articles_paired_ai after insert on similar_articles begin
             update article_facts set paired = 1 where id = new.article_id and not paired;
           end"""
    )
    db.execute(
        """create trigger similar_articles_paired_ad after delete on similar_articles begin
             update article_facts set paired = exists (
                 select 1 from similar_articles where article_id = old.article_id)
               where id = old.article_id;
           end"""
    )
    db.execute(
        """insert into article_facts (id, published, source, language, paired)
           select id, published, source, language, 0 from articles"""
    )
    db.execute(
        """update article_facts set paired = 1
           where id in (select article_id from similar_articles)"""
    )


@migrations()
def m013_indexes_for_row_counts(db: sqlite_utils.Database) -> None:
    # Datasette's database page counts every table's rows, and `count(*)` reads the smallest
    # index of a table, or else every leaf page of the table itself: for article_html (each
    # row a compressed page) and crawl_runs (each row with its stats) that is most of the file,
    # and SQLite cannot interrupt a count midway (45 ms on 100,000 articles; seconds on a
    # million). A one-column index is a tenth of a page per row.
    db["article_html"].create_index(["size"], if_not_exists=True)
    db["crawl_runs"].create_index(["started"], if_not_exists=True)


@migrations()
def m014_indexes_for_a_million(db: sqlite_utils.Database) -> None:
    # Measured on 1,000,000 articles (issue 18). The full-text index's blocks (1.5 GB) are
    # counted on datasette's database page like any table: 350 ms reading every block; an
    # index of their ids is counted instead (FTS5 reads and writes its blocks by id, so the
    # index only follows those writes).
    db.execute("create index if not exists articles_fts_data_id on articles_fts_data (id)")
    # The changed-articles query: the articles with earlier versions, newest change first,
    # read from this index instead of grouping every version (135 ms -> a few).
    db.execute(
        "create index if not exists idx_articles_changed on articles (last_changed)"
        " where version > 1"
    )


@migrations()
def m015_published_days(db: sqlite_utils.Database) -> None:
    # The ids of each day's articles (by publication date), for a search with dates: its id
    # range was the smallest and largest id of every article in the date range, read from the
    # publication date index (39 ms for eight months of 370,000 articles, on every search page
    # with a since date); from here it is a few hundred rows. Ids only grow: a deleted article
    # or one whose date changed leaves its old day's range wider than needed, which a search
    # only reads a little more of (its filters still apply), never narrower.
    db.execute(
        """create table published_days (
             day text primary key, first_id integer not null, last_id integer not null
           ) without rowid"""
    )
    for event in ("insert", "update of id, published"):
        name = "published_days_ai" if event == "insert" else "published_days_au"
        db.execute(
            f"""create trigger {name} after {event} on articles
                when new.published is not null begin
                  insert into published_days (day, first_id, last_id)
                    values (substr(new.published, 1, 10), new.id, new.id)
                    on conflict (day) do update set
                      first_id = min(first_id, excluded.first_id),
                      last_id = max(last_id, excluded.last_id);
                end"""
        )
    db.execute(
        """insert into published_days (day, first_id, last_id)
           select substr(published, 1, 10), min(id), max(id) from articles
           where published is not null group by 1"""
    )


@migrations()
def m016_article_html_count_index(db: sqlite_utils.Database) -> None:
    # The database page counts article_html from its smallest index (m013), which was on
    # `size`: a new article's entry landed anywhere in it, so storing 50 articles into 100,000
    # changed 47 more pages (of 511) than into an empty archive. An index on the id (the
    # rowid) is as small and only grows at its end.
    db.execute("drop index if exists idx_article_html_size")
    db.execute(
        "create index if not exists idx_article_html_article_id on article_html (article_id)"
    )
