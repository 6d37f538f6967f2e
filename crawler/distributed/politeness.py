"""Politeness shared by every worker: a site's requests in flight, its clock and its budget live
in Redis, so any number of workers together are as polite as one.

Before a download a worker takes a hold on its site (its download slot) in one Lua script: the
site must have fewer than CONCURRENT_REQUESTS_PER_DOMAIN holds, and its shared clock must have
reached the time set by the previous download's start plus the download delay (the worker's
DOWNLOAD_DELAY or AutoThrottle delay, or the site's robots.txt Crawl-delay if longer). A hold
expires on the Redis server's clock a little after the request's download timeout, so the hold
of a worker that died mid-request is gone by the time its download would have timed out; a live
worker gives it back as soon as the download ends. The same script counts downloads against the
run's page budget (`crawl --redis --max-pages`): the last one allowed marks the run stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crawler.distributed.keys import Keys

STOP_REASON = "closespider_pagecount"  # as a local crawl's --max-pages ends
HOST_KEY_TTL = 86400  # a site's clock is forgotten a day after its last request
WAITER_SECONDS = 0.5  # a worker waiting for a full site keeps its turn this long (it asks
# again every 0.05 to 0.15 s, see crawler.distributed.downloader.BUSY_POLL_SECONDS)

# KEYS: host, holds, run, pages. ARGV: hold id, limit, delay, hold seconds, counts (1/0),
# the stop reason, seconds a site's clock is kept, the asking worker, seconds a waiter is kept.
# Fairness: a worker refused because the site is full becomes its waiter (one at a time); the
# next free hold is then its own, not taken again at once by the worker that just gave one
# back (whose own queue is looked at first). A waiter that stops asking is forgotten after
# WAITER_SECONDS.
# Returns {outcome, seconds, shared AutoThrottle delay}: outcome "ok" (seconds: the delay
# applied), "wait" (seconds until the site's clock allows one), "full" or "stop" (budget spent).
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local counts = ARGV[5] == '1'
if counts and redis.call('HEXISTS', KEYS[3], 'stop') == 1 then return {'stop', '0', ''} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local shared = redis.call('HGET', KEYS[1], 'delay') or ''
local waiter = redis.call('HGET', KEYS[1], 'waiter') or ''
local other_waits = waiter ~= '' and waiter ~= ARGV[8]
  and now - tonumber(redis.call('HGET', KEYS[1], 'waiter_at') or '0') < tonumber(ARGV[9])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then
  if not other_waits then
    redis.call('HSET', KEYS[1], 'waiter', ARGV[8], 'waiter_at', tostring(now))
  end
  return {'full', '0', shared}
end
if other_waits then return {'full', '0', shared} end
local next_at = tonumber(redis.call('HGET', KEYS[1], 'next') or '0')
if now < next_at then return {'wait', tostring(next_at - now), shared} end
if counts then
  local budget = tonumber(redis.call('HGET', KEYS[3], 'max_pages') or '0')
  if budget > 0 then
    local n = redis.call('INCR', KEYS[4])
    if n >= budget then redis.call('HSET', KEYS[3], 'stop', ARGV[6]) end
    if n > budget then return {'stop', '0', ''} end
  end
end
local asked = tonumber(redis.call('HGET', KEYS[1], 'crawl_delay') or '0')
local delay = math.max(tonumber(ARGV[3]), asked)
redis.call('HSET', KEYS[1], 'next', tostring(now + delay))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))
if waiter == ARGV[8] then redis.call('HDEL', KEYS[1], 'waiter', 'waiter_at') end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[1])
redis.call('EXPIRE', KEYS[2], math.ceil(tonumber(ARGV[4])) + 1)
return {'ok', tostring(delay), shared}
"""

# KEYS: host, holds. ARGV: hold id, AutoThrottle delay to share ('' for none).
RELEASE = """
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'delay', ARGV[2]) end
return 1
"""


@dataclass(frozen=True)
class Grant:
    """The answer to a request for a hold on a site."""

    outcome: str  # ok, wait, full, stop
    seconds: float  # ok: the delay applied; wait: how long until the site's clock allows one
    shared_delay: float | None  # the site's AutoThrottle delay, as the last worker left it

    @property
    def granted(self) -> bool:
        return self.outcome == "ok"


class HostSlots:
    """Holds on sites, shared by the workers of one namespace."""

    def __init__(self, server: Any, keys: Keys):
        self.server = server
        self.keys = keys
        self._acquire = server.register_script(ACQUIRE)
        self._release = server.register_script(RELEASE)

    def acquire(
        self, slot: str, hold: str, limit: int, delay: float, seconds: float, counts: bool = True
    ) -> Grant:
        """Take a hold `hold` on site `slot` for at most `seconds`, if fewer than `limit` are
        held and `delay` (or its Crawl-delay) has passed since the last start; a download that
        `counts` is counted against the run's page budget."""
        k = self.keys
        worker = hold.rpartition(":")[0] or hold  # holds are "<worker id>:<n>"
        args = [hold, limit, delay, seconds, int(counts), STOP_REASON, HOST_KEY_TTL]
        outcome, value, shared = self._acquire(
            keys=[k.host(slot), k.host_holds(slot), k.run, k.pages],
            args=[*args, worker, WAITER_SECONDS],
        )
        return Grant(outcome.decode(), float(value), float(shared) if shared else None)

    def release(self, slot: str, hold: str, delay: float | None = None) -> None:
        """Give hold `hold` back; share `delay` as the site's AutoThrottle delay."""
        self._release(
            keys=[self.keys.host(slot), self.keys.host_holds(slot)],
            args=[hold, "" if delay is None else repr(delay)],
        )

    def in_flight(self, slot: str) -> int:
        """Holds on `slot` now (expired ones included until the next acquire drops them)."""
        return int(self.server.zcard(self.keys.host_holds(slot)))

    def set_crawl_delay(self, slot: str, seconds: float) -> None:
        """The site's robots.txt asks for `seconds` between requests."""
        self.server.hset(self.keys.host(slot), "crawl_delay", repr(seconds))
        self.server.expire(self.keys.host(slot), HOST_KEY_TTL)
