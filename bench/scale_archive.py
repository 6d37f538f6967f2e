"""A year of synthetic news, written through the archive's own write path.

Crawl runs every 30 minutes over a year; each stores the articles published since the last
one with `store_article` (so the schema, indexes, triggers and migrations are a crawl's), and
re-fetches a few earlier articles: most unchanged, some with a changed text (a new version).
About 100 sources of Zipf-distributed sizes, each with its own authors; 2% of the articles are
wire copies of another source's story (near-duplicate SimHash, linked as similar). Words come
from bench.search's Zipf vocabulary. The SimHash is drawn, not computed (2 ms an article).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.search import FIRST, LAST, TextMaker, _tail_words
from crawler.items import ArticleItem
from crawler.stats import ARTICLES_PREFIX, PAGES
from pipelines.archive.articles import store_article
from pipelines.archive.runs import finish_run, start_run
from pipelines.archive.schema import open_archive
from pipelines.article.fingerprints import content_hash

START = datetime(2024, 11, 1, tzinfo=UTC)
DAYS = 365
RUN_MINUTES = 30
SOURCE_COUNT = 100
WIRE_SHARE = 0.02  # articles that are another source's story with a line added
REFETCH_SHARE = 0.05  # earlier articles fetched again by a run (per new article)
CHANGED_SHARE = 0.4  # of those re-fetches, the share whose text changed (a new version)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def make_sources(rng: random.Random) -> list[tuple[str, str, float, str, list[str]]]:
    """(key, site name, weight, language, authors) of SOURCE_COUNT sources; weights follow
    Zipf's law, so a few big sites publish most articles."""
    names = _tail_words(SOURCE_COUNT, random.Random(3))
    sources = []
    for rank, name in enumerate(names, 1):
        language = "de" if rank % 9 == 0 else "fr" if rank % 13 == 0 else "en"
        people = max(3, 60 // rank + rng.randint(2, 8))
        authors = [f"{rng.choice(FIRST)} {rng.choice(LAST)}-{name[:3]}" for _ in range(people)]
        site = f"The {name.capitalize()} {rng.choice(['Post', 'Herald', 'Times', 'Wire'])}"
        sources.append((f"{name}", site, 1 / rank, language, authors))
    return sources


def _html(title: str, text: str) -> bytes:
    paragraphs = "".join(f"<p>{line}</p>" for line in text.split("\n"))
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{paragraphs}</body>"
        "</html>".encode()
    )


class ArticleMaker:
    """Article items for the synthetic year, in crawl order."""

    def __init__(self, count: int, seed: int = 7, days: int = DAYS) -> None:
        self.count = count
        self.days = days
        self.rng = random.Random(seed)
        self.text = TextMaker(seed)
        self.sources = make_sources(self.rng)
        self.weights = list(itertools.accumulate(s[2] for s in self.sources))
        self.recent: list[ArticleItem] = []  # the last ones made, for copies and re-fetches

    def _simhash(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def item(self, n: int, published: datetime, fetched: datetime) -> ArticleItem:
        """The n-th new article, published at `published`."""
        key, site, _, language, authors = self.rng.choices(self.sources, cum_weights=self.weights)[
            0
        ]
        if self.recent and self.rng.random() < WIRE_SHARE:
            original = self.rng.choice(self.recent[-200:])
            title, text = original.title or "", original.text + "\nReporting by the desk."
            bits = self.rng.sample(range(64), self.rng.randint(1, 3))
            simhash = f"{int(original.simhash or '0', 16) ^ sum(1 << b for b in bits):016x}"
        else:
            title, text = self.text.article()
            simhash = self._simhash()
        url = f"https://{key}.example/news/{published:%Y/%m/%d}/{n}"
        item = ArticleItem(
            url=url,
            source=key,
            text=text,
            title=title,
            authors=self.rng.sample(authors, self.rng.choice((1, 1, 1, 2))),
            published=_stamp(published),
            published_source="page",
            site_name=site,
            description=text[:160],
            language=language,
            word_count=len(text.split()),
            content_hash=content_hash(text),
            simhash=simhash,
            fetched_url=url,
            requested_url=url + "?utm_source=feed",
            fetched_at=_stamp(fetched),
            content_type="text/html; charset=utf-8",
            encoding="utf-8",
            html=_html(title, text),
        )
        self.recent.append(item)
        del self.recent[:-1000]
        return item

    def refetch(self, fetched: datetime) -> ArticleItem | None:
        """An earlier article fetched again: the same text, or (CHANGED_SHARE) a corrected one."""
        if not self.recent:
            return None
        item = self.rng.choice(self.recent)
        if self.rng.random() < CHANGED_SHARE:
            text = item.text + f"\nCorrection ({fetched:%Y-%m-%d %H:%M}): an earlier version erred."
            item = replace(
                item,
                text=text,
                word_count=len(text.split()),
                content_hash=content_hash(text),
                html=_html(item.title or "", text),
            )
        return replace(item, fetched_at=_stamp(fetched))

    def runs(self) -> Iterator[tuple[datetime, list[ArticleItem]]]:
        """(run time, items) of every run of the year: new articles published since the last
        run (ids follow crawl order; 3% are older stories found late) and re-fetches."""
        runs = self.days * 24 * 60 // RUN_MINUTES
        made = 0
        for run in range(runs):
            at = START + timedelta(minutes=RUN_MINUTES * (run + 1))
            due = self.count * (run + 1) // runs - made
            items = []
            for _ in range(due):
                made += 1
                if self.rng.random() < 0.03:
                    published = START + (at - START) * self.rng.random()
                else:
                    published = at - timedelta(seconds=self.rng.randrange(RUN_MINUTES * 60))
                items.append(self.item(made, published, at))
            for _ in range(round(due * REFETCH_SHARE + self.rng.random() - 0.5)):
                if again := self.refetch(at):
                    items.append(again)
            yield at, items


def build_archive(path: Path, count: int, progress=print, days: int = DAYS) -> None:
    """Create the synthetic archive of `count` articles at `path` (written to a temporary file
    first, so an interrupted build is never taken for a finished one)."""
    tmp = path.with_name(path.name + ".building")
    for leftover in path.parent.glob(tmp.name + "*"):
        leftover.unlink()
    db = open_archive(tmp)
    maker = ArticleMaker(count, days=days)
    started = time.perf_counter()
    stored = 0
    next_report = 50_000
    for at, items in maker.runs():
        run_id = start_run(db, "news", [{"kind": "feed", "url": "", "source": "all"}])
        outcomes: dict[str, int] = {}
        now = _stamp(at)
        with db.atomic():
            for item in items:
                outcome = store_article(db, item, run_id, now)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
        stats = {PAGES: len(items), **{ARTICLES_PREFIX + k: v for k, v in outcomes.items()}}
        finish_run(db, run_id, stats, "finished")
        ended = _stamp(at + timedelta(seconds=20 + len(items)))
        with db.atomic():
            db["crawl_runs"].update(run_id, {"started": now, "ended": ended})
        stored += outcomes.get("new", 0)
        if stored >= next_report:
            rate = stored / (time.perf_counter() - started)
            progress(f"  {stored:,} articles ({rate:,.0f}/s)")
            next_report += 50_000
    db.execute("ANALYZE")
    db.conn.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    tmp.rename(path)
