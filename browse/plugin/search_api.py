"""The search page's total and pages, and the search's JSON API with datasette's paging keys
(`next`, `next_url`, `?_next=`), for an archive database of the plugin."""

from __future__ import annotations

from typing import Any

from datasette.utils import path_with_replaced_args
from datasette.utils.asgi import Response

from browse.queries import DEFAULT_PAGE, MAX_PAGE, search_count_sql, search_sql
from browse.search import describe_fts_error, fts_query

SEARCH_PARAMS = ("q", "source", "language", "author", "since", "until", "sort")


def _page_bounds(args) -> tuple[int, int]:
    """The page size and offset a search request asks for (as the search SQL reads them)."""

    def number(name: str, default: int) -> int:
        try:
            return int(args.get(name) or default)
        except ValueError:
            return default

    return min(max(number("limit", DEFAULT_PAGE), 1), MAX_PAGE), max(number("offset", 0), 0)


async def _search_total(datasette, database: str, args, has_similar: bool) -> int | None:
    """The number of results of a search; None when counting them overran the SQL time limit
    (a common word with a filter on a very large archive)."""
    from datasette.database import QueryInterrupted

    params = {name: args.get(name) or "" for name in SEARCH_PARAMS}
    try:
        result = await datasette.get_database(database).execute(
            search_count_sql(fold_copies=has_similar), params
        )
    except QueryInterrupted:
        return None
    return result.first()["total"]


def _has_next(total: int | None, limit: int, offset: int, shown: int) -> bool:
    return offset + limit < total if total is not None else shown == limit


async def search_paging(
    datasette, database: str, request, shown: int, has_similar: bool
) -> dict[str, Any]:
    """The total number of results of the search page's query (None: too many to count in
    time) and the links to the pages before and after this one, which shows `shown` results
    (the same query string, another offset). `has_similar`: the archive links copies."""
    if not (request.args.get("q") or "").strip():
        return {"total": 0}
    limit, offset = _page_bounds(request.args)
    try:
        total = await _search_total(datasette, database, request.args, has_similar)
    except Exception:  # a bad query: the page shows the query's own error
        return {"total": 0}

    def link(start: int) -> str:
        return path_with_replaced_args(request, {"offset": str(start) if start else None})

    has_next = _has_next(total, limit, offset, shown)
    return {
        "total": total,
        "limit": limit,
        "first": offset + 1,
        "last": offset + shown,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        "next": link(offset + limit) if has_next else None,
    }


async def search_json(datasette, request, database: str, has_similar: bool) -> Response:
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
        result = await db.execute(search_sql(fold_copies=has_similar), params)
        total = (
            await _search_total(datasette, database, args, has_similar)
            if params["q"].strip()
            else 0
        )
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
        "total": total,
        "offset": offset,
        "next": next_token,
        "next_url": next_url,
        "truncated": False,
    }
    return Response.json(body, headers=headers)
