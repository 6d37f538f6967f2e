"""A worker's downloader: Scrapy's, whose per-site limits hold for the whole cluster.

`ClusterDownloader` replaces the local check of a site's download delay and free transfer
slots by a hold taken in Redis (`crawler.distributed.politeness`): a request leaves its site's
queue only once the hold is granted, and gives the hold back when its download ends. A site
that is busy elsewhere is asked again after a short pause, or at once when one of this
worker's own downloads of it ends; other sites' queues go on meanwhile.
"""

from __future__ import annotations

import itertools
import random
from time import monotonic

from scrapy import Request, signals
from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _process_pending_io, _schedule_coro
from scrapy.utils.httpobj import urlparse_cached
from twisted.python.failure import Failure

from crawler.distributed.politeness import HostSlots
from crawler.distributed.state import WorkerState
from crawler.downloader import PoliteDownloader

BUSY_POLL_SECONDS = 0.1  # how soon a site busy with other workers is asked again (± half)
HOLD_MARGIN_SECONDS = 5.0  # a hold outlives its request's download timeout by this much
OVER_BUDGET = "newsarchive/distributed/over_budget"  # requests not made: page budget spent


def counts_as_page(request: Request) -> bool:
    """Downloads that count against the page budget: all but robots.txt."""
    robots = request.meta.get("dont_obey_robotstxt") and urlparse_cached(request).path == (
        "/robots.txt"
    )
    return not robots


class ClusterDownloader(PoliteDownloader):
    """Scrapy's downloader with site holds in Redis (setting DOWNLOADER of a worker)."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.state = WorkerState.of(crawler)
        self.hosts = HostSlots(self.state.server, self.state.keys)
        self.autothrottle = crawler.settings.getbool("AUTOTHROTTLE_ENABLED")
        self.download_timeout = crawler.settings.getfloat("DOWNLOAD_TIMEOUT")
        self.holds: dict[Request, str] = {}  # request in flight -> its hold
        self._hold_ids = itertools.count(1)

    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return  # a delayed call will process the queue
        while slot.queue and slot.free_transfer_slots() > 0:
            request, queue_dfd = slot.queue[0]
            if self.state.broken:
                self._fail_queue(slot, self.state.broken)
                return
            key = request.meta[self.DOWNLOAD_SLOT]
            hold = f"{self.state.worker_id}:{next(self._hold_ids)}"
            seconds = float(request.meta.get("download_timeout") or self.download_timeout)
            try:
                grant = self.hosts.acquire(
                    key,
                    hold,
                    limit=slot.concurrency,
                    delay=slot.download_delay(),
                    seconds=seconds + HOLD_MARGIN_SECONDS,
                    counts=counts_as_page(request),
                )
            except Exception as error:  # noqa: BLE001 - Redis is gone: stop taking work
                self.state.fail(f"cannot take a hold on {key}: {error}")
                self._fail_queue(slot, str(error))
                return
            if self.autothrottle and grant.shared_delay is not None:
                slot.delay = grant.shared_delay  # AutoThrottle adjusts the cluster's estimate
            if grant.outcome in ("wait", "full"):
                pause = grant.seconds or BUSY_POLL_SECONDS * random.uniform(0.5, 1.5)  # noqa: S311
                slot.latercall = call_later(pause, self._latercall, slot)
                return
            slot.queue.popleft()
            if grant.outcome == "stop":
                self.crawler.stats.inc_value(OVER_BUDGET)
                queue_dfd.errback(Failure(IgnoreRequest("the run's page budget is spent")))
                continue
            slot.lastseen = monotonic()
            slot.transferring.add(request)  # as in PoliteDownloader: counted from now
            self.holds[request] = hold
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))

    def _fail_queue(self, slot: Slot, reason: str) -> None:
        # The worker stops; the requests go back to the queue with their leases.
        while slot.queue:
            _, queue_dfd = slot.queue.popleft()
            queue_dfd.errback(Failure(IgnoreRequest(f"worker stopping: {reason}")))

    def _release(self, slot: Slot, request: Request) -> None:
        hold = self.holds.pop(request, None)
        if hold is None or self.state.broken:
            return  # a broken worker's holds expire by themselves
        try:
            delay = slot.delay if self.autothrottle else None
            self.hosts.release(request.meta[self.DOWNLOAD_SLOT], hold, delay)
        except Exception as error:  # noqa: BLE001
            self.state.fail(f"cannot give back a hold: {error}")
        if slot.latercall:  # waiting for the site to be free: it just was, by us
            slot.latercall.cancel()
            slot.latercall = None

    async def _download(self, slot: Slot, request: Request) -> Response:
        # Scrapy 2.19's Downloader._download, with the hold given back before the site's
        # queue is looked at again.
        slot.transferring.add(request)
        try:
            response: Response = await self.handlers.download_request_async(request)
            self.signals.send_catch_log(
                signal=signals.response_downloaded,
                response=response,
                request=request,
                spider=self.crawler.spider,
            )
            return response
        except Exception:
            await _process_pending_io()
            raise
        finally:
            slot.transferring.discard(request)
            self._release(slot, request)
            self._process_queue(slot)
            self.signals.send_catch_log(
                signal=signals.request_left_downloader,
                request=request,
                spider=self.crawler.spider,
            )
