"""The shared frontier: requests queued by site, taken under leases, acknowledged, and
re-queued when their worker stops renewing them.

Partitioned by site: each site (download slot) has its own sorted set of requests, in
scrapy-redis's priority order, and a ring of sites orders which site a pop serves next, by
when its turn comes: a site's turn moves on by its download delay (or Crawl-delay) each time a
request of it is taken, so a worker takes requests of the sites that can be downloaded now and
its downloader holds many sites at once. One shared queue in arrival order instead fills every
worker's downloader with the backlog of the one site whose links came last, all waiting for that
site's delay (Heritrix and URLFrontier queue by host for the same reason).

scrapy-redis's queues pop destructively. Here a pop moves the request from its queue into a
lease in one Lua script; the lease has a deadline on the Redis server's clock (so workers'
clocks don't matter), its worker renews it while working and deletes it when done. A reaper,
run by every worker now and then, puts requests whose lease expired back on their site's queue,
and gives up on a request (moving it to a dead list) after it was re-queued too often: a page
that kills every worker that takes it must not kill them forever.

The scripts name site queues from a key prefix they are given, which a single Redis server
allows (Redis Cluster would need every key declared).
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.utils.httpobj import urlparse_cached

from crawler.distributed.keys import Keys

# push(site queue prefix, sites, queued, now, slot, score, data): queue one request of a site.
PUSH_FUNCTION = """
local function push(site_prefix, sites, queued, now, slot, score, data)
  if redis.call('ZADD', site_prefix .. slot, score, data) == 1 then redis.call('INCR', queued) end
  redis.call('ZADD', sites, 'NX', now, slot)
end
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""

# KEYS: sites, queued. ARGV: site queue prefix, then slot, score, data for each request.
PUSH = (
    PUSH_FUNCTION
    + """
local now = clock()
for i = 2, #ARGV, 3 do push(ARGV[1], KEYS[1], KEYS[2], now, ARGV[i], ARGV[i + 1], ARGV[i + 2]) end
return 1
"""
)

# KEYS: sites, queued, leases, lease_info, deadlines, lease_seq, run. ARGV: lease seconds, worker,
# site queue prefix, site hash prefix, download delay. Nothing is taken from a run stopped by its
# page budget. The site whose turn comes first is served, even if its turn is still to come
# (its download then waits in the worker's downloader, which keeps the site's clock).
POP = (
    PUSH_FUNCTION
    + """
if redis.call('HEXISTS', KEYS[7], 'stop') == 1 then return false end
local now = clock()
for _ = 1, 10 do
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if #first == 0 then return false end
  local slot, turn = first[1], tonumber(first[2])
  local queue = ARGV[3] .. slot
  local popped = redis.call('ZRANGE', queue, 0, 0, 'WITHSCORES')
  if #popped > 0 then
    redis.call('ZREM', queue, popped[1])
    redis.call('DECR', KEYS[2])
    if redis.call('ZCARD', queue) == 0 then
      redis.call('ZREM', KEYS[1], slot)
    else
      local host = ARGV[4] .. slot
      local delay = math.max(tonumber(ARGV[5]),
        tonumber(redis.call('HGET', host, 'crawl_delay') or '0'),
        tonumber(redis.call('HGET', host, 'delay') or '0'))
      redis.call('ZADD', KEYS[1], math.max(now, turn) + delay, slot)
    end
    local id = tostring(redis.call('INCR', KEYS[6]))
    redis.call('HSET', KEYS[3], id, popped[1])
    redis.call('HSET', KEYS[4], id, popped[2] .. ' ' .. slot .. ' ' .. ARGV[2])
    redis.call('ZADD', KEYS[5], now + tonumber(ARGV[1]), id)
    return {id, popped[1], redis.call('HGET', KEYS[7], 'id') or ''}
  end
  redis.call('ZREM', KEYS[1], slot)  -- a site without requests has no turn
end
return false
"""
)

# Re-queue lease `id` (its request and "<score> <slot> <worker>"): a Lua fragment.
REQUEUE_FUNCTION = """
local function requeue(site_prefix, sites, queued, now, data, info)
  local score, slot = string.match(info, '^(%S+) (%S*)')
  push(site_prefix, sites, queued, now, slot or '', tonumber(score or '0'), data)
end
"""

# KEYS: sites, queued, leases, lease_info, deadlines, deliveries, dead.
# ARGV: most deliveries, most leases to reap, site queue prefix. Returns {re-queued, given up}.
REAP = (
    PUSH_FUNCTION
    + REQUEUE_FUNCTION
    + """
local now = clock()
local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local requeued, dead = 0, 0
for _, id in ipairs(expired) do
  local data = redis.call('HGET', KEYS[3], id)
  local info = redis.call('HGET', KEYS[4], id) or '0'
  if data then
    local times = redis.call('HINCRBY', KEYS[6], redis.sha1hex(data), 1)
    if times > tonumber(ARGV[1]) then
      redis.call('LPUSH', KEYS[7], data)
      dead = dead + 1
    else
      requeue(ARGV[3], KEYS[1], KEYS[2], now, data, info)
      requeued = requeued + 1
    end
  end
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('ZREM', KEYS[5], id)
end
return {requeued, dead}
"""
)

# KEYS: leases, deadlines. ARGV: lease seconds, lease ids... Returns the ids no longer leased.
RENEW = """
local t = redis.call('TIME')
local deadline = tonumber(t[1]) + tonumber(t[2]) / 1000000 + tonumber(ARGV[1])
local lost = {}
for i = 2, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then
    redis.call('ZADD', KEYS[2], 'XX', deadline, ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
return lost
"""

# KEYS: sites, queued, leases, lease_info, deadlines. ARGV: site queue prefix, lease ids.
# Returns how many went back.
RELEASE = (
    PUSH_FUNCTION
    + REQUEUE_FUNCTION
    + """
local now = clock()
local released = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local data = redis.call('HGET', KEYS[3], id)
  if data then
    requeue(ARGV[1], KEYS[1], KEYS[2], now, data, redis.call('HGET', KEYS[4], id) or '0')
    released = released + 1
  end
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('ZREM', KEYS[5], id)
end
return released
"""
)

# KEYS: run, sites, queued, leases, items, processing. ARGV: site queue prefix.
# True when the run's work is all stored. A run stopped by its page budget drops what is still
# queued: it will not be crawled.
DRAINED = """
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
if redis.call('HEXISTS', KEYS[1], 'stop') == 1 then
  for _, slot in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    redis.call('DEL', ARGV[1] .. slot)
  end
  redis.call('DEL', KEYS[2], KEYS[3])
end
if tonumber(redis.call('GET', KEYS[3]) or '0') > 0 or redis.call('HLEN', KEYS[4]) > 0 then
  return 0
end
if redis.call('LLEN', KEYS[5]) > 0 or redis.call('LLEN', KEYS[6]) > 0 then return 0 end
return 1
"""


def slot_of(request: Request) -> str:
    """The site a request is queued under: its download slot, as Scrapy's downloader names it
    (the `download_slot` meta key, else the host name)."""
    return request.meta.get("download_slot") or urlparse_cached(request).hostname or ""


class Frontier:
    """Leased access to the shared, site-partitioned request queues of one namespace."""

    def __init__(
        self,
        server: Any,
        keys: Keys,
        lease_seconds: float = 60,
        max_deliveries: int = 5,
        download_delay: float = 0.0,
    ):
        self.server = server
        self.keys = keys
        self.lease_seconds = lease_seconds
        self.max_deliveries = max_deliveries
        self.download_delay = download_delay  # how far a site's turn moves on per request
        self._push = server.register_script(PUSH)
        self._pop = server.register_script(POP)
        self._renew = server.register_script(RENEW)
        self._reap = server.register_script(REAP)
        self._release = server.register_script(RELEASE)
        self._drained = server.register_script(DRAINED)

    def push(self, requests: list[tuple[str, float, bytes]], pipe: Any = None) -> None:
        """Queue (site slot, priority score, request data) triples, lowest score first (in
        `pipe`, when given, to go with other writes)."""
        if not requests:
            return
        args: list[Any] = [self.keys.site_queue_prefix]
        for slot, score, data in requests:
            args += [slot, score, data]
        self._push(keys=[self.keys.sites, self.keys.queued], args=args, client=pipe)

    def pop(self, worker: str) -> tuple[str, bytes, str] | None:
        """Take the most urgent request of the site whose turn comes first:
        (lease id, request data, run id), or None."""
        k = self.keys
        popped = self._pop(
            keys=[k.sites, k.queued, k.leases, k.lease_info, k.deadlines, k.lease_seq, k.run],
            args=[
                self.lease_seconds,
                worker,
                k.site_queue_prefix,
                k.host_prefix,
                self.download_delay,
            ],  # fmt: skip
        )
        if not popped:
            return None
        lease, data, run = popped
        return lease.decode(), data, run.decode()

    def adopt_unpartitioned_queue(self) -> int:
        """Move requests that an earlier version queued in one sorted set (`<namespace>:requests`)
        into their sites' queues, so that a run in progress goes on after an upgrade; how many."""
        from urllib.parse import urlsplit

        from crawler.distributed.serializer import loads

        old = self.keys.unpartitioned_requests
        moved = 0
        while entries := self.server.zrange(old, 0, 999, withscores=True):
            batch = []
            for data, score in entries:
                try:
                    request = loads(data)
                    slot = (request.get("meta") or {}).get("download_slot")
                    slot = slot or urlsplit(request["url"]).hostname or ""
                except (ValueError, KeyError, TypeError):
                    slot = ""  # still queued; its download says what is wrong with it
                batch.append((slot, score, data))
            self.push(batch)
            self.server.zrem(old, *(data for data, _ in entries))
            moved += len(batch)
        return moved

    def queued(self) -> int:
        """Requests queued, all sites together."""
        return int(self.server.get(self.keys.queued) or 0)

    def ack(self, leases: list[str], pipe: Any = None) -> None:
        """Forget finished leases (in `pipe`, when given, to go with other writes)."""
        if not leases:
            return
        client = pipe if pipe is not None else self.server.pipeline(transaction=True)
        client.hdel(self.keys.leases, *leases)
        client.hdel(self.keys.lease_info, *leases)
        client.zrem(self.keys.deadlines, *leases)
        if pipe is None:
            client.execute()

    def renew(self, leases: list[str]) -> list[str]:
        """Push the deadlines of `leases` forward; return those that were already re-queued."""
        if not leases:
            return []
        lost = self._renew(
            keys=[self.keys.leases, self.keys.deadlines], args=[self.lease_seconds, *leases]
        )
        return [lease.decode() for lease in lost]

    def release(self, leases: list[str]) -> int:
        """Put leased requests back on the queue now (a worker stopping with work in hand)."""
        if not leases:
            return 0
        k = self.keys
        keys = [k.sites, k.queued, k.leases, k.lease_info, k.deadlines]
        return int(self._release(keys=keys, args=[k.site_queue_prefix, *leases]))

    def reap(self, limit: int = 1000) -> tuple[int, int]:
        """Re-queue requests whose lease expired; return (re-queued, given up)."""
        k = self.keys
        requeued, dead = self._reap(
            keys=[k.sites, k.queued, k.leases, k.lease_info, k.deadlines, k.deliveries, k.dead],
            args=[self.max_deliveries, limit, k.site_queue_prefix],
        )
        return int(requeued), int(dead)

    def drained(self) -> bool:
        """True when the running run has nothing queued, leased, or waiting to be stored."""
        k = self.keys
        keys = [k.run, k.sites, k.queued, k.leases, k.items, k.processing]
        return bool(self._drained(keys=keys, args=[k.site_queue_prefix]))

    def counts(self) -> dict[str, int]:
        """How much work is where: queued, leased, waiting for the ingester, given up."""
        k = self.keys
        pipe = self.server.pipeline(transaction=False)
        pipe.get(k.queued).hlen(k.leases).llen(k.items).llen(k.processing).llen(k.dead)
        queued, leased, items, processing, dead = pipe.execute()
        return {
            "queued": int(queued or 0),
            "leased": leased,
            "to_store": items + processing,
            "dead": dead,
        }

    def lease_owners(self) -> dict[str, str]:
        """Lease id -> worker id of every lease held now."""
        return {
            lease.decode(): info.decode().split(" ", 2)[-1]
            for lease, info in self.server.hgetall(self.keys.lease_info).items()
        }
