"""Full-text search of the archive: the library behind `newsarchive search` and the search page.

Queries use FTS5 syntax: words (stemmed: "talks" finds "talk"), "exact phrases", prefix*,
AND / OR / NOT and parentheses, title:word. Words with punctuation (covid-19, O'Brien, U.S.)
are quoted for FTS5 by `fts_query` instead of failing.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import markupsafe

from browse.queries import MARK_END, MARK_START, SEARCH_SQL
from crawler.urls import readonly_sqlite_uri

__all__ = [
    "SearchQueryError",
    "count_matches",
    "describe_fts_error",
    "fts_query",
    "register_functions",
    "search",
    "snippet_html",
    "snippet_text",
]

FTS_COLUMNS = ("title", "text")
# A bare word in FTS5: letters, digits, underscore, any non-ASCII character.
_BAREWORD = re.compile(r"[\w\u0080-\U0010ffff]+")
_WORD = re.compile(r'[^\s()"]+')
_NEAR_WORD = re.compile(r'[^\s()",]+')
_OPERATORS = {"AND", "OR", "NOT"}
_QUERY_HELP = 'use words, "exact phrases", prefix*, AND/OR/NOT and (parentheses)'


class SearchQueryError(ValueError):
    """The search query is not valid FTS5 syntax; str() is a one-line explanation."""


def _quote_word(word: str) -> str:
    if word in _OPERATORS:
        return word
    column, colon, rest = word.partition(":")
    if colon and column in FTS_COLUMNS and rest:
        return f"{column}:{_quote_word(rest)}"
    core, star = (word[:-1], "*") if word.endswith("*") and len(word) > 1 else (word, "")
    caret = "^" if core.startswith("^") and len(core) > 1 else ""
    core = core[len(caret) :]
    if _BAREWORD.fullmatch(core):
        return word
    return caret + '"' + core.replace('"', '""') + '"' + star


def fts_query(query: str | None) -> str:
    """Turn a typed query into FTS5 syntax, quoting words that have punctuation in them.

    Phrases, operators, parentheses and a trailing * are kept; an unmatched quote or a
    dangling operator stay as they are, for FTS5 to report. A blank query matches nothing.
    """
    query = (query or "").strip()
    if not query:
        return '""'
    out: list[str] = []
    in_near = False  # inside NEAR( ... ), where "," separates the phrases from the distance
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace() or char in "()" or (in_near and char == ","):
            in_near = in_near and char != ")"
            out.append(char)
            i += 1
        elif char == '"':  # a phrase, up to its closing quote ("" inside is a quote)
            end = i + 1
            while True:
                end = query.find('"', end)
                if end == -1 or not query.startswith('""', end):
                    break
                end += 2
            stop = len(query) if end == -1 else end + 1
            if stop < len(query) and query[stop] == "*":
                stop += 1
            out.append(query[i:stop])
            i = stop
        else:
            match = (_NEAR_WORD if in_near else _WORD).match(query, i)
            assert match is not None
            word = match.group()
            if word == "NEAR" and query.startswith("(", match.end()):
                in_near = True
                out.append(word)
            else:
                out.append(_quote_word(word))
            i = match.end()
    return "".join(out)


def describe_fts_error(message: str, query: str | None = None) -> str | None:
    """A person-readable reason for an SQLite error raised by the FTS5 `query`; None when the
    error is not about the query's syntax."""
    if message.startswith("unterminated string"):
        return 'a double quote (") is not closed'
    if message.startswith("fts5: syntax error near"):
        near = message.removeprefix("fts5: syntax error near").strip()
        if near in ('""', ""):
            if query is not None and query.count("(") > query.count(")"):
                return 'a "(" is not closed'
            return "the query ends too early: AND, OR or NOT needs something after it"
        return f"unexpected {near}"
    if message.startswith("no such column:") and query is not None:
        # FTS5 reads "word:" and "-word" as column filters
        column = message.removeprefix("no such column:").strip()
        if column and column in query:
            return (
                f'"{column}" is read as a column name: put words with - or : in double quotes,'
                ' as in "covid-19"'
            )
        return None
    if message.startswith("unknown special query"):
        return "* must follow a word, as in elect*"
    if message.startswith("fts5:"):
        return message.removeprefix("fts5:").strip()
    return None


def register_functions(conn: sqlite3.Connection) -> None:
    """Add the SQL functions the search SQL needs (`fts_query`) to a connection."""
    conn.create_function("fts_query", 1, fts_query, deterministic=True)


def _connect(db: Any) -> tuple[sqlite3.Connection, bool]:
    if isinstance(db, sqlite3.Connection):
        return db, False
    if hasattr(db, "conn"):  # sqlite_utils.Database
        return db.conn, False
    path = Path(db)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run a crawl first")
    return sqlite3.connect(readonly_sqlite_uri(path), uri=True), True


def snippet_text(snippet: str | None, start: str = "**", end: str = "**") -> str:
    """A search snippet with its matches between `start` and `end` (markdown bold by default)."""
    return (snippet or "").replace(MARK_START, start).replace(MARK_END, end)


def snippet_html(snippet: str | None) -> markupsafe.Markup:
    """A search snippet as safe HTML: the text escaped, its matches in <mark>."""
    escaped = str(markupsafe.escape(snippet or ""))
    return markupsafe.Markup(escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


def search(
    db_path_or_db: str | Path | sqlite3.Connection | Any,
    query: str,
    *,
    limit: int = 10,
    source: str | None = None,
    since: str | None = None,
    until: str | None = None,
    language: str | None = None,
    author: str | None = None,
    highlight: tuple[str, str] = ("**", "**"),
) -> list[dict]:
    """Search the archive's articles; the best matches first (bm25, title matches weigh more).

    `db_path_or_db` is the archive's path (opened read-only), a sqlite3 connection or a
    sqlite_utils Database. Filters: `source` (exact source key), `language`, `author` (exact
    name), `since`/`until` (ISO dates or times; until is inclusive of that day). `limit` is
    capped at 100. Each result is a dict with id, title, source, site_name, published, url,
    snippet (matched words between the `highlight` pair) and rank (bm25: lower is better).

    Raises SearchQueryError when the query is not valid search syntax.
    """
    conn, opened = _connect(db_path_or_db)
    register_functions(conn)
    params = {
        "q": query,
        "limit": limit,
        "sort": "",
        "source": source or "",
        "since": since or "",
        "until": until or "",
        "language": language or "",
        "author": author or "",
    }
    try:
        cursor = conn.execute(SEARCH_SQL, params)
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    except sqlite3.OperationalError as error:
        reason = describe_fts_error(str(error), fts_query(query))
        if reason is None:
            raise
        raise SearchQueryError(f"Bad search query {query!r}: {reason}; {_QUERY_HELP}.") from None
    finally:
        if opened:
            conn.close()
    for row in rows:
        row["snippet"] = snippet_text(row["snippet"], *highlight)
    return rows


# Filters of `count_matches` as SQL on `articles a`, each used only when given, so SQLite can
# read the matching index (language, source or publication date) instead of every match's row.
_COUNT_FILTERS = {
    "source": "a.source = :source",
    "language": "a.language = :language",
    "author": "a.id in (select article_id from article_authors where author = :author)",
    "since": "a.published >= :since",
    "until": "a.published <= :until || '~'",
}


def count_matches(
    db_path_or_db: str | Path | sqlite3.Connection | Any, query: str, **filters: str | None
) -> int:
    """How many articles match `query` with the filters of `search` (source, language, author,
    since, until): the exact total, counted from the full-text index alone when there are no
    filters, else from it and the filter's index.

    Raises SearchQueryError when the query is not valid search syntax."""
    unknown = set(filters) - set(_COUNT_FILTERS)
    if unknown:
        raise TypeError(f"unknown filters: {', '.join(sorted(unknown))}")
    active = {name: value for name, value in filters.items() if value}
    conn, opened = _connect(db_path_or_db)
    register_functions(conn)
    if active:
        where = " and ".join(_COUNT_FILTERS[name] for name in active)
        # +a.id: walk the filter's index and look each id up among the matches, rather than
        # read the row of every match (a common word matches every article)
        sql = f"""select count(*) from articles a where {where} and +a.id in (
            select rowid from articles_fts where articles_fts match fts_query(:q))"""
    else:
        sql = "select count(*) from articles_fts where articles_fts match fts_query(:q)"
    try:
        return conn.execute(sql, {"q": query, **active}).fetchone()[0]
    except sqlite3.OperationalError as error:
        reason = describe_fts_error(str(error), fts_query(query))
        if reason is None:
            raise
        raise SearchQueryError(f"Bad search query {query!r}: {reason}; {_QUERY_HELP}.") from None
    finally:
        if opened:
            conn.close()
