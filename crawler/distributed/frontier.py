"""The shared frontier's leases: taking a request, acknowledging it, and re-queuing it when its
worker stops renewing it.

scrapy-redis's queues pop destructively. Here a pop moves the request from the queue into a
lease in one Lua script; the lease has a deadline on the Redis server's clock (so workers'
clocks don't matter), its worker renews it while working and deletes it when done. A reaper,
run by every worker now and then, puts requests whose lease expired back on the queue, and
gives up on a request (moving it to a dead list) after it was re-queued too often: a page that
kills every worker that takes it must not kill them forever.
"""

from __future__ import annotations

from typing import Any

from crawler.distributed.keys import Keys

# KEYS: requests, leases, lease_info, deadlines, lease_seq, run. ARGV: lease seconds, worker.
# Nothing is taken from a run stopped by its page budget.
POP = """
if redis.call('HEXISTS', KEYS[6], 'stop') == 1 then return false end
local popped = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #popped == 0 then return false end
redis.call('ZREM', KEYS[1], popped[1])
local id = tostring(redis.call('INCR', KEYS[5]))
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('HSET', KEYS[2], id, popped[1])
redis.call('HSET', KEYS[3], id, popped[2] .. ' ' .. ARGV[2])
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[1]), id)
return {id, popped[1], redis.call('HGET', KEYS[6], 'id') or ''}
"""

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

# KEYS: requests, leases, lease_info, deadlines, deliveries, dead.
# ARGV: most deliveries, most leases to reap. Returns {re-queued, given up}.
REAP = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local requeued, dead = 0, 0
for _, id in ipairs(expired) do
  local data = redis.call('HGET', KEYS[2], id)
  local info = redis.call('HGET', KEYS[3], id) or '0'
  if data then
    local times = redis.call('HINCRBY', KEYS[5], redis.sha1hex(data), 1)
    if times > tonumber(ARGV[1]) then
      redis.call('LPUSH', KEYS[6], data)
      dead = dead + 1
    else
      redis.call('ZADD', KEYS[1], tonumber(string.match(info, '^%S+')), data)
      requeued = requeued + 1
    end
  end
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('ZREM', KEYS[4], id)
end
return {requeued, dead}
"""

# KEYS: requests, leases, lease_info, deadlines. ARGV: lease ids. Returns how many went back.
RELEASE = """
local released = 0
for _, id in ipairs(ARGV) do
  local data = redis.call('HGET', KEYS[2], id)
  if data then
    local info = redis.call('HGET', KEYS[3], id) or '0'
    redis.call('ZADD', KEYS[1], tonumber(string.match(info, '^%S+')), data)
    released = released + 1
  end
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('ZREM', KEYS[4], id)
end
return released
"""

# KEYS: run, requests, leases, items, processing. True when the run's work is all stored.
# A run stopped by its page budget drops what is still queued: it will not be crawled.
DRAINED = """
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
if redis.call('HEXISTS', KEYS[1], 'stop') == 1 then redis.call('DEL', KEYS[2]) end
if redis.call('ZCARD', KEYS[2]) > 0 or redis.call('HLEN', KEYS[3]) > 0 then return 0 end
if redis.call('LLEN', KEYS[4]) > 0 or redis.call('LLEN', KEYS[5]) > 0 then return 0 end
return 1
"""


class Frontier:
    """Leased access to the shared request queue of one namespace."""

    def __init__(self, server: Any, keys: Keys, lease_seconds: float = 60, max_deliveries: int = 5):
        self.server = server
        self.keys = keys
        self.lease_seconds = lease_seconds
        self.max_deliveries = max_deliveries
        self._pop = server.register_script(POP)
        self._renew = server.register_script(RENEW)
        self._reap = server.register_script(REAP)
        self._release = server.register_script(RELEASE)
        self._drained = server.register_script(DRAINED)

    def pop(self, worker: str) -> tuple[str, bytes, str] | None:
        """Take the most urgent request: (lease id, request data, run id), or None."""
        k = self.keys
        popped = self._pop(
            keys=[k.requests, k.leases, k.lease_info, k.deadlines, k.lease_seq, k.run],
            args=[self.lease_seconds, worker],
        )
        if not popped:
            return None
        lease, data, run = popped
        return lease.decode(), data, run.decode()

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
        return int(
            self._release(keys=[k.requests, k.leases, k.lease_info, k.deadlines], args=leases)
        )

    def reap(self, limit: int = 1000) -> tuple[int, int]:
        """Re-queue requests whose lease expired; return (re-queued, given up)."""
        k = self.keys
        requeued, dead = self._reap(
            keys=[k.requests, k.leases, k.lease_info, k.deadlines, k.deliveries, k.dead],
            args=[self.max_deliveries, limit],
        )
        return int(requeued), int(dead)

    def drained(self) -> bool:
        """True when the running run has nothing queued, leased, or waiting to be stored."""
        k = self.keys
        return bool(self._drained(keys=[k.run, k.requests, k.leases, k.items, k.processing]))

    def counts(self) -> dict[str, int]:
        """How much work is where: queued, leased, waiting for the ingester, given up."""
        k = self.keys
        pipe = self.server.pipeline(transaction=False)
        pipe.zcard(k.requests).hlen(k.leases).llen(k.items).llen(k.processing).llen(k.dead)
        queued, leased, items, processing, dead = pipe.execute()
        return {
            "queued": queued,
            "leased": leased,
            "to_store": items + processing,
            "dead": dead,
        }

    def lease_owners(self) -> dict[str, str]:
        """Lease id -> worker id of every lease held now."""
        return {
            lease.decode(): info.decode().partition(" ")[2]
            for lease, info in self.server.hgetall(self.keys.lease_info).items()
        }
