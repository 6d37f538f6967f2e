"""HTML of archive values for the plugin's pages and table cells: dates people can read, a
crawl run's JSON counts as small tables, an article's markdown body. Everything from the
archive is escaped: archived text is untrusted."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

import markupsafe


def article_html(markdown: str | None) -> markupsafe.Markup:
    """An article's markdown body (headings, lists, block quotes, tables) as HTML. Archived
    text is untrusted: raw HTML in it is escaped, never passed through, and links and images
    stay text."""
    return markupsafe.Markup(_markdown_renderer().render(markdown or ""))


@functools.cache
def _markdown_renderer():
    from markdown_it import MarkdownIt

    renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    return renderer.disable(["link", "image", "autolink", "html_block", "html_inline"])


def json_objects(value: str | None) -> list[dict]:
    """A JSON list of objects (a search result's also_on) as dicts; [] when empty or malformed."""
    try:
        items = json.loads(value or "[]")
    except (TypeError, ValueError):
        return []
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def human_date(value: str | None, short: bool = False) -> markupsafe.Markup | str:
    """An ISO 8601 date or time as `<time datetime="ISO">2 Mar 2025, 08:30 UTC</time>` (just
    the day with `short`): people read the text, machines the attribute. Anything that is not
    an ISO date is returned as it is (escaped by the template)."""
    if not isinstance(value, str) or not value:
        return value or ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    day = f"{moment.day} {moment:%b %Y}"
    text = day
    if not short and len(value) > 10:
        offset = moment.utcoffset()
        zone = " UTC" if offset is None or not offset else f" {moment:%z}"
        text = f"{day}, {moment:%H:%M}{zone}"
    return markupsafe.Markup('<time datetime="{}" title="{}">{}</time>').format(value, value, text)


# The archive's columns holding an ISO date or time (UTC when they have no offset).
DATE_COLUMNS = frozenset(
    {"published", "modified", "first_seen", "last_seen", "last_changed", "started", "ended"}
    | {"fetched_at", "applied_at"}
)
# crawl_runs columns holding counts by kind, JSON {kind: count}.
COUNT_COLUMNS = frozenset({"dropped", "error_kinds", "out_of_scope", "warnings"})
RUN_JSON_COLUMNS = frozenset({"per_source", "targets", "stats"})


def _small_table(headers: list[str], rows: list[list[Any]], css: str) -> markupsafe.Markup:
    head = "".join(str(markupsafe.Markup("<th>{}</th>").format(h)) for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            str(markupsafe.Markup('<td class="num">{:,}</td>').format(cell))
            if isinstance(cell, int | float) and not isinstance(cell, bool)
            else str(markupsafe.Markup("<td>{}</td>").format(cell if cell is not None else ""))
            for cell in row
        )
        + "</tr>"
        for row in rows
    )
    return markupsafe.Markup(
        f'<table class="small-table {css}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def run_cell_html(column: str, value: str | None) -> markupsafe.Markup | None:
    """A crawl run's JSON column as a small table: counts by kind ({kind: count}), counts by
    source ({source: {pages, new...}}), targets ([{kind, url, source}]) or Scrapy's stats
    (folded). None when the value is not JSON of that shape."""
    try:
        data = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if column in COUNT_COLUMNS and isinstance(data, dict):
        if not data:
            return markupsafe.Markup('<span class="meta">none</span>')
        items = sorted(data.items(), key=lambda item: (-_number(item[1]), item[0]))
        return _small_table(["kind", "count"], [list(item) for item in items], "counts")
    if column == "per_source" and isinstance(data, dict) and data:
        sources = [(name, c) for name, c in data.items() if isinstance(c, dict)]
        keys = list(dict.fromkeys(key for _, counts in sources for key in counts))
        rows = [[name, *(counts.get(key, 0) for key in keys)] for name, counts in sources]
        return _small_table(["source", *keys], rows, "per-source")
    if column == "targets" and isinstance(data, list) and data:
        rows = [[t.get("source"), t.get("kind"), t.get("url")] for t in data if isinstance(t, dict)]
        table = _small_table(["source", "kind", "url"], rows, "targets")
        return _folded(f"{len(rows)} target{'s' if len(rows) != 1 else ''}", table)
    if column == "stats" and isinstance(data, dict) and data:
        table = _small_table(["stat", "value"], sorted(data.items()), "stats")
        return _folded(f"{len(data)} Scrapy stats", table)
    return None


def _number(value: Any) -> float:
    return value if isinstance(value, int | float) else 0


def _folded(summary: str, table: markupsafe.Markup) -> markupsafe.Markup:
    return markupsafe.Markup("<details><summary>{}</summary>{}</details>").format(summary, table)
