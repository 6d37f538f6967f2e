"""Datasette plugin of the news archive: SQL functions, safe rendering of snippets and raw HTML,
template data (home page, article pages, search form, feeds) and friendly search errors.

Registered by `browse.make_datasette`; it only acts on the archive database.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import markupsafe
from datasette import hookimpl
from datasette.utils.asgi import Response

from browse import DATABASE
from browse.chart import articles_per_day_svg
from browse.queries import (
    ARTICLES_PER_DAY_SQL,
    LATEST_SQL,
    RECENT_RUNS_SQL,
    SOURCES_SQL,
)
from browse.search import describe_fts_error, fts_query, register_functions, snippet_html

NO_FILTERS = {"source": "", "language": "", "author": "", "since": "", "until": ""}


@hookimpl
def prepare_connection(conn):
    register_functions(conn)


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["paragraphs"] = paragraphs
    env.filters["json_list"] = json_list
    env.filters["snippet_html"] = snippet_html
    env.filters["fts_error"] = search_error
    env.filters["safe_url"] = safe_url
    env.globals["table_args"] = table_args
    env.globals["articles_per_day_svg"] = articles_per_day_svg


def search_error(error: object, query: str | None) -> str | None:
    """Why the search page's query failed, for people; None if not a search syntax error."""
    return describe_fts_error(str(error or ""), fts_query(query))


def safe_url(url: str | None) -> str | None:
    """`url` if it is an http(s) URL, else None: archived URLs become links only then."""
    if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
        return url
    return None


def table_args(params: dict[str, str]) -> str:
    """Query string of the articles table showing a search's matches (all of them, newest
    first, with facets) from the search page's parameters."""
    args = {"_search": params.get("q", ""), "_sort_desc": "published"}
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
def render_cell(value, column, table, database):
    if database != DATABASE:
        return None
    if column == "snippet" and isinstance(value, str):
        return snippet_html(value)
    if table == "article_html" and column == "html" and isinstance(value, bytes):
        # The archived page is never served or rendered, not even as a download link.
        return markupsafe.Markup("<em>{:,} bytes of compressed HTML (not shown)</em>").format(
            len(value)
        )
    return None


async def _rows(datasette, sql: str, params: dict[str, Any]) -> list[dict]:
    result = await datasette.get_database(DATABASE).execute(sql, params)
    return [dict(row) for row in result.rows]


async def _table_exists(datasette, table: str) -> bool:
    return await datasette.get_database(DATABASE).table_exists(table)


# Overviews that read whole indexes (tens of ms on 100,000 articles) are kept this long.
CACHE_SECONDS = 60
_cache: dict[tuple[int, str], tuple[float, Any]] = {}


async def _cached(datasette, key: str, compute) -> Any:
    now = time.monotonic()
    hit = _cache.get((id(datasette), key))
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = await compute()
    _cache[(id(datasette), key)] = (now, value)
    return value


def _home(datasette):
    async def overview() -> dict[str, Any]:
        per_day = await _rows(datasette, ARTICLES_PER_DAY_SQL, {"days": "60", "source": ""})
        return {
            "sources": await _rows(datasette, SOURCES_SQL, {}),
            "chart": articles_per_day_svg(per_day),
        }

    async def home() -> dict[str, Any]:
        return {
            **await _cached(datasette, "overview", overview),
            "latest": await _rows(datasette, LATEST_SQL, {**NO_FILTERS, "limit": "10"}),
            "runs": await _rows(datasette, RECENT_RUNS_SQL, {"limit": "5"}),
        }

    return home


def _article_page(datasette, request, table: str):
    async def article() -> dict[str, Any]:
        pk = request.url_vars.get("pks", "")
        db = datasette.get_database(DATABASE)
        extra: dict[str, Any] = {"versions": [], "similar": [], "current": None}
        if table == "articles":
            extra["versions"] = await _rows(
                datasette,
                "select id, version, title, word_count, first_seen, last_seen"
                " from article_versions where article_id = :id order by version desc",
                {"id": pk},
            )
            if await _table_exists(datasette, "similar_articles"):
                extra["similar"] = await _rows(
                    datasette,
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


async def _search_form(datasette) -> dict[str, Any]:
    """The choices of the search form's source and language menus."""
    db = datasette.get_database(DATABASE)
    sources = await db.execute("select distinct source from articles order by source")
    languages = await db.execute(  # no index on language: a full scan, hence the cache
        "select language from articles where language is not null group by language"
        " order by count(*) desc limit 30"
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


def table_feed_url(datasette, args) -> str:
    """The Atom feed following a filtered view of the articles table: the search feed when it
    has ?_search=, else the latest-articles feed."""
    params = {name: args.get(key) for key, name in _FEED_FILTERS.items() if args.get(key)}
    if args.get("_search"):
        params["q"] = args["_search"]
        params["sort"] = "newest"
        query = "search_feed"
    else:
        query = "articles_feed"
    return datasette.urls.path(f"/{DATABASE}/{query}.atom") + "?" + urlencode(params)


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if view_name == "index":
        return {"archive_home": _home(datasette), "archive_name": DATABASE}
    if database != DATABASE:
        return {}
    if view_name == "row" and table in ("articles", "article_versions"):
        return {"article_extra": _article_page(datasette, request, table)}
    if view_name == "table" and table == "articles":
        return {"feed_url": table_feed_url(datasette, request.args)}
    if template == f"query-{DATABASE}-search.html":

        async def search_form():
            return await _cached(datasette, "search_form", lambda: _search_form(datasette))

        return {"search_form": search_form}
    return {}


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
