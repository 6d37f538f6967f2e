"""`newsarchive stats`: the archive at a glance, for an operator."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils


def _json(value: str | None, default: Any) -> Any:
    try:
        return json.loads(value) if value else default
    except ValueError:
        return default


def silent_sources(runs: list[dict[str, Any]], last: int = 3) -> list[dict[str, Any]]:
    """Sources that stored no new or updated article in each of the last `last` runs that
    crawled them (newest runs first): a dead feed or a changed layout."""
    history: dict[str, list[dict[str, int]]] = {}
    for run in runs:
        if run["status"] in ("running", "stalled"):  # still in progress
            continue
        counts = _json(run.get("per_source"), {})
        targeted = {t.get("source") for t in _json(run["targets"], []) if isinstance(t, dict)}
        for name in targeted | set(counts):
            if name and len(history.setdefault(name, [])) < last:
                history[name].append(counts.get(name, {}))
    silent = []
    for name, seen in sorted(history.items()):
        if len(seen) == last and all(c.get("new", 0) + c.get("updated", 0) == 0 for c in seen):
            silent.append(
                {
                    "source": name,
                    "runs": last,
                    "pages": sum(c.get("pages", 0) for c in seen),
                    "errors": sum(c.get("errors", 0) for c in seen),
                    "dropped": sum(c.get("dropped", 0) for c in seen),
                }
            )
    return silent


def archive_stats(db: sqlite_utils.Database, runs: int = 10, silent_after: int = 3) -> dict:
    """Articles per source, the last runs and the sources that went silent."""
    # From the daily_counts summary and indexes: a second at most on a million articles. The
    # changed articles' sources come from article_facts when the archive has it: 40 bytes a
    # row, where a cold read of the articles themselves took half a second on a million.
    narrow = "article_facts" if "article_facts" in db.table_names() else "articles"
    sources = list(
        db.query(
            f"""select d.source, sum(d.articles) as articles,
                      (select max(published) from articles where source = d.source)
                        as newest_published,
                      max(d.newest_first_seen) as newest_archived,
                      coalesce(c.changed, 0) as changed
               from daily_counts d left join (
                 select a.source, count(*) as changed from {narrow} a
                 where a.id in (select article_id from article_versions) group by a.source
               ) c on c.source = d.source
               where d.articles > 0
               group by d.source having sum(d.articles) > 0 order by articles desc"""
        )
    )
    recent = list(db.query("select * from crawl_runs order by id desc limit ?", [max(runs, 20)]))
    totals = db.execute(
        "select coalesce(sum(articles), 0), coalesce(sum(words), 0) from daily_counts"
    ).fetchone()
    return {
        "articles": totals[0],
        "words": totals[1],
        "versions": db.execute("select count(*) from article_versions").fetchone()[0],
        "sources": sources,
        "runs": [
            {
                key: run[key]
                for key in (
                    "id",
                    "started",
                    "ended",
                    "status",
                    "pages_fetched",
                    "articles_new",
                    "articles_updated",
                    "articles_unchanged",
                    "pages_dropped",
                    "errors",
                )
            }
            | {
                column: _json(run.get(column), {})
                for column in ("error_kinds", "dropped", "out_of_scope", "warnings")
            }
            for run in recent[:runs]
        ],
        "silent_sources": silent_sources(recent, silent_after),
    }


def format_stats(stats: dict) -> str:
    """The stats as a few plain-text tables."""
    lines = [
        f"{stats['articles']} articles ({stats['words']:,} words), "
        f"{stats['versions']} earlier versions kept",
        "",
        f"{'source':<24}{'articles':>9}  {'newest published':<22}{'last archived':<22}",
    ]
    for row in stats["sources"]:
        lines.append(
            f"{row['source'] or '?':<24}{row['articles']:>9}  "
            f"{(row['newest_published'] or '-')[:19]:<22}{(row['newest_archived'] or '-')[:19]:<22}"
        )
    lines += [
        "",
        f"{'run':>5}  {'started':<21}{'status':<12}{'pages':>6}{'new':>6}{'upd':>5}"
        f"{'same':>6}{'drop':>6}{'err':>5}  errors by kind",
    ]
    for run in stats["runs"]:
        kinds = ", ".join(f"{k} {v}" for k, v in run["error_kinds"].items())
        for label in ("out_of_scope", "warnings"):
            if run[label]:
                counts = ", ".join(f"{k} {v}" for k, v in run[label].items())
                kinds += f"{'; ' if kinds else ''}{label.replace('_', ' ')}: {counts}"
        lines.append(
            f"{run['id']:>5}  {(run['started'] or '')[:19]:<21}{run['status'] or '':<12}"
            f"{run['pages_fetched'] or 0:>6}{run['articles_new'] or 0:>6}"
            f"{run['articles_updated'] or 0:>5}{run['articles_unchanged'] or 0:>6}"
            f"{run['pages_dropped'] or 0:>6}{run['errors'] or 0:>5}  {kinds}"
        )
    silent = stats["silent_sources"]
    lines.append("")
    if silent:
        lines.append("Sources with nothing new in their last runs (dead feed? changed layout?):")
        for row in silent:
            lines.append(
                f"  {row['source']}: last {row['runs']} runs fetched {row['pages']} pages, "
                f"{row['errors']} errors, {row['dropped']} dropped"
            )
    else:
        lines.append("Every source stored something new in its last runs.")
    return "\n".join(lines)
