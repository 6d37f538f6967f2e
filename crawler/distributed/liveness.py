"""Worker heartbeats, and telling a run that is stuck because no worker is alive.

Workers beat every HEARTBEAT_SECONDS on the Redis server's clock (so machines' clocks do not
matter). A run is stalled when it still has requests queued or leased and no worker has beaten
for NEWSARCHIVE_WORKER_TIMEOUT seconds, counted from the run's start if none beat since.
Nothing is lost meanwhile: a worker that starts later re-queues what dead ones held and goes on.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crawler.distributed.keys import Keys

HEARTBEAT_SECONDS = 1.0

# KEYS: heartbeats, workers. ARGV: worker id, what it says about itself (JSON).
BEAT = """
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(t[1]) + tonumber(t[2]) / 1000000, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""

# KEYS: run, queued (a counter), leases, heartbeats. ARGV: timeout seconds.
# Returns false, or {requests left, Redis time since when no worker was seen}.
STALLED = """
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return false end
local left = redis.call('HLEN', KEYS[3])
if redis.call('HEXISTS', KEYS[1], 'stop') == 0 then
  left = left + tonumber(redis.call('GET', KEYS[2]) or '0')
end
if left == 0 then return false end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local since = tonumber(redis.call('HGET', KEYS[1], 'started_at') or '0')
local last = redis.call('ZREVRANGE', KEYS[4], 0, 0, 'WITHSCORES')
if #last > 0 and tonumber(last[2]) > since then since = tonumber(last[2]) end
if now - since < tonumber(ARGV[1]) then return false end
return {left, tostring(since)}
"""


@dataclass(frozen=True)
class Stall:
    """A run with work left and no worker alive."""

    run_id: str
    left: int  # requests queued or leased
    since: float  # Unix time (Redis clock) since when no worker was seen
    timeout: float

    def message(self) -> str:
        """One line saying so."""
        since = datetime.fromtimestamp(self.since, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return (
            f"run {self.run_id} stalled: {self.left} requests left and no worker alive since"
            f" {since} (NEWSARCHIVE_WORKER_TIMEOUT={self.timeout:g} s); start"
            " `newsarchive worker` to finish it"
        )


class Liveness:
    """Heartbeats of the workers of one namespace."""

    def __init__(self, server: Any, keys: Keys):
        self.server = server
        self.keys = keys
        self._beat = server.register_script(BEAT)
        self._stalled = server.register_script(STALLED)

    def beat(self, worker_id: str, **about: Any) -> None:
        """Worker `worker_id` is alive (`about`: what it holds, its run...)."""
        about["seen"] = time.time()
        self._beat(keys=[self.keys.heartbeats, self.keys.workers],
                   args=[worker_id, json.dumps(about)])  # fmt: skip

    def leave(self, worker_id: str) -> None:
        """A worker stops cleanly."""
        pipe = self.server.pipeline(transaction=True)
        pipe.hdel(self.keys.workers, worker_id).zrem(self.keys.heartbeats, worker_id)
        pipe.execute()

    def stall(self, timeout: float) -> Stall | None:
        """The running run's stall, if no worker was alive for `timeout` seconds while it has
        requests left."""
        k = self.keys
        found = self._stalled(keys=[k.run, k.queued, k.leases, k.heartbeats], args=[timeout])
        if not found:
            return None
        run_id = self.server.hget(k.run, "id")
        return Stall(run_id.decode() if run_id else "?", int(found[0]), float(found[1]), timeout)
