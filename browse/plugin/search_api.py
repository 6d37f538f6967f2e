"""The search page's total and pages, and the search's JSON API with datasette's paging keys
(`next`, `next_url`, `?_next=`), for an archive database of the plugin."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from datasette.utils import path_with_replaced_args, sqlite_timelimit
from datasette.utils.asgi import Response

from browse.queries import DEFAULT_PAGE, MAX_PAGE, search_sql
from browse.search import (
    Order,
    SearchQueryError,
    Total,
    describe_fts_error,
    fts_query,
    search_order,
    search_total,
)

SEARCH_PARAMS = ("q", "source", "language", "author", "since", "until", "sort")


def _page_bounds(args) -> tuple[int, int]:
    """The page size and offset a search request asks for (as the search SQL reads them)."""

    def number(name: str, default: int) -> int:
        try:
            return int(args.get(name) or default)
        except ValueError:
            return default

    return min(max(number("limit", DEFAULT_PAGE), 1), MAX_PAGE), max(number("offset", 0), 0)


async def search_facts(datasette, database: str, args) -> tuple[Total | None, Order | None]:
    """The number of results of a search (exact, or estimated from a sample on searches of
    words found in most of a large archive: browse.search.search_total) and how they are
    ordered; (None, None) when finding out overran the SQL time limit (a query of many
    prefixes, say). Raises SearchQueryError for a query that is not valid search syntax."""
    filters = {name: args.get(name) or "" for name in SEARCH_PARAMS if name not in ("q", "sort")}
    query, sort = args.get("q") or "", args.get("sort") or ""

    def facts(conn) -> tuple[Total | None, Order | None]:
        try:
            with sqlite_timelimit(conn, datasette.setting("sql_time_limit_ms")):
                total = search_total(conn, query, **filters)
                return total, search_order(
                    conn, query, total.matches, sort, total.newest, **filters
                )
        except sqlite3.OperationalError as error:
            if "interrupted" not in str(error):
                raise
            return None, None

    return await datasette.get_database(database).execute_fn(facts)


# The search page's facts are found out beside its results (two of datasette's SQL threads at
# once): the page takes about the longer of the two instead of their sum (`"interest rates"`
# on a million articles: 130 -> 54 ms, median).
_STARTED_FACTS = "newsarchive.search_facts"


def start_search_facts(datasette, database: str, request) -> None:
    """Start finding out the total and order of the search page's query (search_facts) while
    datasette runs its results; search_paging takes them from the request."""
    if not (request.args.get("q") or "").strip():
        return
    task = asyncio.ensure_future(search_facts(datasette, database, request.args))
    # a page that fails before it shows them leaves their error unread: read it here
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    request.scope[_STARTED_FACTS] = task


# Datasette's table search collects every article with the words before filtering, sorting or
# counting (about 0.4 µs each, again for each count and facet): the search page links the
# table's light view (one pass, no counts or facets) up to TABLE_MAX_MATCHES articles with the
# words, the view with counts and facets of a dated search up to TABLE_FACET_MAX_MATCHES, and
# past that says why there is no link.
TABLE_MAX_MATCHES = 100_000
TABLE_FACET_MAX_MATCHES = 25_000


def table_view(matches: int, dated: bool) -> str | None:
    """Which view of the articles table the search page links for a search whose words are in
    `matches` articles: "facets" (by date, with counts and facets: a search with dates),
    "light" (newest archived first, neither), or None (none: too many to list quickly)."""
    if matches > TABLE_MAX_MATCHES:
        return None
    return "facets" if dated and matches <= TABLE_FACET_MAX_MATCHES else "light"


def _has_next(total: Total | None, limit: int, offset: int, shown: int) -> bool:
    return offset + limit < total.value if total and total.exact else shown == limit


async def search_paging(datasette, database: str, request, shown: int) -> dict[str, Any]:
    """The number of results of the search page's query (`total`: exact, or `estimate` with
    the `sampled` and `matches` it was made from; `matches_exact` false when those are an
    estimate too), how they are ordered (`order`) and the
    links to the pages before and after this one, which shows `shown` results (the same query
    string, another offset)."""
    nothing = {"total": 0, "estimate": None, "matches": 0, "order": None, "table_view": None}
    if not (request.args.get("q") or "").strip():
        return nothing
    limit, offset = _page_bounds(request.args)
    try:
        started = request.scope.get(_STARTED_FACTS)
        total, order = await (started or search_facts(datasette, database, request.args))
    except SearchQueryError:  # the page shows the query's own error
        return nothing

    def link(start: int) -> str:
        return path_with_replaced_args(request, {"offset": str(start) if start else None})

    has_next = _has_next(total, limit, offset, shown)
    dated = bool(request.args.get("since") or request.args.get("until"))
    return {
        "total": total.value if total and total.exact else None,
        "estimate": None if not total or total.exact else total.value,
        "sampled": total.sampled if total else None,
        "sampled_filtered": bool(total and total.sampled_filtered),
        "matches": total.matches if total else None,
        "matches_exact": bool(total and total.matches_exact),
        "order": order,
        "table_view": table_view(total.matches, dated) if total else None,
        "limit": limit,
        "first": offset + 1,
        "last": offset + shown,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        "next": link(offset + limit) if has_next else None,
    }


def _order_json(order: Order | None) -> str | None:
    """How the results are ordered, in words, for the JSON API (None: not found out in time)."""
    if order is None:
        return None
    if order.too_common:
        return "newest first: the words are in more than half of the articles, too common to rank"
    if order.newest_first:
        return "newest first"
    if order.window:
        return f"best match first among the {order.window:,} newest matches, then the others"
    return "best match first"


async def search_json(
    datasette, request, database: str, has_similar: bool, has_days: bool = False
) -> Response:
    """The search's JSON API (/<database>/search.json) of the archive `database`: datasette's
    JSON for the canned query plus the total and datasette's paging keys (`next`, `next_url`;
    follow ?_next=)."""
    await datasette.ensure_permissions(
        request.actor,
        [("view-query", (database, "search")), ("view-database", database), "view-instance"],
    )
    args = request.args
    limit, offset = _page_bounds(args)
    if args.get("_next"):
        offset = _page_bounds({"offset": args["_next"]})[1]
    params = {name: args.get(name) or "" for name in SEARCH_PARAMS}
    params.update(limit=str(limit), offset=str(offset))
    db = datasette.get_database(database)
    try:
        page = db.execute(search_sql(fold_copies=has_similar, days=has_days), params)
        if params["q"].strip():
            result, (total, order) = await asyncio.gather(
                page, search_facts(datasette, database, args)
            )
        else:
            result = await page
            total, order = Total(0, True, 0), Order(newest_first=params["sort"] == "newest")
    except Exception as error:
        message = str(getattr(error, "message", None) or error)
        reason = describe_fts_error(message, fts_query(params["q"]))
        if reason:
            message = f"Bad search query {params['q']!r}: {reason}"
        return Response.json({"ok": False, "error": message, "status": 400}, status=400)
    rows = [dict(row) for row in result.rows]
    has_next = _has_next(total, limit, offset, len(rows))
    next_token = str(offset + limit) if has_next else None
    next_url = None
    if next_token:
        path = path_with_replaced_args(request, {"_next": next_token, "offset": None})
        next_url = datasette.absolute_url(request, path)
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    shape = args.get("_shape") or "objects"
    if shape == "array":
        return Response.json(rows, headers=headers)
    if shape == "arrays":
        rows = [list(row.values()) for row in rows]
    elif shape != "objects":
        message = f"_shape={shape}: use objects, arrays or array"
        return Response.json({"ok": False, "error": message, "status": 400}, status=400)
    body = {
        "ok": True,
        "database": database,
        "query_name": "search",
        "rows": rows,
        "columns": list(result.columns),
        "total": total.value if total and total.exact else None,
        **(
            {
                "estimated_total": total.value,
                "sampled": total.sampled,
                "sampled_from": "filtered" if total.sampled_filtered else "matches",
            }
            if total and not total.exact
            else {}
        ),
        "matches": total.matches if total else None,
        # past EXACT_MATCHES (browse.search) the matches are estimated with the total
        "matches_exact": total.matches_exact if total else None,
        "order": _order_json(order),
        "offset": offset,
        "next": next_token,
        "next_url": next_url,
        "truncated": False,
    }
    return Response.json(body, headers=headers)
