"""Crawl runs on Redis: one at a time per namespace, started by the seeder, finished by the
ingester once everything the run found is stored."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from crawler.clock import now_iso
from crawler.distributed.frontier import Frontier
from crawler.distributed.keys import Keys
from crawler.sources import Source, Target

RUNNING = "running"
DONE = "done"


class RunInProgress(Exception):
    """A run is still being crawled or stored; a new one cannot start yet."""


class RunStalled(Exception):
    """No worker has been alive for a while, and the run has work left (message: one line)."""


def source_to_json(source: Source) -> dict[str, Any]:
    """A source as plain JSON data."""
    return asdict(source)


def source_from_json(data: dict[str, Any]) -> Source:
    """The source that `source_to_json` wrote."""
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return Source(**fields)


def _text(value: bytes | str | None) -> str | None:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def current_run(server: Any, keys: Keys) -> dict[str, Any] | None:
    """The latest run (running or done): id, state, started, targets, sources, ..."""
    raw = server.hgetall(keys.run)
    if not raw:
        return None
    run = {_text(k): _text(v) for k, v in raw.items()}
    for name in ("targets", "sources", "result"):
        if run.get(name):
            run[name] = json.loads(run[name])
    return run


def start_run(
    server: Any,
    keys: Keys,
    sources: list[Source],
    targets: list[Target],
    seeds: list[tuple[str, str, bytes, float]],
    spider: str = "news",
    max_pages: int | None = None,
) -> dict[str, Any]:
    """Start run N: clear the run's own keys and queue its seed requests, all in one
    transaction. `seeds` are (fingerprint, site slot, queued request, priority score); with
    `max_pages` the run stops after that many downloads across all workers.

    Raises RunInProgress while the previous run still has work queued, leased or unstored.
    """
    from redis.exceptions import WatchError

    run_id = str(server.incr(keys.run_seq))
    seconds, micros = server.time()
    with server.pipeline(transaction=True) as pipe:
        try:
            pipe.watch(keys.run, keys.queued, keys.leases)
            previous = pipe.hget(keys.run, "state")
            queued, leased = int(pipe.get(keys.queued) or 0), pipe.hlen(keys.leases)
            if _text(previous) == RUNNING or queued or leased:
                # Messages left after a run is done (late stats) go to the next ingester.
                to_store = pipe.llen(keys.items) + pipe.llen(keys.processing)
                old = _text(pipe.hget(keys.run, "id"))
                raise RunInProgress(
                    f"run {old} is still in progress ({queued} requests queued, {leased} being"
                    f" crawled, {to_store} messages waiting for `newsarchive ingest`)"
                )
            pipe.multi()
            pipe.delete(keys.run, keys.sites, keys.queued, *keys.run_scoped())
            run = {
                "id": run_id,
                "state": RUNNING,
                "started": now_iso(),
                "spider": spider,
                "targets": json.dumps([asdict(t) for t in targets]),
                "sources": json.dumps([source_to_json(s) for s in sources]),
                "seeds": str(len(seeds)),
                "started_at": f"{seconds}.{micros:06d}",  # the Redis clock, for liveness
            }
            if max_pages:
                run["max_pages"] = str(max_pages)
            pipe.hset(keys.run, mapping=run)
            if seeds:
                pipe.sadd(keys.dupefilter, *{fp for fp, _, _, _ in seeds})
                queued_seeds = [(slot, score, data) for _, slot, data, score in seeds]
                Frontier(server, keys).push(queued_seeds, pipe)
            pipe.execute()
        except WatchError:
            raise RunInProgress("another crawl started a run at the same moment") from None
    return current_run(server, keys)


def finish_run(server: Any, keys: Keys, run_id: str, result: dict[str, Any]) -> None:
    """Mark run `run_id` done, with its `crawl_runs` row as the result."""
    if _text(server.hget(keys.run, "id")) != run_id:
        return
    server.hset(
        keys.run,
        mapping={"state": DONE, "finished": now_iso(), "result": json.dumps(result, default=str)},
    )


def wait_for_run(
    server: Any,
    keys: Keys,
    run_id: str,
    timeout: float | None = None,
    poll: float = 0.5,
    worker_timeout: float | None = None,
) -> dict[str, Any] | None:
    """Wait until run `run_id` is done and return it; None on timeout. Raises RunStalled when
    no worker was alive for `worker_timeout` seconds while the run has requests left."""
    from crawler.distributed.liveness import Liveness

    liveness = Liveness(server, keys)
    deadline = None if timeout is None else time.monotonic() + timeout
    while deadline is None or time.monotonic() < deadline:
        run = current_run(server, keys)
        if run is None or run.get("id") != run_id:
            return None
        if run.get("state") == DONE:
            return run
        if worker_timeout and (stall := liveness.stall(worker_timeout)) is not None:
            raise RunStalled(stall.message())
        time.sleep(poll)
    return None
