"""The SQL of the archive's canned queries, each defined once.

Datasette serves these as canned queries (see `canned_queries`); `browse.search` and the home
page run the same text. Parameters missing from a request are '' (datasette's rule for canned
queries), so every optional filter reads `(:x = '' or ...)`.

Search needs the `fts_query(q)` SQL function (`browse.search.fts_query`), which datasette's
connections and `browse.search` register: it turns what a person types into FTS5 syntax.
"""

from __future__ import annotations

# Ranking by bm25 costs about 1 µs per match, and a word found in every article of a
# 100,000-article archive has 100,000 matches. So a query with more matches than RANK_WINDOW is
# ranked among RANK_WINDOW of them: its newest (article ids follow crawl order), or with an
# `until` date the earliest in the date range. The other matches come after those, ranked
# too: a page past the window's matches (or one the filters leave short) ranks them.
RANK_WINDOW = 5_000

# snippet() wraps matched words in these private-use characters; browse.search and the HTML
# rendering turn them into markup after escaping the text (the text itself is never HTML).
MARK_START, MARK_END = "\ue000", "\ue001"

# Title matches weigh five times a match in the body.
RANK_FUNCTION = "bm25(5.0, 1.0)"

# Result count: ?limit=, 20 by default, at most 100.
LIMIT = "min(max(coalesce(cast(nullif(:limit, '') as integer), 20), 1), 100)"
# A page of search results: ?limit= (at most MAX_PAGE on the web) from ?offset= on.
MAX_PAGE = 100
DEFAULT_PAGE = 20
OFFSET = "max(coalesce(cast(nullif(:offset, '') as integer), 0), 0)"


def _page_limit(cap: int | None) -> str:
    count = f"coalesce(cast(nullif(:limit, '') as integer), {DEFAULT_PAGE})"
    return f"min(max({count}, 1), {cap})" if cap else f"max({count}, 1)"


# until is inclusive: "2025-03-02" takes in any time that day.
FILTERS = """(:source = '' or a.source = :source)
    and (:language = '' or a.language = :language)
    and (:author = '' or a.id in (select article_id from article_authors where author = :author))
    and (:since = '' or a.published >= :since)
    and (:until = '' or a.published <= :until || '~')"""

# Each filter's condition alone: the totals' SQL (run from Python, not a canned query) holds
# only those of the filters that are set, so a match is not tested against the others (on
# 100,000 articles, testing all five cost 45 ns a match: 4.5 ms of a 19 ms total of `the`).
FILTER_CONDITIONS = {
    "source": "a.source = :source",
    "language": "a.language = :language",
    "author": "a.id in (select article_id from article_authors where author = :author)",
    "since": "a.published >= :since",
    "until": "a.published <= :until || '~'",
}


def set_filters_sql(names: frozenset[str] | None) -> str:
    """FILTERS with the conditions of the filters `names` only (None: FILTERS itself)."""
    if names is None:
        return FILTERS
    return " and ".join(sql for name, sql in FILTER_CONDITIONS.items() if name in names) or "1"


# Copies of one story on several sources (similar_articles) are one result: a match is left
# out when a copy archived before it (a lower id) is a match too; the result lists its copies.
_COPY_FILTERS = FILTERS.replace("a.", "b.")
FOLD_COPIES = f"""and not exists (
      select 1 from similar_articles s cross join articles b on b.id = s.similar_id
      where s.article_id = a.id and s.similar_id < a.id and {_COPY_FILTERS}
        and exists (select 1 from articles_fts f
                    where f.articles_fts match fts_query(:q) and f.rowid = b.id))"""
# The same inside a search (search_ctes): a copy among the RANK_WINDOW newest matches of the
# date range (`recent_matches`, read once) is looked up there, not in the full-text index
# (a lookup per copy costs 0.07 ms on a million articles, 6 ms for a prefix query).
_FOLD_IN_SEARCH = f"""and not exists (
      select 1 from similar_articles s cross join articles b on b.id = s.similar_id
      where s.article_id = a.id and s.similar_id < a.id and {_COPY_FILTERS}
        and case when b.id between (select lo from recent) and (select hi from bounds)
          then b.id in (select id from recent_matches)
          else exists (select 1 from articles_fts f
                       where f.articles_fts match fts_query(:q) and f.rowid = b.id) end)"""
ALSO_ON = """(select json_group_array(json_object('id', b.id, 'source', b.source,
      'site_name', b.site_name, 'url', b.url))
    from similar_articles s join articles b on b.id = s.similar_id
    where s.article_id = a.id)"""

SNIPPET = f"snippet(articles_fts, 1, char({ord(MARK_START)}), char({ord(MARK_END)}), '…', 24)"

# One order for every page: best rank (or newest) first, then newest, then the highest id, so
# that a page of n rows is the first n of a page of more rows. The window's ranked pass sorts
# in this order; the pass over the matches outside it lets FTS5 sort by rank (0.7 times the
# time of SQLite sorting by rank and date there), which orders equal ranks as it likes, so it
# takes TIES rows more than it needs and the page is cut from those in this order. Only a tie
# of more than TIES results with exactly the same score at the end of such a page (as many
# copies of one text would give) could show a result on two pages and skip another.
TIE_BREAK = "a.published desc, a.id desc"
TIES = 100

# One pass over the matches with ids in [lo, hi] (and `extra`) that pass the filters: the best
# by rank or the newest, at most `n`. Each match's filters and date are read from `rows`:
# article_facts where the archive has it (40-odd bytes a row, not the article's text).
# Snippets come later, for the rows of the page only. `run` tells whether the pass runs:
# LIMIT 0 skips it. `part` orders the passes: the window's matches come first.
_RANKED = f"""select * from (
    select a.id, articles_fts.rank as rank, null as snippet, {{part}} as part
    from articles_fts cross join {{rows}} a on a.id = articles_fts.rowid
    where articles_fts match fts_query(:q) and articles_fts.rank match '{RANK_FUNCTION}'
      and articles_fts.rowid between {{lo}} and {{hi}} {{extra}} and {FILTERS} {{fold}}
    order by articles_fts.rank
    limit (case when not (select newest from ordering) and {{run}} then {{n}} + {TIES} else 0 end)
  )"""
# The window's matches with their rank (bm25 of each, read in id order; _WINDOW_PASS sorts
# them): FTS5's own "order by rank" runs the query a second time inside it (a prefix merges
# all its words' lists again), twice the time (`minister` on a million articles 20.9 -> 12.3
# ms, `"interest rates"` 48 -> 27, `inflat*` 41 -> 23). Read only for a best-first search.
# A prefix query's newest matches are ranked as they are found (recent_matches): each of its
# full-text reads merges the lists of all its words (8 ms for `inflat*` on a million
# articles), so a second read costs more than ranking them when it is too common after all.
_PREFIX_RANKED = ":until = '' and :sort != 'newest' and instr(fts_query(:q), '*') > 0"
_WINDOW_RANKED = f"""select id, rank from recent_matches
  where {_PREFIX_RANKED} and not (select newest from ordering)
  union all
  select * from (
    select rowid as id, rank
    from articles_fts
    where articles_fts match fts_query(:q) and articles_fts.rank match '{RANK_FUNCTION}'
      and rowid between (select lo from window) and (select hi from window)
    limit (case when (select newest from ordering) or ({_PREFIX_RANKED}) then 0 else -1 end)
  )"""
# The page's first n candidates among `matches` (window_ranked, or recent_matches newest
# first: no rank) that pass the filters. `run`: 0 skips it.
_WINDOW_PASS = f"""select * from (
    select a.id, {{rank}} as rank, null as snippet, 0 as part
    from {{matches}} w cross join {{rows}} a on a.id = w.id
    where {FILTERS} {{fold}}
    order by {{order}}
    limit (case when {{run}} then {{n}} else 0 end)
  )"""

# Newest first by walking the publication date index and probing the full-text index for each
# article: quick when the matches are many, which is when it runs. With dates, the walk starts
# at the end of the date range (a range of the index: `(:since = '' or ...)` is no range).
_NEWEST_PROBE = f"""select * from (
    select a.id, null as rank, null as snippet, {{part}} as part
    from articles a
    where :since = '' and :until = '' and {FILTERS} {{extra}} {{fold}}
      and exists (select 1 from articles_fts
                  where articles_fts match fts_query(:q) and rowid = a.id)
    order by {TIE_BREAK}
    limit (case when (select newest from ordering) and {{run}} then {{n}} else 0 end)
  )
  union all
  select * from (
    select a.id, null as rank, null as snippet, {{part}} as part
    from articles a
    where (:since != '' or :until != '')
      and a.published >= :since
      and a.published <= (case when :until = '' then '~' else :until || '~' end)
      and {FILTERS} {{extra}} {{fold}}
      and exists (select 1 from articles_fts
                  where articles_fts match fts_query(:q) and rowid = a.id)
    order by {TIE_BREAK}
    limit (case when (select newest from ordering) and {{run}} then {{n}} else 0 end)
  )"""

_RANKED_WINDOW_CUT = (
    "((select lo from window) > (select lo from bounds)"
    " or (select hi from window) < (select hi from bounds))"
)
_NEWEST_WINDOW_CUT = "(select lo from recent) > (select lo from bounds)"
_TOO_FEW = "(select count(*) from pass1) < (select n from opts)"
_REST = "((select n from opts) - (select count(*) from pass1))"
_DATE_RANGE = "published >= :since and published <= :until || '~'"
# The same days in published_days (pipelines/archive/schema.py m015): a published value in
# [since, until] starts with a day in this range, so the ids found hold the range's articles.
_DAY_RANGE = "day >= substr(:since, 1, 10) and day <= substr(:until || '~', 1, 10)"
# A page's snippets come from one cursor over its id range when that range is narrow (reading
# its matches costs less than a lookup per row), else from a lookup per row.
SNIPPET_CURSOR_IDS = 50_000


# A search whose words are in more than half of the articles (and in more than RANK_WINDOW of
# them) cannot be ranked: bm25 gives a word in most documents no weight (FTS5 floors its IDF
# at 1e-6), so every match scores about the same and the order would be noise. Such a search
# is shown newest first, and the page says why (browse.search.too_common_to_rank mirrors this).
# The newest COMMON_PROBE articles are looked at first, so other searches skip the count: a
# CASE, as SQLite evaluates both sides of an AND (the count cost 9 ms on 370,000 articles for
# a word in 40% of them).
COMMON_PROBE = 1_000
# Past COMMON_SPREAD_FROM articles, counting the matches up to half of the archive costs too
# much (500,000 of `the` on a million articles: 40 ms, on every page of such a search): the
# share is read instead from COMMON_RUNS runs of COMMON_RUN_IDS ids spread evenly over the
# ids (a seek each in the full-text index), and more than half of them matching decides.
COMMON_SPREAD_FROM = 40_000
COMMON_RUNS = 20
COMMON_RUN_IDS = 100


def common_run_starts(last_id: int) -> list[int]:
    """The first id of each run of the too-common sample (TOO_COMMON) of an archive whose
    highest id is `last_id`: the middle of each of COMMON_RUNS equal parts, less half a run."""
    return [
        (2 * k + 1) * last_id // (2 * COMMON_RUNS) - COMMON_RUN_IDS // 2 for k in range(COMMON_RUNS)
    ]


_LAST_ID = "(select coalesce(max(id), 0) from articles)"
_HALF = f"(select max({RANK_WINDOW}, coalesce(max(id), 0) / 2) from articles)"
# One full-text cursor per run, from a list of the runs: the search SQL is prepared on every
# new connection, and twenty subqueries here doubled its preparing (53 -> 108 ms).
_RUN_MIDDLES = ", ".join(f"({2 * k + 1})" for k in range(COMMON_RUNS))
_RUN_MIDDLE = f"(select max(id) from articles) * runs.k / {2 * COMMON_RUNS}"
_SPREAD_RUNS = f"""(with runs (k) as (values {_RUN_MIDDLES})
    select count(*) from runs cross join articles_fts
    where articles_fts match fts_query(:q)
      and articles_fts.rowid between {_RUN_MIDDLE} - {COMMON_RUN_IDS // 2}
        and {_RUN_MIDDLE} + {COMMON_RUN_IDS // 2 - 1})"""
# The matches among the newest COMMON_PROBE articles: of an undated search, read from its
# RANK_WINDOW newest matches (search_ctes' recent_matches holds them all), which saves a
# full-text cursor (for a prefix query, a merge of all its words' lists: 8 ms on a million).
_NEWEST_PROBE_COUNT = f"""(case when :since = '' and :until = ''
    then (select count(*) from recent_matches where id > {_LAST_ID} - {COMMON_PROBE})
    else (select count(*) from articles_fts
      where articles_fts match fts_query(:q)
        and rowid > {_LAST_ID} - {COMMON_PROBE}) end)"""
TOO_COMMON = f"""(case when {_NEWEST_PROBE_COUNT} * 2 > {COMMON_PROBE}
  then (case when {_LAST_ID} > {COMMON_SPREAD_FROM}
    then {_SPREAD_RUNS} * 2 > {COMMON_RUNS * COMMON_RUN_IDS}
    else (select count(*) from (select 1 from articles_fts where articles_fts match fts_query(:q)
       limit {_HALF} + 1)) > {_HALF} end)
  else 0 end)"""


def search_ctes(
    *, cap: int | None = MAX_PAGE, fold_copies: bool = False, days: bool = False
) -> str:
    """The CTEs of a search: `page` holds one page of hits (id, rank, snippet, part), best first
    (or newest first with sort=newest, or when the words are too common to rank: TOO_COMMON).
    Parameters: q, source, language, author, since, until, sort, limit (at most `cap`),
    offset. With `fold_copies` (an archive with similar_articles),
    copies of a story on several sources are one hit. With `days` (an archive with the
    published_days table) the id range of a date range is read from there: a few hundred rows
    instead of every article in the range (39 ms for eight months of 370,000 articles), and
    each match's filters and date from article_facts instead of the article's wide row."""
    # article_facts came before published_days (m012, m015): an archive with one has both
    rows = "article_facts" if days else "articles"
    fold = _FOLD_IN_SEARCH.replace("join articles b", f"join {rows} b") if fold_copies else ""
    window_pass = {"fold": fold, "rows": rows}
    if days:
        lo = f"(select min(first_id) from published_days where {_DAY_RANGE})"
        hi = f"(select max(last_id) from published_days where {_DAY_RANGE})"
    else:
        lo = f"(select min(id) from articles where {_DATE_RANGE})"
        hi = f"(select max(id) from articles where {_DATE_RANGE})"
    return f"""with
-- the id range holding the articles published in [since, until]
bounds as (
  select
    case when :since = '' and :until = '' then 0 else {lo} end as lo,
    case when :since = '' and :until = '' then (select max(id) from articles) else {hi} end as hi
),
-- the {RANK_WINDOW:,} newest matches in that range: one full-text cursor, read in id order
recent_matches as materialized (
  select rowid as id, case when {_PREFIX_RANKED} then rank end as rank from articles_fts
  where articles_fts match fts_query(:q) and articles_fts.rank match '{RANK_FUNCTION}'
    and rowid between (select lo from bounds) and (select hi from bounds)
  order by rowid desc limit {RANK_WINDOW}
),
opts as (
  select {_page_limit(cap)} as lim, {OFFSET} as skip, {_page_limit(cap)} + {OFFSET} as n
),
-- newest first? (apart from the page's numbers: SQLite plans a CTE again where it is read,
-- and this one costs the most to plan)
ordering as materialized (
  select :sort = 'newest' or {TOO_COMMON} as newest
),
recent as materialized (
  select case when (select count(*) from recent_matches) >= {RANK_WINDOW}
    then (select min(id) from recent_matches) else (select lo from bounds) end as lo
),
-- ranked first: those newest matches or, with an until date, the earliest (backfilled old
-- stories get new ids, so the articles of a past date range are packed at the low end of its
-- id range)
window as materialized (
  select
    case when :until = '' then (select lo from recent) else (select lo from bounds) end as lo,
    case when :until = '' then (select hi from bounds) else coalesce(
      (select rowid from articles_fts
       where articles_fts match fts_query(:q)
         and rowid between (select lo from bounds) and (select hi from bounds)
       order by rowid limit 1 offset {RANK_WINDOW - 1}),
      (select hi from bounds)) end as hi
),
window_ranked as materialized (
  {_WINDOW_RANKED}
),
-- (the newest-first pass first: after the ranked one, SQLite built a Bloom filter over all of
-- article_facts for it, 60 ms on a million articles)
pass1 as materialized (
  {
        _WINDOW_PASS.format(
            matches="recent_matches",
            rank="null",
            order=TIE_BREAK,
            run="(select newest from ordering)",
            n="(select n from opts)",
            **window_pass,
        )
    }
  union all
  {
        _WINDOW_PASS.format(
            matches="window_ranked",
            rank="w.rank",
            order=f"w.rank, {TIE_BREAK}",
            run="not (select newest from ordering)",
            n="(select n from opts)",
            **window_pass,
        )
    }
),
-- the matches outside the window, after those in it, when the window holds too few for the
-- page: the order of the results stays the same from page to page
pass2 as materialized (
  {
        _RANKED.format(
            lo="(select lo from bounds)",
            hi="(select hi from bounds)",
            extra="and articles_fts.rowid not between (select lo from window)"
            " and (select hi from window)",
            fold=fold,
            run=f"{_RANKED_WINDOW_CUT} and {_TOO_FEW}",
            n=_REST,
            part="1",
            rows=rows,
        )
    }
  union all
  {
        _NEWEST_PROBE.format(
            extra="and a.id < (select lo from recent)",
            fold=fold,
            run=f"{_NEWEST_WINDOW_CUT} and {_TOO_FEW}",
            n=_REST,
            part="1",
            rows=rows,
        )
    }
),
page as materialized (
  select hits.* from (select * from pass1 union all select * from pass2) hits
    join {rows} a on a.id = hits.id
  order by hits.part, hits.rank, {TIE_BREAK}
  limit (select lim from opts) offset (select skip from opts)
),
page_span as materialized (
  select min(id) as lo, max(id) as hi, max(id) - min(id) <= {SNIPPET_CURSOR_IDS} as one_cursor
  from page
),
-- snippets of a page whose ids are close together, from one FTS cursor over their id range
late_snippets as materialized (
  select articles_fts.rowid as id, {SNIPPET} as snippet
  from page_span cross join articles_fts
  where page_span.one_cursor and articles_fts match fts_query(:q)
    and articles_fts.rowid between page_span.lo and page_span.hi
    and +articles_fts.rowid in (select id from page)
)"""


# Snippets of the page's rows: from one FTS cursor over their id range (late_snippets) when
# the ids are close together (newest-first pages, ranked pages within the window), else one
# lookup per row (a page spread over the archive: a date range's late-found articles). A lookup
# for a prefix query costs milliseconds on a million articles: 20 of them took 120 ms.
# The CTEs are joined, each once: SQLite plans a CTE again for every subquery that reads it
# (4-6 ms for `page`): the search took 75 ms to prepare, now 37 (once per connection).
_HIT_SNIPPET = f"""coalesce(s.snippet, case when not page_span.one_cursor
    then (select {SNIPPET} from articles_fts
          where articles_fts match fts_query(:q) and rowid = page.id) end)"""
_HIT_FROM = """from page cross join page_span join articles a on a.id = page.id
  left join late_snippets s on s.id = page.id"""


def search_sql(*, cap: int | None = MAX_PAGE, fold_copies: bool = False, days: bool = False) -> str:
    """Full-text search: one page of hits with id, title, source, site_name, published, url,
    snippet, rank and (with `fold_copies`) also_on, a JSON list of the story's copies."""
    also_on = f",\n  {ALSO_ON} as also_on" if fold_copies else ""
    return f"""{search_ctes(cap=cap, fold_copies=fold_copies, days=days)}
select a.id, a.title, a.source, a.site_name, a.published, a.url, {_HIT_SNIPPET} as snippet,
  page.rank{also_on}
{_HIT_FROM}
order by page.part, page.rank, {TIE_BREAK}"""


def window_cut_sql(*, days: bool = False) -> str:
    """Whether a best-first search ranks only the RANK_WINDOW newest matches (earliest with an
    until date) of its date range before the others: `cut`."""
    return f"""{search_ctes(days=days)}
select {_RANKED_WINDOW_CUT} as cut"""


_NO_FILTERS = ":source = '' and :language = '' and :author = '' and :since = '' and :until = ''"


def _fold_paired(kept: str, newest: bool = False) -> str:
    """The end of an exact count whose CTE `m` holds `matches`, the `kept` column and the
    `paired_ids` of the kept matches with a copy: `matches`, and `total`, the kept ones less
    those with a copy archived before them among the paired (and m's `newest`)."""
    newer = "(select newest from m) as newest, " if newest else ""
    return f"""paired as materialized (
  select value as id from m, json_each(m.paired_ids)
)
select {newer}(select matches from m) as matches, (select {kept} from m) - (
  select count(*) from paired p where exists (
    select 1 from similar_articles s
    where s.article_id = p.id and s.similar_id < p.id
      and s.similar_id in (select id from paired))) as total"""


def search_count_sql(
    *,
    fold_copies: bool = False,
    facts: bool = True,
    filters: frozenset[str] | None = None,
    dense: bool = False,
    newest: bool = False,
) -> str:
    """The number of results of a search (what `search_sql` pages through): `total`. Without
    filters it reads the full-text index only; copies of a story are counted once. `filters`:
    the names of the filters that are set (None: any may be; see set_filters_sql).
    `newest`: in the same pass, of an archive with copies and `facts`, also `newest`: the
    matches with ids above :after (what the too-common check reads first; a prefix query's
    full-text cursor costs a merge of all its words' lists, 8 ms on a million articles).

    With `facts` (an archive with the article_facts table) it also gives `matches` (the
    articles with the words), each match's filters are read from that narrow table, and
    copies are folded by pairing the matches that have a copy among themselves (no full-text
    lookup per copy): about 0.1 µs a match instead of 0.5-1."""
    rows = "article_facts" if facts else "articles"
    where = set_filters_sql(filters)
    unfiltered = _NO_FILTERS if filters is None else ("0" if filters else "1")
    matched = f"""articles_fts cross join {rows} a on a.id = articles_fts.rowid
  where articles_fts match fts_query(:q) and {where}"""
    total = f"""(case when {unfiltered}
  then (select count(*) from articles_fts where articles_fts match fts_query(:q))
  else (select count(*) from {matched}) end)"""
    if not fold_copies:
        return f"select {total} as total"
    if not facts:  # matches with a copy archived before them that is a match too
        return f"""select {total} - (
  select count(distinct a.id)
  from articles_fts cross join similar_articles s on s.article_id = articles_fts.rowid
    cross join articles a on a.id = s.article_id cross join articles b on b.id = s.similar_id
  where articles_fts match fts_query(:q) and s.similar_id < s.article_id
    and {where} and {where.replace("a.", "b.")}
    and exists (select 1 from articles_fts f
                where f.articles_fts match fts_query(:q) and f.rowid = b.id)) as total"""
    newer = ",\n    count(*) filter (where articles_fts.rowid > :after) as newest" if newest else ""
    if filters is not None and not filters and not dense:
        # No filters: the matches are read from the full-text index alone, and those with a
        # copy found by probing similar_articles' primary key, not by looking each match up
        # in article_facts (police on 60,000 articles: 9.2 -> 3.1 ms). Unless they are
        # `dense` (in more than half of the articles): then article_facts is read nearly in
        # order, which costs less than the probes (`the` on 100,000: 12.0 ms, 14.9 probing).
        return f"""with m as materialized (
  select count(*) as matches, json_group_array(rowid)
      filter (where rowid in (select article_id from similar_articles)) as paired_ids{newer}
  from articles_fts where articles_fts match fts_query(:q)
),
""" + _fold_paired("matches", newest)
    # One pass over the matches (each a full-text scan: two or three passes cost 6-11 ms more
    # each on 500,000 articles, a phrase the most): how many have the words (`matches`), how
    # many of them pass the filters, and the ids of these that have a copy. One of those is
    # left out when a copy archived before it is among them.
    return f"""with m as materialized (
  select count(*) as matches, coalesce(sum({where}), 0) as kept,
    json_group_array(a.id) filter (where a.paired and {where}) as paired_ids{newer}
  from articles_fts cross join {rows} a on a.id = articles_fts.rowid
  where articles_fts match fts_query(:q)
),
""" + _fold_paired("kept", newest)


MATCHES_SQL = "select count(*) as matches from articles_fts where articles_fts match fts_query(:q)"

# The matches with ids in the runs :windows (a JSON list of [lo, hi]), a seek each: `n`.
WINDOW_MATCHES_SQL = """with w (lo, hi) as materialized (
  select json_extract(value, '$[0]'), json_extract(value, '$[1]') from json_each(:windows)
)
select count(*) as n from w cross join articles_fts
where articles_fts match fts_query(:q) and articles_fts.rowid between w.lo and w.hi"""


def sample_count_sql(
    *, fold_copies: bool = False, facts: bool = True, filters: frozenset[str] | None = None
) -> str:
    """Of the matches with ids in the windows :windows (a JSON list of [lo, hi] id ranges,
    each read by a seek in the full-text index): `matches`, those that pass the filters
    (`kept`) and the ids of these that have a copy archived before them (`later_copies`,
    comma-separated): the sample of an estimated total (browse.search.search_total). The
    windows are materialized: else SQLite re-checks each match against json_extract() of its
    window (FTS5 does not take over the rowid test), 0.4 µs a match (`the` on 100,000 articles,
    20 windows: 9.6 -> 1.5 ms)."""
    rows = "article_facts" if facts else "articles"
    where = set_filters_sql(filters)
    later = "0"
    if fold_copies:
        paired = "a.paired and " if facts else ""
        later = f"""{paired}exists (select 1 from similar_articles s
                           where s.article_id = a.id and s.similar_id < a.id)"""
    return f"""with w (lo, hi) as materialized (
  select json_extract(value, '$[0]'), json_extract(value, '$[1]') from json_each(:windows)
)
select count(*) as matches,
  coalesce(sum(case when {where} then 1 else 0 end), 0) as kept,
  group_concat(case when {where} and {later} then a.id end) as later_copies
from w cross join articles_fts cross join {rows} a on a.id = articles_fts.rowid
where articles_fts match fts_query(:q) and articles_fts.rowid between w.lo and w.hi"""


def filtered_ids_sql(filters: dict[str, str]) -> str:
    """The ids of the articles that pass the filters set in `filters` (source, language,
    author, since, until), in id order: only the conditions of the filters that are set, so
    SQLite reads them from the covering indexes and article_authors."""
    where = set_filters_sql(frozenset(name for name in FILTER_CONDITIONS if filters.get(name)))
    return f"select a.id from articles a where {where} order by a.id"


def sampled_matches_sql(*, fold_copies: bool = False, facts: bool = True) -> str:
    """Of the articles :ids (a JSON list of ids that pass the filters), those that match
    (`matched`, one full-text lookup each) and of these the ones that fold into an earlier
    copy (`folded`), as `search_sql` folds them."""
    rows = "article_facts" if facts else "articles"
    folded = "0"
    if fold_copies:
        folded = f"""exists (
      select 1 from similar_articles s cross join {rows} b on b.id = s.similar_id
      where s.article_id = c.id and s.similar_id < c.id and {_COPY_FILTERS}
        and exists (select 1 from articles_fts f
                    where f.articles_fts match fts_query(:q) and f.rowid = b.id))"""
    return f"""select count(*) as matched, coalesce(sum({folded}), 0) as folded
from (select value as id from json_each(:ids)) c
where exists (select 1 from articles_fts
              where articles_fts match fts_query(:q) and articles_fts.rowid = c.id)"""


def folds_sql(*, facts: bool = True) -> str:
    """Whether the result :id (a match with a copy archived before it) folds into an earlier
    result, as `search_sql` folds copies: a copy before it passes the filters and matches
    (`folded`). One full-text lookup: 0.03-0.07 ms on a million articles, 6 for a prefix."""
    rows = "article_facts" if facts else "articles"
    return f"""select exists (
  select 1 from similar_articles s cross join {rows} b on b.id = s.similar_id
  where s.article_id = :id and s.similar_id < :id and {_COPY_FILTERS}
    and exists (select 1 from articles_fts f
                where f.articles_fts match fts_query(:q) and f.rowid = b.id)) as folded"""


SEARCH_SQL = search_sql()

# Columns that make a query's rows an Atom feed (datasette-atom). Text is escaped here, so the
# feed's HTML holds no markup from the archive; matched words of a snippet are in <b>.
_ESCAPED = "replace(replace(replace({x}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
ATOM_COLUMNS = f"""a.url as atom_id,
  coalesce(a.title, a.url) as atom_title,
  coalesce(strftime('%Y-%m-%dT%H:%M:%SZ', a.published),
           strftime('%Y-%m-%dT%H:%M:%SZ', a.first_seen), '1970-01-01T00:00:00Z') as atom_updated,
  a.url as atom_link,
  json_extract(a.authors, '$[0]') as atom_author_name,
  '<p>' || {_ESCAPED.format(x="coalesce(a.site_name, a.source)")} || '</p><p>'
    || replace(replace({_ESCAPED.format(x="{content}")}, char({ord(MARK_START)}), '<b>'),
               char({ord(MARK_END)}), '</b>') || '</p>' as atom_content_html"""


def search_feed_sql(*, fold_copies: bool = False, days: bool = False) -> str:
    """The first page of a search as Atom feed columns (datasette-atom)."""
    return f"""{search_ctes(fold_copies=fold_copies, days=days)}
select {ATOM_COLUMNS.format(content=f"coalesce({_HIT_SNIPPET}, '')")}
{_HIT_FROM}
order by page.part, page.rank, {TIE_BREAK}"""


SEARCH_FEED_SQL = search_feed_sql()

LATEST_SQL = f"""select a.id, a.title, a.source, a.site_name, a.published, a.authors, a.language,
  a.url
from articles a
where {FILTERS}
order by a.published desc
limit {LIMIT}"""

_SUMMARY = "coalesce(a.description, substr(a.text, 1, 500), '')"
ARTICLES_FEED_SQL = f"""select {ATOM_COLUMNS.format(content=_SUMMARY)}
from articles a
where {FILTERS}
order by a.published desc
limit {LIMIT}"""

# Counts from the daily_counts summary (kept by triggers, pipelines/archive/schema.py); first
# and last dates and the site name are index lookups on (source, published) per source.
SOURCES_SQL = """select s.source,
  (select site_name from articles where source = s.source order by published desc limit 1)
    as site_name,
  s.articles,
  (select min(published) from articles where source = s.source) as first_published,
  (select max(published) from articles where source = s.source) as last_published
from (
  select source, sum(articles) as articles from daily_counts group by source
  having sum(articles) > 0
) s
order by s.articles desc"""

# Days counted back from the newest publication date (not from today: an archive can be old);
# dates more than a day in the future are wrong and ignored. Reads the daily_counts summary.
NEWEST_DAY_SQL = """select max(day) as day from daily_counts
  where day != '' and articles > 0 and day <= date('now', '+1 day')"""

ARTICLES_PER_DAY_SQL = f"""with newest as (
  {NEWEST_DAY_SQL}
)
select day, source, articles
from daily_counts
where day >= date((select day from newest), '-' || coalesce(nullif(:days, ''), 60) || ' days')
  and day <= (select day from newest)
  and articles > 0
  and (:source = '' or source = :source)
order by day, source"""

# Authors by number of articles, from the author_counts summary (kept by triggers).
AUTHORS_SQL = f"""select author, articles from author_counts
where articles > 0 and (:author = '' or author like '%' || :author || '%')
order by articles desc, author
limit {LIMIT}"""

RECENT_RUNS_SQL = f"""select id, started, ended, status, finish_reason, spider, pages_fetched,
  articles_new, articles_updated, articles_unchanged, pages_dropped, errors
from crawl_runs
order by id desc
limit {LIMIT}"""

RUNS_WITH_ERRORS_SQL = f"""select id, started, ended, status, finish_reason, spider, errors,
  error_kinds, pages_dropped, dropped
from crawl_runs
where errors > 0 or status in ('failed', 'interrupted')
order by id desc
limit {LIMIT}"""

# Articles with earlier versions, newest change first, read in order from a partial index on
# last_changed (pipelines/archive/schema.py m014): 20 articles, not every version.
CHANGED_ARTICLES_SQL = f"""select a.id, a.title, a.source, a.version,
  (select count(*) from article_versions v where v.article_id = a.id) as earlier_versions,
  (select min(v.first_seen) from article_versions v where v.article_id = a.id) as first_seen,
  a.last_changed, a.url
from articles a
where a.version > 1 and (:source = '' or a.source = :source)
order by a.last_changed desc
limit {LIMIT}"""

SIMILAR_SQL = f"""select s.article_id, a.title, a.source, s.similar_id, b.title as similar_title,
  b.source as similar_source, s.distance
from similar_articles s
  join articles a on a.id = s.article_id
  join articles b on b.id = s.similar_id
where (:id = '' or s.article_id = :id)
order by s.distance, s.article_id
limit {LIMIT}"""

_FILTER_HELP = (
    "Filters: source (exact key), language, author (exact name), since / until "
    "(dates, until inclusive); limit: 20 rows by default, 100 at most."
)


def canned_queries(*, has_similar: bool = False, has_days: bool = False) -> dict[str, dict]:
    """Datasette's canned queries for the archive (all read-only); `has_days`: the archive
    has the published_days table."""
    queries = {
        "search": {
            "sql": search_sql(fold_copies=has_similar, days=has_days),
            "title": "Search articles",
            "description": (
                'Full-text search: words, "exact phrases", prefix*, AND / OR / NOT. Best '
                "matches first (bm25, title matches weigh more), or newest first with "
                "sort=newest. Matched words in the snippet are between U+E000 and U+E001; "
                "also_on lists the copies of the story on other sources. Filters: source "
                "(exact key), language, author (exact name), since / until (dates, until "
                f"inclusive); limit: {DEFAULT_PAGE} results by default, {MAX_PAGE} at most, "
                "from offset on. The JSON API (search.json) gives the total and pages with "
                "next / next_url (?_next=)."
            ),
            "hide_sql": True,
        },
        "search_feed": {
            "sql": search_feed_sql(fold_copies=has_similar, days=has_days),
            "title": "Search results feed",
            "description": "The search as an Atom feed: add .atom to this page's address.",
            "hide_sql": True,
        },
        "latest_articles": {
            "sql": LATEST_SQL,
            "title": "Latest articles",
            "description": f"Newest articles by publication date. {_FILTER_HELP}",
        },
        "articles_feed": {
            "sql": ARTICLES_FEED_SQL,
            "title": "Latest articles feed",
            "description": f"Latest articles as an Atom feed (.atom). {_FILTER_HELP}",
            "hide_sql": True,
        },
        "sources": {"sql": SOURCES_SQL, "title": "Sources", "description": "Articles per source."},
        "articles_per_day": {
            "sql": ARTICLES_PER_DAY_SQL,
            "title": "Articles per day per source",
            "description": "Articles published per day and source over the last `days` days "
            "(60 by default) of the archive.",
        },
        "authors": {
            "sql": AUTHORS_SQL,
            "title": "Authors",
            "description": "Authors by number of articles; `author` filters by part of a name. "
            "The articles table's author facet covers the rows shown; this covers the archive.",
        },
        "recent_runs": {
            "sql": RECENT_RUNS_SQL,
            "title": "Recent crawl runs",
            "description": "The latest crawl runs and what they did.",
        },
        "runs_with_errors": {
            "sql": RUNS_WITH_ERRORS_SQL,
            "title": "Crawl runs with errors",
            "description": "Runs that had errors, failed or were interrupted.",
        },
        "changed_articles": {
            "sql": CHANGED_ARTICLES_SQL,
            "title": "Changed articles",
            "description": "Articles whose text changed after they were first archived, with "
            "how many earlier versions are kept.",
        },
    }
    if has_similar:
        queries["similar_articles"] = {
            "sql": SIMILAR_SQL,
            "title": "Similar articles",
            "description": "Near-duplicate stories across sources (lower distance: more alike).",
        }
    return queries
