"""Every page of a big archive, timed: a year of news through `newsarchive serve`'s app.

    python -m bench.scale --articles 100000 [--db PATH] [--repeat 5]

Builds once (cached: bench/out/scale-N.db, or --db) an archive of N synthetic articles through
the archive's own write path (bench.scale_archive: a year of crawl runs every 30 minutes, ~100
sources, Zipf words, authors, versions, wire copies), then:

- finds every page a reader reaches from the home page and from search result pages
  (bench.scale_walk: the links of the real pages) and times each kind of page through
  browse.make_datasette's ASGI app, printing median / p95 / max and any error;
- times storing new articles into this archive and into an empty one (`store_article`, the
  crawl's write path; rolled back, the cache stays as built) and `newsarchive stats`;
- prints the archive's size per 1,000 articles.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from bench import remove_articles_after
from bench.scale_walk import Page, discover, page_kind, search_path

OUT = Path(__file__).parent / "out"

# Search pages timed: common words (in most articles), a phrase, a prefix, with filters.
SEARCHES = [
    {"q": "minister"},
    {"q": "the"},
    {"q": "police"},
    {"q": "election"},
    {"q": '"interest rates"'},
    {"q": "inflat*"},
    {"q": "minister", "sort": "newest"},
]
FILTERED_SEARCHES = [
    {"q": "minister", "language": "de"},
    {"q": "police", "since": "2025-09-01"},
    {"q": "the", "since": "2025-01-01", "until": "2025-01-31"},
    {"q": "election", "sort": "newest", "since": "2025-06-01"},
]


def author_searches(db_path: Path) -> list[dict[str, str]]:
    """A common word by the archive's most prolific author."""
    import sqlite3

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        row = conn.execute("select author from author_counts order by articles desc limit 1")
        author = row.fetchone()
    finally:
        conn.close()
    return [{"q": "the", "author": author[0]}] if author else []


def _stats(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, ordered[-1]


def _limit(pages: list[Page], per_kind: int) -> list[Page]:
    """At most `per_kind` pages of each kind (spread over the kind's list)."""
    by_kind: dict[str, list[Page]] = defaultdict(list)
    for page in pages:
        by_kind[page.kind].append(page)
    chosen = []
    for kind_pages in by_kind.values():
        step = max(1, len(kind_pages) // per_kind)
        chosen += kind_pages[::step][:per_kind]
    return chosen


async def time_pages(ds, pages: list[Page], repeat: int) -> dict[str, dict]:
    """{kind: {times, errors, paths}}: each page fetched `repeat` times (the home page's cached
    overview dropped first, so it is timed as a first visit)."""
    from browse.plugin import _cache

    results: dict[str, dict] = defaultdict(lambda: {"times": [], "errors": [], "paths": 0})
    for page in pages:
        results[page.kind]["paths"] += 1
        for _ in range(repeat):
            if page.kind == "home":
                _cache.clear()
            started = time.perf_counter()
            response = await ds.client.get(page.path)
            elapsed = (time.perf_counter() - started) * 1000
            results[page.kind]["times"].append(elapsed)
            if response.status_code != 200:
                results[page.kind]["errors"].append(f"{page.path}: HTTP {response.status_code}")
    return results


def _pages(found: list[Page]) -> list[Page]:
    """The walk's pages plus page 2 of each search (when the page links no next page itself)."""
    pages = list(found)
    if not any(p.kind.startswith("search page 2") for p in pages):
        for params in SEARCHES[:3]:
            path = search_path(**params, _next="20")
            pages.append(Page(page_kind(path), path))
    return pages


async def run_pages(db_path: Path, repeat: int, per_kind: int) -> list[str]:
    from browse import make_datasette

    ds = make_datasette(db_path)
    first_visit: list[str] = []
    searches = SEARCHES + FILTERED_SEARCHES + author_searches(db_path)
    found = await discover(ds.client, searches, first_visit)
    pages = _limit(_pages(found), per_kind)
    await time_pages(ds, pages, 1)  # warm up: page cache, connections, templates
    results = await time_pages(ds, pages, repeat)
    lines = [f"{'page kind':<44}{'pages':>6}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}  errors"]
    everything: list[float] = []
    for kind in sorted(results):
        result = results[kind]
        median, p95, most = _stats(result["times"])
        everything += result["times"]
        errors = f"{len(result['errors'])}: {result['errors'][0]}" if result["errors"] else "0"
        lines.append(
            f"{kind[:43]:<44}{result['paths']:>6}{median:>11.1f}{p95:>9.1f}{most:>9.1f}  {errors}"
        )
    median, p95, most = _stats(everything)
    lines.append(f"{'ALL pages':<44}{len(pages):>6}{median:>11.1f}{p95:>9.1f}{most:>9.1f}")
    if first_visit:
        lines.append(f"first visits that failed: {len(first_visit)} ({first_visit[0]})")
    return lines


def count_times(db_path: Path, repeat: int) -> list[str]:
    """The search pages' totals and order (browse.search.search_total and search_order, what
    the search page and its JSON compute besides the page of results), timed per kind of
    search, with each total and whether it is exact or an estimate."""
    import sqlite3

    from browse.search import register_functions, search_order, search_total

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    register_functions(conn)
    conn.execute("PRAGMA mmap_size = 2147483648")  # as datasette's connections (browse.plugin)
    kinds: dict[str, list[float]] = defaultdict(list)
    totals = []
    try:
        for params in SEARCHES + FILTERED_SEARCHES + author_searches(db_path):
            filters = {k: v for k, v in params.items() if k not in ("q", "sort")}
            kind = "search total, with filters" if filters else "search total"
            for _ in range(repeat):
                started = time.perf_counter()
                total = search_total(conn, params["q"], **filters)
                order = search_order(
                    conn, params["q"], total.matches, params.get("sort", ""), **filters
                )
                kinds[kind].append((time.perf_counter() - started) * 1000)
            how = "" if total.exact else f" (estimated from {total.sampled:,})"
            why = ", too common to rank" if order.too_common else ""
            totals.append(f"{params['q']} {filters or ''}: {total.value:,}{how}{why}")
    finally:
        conn.close()
    lines = []
    for kind, times in kinds.items():
        median, p95, most = _stats(times)
        lines.append(f"{kind:<44}{len(times):>6}{median:>11.1f}{p95:>9.1f}{most:>9.1f}")
    return [*lines, "  totals: " + "; ".join(totals)]


def write_rates(db_path: Path, count: int = 500) -> list[str]:
    """ms per article stored with `store_article` (the crawl's write path, batches of 50) into
    the archive and into an empty one. The articles are deleted again
    afterwards."""
    from bench.scale_archive import START, ArticleMaker, _stamp
    from pipelines.archive.articles import store_article
    from pipelines.archive.schema import open_archive

    # Tomorrow's news: new URLs, dated after the archive's year.
    maker = ArticleMaker(count, seed=99)
    after = START + timedelta(days=400)
    items = [maker.item(n, after + timedelta(minutes=n), after) for n in range(count)]
    now = _stamp(after)

    def per_article(path: Path) -> float:
        db = open_archive(path)
        try:
            before = db.execute("select coalesce(max(id), 0) from articles").fetchone()[0]
            elapsed = 0.0
            for start in range(0, count, 50):
                started = time.process_time()  # CPU time: other jobs on the machine skew wall time
                with db.atomic():
                    for item in items[start : start + 50]:
                        store_article(db, item, None, now)
                elapsed += time.process_time() - started
            remove_articles_after(db, before)
            return elapsed * 1000 / count
        finally:
            db.close()

    empty_times = []
    for _ in range(2):
        scratch = Path(tempfile.mkdtemp(prefix="bench-scale-"))
        try:
            empty_times.append(per_article(scratch / "empty.db"))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    empty = min(empty_times)
    big = min(per_article(db_path) for _ in range(2))
    return [
        f"writes: {big:.2f} ms CPU/article into this archive, {empty:.2f} ms into an empty one "
        f"(best of 2, {count} new articles in batches of 50; ratio {big / empty:.2f})"
    ]


def stats_time(db_path: Path) -> list[str]:
    """Wall time of `newsarchive stats` (the library call the command makes)."""
    from newsarchive.lookup import stats_report

    times = []
    for _ in range(3):
        started = time.perf_counter()
        stats_report(str(db_path), runs=10, silent_after=3)
        times.append((time.perf_counter() - started) * 1000)
    return [f"newsarchive stats: {min(times):.0f} ms best, {max(times):.0f} ms worst of 3"]


def growth(db_path: Path) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        articles = conn.execute("select count(*) from articles").fetchone()[0]
        try:
            rows = conn.execute(
                "select name, sum(pgsize) from dbstat group by name order by 2 desc"
            ).fetchall()
        except sqlite3.Error:
            rows = []
    finally:
        conn.close()
    size = db_path.stat().st_size
    lines = [
        f"archive: {articles:,} articles, {size / 1e6:,.0f} MB, "
        f"{size / articles * 1000 / 1e6:.2f} MB per 1,000 articles"
    ]
    if rows:
        top = ", ".join(f"{name} {pages / 1e6:,.0f} MB" for name, pages in rows[:8])
        lines.append(f"  largest: {top}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000, help="archive size")
    parser.add_argument("--db", type=Path, help="archive file (default bench/out/scale-N.db)")
    parser.add_argument("--repeat", type=int, default=5, help="fetches of each page")
    parser.add_argument("--per-kind", type=int, default=12, help="pages timed per kind")
    parser.add_argument("--pages-only", action="store_true", help="skip writes, stats, size")
    args = parser.parse_args(argv)
    db_path = args.db or OUT / f"scale-{args.articles}.db"
    if not db_path.exists():
        db_path.parent.mkdir(parents=True, exist_ok=True)
        print(f"Building {db_path} ({args.articles:,} synthetic articles, once)...", flush=True)
        started = time.perf_counter()
        from bench.scale_archive import build_archive

        build_archive(db_path, args.articles, progress=lambda s: print(s, flush=True))
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"bench.scale: {db_path}, {os.cpu_count()} CPUs, load before {load}")
    random.seed(1)
    from pipelines.archive.schema import open_archive

    open_archive(db_path).close()  # an archive built by an older version gets its migrations
    lines = asyncio.run(run_pages(db_path, args.repeat, args.per_kind))
    lines += count_times(db_path, args.repeat)
    if not args.pages_only:
        lines += stats_time(db_path) + write_rates(db_path) + growth(db_path)
    lines.append(f"load after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n".join(lines))
    return 1 if any(" errors" not in line and "HTTP" in line for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
