"""`newsarchive crawl --redis`: seed the shared frontier with a run's first requests."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.settings import Settings

from crawler.distributed.connection import connect, keys_of
from crawler.distributed.frontier import slot_of
from crawler.distributed.redis_runs import start_run
from crawler.distributed.serializer import dumps
from crawler.sources import Source, Target
from crawler.spiders.news import NewsSpider


def seed_requests(
    settings: Settings, sources: list[Source], targets: list[Target] | None
) -> tuple[NewsSpider, list[Any]]:
    """The first request of every target, made by the news spider as a local crawl makes them."""
    crawler = Crawler(NewsSpider, settings)
    spider = NewsSpider.from_crawler(crawler, sources=sources, targets=targets)
    return spider, [spider.request_for(target) for target in spider.targets]


def seed_run(
    settings: Settings,
    sources: list[Source],
    targets: list[Target] | None = None,
    max_pages: int | None = None,
) -> dict[str, Any]:
    """Start a run on the settings' Redis: its seed requests queued as workers queue requests
    (by site, in scrapy-redis's priority order, our JSON serializer) and marked seen in its
    duplicate filter; with `max_pages`, a budget of that many downloads for all workers together.
    Return the run; raise RunInProgress while the previous one is not done."""
    from scrapy_redis.dupefilter import RFPDupeFilter

    server = connect(settings)
    keys = keys_of(settings)
    spider, requests = seed_requests(settings, sources, targets)
    fingerprint = RFPDupeFilter(server, keys.dupefilter).request_fingerprint
    seeds, seen = [], set()
    for request in requests:
        key = fingerprint(request)
        if key in seen:  # the same URL listed twice
            continue
        seen.add(key)
        data = dumps(request.to_dict(spider=spider))
        seeds.append((key, slot_of(request), data, -request.priority))
    return start_run(server, keys, sources, spider.targets, seeds, max_pages=max_pages)
