"""Datasette plugin of the news archive, registered by the `datasette` entry point in
pyproject.toml: `datasette archive.db` (any file name) and `newsarchive serve` show the same
pages.

It recognises an archive by its schema (`ARCHIVE_TABLES`), whatever the database is called, and
gives archive databases their metadata (metadata.yml), canned queries (browse.queries), SQL
functions, pages (templates/: generic template names that branch on `archive_page`), styles
(static/) and friendly search errors. Other databases of the same instance are left as they are.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import markupsafe
import yaml
from datasette import hookimpl
from datasette.utils import sqlite_timelimit, tilde_decode
from datasette.utils.asgi import Request, Response

from browse.chart import articles_per_day_svg
from browse.plugin import search_api
from browse.plugin.cells import (
    COUNT_COLUMNS,
    DATE_COLUMNS,
    RUN_JSON_COLUMNS,
    article_html,
    human_date,
    json_objects,
    run_cell_html,
)
from browse.queries import (
    ARTICLES_PER_DAY_SQL,
    LATEST_SQL,
    NEWEST_DAY_SQL,
    RECENT_RUNS_SQL,
    SOURCES_SQL,
)
from browse.queries import canned_queries as archive_canned_queries
from browse.search import (
    describe_fts_error,
    dict_rows,
    fts_query,
    register_functions,
    snippet_html,
)
from crawler.urls import readonly_sqlite_uri

HERE = Path(__file__).parent
# The distribution that holds the plugin: datasette serves static/ at /-/static-plugins/<it>/.
PLUGIN_NAME = "newsarchive"

# The tables of the archive's first migration (pipelines/archive/schema.py, m001_initial): a
# database holding all of them is an archive, whatever its file is called.
ARCHIVE_TABLES = frozenset(
    {"articles", "articles_fts", "article_urls", "article_versions", "article_html", "crawl_runs"}
)

# Paths of the files known to be archives (a schema only grows), and the tables of every file
# checked, with the size and time of the file and its WAL then: read again once they change.
_archives: set[str] = set()
_tables: dict[str, tuple[tuple, frozenset[str]]] = {}


def _file_signature(path: str) -> tuple:
    signature: list[Any] = []
    for name in (path, path + "-wal"):
        try:
            stat = os.stat(name)
            signature.append((stat.st_size, stat.st_mtime_ns))
        except OSError:
            signature.append(None)
    return tuple(signature)


def _read_tables(path: str) -> frozenset[str]:
    try:
        conn = sqlite3.connect(readonly_sqlite_uri(path), uri=True)
    except sqlite3.Error:
        return frozenset()
    try:
        return frozenset(row[0] for row in conn.execute("select name from sqlite_master"))
    except sqlite3.Error:  # not a database, encrypted, locked beyond the timeout...
        return frozenset()
    finally:
        conn.close()


def _table_names(datasette, database: str | None) -> frozenset[str]:
    db = datasette.databases.get(database) if database else None
    path = getattr(db, "path", None)
    if not path:
        return frozenset()
    signature = _file_signature(path)
    known = _tables.get(path)
    if known and known[0] == signature:
        return known[1]
    names = _read_tables(path)
    _tables[path] = (signature, names)
    return names


def is_archive(datasette, database: str | None) -> bool:
    """Whether the database named `database` of `datasette` is a news archive, by its tables.
    In-memory databases never are."""
    path = getattr(datasette.databases.get(database) if database else None, "path", None)
    if path in _archives:  # the quick answer: datasette asks many times per page
        return True
    if _table_names(datasette, database) >= ARCHIVE_TABLES:
        _archives.add(path)
        return True
    return False


def archive_databases(datasette) -> list[str]:
    """Names of the archive databases of `datasette`, in the order they were added."""
    return [name for name in list(datasette.databases) if is_archive(datasette, name)]


@functools.cache
def _metadata_file() -> dict[str, Any]:
    return yaml.safe_load((HERE / "metadata.yml").read_text())


def _copy_dicts(value: Any) -> Any:
    """`value` with every dict in it copied (lists and strings shared: datasette replaces
    those, it never changes them in place). Four times quicker than copy.deepcopy."""
    if type(value) is dict:
        return {key: _copy_dicts(item) for key, item in value.items()}
    return value


@hookimpl
def get_metadata(datasette, key, database, table):
    # Metadata of every archive database, under its own name; a local metadata file given to
    # datasette (-m) still takes precedence. Datasette merges into what this returns (and
    # pages change it), so each call gets fresh dicts; it calls this 15-35 times per page.
    archives = archive_databases(datasette)
    if not archives:
        return None
    metadata = _metadata_file()
    return {
        "title": metadata["title"],
        "description": metadata["description"],
        "databases": {name: _copy_dicts(metadata["archive"]) for name in archives},
    }


@hookimpl
def canned_queries(datasette, database):
    if not is_archive(datasette, database):
        return None

    # Datasette asks on every table and query page: no query of the database for this.
    tables = _table_names(datasette, database)
    return archive_canned_queries(
        has_similar="similar_articles" in tables, has_days="published_days" in tables
    )


@hookimpl
def extra_css_urls(database, view_name, datasette):
    if is_archive(datasette, database) or (view_name == "index" and archive_databases(datasette)):
        return [datasette.urls.static_plugins(PLUGIN_NAME, "browse.css")]
    return []


# Archive pages read rows all over a file of gigabytes: reading them through a memory map
# instead of a read() per page halves the time of a lookup by id (measured on 100,000
# articles). SQLite caps it at its compile-time limit (2 GB by default); read-only here.
MMAP_BYTES = 1 << 31


@hookimpl
def prepare_connection(conn, database, datasette):
    if is_archive(datasette, database):
        register_functions(conn)
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")


# The articles table's grid shows these columns unless ?_col= or ?_nocol= choose others (the
# JSON API always has every column); browse.css hides the rest.
ARTICLE_COLUMNS = ("id", "title", "source", "published", "authors", "word_count")

NO_FILTERS = {"source": "", "language": "", "author": "", "since": "", "until": ""}


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["paragraphs"] = paragraphs
    env.filters["json_list"] = json_list
    env.filters["json_objects"] = json_objects
    env.filters["human_date"] = human_date
    env.filters["article_html"] = article_html
    env.filters["snippet_html"] = snippet_html
    env.filters["fts_error"] = search_error
    env.filters["safe_url"] = safe_url
    env.globals["table_args"] = table_args
    env.globals["recent_days"] = RECENT_DAYS

    env.globals["articles_per_day_svg"] = articles_per_day_svg


def search_error(error: object, query: str | None) -> str | None:
    """Why the search page's query failed, for people; None if not a search syntax error."""
    return describe_fts_error(str(error or ""), fts_query(query))


def safe_url(url: str | None) -> str | None:
    """`url` if it is an http(s) URL, else None: archived URLs become links only then."""
    if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
        return url
    return None


# The home page's link to the articles table, with counts and facets, covers this many days
# back from the newest article: facets over a year of a million articles take seconds. Its link
# to everything says so and leaves facets out (?_nofacet=1).
RECENT_DAYS = 30


def recent_since(newest_day: str | None) -> str | None:
    """The first day of the RECENT_DAYS ending on `newest_day` (YYYY-MM-DD), or None."""
    try:
        return (date.fromisoformat(newest_day or "") - timedelta(days=RECENT_DAYS - 1)).isoformat()
    except ValueError:
        return None


def table_args(params: dict[str, str], light: bool = False) -> str:
    """Query string of the articles table showing a search's matches from the search page's
    parameters: newest first with counts and facets, or with `light` newest archived first
    without them (with the filters either way). Datasette's table search reads every match for
    its counts, facets and date order (SQLite looks each match up by rowid): seconds for a
    common word in a big archive; the `light` view only collects the matching ids and walks
    them in order (search_api.table_view says which the search page links)."""
    args = {"_search": params.get("q", ""), "_sort_desc": "published"}
    if light:
        args.update(_sort_desc="id", _nocount="1", _nofacet="1")
    for name, arg in (("source", "source"), ("language", "language")):
        if params.get(name):
            args[arg] = params[name]
    if params.get("author"):
        args["authors__arraycontains"] = params["author"]
    if params.get("since"):
        args["published__gte"] = params["since"]
    if until := params.get("until"):
        try:  # until is inclusive: before the next day
            args["published__lt"] = (date.fromisoformat(until) + timedelta(days=1)).isoformat()
        except ValueError:
            args["published__lte"] = until
    return urlencode(args)


def paragraphs(text: str | None) -> list[str]:
    """The paragraphs of an extracted text (one per line)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def json_list(value: str | None) -> list[str]:
    """A JSON list column (authors, tags) as a list of strings; [] when empty or malformed."""
    try:
        items = json.loads(value or "[]")
    except ValueError:
        return []
    return [str(item) for item in items] if isinstance(items, list) else []


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if not is_archive(datasette, database):
        return None
    if column == "snippet" and isinstance(value, str):
        return snippet_html(value)
    if column in DATE_COLUMNS and isinstance(value, str) and value:
        rendered = human_date(value)
        return rendered if isinstance(rendered, markupsafe.Markup) else None
    if table == "crawl_runs" and (column in COUNT_COLUMNS or column in RUN_JSON_COLUMNS):
        return run_cell_html(column, value)
    if table == "articles" and column in ("authors", "tags", "categories"):
        # (a falsy value would make datasette show the raw JSON)
        names = ", ".join(json_list(value)) if isinstance(value, str) else None
        return names or (markupsafe.Markup("&nbsp;") if names is not None else None)
    if table == "articles" and column == "title" and value and "id" in row.keys():  # noqa: SIM118 (a sqlite3.Row)
        url = datasette.urls.row(database, "articles", row["id"])
        return markupsafe.Markup('<a href="{}">{}</a>').format(url, value)
    if table == "article_html" and column == "html" and isinstance(value, bytes):
        # The archived page is never served or rendered, not even as a download link.
        return markupsafe.Markup("<em>{:,} bytes of compressed HTML (not shown)</em>").format(
            len(value)
        )
    return None


async def _rows(datasette, database: str, sql: str, params: dict[str, Any]) -> list[dict]:
    result = await datasette.get_database(database).execute(sql, params)
    return [dict(row) for row in result.rows]


# Overviews that read whole indexes (tens of ms on 100,000 articles) are kept this long.
CACHE_SECONDS = 60
_cache: dict[tuple[int, str, str], tuple[float, Any]] = {}


async def _cached(datasette, database: str, key: str, compute) -> Any:
    now = time.monotonic()
    hit = _cache.get((id(datasette), database, key))
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = await compute()
    _cache[(id(datasette), database, key)] = (now, value)
    return value


# The overview reads summary tables and index ends (17 ms at 1,000,000 articles), but its
# first read of a file the OS has not cached faults in pages scattered over the whole file:
# 0.8 s at 8 GB. It is computed once a minute, so it gets longer than datasette's limit.
OVERVIEW_TIME_LIMIT_MS = 10_000


def _home(datasette, database: str):
    async def overview() -> dict[str, Any]:
        def read(conn) -> tuple[list[dict], list[dict], list[dict]]:
            with sqlite_timelimit(conn, OVERVIEW_TIME_LIMIT_MS):
                return (
                    dict_rows(conn, ARTICLES_PER_DAY_SQL, {"days": "60", "source": ""}),
                    dict_rows(conn, NEWEST_DAY_SQL, {}),
                    dict_rows(conn, SOURCES_SQL, {}),
                )

        per_day, newest, sources = await datasette.get_database(database).execute_fn(read)
        return {
            "sources": sources,
            "chart": articles_per_day_svg(per_day),
            "recent_since": recent_since(newest[0]["day"] if newest else None),
        }

    async def home() -> dict[str, Any]:
        return {
            **await _cached(datasette, database, "overview", overview),
            "latest": await _rows(datasette, database, LATEST_SQL, {**NO_FILTERS, "limit": "10"}),
            "runs": await _rows(datasette, database, RECENT_RUNS_SQL, {"limit": "5"}),
        }

    return home


def _article_page(datasette, database: str, request, table: str):
    async def article() -> dict[str, Any]:
        pk = request.url_vars.get("pks", "")
        db = datasette.get_database(database)
        extra: dict[str, Any] = {"versions": [], "similar": [], "current": None}
        if table == "articles":
            extra["versions"] = await _rows(
                datasette,
                database,
                "select id, version, title, word_count, first_seen, last_seen"
                " from article_versions where article_id = :id order by version desc",
                {"id": pk},
            )
            if await db.table_exists("similar_articles"):
                extra["similar"] = await _rows(
                    datasette,
                    database,
                    "select b.id, b.title, b.source, b.site_name, b.published, s.distance"
                    " from similar_articles s join articles b on b.id = s.similar_id"
                    " where s.article_id = :id order by s.distance limit 20",
                    {"id": pk},
                )
        else:  # an earlier version: link back to the current article
            rows = await db.execute(
                "select a.id, a.title, a.version from article_versions v"
                " join articles a on a.id = v.article_id where v.id = :id",
                {"id": pk},
            )
            extra["current"] = dict(rows.first()) if rows.first() else None
        return extra

    return article


async def _search_form(datasette, database: str) -> dict[str, Any]:
    """The choices of the search form's source and language menus."""
    db = datasette.get_database(database)
    summary = "daily_counts" in _table_names(datasette, database)  # else not migrated yet
    sources = await db.execute(
        "select source from daily_counts where articles > 0 and source != ''"
        " group by source order by source"
        if summary
        else "select distinct source from articles order by source"
    )
    # Each language once, in order, by one seek in the language index per language: counting
    # them read all of it (a million entries), which a cold archive did not finish within the
    # SQL time limit (the page failed).
    languages = await db.execute(
        """with recursive langs (language) as (
             select min(language) from articles where language is not null
             union all
             select (select min(language) from articles where language > langs.language)
             from langs where langs.language is not null
           )
           select language from langs where language is not null"""
    )
    return {
        "sources": [row["source"] for row in sources.rows],
        "languages": [row["language"] for row in languages.rows],
    }


# Table filters (?column=value style) that the latest-articles feed can follow.
_FEED_FILTERS = {
    "source": "source",
    "source__exact": "source",
    "language": "language",
    "language__exact": "language",
    "authors__arraycontains": "author",
    "published__gte": "since",
    "published__lte": "until",
}


def table_feed_url(datasette, database: str, args) -> str:
    """The Atom feed following a filtered view of the articles table of the archive
    `database`: the search feed when it has ?_search=, else the latest-articles feed."""
    params = {name: args.get(key) for key, name in _FEED_FILTERS.items() if args.get(key)}
    if args.get("_search"):
        params["q"] = args["_search"]
        params["sort"] = "newest"
        query = "search_feed"
    else:
        query = "articles_feed"
    return datasette.urls.query(database, query, format="atom") + "?" + urlencode(params)


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    # archive_page tells the generic templates (index, row, table, query.html) which archive
    # page to show; none for the pages of other databases.
    if view_name == "index":
        archives = archive_databases(datasette)
        if not archives:
            return {"archive_name": None}
        return {"archive_home": _home(datasette, archives[0]), "archive_name": archives[0]}
    if not is_archive(datasette, database):
        return {"archive_page": None}
    if view_name == "row" and table in ("articles", "article_versions"):
        return {
            "archive_page": "article" if table == "articles" else "article_version",
            "article_extra": _article_page(datasette, database, request, table),
        }
    if view_name == "row" and table == "crawl_runs":
        return {"archive_page": "crawl_run"}
    if template == "table.html" and table == "articles":
        return {
            "archive_page": "articles_table",
            "feed_url": table_feed_url(datasette, database, request.args),
            "default_columns": ARTICLE_COLUMNS,
            "all_columns": not {"_col", "_nocol"} & set(request.args),
        }
    if template == "table.html":
        return {"archive_page": "archive_table"}
    query = request.url_vars.get("table") if request else None
    if template == "query.html" and query == "search":

        async def search_form():
            return await _cached(
                datasette, database, "search_form", lambda: _search_form(datasette, database)
            )

        async def search_paging(shown: int):
            return await search_api.search_paging(datasette, database, request, shown)

        return {
            "archive_page": "search",
            "search_form": search_form,
            "search_paging": search_paging,
        }
    if template == "query.html" and query == "articles_per_day":
        # The chart draws every row: the table below stops at max_returned_rows (and says so),
        # which 100 sources reach in ten days.
        async def per_day_chart():
            params = {
                "days": request.args.get("days", ""),
                "source": request.args.get("source", ""),
            }
            return articles_per_day_svg(
                await _rows(datasette, database, ARTICLES_PER_DAY_SQL, params)
            )

        return {"archive_page": "articles_per_day", "per_day_chart": per_day_chart}
    return {"archive_page": None}


async def search_json_route(datasette, request):
    """/<database>/search.json: an archive's search API (browse.plugin.search_api); other
    databases get datasette's own page for their `search` table or query."""
    database = _request_database(datasette, request)
    if not is_archive(datasette, database):
        from datasette.views.table import TableView

        return await TableView.as_view(datasette)(request, None)
    tables = _table_names(datasette, database)
    return await search_api.search_json(
        datasette, request, database, "similar_articles" in tables, "published_days" in tables
    )


async def search_page_route(datasette, request):
    """/<database>/search: datasette's page for the `search` canned query (or table), with an
    archive's search total and order found out beside its results (search_api)."""
    from datasette.views.table import TableView

    # as datasette's own route gives it: no format is the HTML page
    route = {"kwargs": {**request.url_vars, "format": None}}
    request = Request(dict(request.scope, url_route=route), request.receive)
    database = _request_database(datasette, request)
    if is_archive(datasette, database):
        search_api.start_search_facts(datasette, database, request)
    return await TableView.as_view(datasette)(request, None)


@hookimpl
def register_routes():
    # Before datasette's own routes: the search's JSON with its total and next page, and the
    # search page, whose total is started beside its results.
    return [
        (r"/(?P<database>[^\/\.]+)/(?P<table>search)\.(?P<format>json)$", search_json_route),
        (r"/(?P<database>[^\/\.]+)/(?P<table>search)$", search_page_route),
    ]


def _request_database(datasette, request) -> str | None:
    """Name of the database a request's URL is about, if any."""
    route = request.url_vars.get("database")
    if not route:
        return None
    route = tilde_decode(route)
    for name, db in datasette.databases.items():
        if db.route == route:
            return name
    return None


def _error_page(datasette, request, status: int, title: str, message: str):
    async def inner():
        if request.path.endswith(".json"):
            return Response.json({"ok": False, "error": message, "status": status}, status=status)
        html = await datasette.render_template(
            "error.html",
            {"ok": False, "error": message, "status": status, "title": title},
            request=request,
        )
        return Response.html(html, status=status)

    return inner


def _empty_feed(request) -> Response:
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(request.url)
    feed.link(href=request.url, rel="self")
    feed.title(request.args.get("_feed_title") or "News archive: no matching articles yet")
    feed.updated(datetime.now(UTC))
    return Response(
        feed.atom_str(pretty=True), content_type="application/xml; charset=utf-8", status=200
    )


@hookimpl
def handle_exception(datasette, request, exception):
    if not is_archive(datasette, _request_database(datasette, request)):
        return None
    # datasette-atom fails on a query with no rows (max() of nothing): serve an empty feed.
    atom = request.path.endswith(".atom")
    if atom and isinstance(exception, ValueError) and "empty" in str(exception):
        return _empty_feed(request)
    # The table's ?_search= takes raw FTS5 syntax: explain a syntax error instead of
    # datasette's "Invalid SQL".
    if request.args.get("_search") is not None:
        message = str(getattr(exception, "message", None) or exception)
        reason = describe_fts_error(message, request.args["_search"])
        if reason:
            message = (
                f"Bad search query {request.args['_search']!r}: {reason}. Search words, "
                '"exact phrases", prefix*, AND/OR/NOT and (parentheses).'
            )
            return _error_page(datasette, request, 400, "Search query error", message)
    return None
