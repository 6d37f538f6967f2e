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

# The head of English news text, most frequent first; the tail of the vocabulary is made of
# generated words. Zipf's law then makes "the" appear in every article and most words rare.
HEAD_WORDS = """the of and to a in that is for on said was with he it as at by from his
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
artist museum book author award""".split()

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

FIRST = "Anna Ben Carla David Elena Farid Grace Hugo Ines Jonas Karin Liam Maria Nora".split()
LAST = "Adams Becker Costa Dubois Evans Fischer Garcia Hansen Ivanova Jensen Kowalski".split()


def _tail_words(count: int, rng: random.Random) -> list[str]:
    """Pronounceable made-up words, all distinct, none in HEAD_WORDS."""
    onsets = "b c d f g h k l m n p r s t v w z br cr dr fl gr pl pr sh st tr".split()
    vowels = "a e i o u ai ea ie oo ou".split()
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
        words = self.rng.choices(self.words, cum_weights=self.cum_weights, k=self.rng.randint(lo, hi))
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
    from pipelines.archive import open_archive

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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    db_path = OUT / f"search-{args.articles}.db"
    if not db_path.exists():
        build_archive(db_path, args.articles)
