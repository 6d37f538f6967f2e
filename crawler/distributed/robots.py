"""robots.txt for a whole cluster: fetched once per site per run, its Crawl-delay shared.

Scrapy's RobotsTxtMiddleware fetches robots.txt once per site per process, so each worker
would fetch it again. Here the first worker to need a site's robots.txt claims it in Redis,
fetches it and publishes the body (and the Crawl-delay it asks of us, which every worker's
downloader then applies, see `crawler.distributed.politeness`); the others wait for the body
and parse it themselves. A claim expires, so a worker that died while fetching holds no one up
for long. A robots.txt that could not be fetched is published as such: every worker then
crawls the site as if it had none, as Scrapy does.
"""

from __future__ import annotations

import asyncio
import logging

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from crawler.distributed.politeness import HostSlots
from crawler.distributed.state import WorkerState

logger = logging.getLogger(__name__)

FOUND, MISSING = b"+", b"-"  # first byte of a published robots.txt: its body follows, or none
CLAIM_POLL_SECONDS = 0.05  # soon: the claimer may spend the run's page budget meanwhile


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """RobotsTxtMiddleware whose robots.txt fetches and Crawl-delays are the cluster's."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.state = WorkerState.of(crawler)
        self.hosts = HostSlots(self.state.server, self.state.keys)
        self.max_crawl_delay = crawler.settings.getfloat("NEWSARCHIVE_CRAWL_DELAY_MAX")
        self.claim_seconds = int(crawler.settings.getfloat("DOWNLOAD_TIMEOUT")) + 10
        self.run_id: str | None = None

    async def robot_parser(self, request: Request) -> RobotParser | None:
        if self.state.run_id != self.run_id:  # robots.txt is read again every run
            self.run_id = self.state.run_id
            self._parsers.clear()
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            waiting: Deferred = Deferred()
            self._parsers[netloc] = waiting
            try:
                parser = await self._shared_parser(request)
            except Exception as error:  # Redis is gone: this worker stops, fetching nothing
                del self._parsers[netloc]
                waiting.callback(None)  # the others meet the broken worker at the download
                self.state.fail(f"cannot read robots.txt of {netloc} from Redis: {error}")
                raise IgnoreRequest(f"worker stopping: {error}") from error
            self._parsers[netloc] = parser
            waiting.callback(parser)
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    async def _shared_parser(self, request: Request) -> RobotParser | None:
        url = urlparse_cached(request)
        server, keys = self.state.server, self.state.keys
        while True:
            published = server.hget(keys.robots, url.netloc)
            if published is not None:
                return self._parse(published[1:]) if published[:1] == FOUND else None
            claim = keys.robots_claim(url.netloc)
            if server.set(claim, self.state.worker_id, nx=True, ex=self.claim_seconds):
                break
            await asyncio.sleep(CLAIM_POLL_SECONDS)
        body = await self._fetch(f"{url.scheme}://{url.netloc}/robots.txt")
        parser = None if body is None else self._parse(body)
        if parser is not None:
            await self.crawler.signals.send_catch_log_async(
                signal=signals.robots_parsed, robotparser=parser, request=request
            )
            delay = self._crawl_delay(parser)
            if delay:
                self.hosts.set_crawl_delay(url.hostname or "", min(delay, self.max_crawl_delay))
        pipe = server.pipeline(transaction=True)
        pipe.hset(keys.robots, url.netloc, MISSING if body is None else FOUND + body)
        pipe.delete(claim)
        pipe.execute()
        return parser

    async def _fetch(self, robots_url: str) -> bytes | None:
        """The body of robots.txt, or None when it cannot be fetched."""
        robots_request = Request(
            robots_url,
            priority=self.DOWNLOAD_PRIORITY,
            meta={"dont_obey_robotstxt": True},
            callback=NO_CALLBACK,
        )
        self._stats.inc_value("robotstxt/request_count")
        try:
            response = await self.crawler.engine.download_async(robots_request)
        except Exception as error:  # noqa: BLE001 - no robots.txt: crawled as if it had none
            if not isinstance(error, IgnoreRequest):
                self._stats.inc_value(f"robotstxt/exception_count/{type(error)}")
                logger.warning("cannot fetch %s (%s); crawling as if it had none",
                               robots_url, error)  # fmt: skip
            return None
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        return response.body

    def _parse(self, body: bytes) -> RobotParser:
        return build_from_crawler(self._parserimpl, self.crawler, body)

    def _crawl_delay(self, parser: RobotParser) -> float | None:
        """The Crawl-delay robots.txt asks of our user agent (Protego's parser knows it)."""
        rules = getattr(parser, "rp", None)
        if rules is None or not hasattr(rules, "crawl_delay"):
            return None
        agent = self._robotstxt_useragent or self._default_useragent
        try:
            delay = rules.crawl_delay(agent)
        except Exception:  # noqa: BLE001 - a robots.txt we cannot read asks for nothing
            return None
        return float(delay) if delay else None
