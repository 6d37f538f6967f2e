"""Full-text search of the archive: the library behind `newsarchive search` and the search page.

Queries use FTS5 syntax: words (stemmed: "talks" finds "talk"), "exact phrases", prefix*,
AND / OR / NOT and parentheses, title:word. Words with punctuation (covid-19, O'Brien, U.S.)
are quoted for FTS5 by `fts_query` instead of failing.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import markupsafe

from browse.queries import (
    COMMON_PROBE,
    COMMON_RUN_IDS,
    COMMON_RUNS,
    COMMON_SPREAD_FROM,
    MARK_END,
    MARK_START,
    MATCHES_SQL,
    RANK_WINDOW,
    WINDOW_MATCHES_SQL,
    common_run_starts,
    filtered_ids_sql,
    folds_sql,
    sample_count_sql,
    sampled_matches_sql,
    search_count_sql,
    search_sql,
    window_cut_sql,
)
from crawler.urls import readonly_sqlite_uri

__all__ = [
    "SearchQueryError",
    "count_matches",
    "describe_fts_error",
    "fts_query",
    "register_functions",
    "match_count",
    "search",
    "search_order",
    "search_total",
    "snippet_html",
    "too_common_to_rank",
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
    """Add the SQL functions the search SQL needs (`fts_query`) to a connection, unless it
    has them: registering a function makes SQLite prepare every statement of the connection
    again, and the search SQL takes 50 ms to prepare (on every page, when the search's total
    registered it again on datasette's connection)."""
    try:
        conn.execute("select fts_query('')").fetchone()
    except sqlite3.OperationalError:  # no such function
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


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the archive has the table `name` (older archives lack later tables)."""
    sql = "select 1 from sqlite_master where type = 'table' and name = ?"
    return conn.execute(sql, [name]).fetchone() is not None


def has_copies(conn: sqlite3.Connection) -> bool:
    """Whether the archive links copies of a story (its similar_articles table)."""
    return has_table(conn, "similar_articles")


FILTER_NAMES = ("source", "since", "until", "language", "author")


def _params(query: str, filters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"q": query, **{name: filters.get(name) or "" for name in FILTER_NAMES}, **extra}


def _set_filters(params: dict[str, Any]) -> frozenset[str]:
    return frozenset(name for name in FILTER_NAMES if params.get(name))


def count_sql_for(
    conn: sqlite3.Connection,
    params: dict[str, Any] | None = None,
    dense: bool = False,
    newest: bool = False,
) -> str:
    """The count SQL (browse.queries.search_count_sql) for this archive's tables and, given
    the search's `params`, for the filters set in them only; `dense`: the words are likely
    in more than half of the articles; `newest`: also count the matches above :after."""
    return search_count_sql(
        fold_copies=has_copies(conn),
        facts=has_table(conn, "article_facts"),
        filters=None if params is None else _set_filters(params),
        dense=dense,
        newest=newest,
    )


def dict_rows(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> list[dict]:
    """Rows of `sql` with `params` on `conn`, as dicts keyed by column name."""
    cursor = conn.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _run(db: Any, query: str, sql_for, params: dict[str, Any]) -> list[dict]:
    """Rows of the SQL that `sql_for(connection)` gives, with `params`."""
    conn, opened = _connect(db)
    register_functions(conn)
    try:
        return dict_rows(conn, sql_for(conn), params)
    except sqlite3.OperationalError as error:
        reason = describe_fts_error(str(error), fts_query(query))
        if reason is None:
            raise
        raise SearchQueryError(f"Bad search query {query!r}: {reason}; {_QUERY_HELP}.") from None
    finally:
        if opened:
            conn.close()


def search(
    db_path_or_db: str | Path | sqlite3.Connection | Any,
    query: str,
    *,
    limit: int | None = 10,
    offset: int = 0,
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
    name), `since`/`until` (ISO dates or times; until is inclusive of that day). Returns up to
    `limit` results (None: all of them) after the first `offset`; `count_matches` says how
    many there are. Each result is a dict with id, title, source, site_name, published, url,
    snippet (matched words between the `highlight` pair), rank (bm25: lower is better) and,
    when the archive links copies of a story, also_on: the copies on other sources (id,
    source, site_name, url), which are not results of their own.

    Raises SearchQueryError when the query is not valid search syntax.
    """
    filters = {"source": source, "since": since, "until": until}
    filters.update(language=language, author=author)
    everything = sys.maxsize // 4  # SQLite adds the offset to it
    params = _params(
        query, filters, limit=everything if limit is None else limit, offset=offset, sort=""
    )
    rows = _run(
        db_path_or_db,
        query,
        lambda conn: search_sql(
            cap=None, fold_copies=has_copies(conn), days=has_table(conn, "published_days")
        ),
        params,
    )
    for row in rows:
        row["snippet"] = snippet_text(row["snippet"], *highlight)
        if "also_on" in row:
            row["also_on"] = json.loads(row["also_on"] or "[]")
    return rows


def count_matches(
    db_path_or_db: str | Path | sqlite3.Connection | Any, query: str, **filters: Any
) -> int:
    """How many results `search` has for `query` with the same filters (copies of a story
    counted once). Raises SearchQueryError when the query is not valid search syntax."""
    params = _params(query, filters)
    rows = _run(db_path_or_db, query, lambda conn: count_sql_for(conn, params), params)
    return rows[0]["total"]


# Counting every result exactly costs about 0.2 µs a matching article once filters or copies
# are involved (a pass over the matches, each looked up in article_facts): up to EXACT_MATCHES
# matches a total is exact (about 40 ms); past it, on searches of words found in much of a
# large archive, the total and the number of matches themselves are estimated from about
# SAMPLE_MATCHES of them, read in SAMPLE_WINDOWS runs of ids spread evenly over the archive
# (each a seek in the full-text index: the same sample for the same archive, so pages agree),
# and the page says so. A prefix query (word*) is always counted exactly: each seek of its
# sample looks up every word it may be (0.6 ms each on a million articles), which costs more
# than reading its matches (232,774 matches: 86 ms).
EXACT_MATCHES = 200_000
# A phrase's matches cost more to read (the positions of its words are compared in each):
# estimated past this many (`"interest rates"`, 83,000 matches on a million articles).
EXACT_MATCHES_PHRASE = 50_000
SAMPLE_MATCHES = 20_000
SAMPLE_WINDOWS = 200
# An estimate needs this many sampled results (about 10% off at worst, 2 standard errors);
# with fewer (a filter that keeps a small share of the matches) the total is counted exactly.
SAMPLE_MIN_KEPT = 400
# With filters that keep a small share of the matches, this many of the articles they keep are
# looked up among the matches (0.07 ms each on a million articles) instead: 4.5% off at worst.
FILTER_SAMPLE = 500
# Sampled results with an earlier copy checked for folding, one full-text lookup each: copies
# share their words, so the share that folds is near 1 (or 0 when a filter sets the copies
# apart) and a few tell it well enough for a correction of a few percent.
FOLD_CHECKS = 30


@dataclass(frozen=True)
class Total:
    """How many results a search has: `value`, exact or (`exact` false) estimated from
    `sampled` articles: of the `matches` (articles with the words, before filters and the
    folding of copies), or with `sampled_filtered` of the articles that the filters keep.
    `matches` is itself estimated (`matches_exact` false) from the same sample past
    EXACT_MATCHES. `newest`, when the count read it: the matches among the newest
    COMMON_PROBE articles (what search_order looks at first)."""

    value: int
    exact: bool
    matches: int
    sampled: int = 0
    sampled_filtered: bool = False
    matches_exact: bool = True
    newest: int | None = field(default=None, compare=False)


def _windows(last_id: int, matches: int, count: int) -> list[tuple[int, int]]:
    """`count` runs of ids, one in the middle of each of `count` equal parts of 1..last_id,
    together holding about SAMPLE_MATCHES of `matches` spread over the ids."""
    span = max(1, last_id * SAMPLE_MATCHES // max(matches, 1) // count)
    step = last_id / count
    starts = [max(1, int((k + 0.5) * step) - span // 2) for k in range(count)]
    return [(lo, lo + span - 1) for lo in starts]


def _filter_sample(
    conn: sqlite3.Connection,
    query: str,
    params: dict[str, Any],
    matches: int,
    copies: bool,
    facts: bool,
    matches_exact: bool = True,
) -> Total:
    """The total of a search whose filters keep a small share of its many matches: the
    articles that pass the filters (read from their indexes) are counted, and up to
    FILTER_SAMPLE of them, evenly spread, looked up among the matches; exact when they are
    that few."""
    ids = [row[0] for row in conn.execute(filtered_ids_sql(params), params)]
    step = max(1, -(-len(ids) // FILTER_SAMPLE))  # ceiling: at most FILTER_SAMPLE
    sample = ids[step // 2 :: step]
    sql = sampled_matches_sql(fold_copies=copies, facts=facts)
    (row,) = _run(conn, query, lambda _: sql, {**params, "ids": json.dumps(sample)})
    results = row["matched"] - row["folded"]
    if step == 1:
        return Total(results, True, matches, matches_exact=matches_exact)
    value = round(len(ids) * results / len(sample))
    return Total(value, False, matches, len(sample), True, matches_exact)


def _exact(
    conn: sqlite3.Connection,
    query: str,
    params: dict[str, Any],
    dense: bool = False,
    newest_after: int | None = None,
) -> Total:
    """The exact total; with `newest_after` (an id) also the matches above it, when the
    archive's count SQL reads them in its pass (Total.newest)."""
    newest = newest_after is not None
    params = {**params, "after": newest_after} if newest else params
    (row,) = _run(conn, query, lambda _: count_sql_for(conn, params, dense, newest), params)
    matches = row["matches"] if "matches" in row else match_count(conn, query)
    return Total(row["total"], True, matches, newest=row.get("newest"))


def _newest_matches(conn: sqlite3.Connection, query: str, last_id: int) -> int:
    """How many of the newest COMMON_PROBE articles match `query`."""
    sql = (
        "select count(*) as n from articles_fts"
        " where articles_fts match fts_query(:q) and rowid > :after"
    )
    return _run(conn, query, lambda _: sql, {"q": query, "after": last_id - COMMON_PROBE})[0]["n"]


def _likely_matches(conn: sqlite3.Connection, query: str, last_id: int) -> int:
    """About how many articles match `query`, from the newest COMMON_PROBE: what decides
    between counting the results and estimating them (either way says which it is)."""
    return _newest_matches(conn, query, last_id) * last_id // max(1, min(COMMON_PROBE, last_id))


def search_total(
    db_path_or_db: str | Path | sqlite3.Connection | Any, query: str, **filters: Any
) -> Total:
    """The number of results `search` has for `query` with `filters` (as `count_matches`):
    exact up to EXACT_MATCHES articles with the words, else estimated from a sample of about
    SAMPLE_MATCHES of them (the same sample for the same archive, so pages agree). Raises
    SearchQueryError when the query is not valid search syntax."""
    params = _params(query, filters)
    filtered = bool(_set_filters(params))
    conn, opened = _connect(db_path_or_db)
    try:
        return _total(conn, query, params, filtered)
    finally:
        if opened:
            conn.close()


def match_count(db_path_or_db: str | Path | sqlite3.Connection | Any, query: str) -> int:
    """How many articles have the words of `query` (no filters, copies not folded): one pass
    over the full-text index. Raises SearchQueryError for a query that is not valid syntax."""
    return _run(db_path_or_db, query, lambda _: MATCHES_SQL, {"q": query})[0]["matches"]


def _total(conn: sqlite3.Connection, query: str, params: dict[str, Any], filtered: bool) -> Total:
    copies = has_copies(conn)
    if not (filtered or copies):
        matches = match_count(conn, query)
        return Total(matches, True, matches)
    fts = fts_query(query)
    last_id = conn.execute("select coalesce(max(id), 0) from articles").fetchone()[0]
    if "*" in fts:  # a prefix query: counted exactly (see EXACT_MATCHES)
        return _exact(conn, query, params, newest_after=last_id - COMMON_PROBE)
    most = EXACT_MATCHES_PHRASE if '"' in fts else EXACT_MATCHES
    likely = _likely_matches(conn, query, last_id)
    if likely <= most:
        return _exact(conn, query, params, dense=likely * 2 > last_id)
    windows = _windows(last_id, likely, SAMPLE_WINDOWS)
    span = sum(hi - lo + 1 for lo, hi in windows)
    if span >= last_id:  # the sample is everything
        return _exact(conn, query, params, dense=likely * 2 > last_id)
    facts = has_table(conn, "article_facts")
    sample = {**params, "windows": json.dumps(windows)}
    sql = sample_count_sql(fold_copies=copies, facts=facts, filters=_set_filters(params))
    (row,) = _run(conn, query, lambda _: sql, sample)
    sampled, kept = row["matches"], row["kept"]
    # The windows hold `span` of the `last_id` ids: the matches in the archive, estimated
    # from those in the windows, instead of a pass over all of them (30 ms for `the` on a
    # million articles). Fewer than EXACT_MATCHES after all: counted.
    share = last_id / span
    matches = round(sampled * share)
    if matches <= most or not sampled:
        return _exact(conn, query, params, dense=matches * 2 > last_id)
    if kept < SAMPLE_MIN_KEPT:  # the filters keep a small share: sample what they keep
        return _filter_sample(conn, query, params, matches, copies, facts, False)
    later = [int(i) for i in (row["later_copies"] or "").split(",") if i]
    if later:  # the share of those that fold, from a few of them
        checked = sorted(later, key=lambda i: (i * 7919) % 10007)[:FOLD_CHECKS]
        sql = folds_sql(facts=facts)
        folded = sum(
            _run(conn, query, lambda _: sql, {**params, "id": i})[0]["folded"] for i in checked
        )
        kept -= len(later) * folded / len(checked)
    return Total(round(kept * share), False, matches, sampled, matches_exact=False)


@dataclass(frozen=True)
class Order:
    """How a search's results are ordered: `newest_first` (asked for, or `too_common`: the
    words are in more than half of the articles), else best first, with `window` set when only
    the RANK_WINDOW newest matches (earliest with an until date) are ranked before the rest."""

    newest_first: bool
    too_common: bool = False
    window: int | None = None


def too_common_to_rank(
    conn: sqlite3.Connection, query: str, matches: int, newest: int | None = None
) -> bool:
    """Whether a search with `matches` articles matching `query` is shown newest first because
    its words are in more than half of the articles: browse.queries.TOO_COMMON, in Python
    (past COMMON_SPREAD_FROM articles decided from runs of ids, not from `matches`).
    `newest`: the matches among the newest COMMON_PROBE articles, when known (Total.newest)."""
    last_id = conn.execute("select coalesce(max(id), 0) from articles").fetchone()[0]
    spread = last_id > COMMON_SPREAD_FROM
    if not spread and matches <= max(RANK_WINDOW, last_id // 2):
        return False
    if newest is None:
        newest = _newest_matches(conn, query, last_id)
    if newest * 2 <= COMMON_PROBE or not spread:
        return newest * 2 > COMMON_PROBE
    runs = [(lo, lo + COMMON_RUN_IDS - 1) for lo in common_run_starts(last_id)]
    sampled = _run(
        conn, query, lambda _: WINDOW_MATCHES_SQL, {"q": query, "windows": json.dumps(runs)}
    )
    return sampled[0]["n"] * 2 > COMMON_RUNS * COMMON_RUN_IDS


def search_order(
    conn: sqlite3.Connection,
    query: str,
    matches: int,
    sort: str = "",
    newest: int | None = None,
    **filters: Any,
) -> Order:
    """How `search` orders the results of `query` (`matches`: articles with its words, as
    Total.matches; `newest`: Total.newest) with `filters` and `sort` ("newest" or "")."""
    if sort == "newest":
        return Order(newest_first=True)
    if too_common_to_rank(conn, query, matches, newest):
        return Order(newest_first=True, too_common=True)
    if not (filters.get("since") or filters.get("until")):
        # Undated, the window is the RANK_WINDOW newest matches of the whole archive (filters
        # apply within it): it cuts the matches exactly when there are RANK_WINDOW of them or
        # more, which `matches` tells without reading the full-text index again (an estimated
        # `matches` is one past EXACT_MATCHES, far more than RANK_WINDOW).
        return Order(newest_first=False, window=RANK_WINDOW if matches >= RANK_WINDOW else None)
    params = _params(query, filters, sort="", limit="", offset="")
    days = has_table(conn, "published_days")
    cut = _run(conn, query, lambda _: window_cut_sql(days=days), params)[0]["cut"]
    return Order(newest_first=False, window=RANK_WINDOW if cut else None)
