"""Redis memory of a distributed crawl: bytes per queued request and per archived URL.

Usage: ``python -m bench.distributed_memory [--count 1000000]`` (also run first by
``python -m bench.distributed``).

Nothing is crawled: `--count` requests are queued as a seeder or a worker queues them (the
news spider's article request, JSON-serialized into its site's queue of the frontier, its
fingerprint in the duplicate filter) and `--count` archived URLs are published as the ingester
publishes them, each into a fresh private redis-server; the figure is the growth of Redis's
`used_memory` divided by the count. URLs look like news URLs of 10,000 sites (about 90
characters); half the archived URLs have an ETag and half a Last-Modified date.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from crawler.distributed.archive_index import encode_entry, index_field
from crawler.distributed.frontier import Frontier
from crawler.distributed.keys import Keys
from crawler.distributed.local_redis import LocalRedis
from crawler.distributed.serializer import dumps
from crawler.urls import url_key

CHUNK = 10_000
PLACEHOLDER = "https://placeholder.example/"
PLACEHOLDER_BYTES = PLACEHOLDER.encode()
WORDS = [
    "council",
    "harbour",
    "budget",
    "vote",
    "ferry",
    "tunnel",
    "mayor",
    "report",
    "water",
    "school",
    "storm",
    "bridge",
]


def news_urls(count: int, seed: int = 1) -> Iterator[str]:
    """`count` distinct article URLs over 10,000 sites."""
    rng = random.Random(seed)
    slugs = ["-".join(rng.choice(WORDS) for _ in range(6)) for _ in range(997)]
    for n in range(count):
        day, slug = n % 28 + 1, slugs[n % len(slugs)]
        yield f"https://www.site{n % 10_000}.example/news/2025/03/{day:02d}/{slug}-{n}.html"


def quick_url_key(url: str) -> str:
    """`url_key(url)` for the canonical URLs of `news_urls`, without canonicalizing again."""
    return url.split("://www.", 1)[1]


def article_request_template() -> dict[str, Any]:
    """The dict of the request the news spider makes for an article a feed lists."""
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import XmlResponse

    from crawler.sources import Source
    from crawler.spiders.news import NewsSpider
    from newsarchive.crawl import project_settings

    source = Source("site", ("site.example",), feeds=("https://www.site.example/feed.xml",))
    spider = NewsSpider.from_crawler(Crawler(NewsSpider, project_settings()), sources=[source])
    feed = "https://www.site.example/feed.xml"
    response = XmlResponse(feed, body=b"<rss/>", request=Request(feed, meta={"source": "site"}))
    hints = {"title": "Council votes on the harbour tunnel budget after a long night",
             "published": "2025-03-14T09:00:00Z", "published_source": "feed"}  # fmt: skip
    request = spider.article_request(response, "https://www.site.example/news/a.html", hints)
    return request.to_dict(spider=spider)


def measure(fill: Callable[[Any, int], None], count: int) -> float:
    """Redis bytes per item that `fill(client, count)` stores, in a fresh redis-server."""
    import redis

    with LocalRedis() as server:
        client = redis.Redis.from_url(server.url)
        before = client.info("memory")["used_memory"]
        fill(client, count)
        after = client.info("memory")["used_memory"]
        client.close()
    return (after - before) / count


def fill_queue(client: Any, count: int, with_fingerprints: bool = True) -> None:
    keys = Keys()
    # The spider's request, serialized once; each URL replaces the placeholder's (fast, and
    # byte for byte what dumps() writes). A fingerprint is a SHA1 in hex, as scrapy-redis's.
    template = dumps({**article_request_template(), "url": PLACEHOLDER})
    frontier = Frontier(client, keys)
    urls = news_urls(count)
    while batch := list(itertools.islice(urls, CHUNK)):
        frontier.push(
            [
                (urlsplit(u).hostname, 0, template.replace(PLACEHOLDER_BYTES, u.encode()))
                for u in batch
            ]
        )
        if with_fingerprints:
            client.sadd(keys.dupefilter, *(hashlib.sha1(u.encode()).hexdigest() for u in batch))


def _validators(n: int) -> tuple[str, str | None, str | None, int]:
    etag = f'"{n:x}-5f3a9c"' if n % 2 else None
    modified = "Fri, 14 Mar 2025 09:00:00 GMT" if n % 2 == 0 else None
    return "2025-03-14T09:00:00Z", etag, modified, 1 + n // 100_000


def fill_archived(client: Any, count: int, compact: bool = True) -> None:
    keys = Keys()
    urls = enumerate(news_urls(count))
    while batch := list(itertools.islice(urls, CHUNK)):
        if compact:
            mapping = {
                index_field(quick_url_key(u)): encode_entry(*_validators(n)) for n, u in batch
            }
        else:  # what the ingester published before: the URL key and JSON
            mapping = {quick_url_key(u): json.dumps(list(_validators(n))) for n, u in batch}
        client.hset(keys.archived, mapping=mapping)


def memory_report(count: int) -> list[str]:
    """Lines of figures: Redis bytes per queued request and per archived URL."""
    first = next(news_urls(1))
    assert quick_url_key(first) == url_key(first), first
    queued = measure(lambda c, n: fill_queue(c, n, with_fingerprints=False), count)
    seen = measure(fill_queue, count) - queued
    archived = measure(fill_archived, count)
    before = measure(lambda c, n: fill_archived(c, n, compact=False), count)
    sample = len(dumps({**article_request_template(), "url": next(news_urls(1))}))
    return [
        f"Redis memory at {count:,} of each (used_memory growth / count):",
        f"  queued request      {queued:6.0f} bytes  (its JSON alone: {sample} bytes)",
        f"  + its fingerprint   {seen:6.0f} bytes  (duplicate filter, one per URL seen this run)",
        f"  archived URL        {archived:6.0f} bytes  (digest + packed validators;"
        f" URL key + JSON was {before:.0f})",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="requests and URLs")
    args = parser.parse_args(argv)
    print("\n".join(memory_report(args.count)))


if __name__ == "__main__":
    main()
