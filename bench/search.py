"""Search speed over a large synthetic archive, through datasette's JSON API.

    python -m bench.search [--articles 100000] [--queries 40]

Builds (once, cached under bench/out/) an archive of N synthetic articles whose words follow a
Zipf distribution, so common words are really common ("the" is in every article), then runs a
query mix (rare and common words, phrases, prefixes, boolean queries, filters) through the
configured datasette's canned search query with its in-process ASGI client and prints
median / p95 / max per kind of query. Datasette's own table search (`?_search=`) is timed too,
for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

OUT = Path(__file__).parent / "out"


def _words(text: str) -> list[str]:
    return text.split()


# The head of English news text, most frequent first; the tail of the vocabulary is made of
# generated words. Zipf's law then makes "the" appear in every article and most words rare.
HEAD_WORDS = _words("""the of and to a in that is for on said was with he it as at by from his
have be has are an not they who this but had were its their been will after would more
which about one new also year people two than up there she out first over government
when last into could her other percent time all can we years told some minister president
police state after week country what company former him just three officials where
million because being against while city national if our public before under since news
between world back during security court most group day only health since market
election party military report leader new people prices home women children between
economic could rights local support plans war law law families months killed workers
according water deal billion trade foreign european union energy climate power prime
talks ceasefire border troops attack forces peace vote voters campaign parliament
coalition budget tax inflation interest rates bank central economy growth jobs
unemployment strike union protest protesters hospital doctors patients vaccine school
students teachers university research scientists study data technology internet
company companies shares investors stock oil gas prices fuel electricity storm flood
flooding fire wildfire earthquake rescue victims emergency match season team coach
players league final cup goal win victory defeat championship film music festival
artist museum book author award""")

# Topics give articles bursts of related words, so phrase queries find real phrases.
TOPICS = [
    "ceasefire talks|peace deal|border troops|humanitarian aid|hostage release",
    "interest rates|central bank|inflation figures|rate cut|bond yields",
    "climate summit|carbon emissions|renewable energy|heat wave|net zero",
    "prime minister|coalition government|snap election|opposition leader|no confidence",
    "world cup|penalty shootout|transfer window|head coach|league title",
    "oil prices|gas supply|energy bills|price cap|fuel shortage",
    "supreme court|court ruling|appeals court|human rights|death penalty",
    "public health|hospital waiting|vaccine rollout|nurses strike|mental health",
    "artificial intelligence|data breach|social media|tech giants|chip makers",
    "wildfire season|flash floods|storm damage|rescue teams|power outages",
]

SOURCES = [  # (source key, site name, weight, language)
    ("dailyherald", "The Daily Herald", 30, "en"),
    ("metrowire", "Metro Wire", 22, "en"),
    ("globalpost", "Global Post", 15, "en"),
    ("citybeat", "City Beat", 10, "en"),
    ("financedesk", "Finance Desk", 8, "en"),
    ("sportsline", "Sportsline", 6, "en"),
    ("rundschau", "Rundschau", 5, "de"),
    ("lemessager", "Le Messager", 4, "fr"),
]

FIRST = _words("Anna Ben Carla David Elena Farid Grace Hugo Ines Jonas Karin Liam Maria Nora")
LAST = _words("Adams Becker Costa Dubois Evans Fischer Garcia Hansen Ivanova Jensen Kowalski")


def _tail_words(count: int, rng: random.Random) -> list[str]:
    """Pronounceable made-up words, all distinct, none in HEAD_WORDS."""
    onsets = _words("b c d f g h k l m n p r s t v w z br cr dr fl gr pl pr sh st tr")
    vowels = _words("a e i o u ai ea ie oo ou")
    codas = ["", "n", "r", "s", "t", "l", "nd", "rt", "st", "ck"]
    seen = set(HEAD_WORDS)
    words: list[str] = []
    while len(words) < count:
        word = "".join(
            rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
            for _ in range(rng.choice((1, 2, 2, 2, 3)))
        )
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class TextMaker:
    """Makes titles and paragraphs of Zipf-distributed words, with topic phrases."""

    def __init__(self, seed: int = 7, vocabulary: int = 50_000) -> None:
        self.rng = random.Random(seed)
        head = list(dict.fromkeys(HEAD_WORDS))
        self.words = head + _tail_words(vocabulary - len(head), self.rng)
        # Zipf-Mandelbrot: weight of rank r is 1 / (r + 2.7)
        self.cum_weights = list(itertools.accumulate(1 / (r + 2.7) for r in range(len(self.words))))
        self.topics = [t.split("|") for t in TOPICS]

    def _sentence(self, topic: list[str], lo: int = 8, hi: int = 24) -> str:
        words = self.rng.choices(
            self.words, cum_weights=self.cum_weights, k=self.rng.randint(lo, hi)
        )
        if self.rng.random() < 0.5:
            words.insert(self.rng.randrange(len(words)), self.rng.choice(topic))
        return " ".join(words).capitalize() + "."

    def article(self) -> tuple[str, str]:
        """A (title, text) pair; paragraphs are separated by newlines as in extracted text."""
        topic = self.rng.choice(self.topics)
        title = self._sentence(topic, 5, 10).rstrip(".")
        paragraphs = [
            " ".join(self._sentence(topic) for _ in range(self.rng.randint(2, 4)))
            for _ in range(self.rng.randint(3, 9))
        ]
        return title, "\n".join(paragraphs)


def synthetic_articles(count: int, seed: int = 7) -> Iterator[dict]:
    """`count` article rows for the `articles` table, published over a year.

    Ids follow crawl order, so publication dates mostly rise with the id, as in a real archive;
    3% are older stories found later (sitemaps, backfills).
    """
    maker = TextMaker(seed)
    rng = random.Random(seed + 1)
    start = datetime(2024, 11, 1, tzinfo=UTC)
    year = 365 * 86400
    weights = [s[2] for s in SOURCES]
    for i in range(count):
        source, site_name, _, language = rng.choices(SOURCES, weights=weights)[0]
        title, text = maker.article()
        crawled = start + timedelta(seconds=year * (i + 1) / count)
        if rng.random() < 0.03:
            published = start + timedelta(seconds=rng.randrange(int(year * i / count) + 1))
        else:
            published = crawled - timedelta(seconds=rng.randrange(86400))
        stamp = published.isoformat(timespec="seconds").replace("+00:00", "Z")
        seen = crawled.isoformat(timespec="seconds").replace("+00:00", "Z")
        authors = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.choice((1, 1, 2)))]
        yield {
            "id": i + 1,
            "url": f"https://{source}.example/news/{i + 1}",
            "source": source,
            "site_name": site_name,
            "title": title,
            "authors": json.dumps(authors),
            "published": stamp,
            "published_source": "page",
            "language": language,
            "description": text[:160],
            "tags": "[]",
            "categories": "[]",
            "text": text,
            "word_count": len(text.split()),
            "content_hash": f"{i:016x}",
            "first_seen": seen,
            "last_seen": seen,
            "last_changed": seen,
            "version": 1,
        }


def build_archive(path: Path, count: int) -> None:
    """Create the synthetic archive at `path` (through the project's own schema)."""
    from pipelines.archive.schema import open_archive

    tmp = path.with_suffix(".tmp")
    for leftover in path.parent.glob(tmp.name + "*"):
        leftover.unlink()
    db = open_archive(tmp)
    db["crawl_runs"].insert_all(
        {"id": n, "started": f"2025-10-{n:02d}T06:00:00Z", "status": "completed", "spider": "news"}
        for n in range(1, 31)
    )
    started = time.perf_counter()
    batch = 2000
    rows = synthetic_articles(count)
    done = 0
    while chunk := list(itertools.islice(rows, batch)):
        with db.conn:
            db["articles"].insert_all(chunk, batch_size=batch)
        done += len(chunk)
        if done % 20_000 == 0:
            print(f"  {done:,} articles ({time.perf_counter() - started:.0f} s)", flush=True)
    db.execute("ANALYZE")
    db.conn.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    tmp.rename(path)


def query_mix(per_kind: int, seed: int = 11) -> dict[str, list[dict[str, str]]]:
    """Search requests (query-string parameters) by kind, drawn from the archive's vocabulary."""
    rng = random.Random(seed)
    maker = TextMaker()  # same seed as the archive: the same vocabulary
    head = list(dict.fromkeys(HEAD_WORDS))
    common = head[:60]  # "the" ... : in most articles
    rare = maker.words[5_000:]  # a handful of articles each
    phrases = [p for topic in maker.topics for p in topic]
    prefixes = sorted({w[:n] for w in head[60:] if len(w) >= 7 for n in (4, 5, 6)})
    sources = [s[0] for s in SOURCES]
    authors = [f"{f} {last}" for f in FIRST for last in LAST]

    def pick(words: list[str]) -> str:
        return rng.choice(words)

    def filters() -> dict[str, str]:
        kind = rng.choice(["source", "language", "author", "recent", "old", "source+old"])
        if kind == "source":
            return {"source": pick(sources)}
        if kind == "language":
            return {"language": pick(["de", "fr"])}
        if kind == "author":
            return {"author": pick(authors)}
        if kind == "recent":
            return {"since": "2025-10-01"}
        if kind == "old":
            return {"since": "2024-12-01", "until": "2024-12-31"}
        return {"source": pick(sources), "since": "2025-02-01", "until": "2025-02-28"}

    makers = {
        "rare word": lambda: {"q": pick(rare)},
        "common word": lambda: {"q": pick(common)},
        "two common words": lambda: {"q": f"{pick(common)} {pick(head)}"},
        "phrase": lambda: {"q": f'"{pick(phrases)}"'},
        "prefix": lambda: {"q": pick(prefixes) + "*"},
        "boolean": lambda: {
            "q": rng.choice(
                [
                    f"{pick(head)} OR {pick(rare)}",
                    f"{pick(head)} NOT {pick(head)}",
                    f"({pick(rare)} OR {pick(rare)}) AND {pick(head)}",
                    f'"{pick(phrases)}" AND {pick(common)}',
                ]
            )
        },
        "filters": lambda: {"q": pick(common + head[60:] + phrases), **filters()},
        "newest first": lambda: {"q": pick(common + head[60:]), "sort": "newest", **filters()},
    }
    return {kind: [make() for _ in range(per_kind)] for kind, make in makers.items()}


def _stats(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, ordered[-1]


async def _timed_get(client, path: str) -> tuple[float, dict]:
    started = time.perf_counter()
    response = await client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{path}: HTTP {response.status_code}: {response.text[:300]}")
    return elapsed, response.json()


async def run_benchmark(db_path: Path, per_kind: int) -> None:
    """Time the query mix through datasette's JSON API (in-process ASGI) and print a table."""
    from browse import make_datasette

    ds = make_datasette(db_path)
    client = ds.client
    mix = query_mix(per_kind)
    for params in mix["common word"][:5]:  # warm up: page cache, connections, plugins
        await client.get("/archive/search.json?" + urlencode(params))
    print(f"{'kind':<34}{'n':>4}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'hits/q':>8}")
    all_times: list[float] = []
    slowest: list[tuple[float, str, dict]] = []
    for kind, queries in mix.items():
        times, hits = [], 0
        for params in queries:
            path = "/archive/search.json?_shape=array&" + urlencode(params)
            elapsed, rows = await _timed_get(client, path)
            times.append(elapsed)
            hits += len(rows)
            slowest.append((elapsed, kind, params))
        all_times += times
        median, p95, most = _stats(times)
        row = f"{kind:<34}{len(times):>4}{median:>11.1f}{p95:>9.1f}{most:>9.1f}"
        print(f"{row}{hits / len(times):>8.1f}")
    median, p95, most = _stats(all_times)
    print(f"{'ALL search queries':<34}{len(all_times):>4}{median:>11.1f}{p95:>9.1f}{most:>9.1f}")
    print("slowest:", "; ".join(f"{ms:.0f} ms {p}" for ms, _, p in sorted(slowest)[-5:][::-1]))
    # For comparison: datasette's own table search (?_search=, newest first as configured),
    # with its count and facets as the table page runs them, and without (_nocount, no facets).
    for label, extra in (
        ("table ?_search= (count+facets)", {}),
        ("table ?_search= (_nocount, _nofacet)", {"_nocount": "1", "_nofacet": "1"}),
    ):
        times = []
        for params in mix["common word"][:10] + mix["rare word"][:10]:
            path = "/archive/articles.json?" + urlencode({"_search": params["q"], **extra})
            if not extra:
                path += "&_facet=source&_facet=language&_facet_array=authors"
            elapsed, _ = await _timed_get(client, path)
            times.append(elapsed)
        median, p95, most = _stats(times)
        print(f"{label:<34}{len(times):>4}{median:>11.1f}{p95:>9.1f}{most:>9.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000, help="archive size")
    parser.add_argument("--queries", type=int, default=40, help="queries per kind")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    db_path = OUT / f"search-{args.articles}.db"
    if not db_path.exists():
        print(f"Building {db_path} ({args.articles:,} synthetic articles, once)...", flush=True)
        build_archive(db_path, args.articles)
    size_mb = db_path.stat().st_size / 1e6
    print(f"Archive: {db_path} ({args.articles:,} articles, {size_mb:,.0f} MB)")
    asyncio.run(run_benchmark(db_path, args.queries))
