"""Feed parsing speed: how long `crawler.feeds.parse_feed` takes on a 1,000-entry feed.

    python -m bench.feeds [--entries 1000] [--repeat 5]

Builds RSS 2.0, Atom 1.0 and JSON Feed 1.1 documents of N news entries (title, link, dates,
authors, categories, a 300-character summary, like a big news site's full feed), plus the RSS
feed with an unescaped `&` in every link (ill-formed: feedparser's strict parser fails and its
loose parser reads it). Prints, per kind, the size, the median parse time over `--repeat` runs
(wall clock, and CPU time of this process, which a busy machine disturbs less), entries per
second, and the time to download the same bytes at 10 Mbit/s for comparison.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from crawler.feeds import parse_feed

ORIGIN = "https://news.example"
SUMMARY = (
    "The council voted on Tuesday to fund the harbour tunnel, ending a decade of argument over "
    "the route, the cost and who should pay for it; work starts in spring and the first trains "
    "run in four years, officials said, as residents asked about noise, traffic and rents. "
)
DOWNLOAD_BITS_PER_SECOND = 10_000_000


def _entries(count: int) -> list[dict]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        {
            "url": f"{ORIGIN}/2026/11/{index:05d}/story-number-{index}/",
            "title": f"Story number {index}: council & harbour",
            "published": start - timedelta(minutes=17 * index),
            "updated": start - timedelta(minutes=17 * index - 5),
            "author": f"Reporter {index % 23}",
            "tags": ("City", "Transport", f"Tag {index % 40}"),
        }
        for index in range(count)
    ]


def _rss(entries: list[dict], *, escaped: bool = True) -> bytes:
    amp = "&amp;" if escaped else "&"
    items = "".join(
        f"<item><title>{escape(e['title'])}</title>"
        f"<link>{e['url']}?utm_source=rss{amp}utm_medium=feed</link>"
        f"<dc:creator>{e['author']}</dc:creator>"
        f"<pubDate>{format_datetime(e['published'])}</pubDate>"
        + "".join(f"<category>{tag}</category>" for tag in e["tags"])
        + f"<guid isPermaLink='false'>{e['url']}</guid>"
        f"<description>{escape(SUMMARY)}</description></item>\n"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>News</title>'
        f"<link>{ORIGIN}/</link><description>All the news</description>{items}</channel></rss>"
    ).encode()


def _atom(entries: list[dict]) -> bytes:
    def iso(moment: datetime) -> str:
        return moment.isoformat().replace("+00:00", "Z")

    items = "".join(
        f"<entry><title>{escape(e['title'])}</title><link rel='alternate' href='{e['url']}'/>"
        f"<id>{e['url']}</id><published>{iso(e['published'])}</published>"
        f"<updated>{iso(e['updated'])}</updated><author><name>{e['author']}</name></author>"
        + "".join(f"<category term='{tag}'/>" for tag in e["tags"])
        + f"<summary>{escape(SUMMARY)}</summary></entry>\n"
        for e in entries
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<title>News</title><id>{ORIGIN}/</id><updated>2026-11-01T00:00:00Z</updated>"
        f"{items}</feed>"
    ).encode()


def _json_feed(entries: list[dict]) -> bytes:
    items = [
        {
            "id": e["url"],
            "url": e["url"],
            "title": e["title"],
            "summary": SUMMARY,
            "date_published": e["published"].isoformat(),
            "date_modified": e["updated"].isoformat(),
            "authors": [{"name": e["author"]}],
            "tags": list(e["tags"]),
        }
        for e in entries
    ]
    document = {"version": "https://jsonfeed.org/version/1.1", "title": "News", "items": items}
    return json.dumps(document).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    entries = _entries(args.entries)
    documents = {
        "RSS 2.0": (_rss(entries), "application/rss+xml"),
        "RSS 2.0, unescaped &": (_rss(entries, escaped=False), "application/rss+xml"),
        "Atom 1.0": (_atom(entries), "application/atom+xml"),
        "JSON Feed 1.1": (_json_feed(entries), "application/feed+json"),
    }
    print(f"parse_feed on feeds of {args.entries} entries, median of {args.repeat} runs")
    header = f"{'feed':<22} {'KB':>6} {'wall ms':>8} {'CPU ms':>8} {'entries/s':>10}"
    print(header + f" {'download ms':>12}")
    for name, (body, content_type) in documents.items():
        walls, cpus = [], []
        for _ in range(args.repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            feed = parse_feed(body, ORIGIN + "/feed", content_type)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        if len(feed.entries) != args.entries:
            raise SystemExit(f"{name}: read {len(feed.entries)} of {args.entries} entries")
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        download = len(body) * 8 / DOWNLOAD_BITS_PER_SECOND
        print(
            f"{name:<22} {len(body) / 1024:>6.0f} {wall * 1000:>8.0f} {cpu * 1000:>8.0f} "
            f"{args.entries / cpu:>10.0f} {download * 1000:>12.0f}"
        )


if __name__ == "__main__":
    main()
