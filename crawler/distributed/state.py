"""What one worker process knows: its Redis, the leases in hand, the run, and what it owes."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import socket
import uuid
from typing import Any
from weakref import WeakKeyDictionary

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from crawler.distributed import messages
from crawler.distributed.connection import connect, frontier_of, keys_of
from crawler.distributed.liveness import Liveness
from crawler.distributed.redis_runs import current_run
from crawler.stats import ERRORS_PREFIX, PAGES, ROBOTS_PAGES, RUN_ID

logger = logging.getLogger(__name__)

LEASE_META = "newsarchive_lease"  # Request.meta key: the lease of a request taken from Redis
WORKER_PAGES = "newsarchive/workers/{}/pages"
# Integer stats that are not counts to add up across workers.
NOT_COUNTS = {RUN_ID, "memusage/max", "memusage/startup"}
OUTBOX_LIMIT = 100  # messages that make a flush before the next tick


def default_worker_id() -> str:
    """host:pid, unique among running workers."""
    return f"{socket.gethostname()}:{os.getpid()}"


class WorkerState:
    """Shared by a worker's scheduler, pipeline, middleware and extension (one per crawler).

    A lease is acknowledged only after the engine is completely done with its request (see
    `done`), and together with the stats of the work done so far, in one transaction. After
    any failed write to Redis the worker is `broken`: it acknowledges nothing more and stops,
    so whatever it had in hand goes back to the queue when its leases expire.
    """

    _states: WeakKeyDictionary[Crawler, WorkerState] = WeakKeyDictionary()

    @classmethod
    def of(cls, crawler: Crawler) -> WorkerState:
        """The state of the worker that `crawler` runs."""
        state = cls._states.get(crawler)
        if state is None:
            state = cls._states[crawler] = cls(crawler)
        return state

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.server = connect(settings)
        self.keys = keys_of(settings)
        self.frontier = frontier_of(settings, self.server)
        if moved := self.frontier.adopt_unpartitioned_queue():
            logger.info("moved %d requests queued by an earlier version into site queues", moved)
        self.liveness = Liveness(self.server, self.keys)
        self.worker_id = settings.get("NEWSARCHIVE_WORKER_ID") or default_worker_id()
        self.held: dict[str, Request] = {}  # lease -> the request object the engine works on
        self.finished: list[str] = []  # leases done with, to acknowledge at the next flush
        self.outbox: list[bytes] = []  # messages for the ingester, sent at the next flush
        self.run: dict[str, Any] | None = None
        self.run_id: str | None = None
        self.broken: str | None = None
        self.sent: dict[str, int] = {}  # stats already sent to the ingester
        self._ids = itertools.count(1)
        self._token = uuid.uuid4().hex[:8]

    # Leases --------------------------------------------------------------------------------

    def hold(self, request: Request, lease: str, run_id: str) -> None:
        """The scheduler handed `request` (under `lease`, of run `run_id`) to the engine."""
        self.held[lease] = request
        if run_id != self.run_id:
            self.use_run(run_id)

    def done(self, request: Request) -> None:
        """The engine is done with `request`: its follow-ups are queued, its items handed off."""
        lease = request.meta.get(LEASE_META)
        if lease is not None and self.held.get(lease) is request:
            del self.held[lease]
            self.finished.append(lease)

    def use_run(self, run_id: str) -> None:
        """Requests of a new run arrived: load its sources for the spider."""
        run = current_run(self.server, self.keys)
        self.run = run if run and run.get("id") == run_id else None
        self.run_id = run_id
        spider = self.crawler.spider
        if self.run is not None and hasattr(spider, "use_run"):
            spider.use_run(self.run)
        logger.info("Working on run %s", run_id)

    def flush(self) -> None:
        """Hand off the articles waiting in the outbox and acknowledge finished leases, with the
        stats gathered since the last flush, in one transaction: a request's articles reach
        Redis no later than its acknowledgement, and its run's stats with its last one."""
        if self.broken:
            return
        if not self.finished and not self.outbox:
            return
        # Stats travel with acknowledgements only: what grows between requests (log counts)
        # waits for the next one rather than trickle in after its run ended.
        delta = self.stats_delta() if self.finished else {}
        acks, self.finished = self.finished, []
        outbox, self.outbox = self.outbox, []
        if delta:
            outbox.append(self._encode(messages.stats_message(delta)))
        pipe = self.server.pipeline(transaction=True)
        if outbox:
            pipe.lpush(self.keys.items, *outbox)
        self.frontier.ack(acks, pipe)
        try:
            pipe.execute()
        except Exception as error:  # noqa: BLE001
            self.fail(f"cannot hand off articles or acknowledge requests: {error}")
            return
        self.sent.update({k: self.sent.get(k, 0) + v for k, v in delta.items()})

    def stats_delta(self) -> dict[str, int]:
        """Integer stats that grew since the last flush, with this worker's own page count."""
        stats = self.crawler.stats.get_stats()
        pages = stats.get(PAGES, 0) - stats.get(ROBOTS_PAGES, 0)
        counts = {k: v for k, v in stats.items() if type(v) is int and k not in NOT_COUNTS}
        counts[WORKER_PAGES.format(self.worker_id)] = pages
        return {k: v - self.sent.get(k, 0) for k, v in counts.items() if v != self.sent.get(k, 0)}

    def renew(self) -> None:
        """Keep the leases in hand; say so if one was already given to another worker."""
        lost = self.frontier.renew(list(self.held))
        if lost:
            logger.warning("%d requests took longer than their lease; another worker redoes them",
                           len(lost))  # fmt: skip

    def heartbeat(self) -> None:
        """Tell `crawl --wait` and the ingester this worker is alive."""
        self.liveness.beat(self.worker_id, held=len(self.held), run=self.run_id)

    def reap(self) -> None:
        """Re-queue requests of workers that stopped renewing their leases."""
        requeued, dead = self.frontier.reap()
        if requeued:
            logger.info("Re-queued %d requests of a worker that stopped", requeued)
            self.crawler.stats.inc_value("newsarchive/distributed/requeued", requeued)
        if dead:
            logger.error(
                "Gave up on %d requests re-queued too often (see %s)", dead, self.keys.dead
            )
            self.crawler.stats.inc_value(ERRORS_PREFIX + "redelivery_limit", dead)

    def release_held(self) -> None:
        """Stopping: put the requests still in hand back on the queue for other workers."""
        held, self.held = list(self.held), {}
        if held and not self.broken:
            try:
                self.frontier.release(held)
            except Exception as error:  # noqa: BLE001 - the leases expire by themselves
                logger.warning("cannot give back %d requests (%s); they expire", len(held), error)
                return
            logger.info("Gave %d unfinished requests back to the queue", len(held))

    def stopping(self) -> None:
        """The worker stops: last acknowledgements and stats, and leave the worker list."""
        self.flush()
        if not self.broken:
            with contextlib.suppress(Exception):  # only a heartbeat entry
                self.liveness.leave(self.worker_id)

    # Hand-off ------------------------------------------------------------------------------

    def hand_off(self, message: dict[str, Any]) -> None:
        """Queue one message for the ingester; it goes out with the next flush, before the
        request it came from is acknowledged (one round trip for many, off the crawl's path)."""
        if self.broken:
            raise RuntimeError(f"worker stopped: {self.broken}")
        self.outbox.append(self._encode(message))
        if len(self.outbox) >= OUTBOX_LIMIT:
            self.flush()

    def _encode(self, message: dict[str, Any]) -> bytes:
        message.update(id=f"{self.worker_id}:{self._token}:{next(self._ids)}",
                       worker=self.worker_id, run=self.run_id)  # fmt: skip
        return messages.encode(message)

    # Failure -------------------------------------------------------------------------------

    def fail(self, reason: str) -> None:
        """A write to Redis failed: acknowledge nothing more, and stop the worker."""
        if self.broken:
            return
        self.broken = reason
        logger.error("%s; stopping this worker (its requests go back to the queue)", reason)
        self.crawler.stats.set_value("newsarchive/worker_error", reason)
        engine = getattr(self.crawler, "engine", None)
        if engine is not None and self.crawler.crawling:
            deferred_from_coro(engine.close_spider_async(reason="redis_error"))
