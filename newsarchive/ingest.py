"""The single writer of a distributed crawl: drains finished articles from Redis into the
archive, with the same dedup, versioning and `crawl_runs` accounting as a local crawl.

Exactly once: a batch of messages is moved (LMOVE) from the hand-off list to a processing
list, stored in one SQLite transaction that also records the batch's message ids, and removed
from the processing list only after the commit. An ingester that dies leaves its batch in the
processing list; the next one skips the messages whose ids the archive already has and stores
the rest. The ids of a batch are kept until the next batch commits, which is only started
after the previous one left the processing list, so the table never holds more than a batch.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crawler.clock import now_iso
from crawler.distributed import messages
from crawler.distributed.archive_index import encode_entry, index_field
from crawler.distributed.frontier import Frontier
from crawler.distributed.keys import Keys
from crawler.distributed.liveness import Liveness
from crawler.distributed.redis_runs import RUNNING, current_run
from crawler.distributed.redis_runs import finish_run as finish_redis_run
from crawler.items import ArticleItem
from crawler.stats import ARTICLES_PREFIX, DROPPED_PREFIX, SOURCE_DROPPED, SOURCES_PREFIX
from crawler.urls import url_key
from pipelines.archive import lock
from pipelines.archive.articles import mark_seen, store_article
from pipelines.archive.runs import finish_run, start_run
from pipelines.archive.schema import open_archive

logger = logging.getLogger(__name__)

# The ingester's own bookkeeping table: ids of the last committed batch (see above).
INGESTED = "ingested_messages"
WORKER_ARTICLES = "newsarchive/workers/{}/articles"
CLAIM_SECONDS = 10  # how long another ingester is kept off this namespace after we stop


class IngesterBusy(Exception):
    """Another ingester drains this Redis namespace."""


@dataclass
class RunState:
    """The run being stored: its Redis id, its `crawl_runs` row and its stats so far."""

    redis_id: str
    archive_id: int | None
    stats: dict[str, Any] = field(default_factory=dict)
    seen: set[tuple[str, str]] = field(default_factory=set)  # (url key, text hash) this run


def _add(stats: dict[str, Any], key: str, count: int = 1) -> None:
    stats[key] = stats.get(key, 0) + count


class Ingester:
    """Drains one Redis namespace into one archive."""

    def __init__(
        self,
        server: Any,
        keys: Keys,
        db_path: str,
        batch_size: int = 50,
        wait_seconds: float = 1.0,
        worker_timeout: float = 120.0,
    ):
        self.server = server
        self.keys = keys
        self.db_path = db_path
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.frontier = Frontier(server, keys)
        self.liveness = Liveness(server, keys)
        self.worker_timeout = worker_timeout
        self.stalled: str | None = None  # Redis id of the run marked stalled
        self.last_watch = 0.0
        self.ingester_id = f"{socket.gethostname()}:{os.getpid()}"
        self.db = None
        self.run: RunState | None = None
        self.last_claim = 0.0

    # Opening and closing -------------------------------------------------------------------

    def open(self) -> None:
        """Claim the namespace and the archive, then finish what a previous ingester left."""
        self._claim(wait=CLAIM_SECONDS + 1)
        lock.acquire(self.db_path, "ingest")  # raises ArchiveBusy while a crawl writes it
        self.db = open_archive(self.db_path)
        self.recover()
        self.publish_archived()

    def close(self) -> None:
        """Give the archive and the namespace back."""
        if self.db is not None:
            self.db.close()
            self.db = None
        lock.release(self.db_path)
        if self.server.get(self.keys.ingester) == self.ingester_id.encode():
            self.server.delete(self.keys.ingester)

    def _claim(self, wait: float = 0) -> None:
        # One ingester per namespace, even on other machines with other archives: two would
        # each store half of every run.
        deadline = time.monotonic() + wait
        me = self.ingester_id.encode()
        while True:
            if self.server.set(self.keys.ingester, me, nx=True, ex=CLAIM_SECONDS):
                break
            holder = self.server.get(self.keys.ingester)
            if holder == me:
                self.server.expire(self.keys.ingester, CLAIM_SECONDS)
                break
            if time.monotonic() >= deadline:
                name = holder.decode() if holder else "?"
                raise IngesterBusy(f"another ingester ({name}) drains {self.keys.namespace}")
            time.sleep(0.5)
        self.last_claim = time.monotonic()

    # The loop ------------------------------------------------------------------------------

    def run_forever(
        self, once: bool = False, on_finished: Callable[[dict], None] | None = None
    ) -> dict | None:
        """Store articles as they come and close runs as they finish; with `once`, return the
        `crawl_runs` row of the first run that finishes."""
        while True:
            if time.monotonic() - self.last_claim >= CLAIM_SECONDS / 3:
                self._claim()
            raws = self.take()
            if raws:
                self.ingest(raws)
            if len(raws) == self.batch_size:
                continue  # more are waiting
            if time.monotonic() - self.last_watch >= 1:
                self.last_watch = time.monotonic()
                self.watch_workers()
            finished = self.finish_if_drained()
            if finished is not None:
                if on_finished is not None:
                    on_finished(finished)
                if once:
                    return finished

    def take(self) -> list[bytes]:
        """Move up to a batch of messages to the processing list (waiting a little for one)."""
        first = self.server.blmove(
            self.keys.items, self.keys.processing, self.wait_seconds, "RIGHT", "LEFT"
        )
        if first is None:
            return []
        pipe = self.server.pipeline(transaction=False)
        for _ in range(self.batch_size - 1):
            pipe.lmove(self.keys.items, self.keys.processing, "RIGHT", "LEFT")
        return [first, *(raw for raw in pipe.execute() if raw is not None)]

    def recover(self) -> None:
        """Store what a previous ingester took but did not commit; drop what it committed."""
        raws = self.server.lrange(self.keys.processing, 0, -1)
        if not raws:
            return
        done = {row["message_id"] for row in self.db[INGESTED].rows}
        stored = [raw for raw in raws if _message_id(raw) in done]
        self._remove(stored)
        fresh = [raw for raw in raws if _message_id(raw) not in done]
        logger.info("Recovering %d messages a stopped ingester took (%d already stored)",
                    len(fresh), len(stored))  # fmt: skip
        for start in range(0, len(fresh), self.batch_size):
            self.ingest(fresh[start : start + self.batch_size])

    # Storing -------------------------------------------------------------------------------

    def ingest(self, raws: list[bytes]) -> None:
        """Store a batch of messages (already in the processing list) in one transaction."""
        decoded = []
        for raw in raws:
            try:
                decoded.append((raw, messages.decode(raw)))
            except Exception as error:  # noqa: BLE001 - a message we cannot read
                self._reject(raw, f"unreadable message: {error}")
        for _, message in decoded:
            self._run_for(message.get("run"))  # outside the batch: it commits a crawl_runs row
        try:
            self._store(decoded)
        except sqlite3.OperationalError:
            raise  # the archive cannot be written (disk, permissions): stop, retry on restart
        except Exception as error:  # noqa: BLE001 - find the message at fault
            logger.warning("batch failed (%s); storing its messages one by one", error)
            for one in decoded:
                try:
                    self._store([one])
                except sqlite3.OperationalError:
                    raise
                except Exception as single:  # noqa: BLE001
                    self._reject(one[0], f"cannot store: {single!r}")
                else:
                    self._remove([one[0]])
            return
        self._remove([raw for raw, _ in decoded])

    def _store(self, batch: list[tuple[bytes, dict]]) -> None:
        run = self.run
        stats = dict(run.stats) if run else {}
        seen = set(run.seen) if run else set()
        touched: set[str] = set()
        now = now_iso()
        with self.db.atomic():
            self.db.execute(f"delete from {INGESTED}")
            for _, message in batch:
                mine = run is not None and message.get("run") == run.redis_id
                counts = stats if mine else {}
                archive_run = run.archive_id if mine else None
                touched |= self._apply(message, archive_run, counts, seen if mine else set(), now)
            self.db[INGESTED].insert_all(
                {"message_id": m["id"], "run_id": run.archive_id if run else None} for _, m in batch
            )
            if run is not None and run.archive_id is not None:
                self.db.execute(
                    "update crawl_runs set stats = ? where id = ?",
                    [json.dumps(stats, sort_keys=True), run.archive_id],
                )
        if run is not None:
            run.stats, run.seen = stats, seen
        self.publish_archived(touched)

    def _apply(
        self, message: dict, run_id: int | None, stats: dict, seen: set, now: str
    ) -> set[str]:
        """Store one message; count what happened in `stats`; return URL keys it touched."""
        kind = message["type"]
        if kind == messages.STATS:
            for key, value in message["stats"].items():
                _add(stats, key, value)
            return set()
        item = message["item"]
        if kind == messages.NOT_MODIFIED:
            outcome = mark_seen(self.db, item.url, now)
            keys = {url_key(item.url)}
        else:
            _add(stats, WORKER_ARTICLES.format(message.get("worker")))
            key = (url_key(item.fetched_url), item.content_hash)
            if key in seen:  # two workers fetched it (a re-queued request): once per run
                _add(stats, DROPPED_PREFIX + "duplicate")
                _add(stats, SOURCE_DROPPED.format(item.source))
                return set()
            seen.add(key)
            outcome = store_article(self.db, item, run_id, now)
            keys = _url_keys(item)
        _add(stats, ARTICLES_PREFIX + outcome)
        _add(stats, f"{SOURCES_PREFIX}{item.source}/{outcome}")
        return keys

    def _remove(self, raws: list[bytes]) -> None:
        if not raws:
            return
        pipe = self.server.pipeline(transaction=False)
        for raw in raws:
            pipe.lrem(self.keys.processing, 1, raw)
        pipe.execute()

    def _reject(self, raw: bytes, reason: str) -> None:
        logger.error("%s; kept in %s", reason, self.keys.dead)
        pipe = self.server.pipeline(transaction=True)
        pipe.lpush(self.keys.dead, raw)
        pipe.lrem(self.keys.processing, 1, raw)
        pipe.execute()
        if self.run is not None:
            _add(self.run.stats, DROPPED_PREFIX + "storage_error")

    # Runs ----------------------------------------------------------------------------------

    def _run_for(self, redis_id: str | None) -> RunState | None:
        """The run a message belongs to, starting its `crawl_runs` row the first time."""
        if self.run is not None and self.run.redis_id == redis_id:
            return self.run
        info = current_run(self.server, self.keys)
        if not info or info.get("id") != redis_id or info.get("state") != RUNNING:
            return None  # a message of an older run: stored, but counted nowhere
        self.run = self._open_run(info)
        return self.run

    def _open_run(self, info: dict) -> RunState:
        archive_id = info.get("archive_run_id")
        if archive_id:
            row = self.db["crawl_runs"].get(int(archive_id))
            if row:  # a previous ingester started it: go on counting where it stopped
                self.db["crawl_runs"].update(
                    row["id"], {"status": "running", "finish_reason": None}
                )
                return RunState(info["id"], row["id"], json.loads(row["stats"] or "{}"))
        archive_id = start_run(self.db, info.get("spider") or "news", info.get("targets") or [])
        self.server.hset(self.keys.run, "archive_run_id", archive_id)
        logger.info("Run %s is crawl run %d of %s", info["id"], archive_id, self.db_path)
        return RunState(info["id"], archive_id)

    def watch_workers(self) -> None:
        """Mark the running run `stalled` in the archive while no worker is alive and it has
        requests left, and `running` again once one is."""
        if not self.worker_timeout:
            return
        stall = self.liveness.stall(self.worker_timeout)
        if stall is not None and self.stalled != stall.run_id:
            run = self._run_for(stall.run_id)
            if run is None:
                return
            self.db["crawl_runs"].update(run.archive_id, {"status": "stalled"})
            self.stalled = stall.run_id
            logger.warning("%s", stall.message())
        elif stall is None and self.stalled is not None:
            if self.run is not None and self.run.redis_id == self.stalled:
                self.db["crawl_runs"].update(self.run.archive_id, {"status": "running"})
                logger.info("Run %s: a worker is back, crawling on", self.stalled)
            self.stalled = None

    def finish_if_drained(self) -> dict | None:
        """Close the running run if everything it found is stored: its `crawl_runs` row."""
        info = current_run(self.server, self.keys)
        if not info or info.get("state") != RUNNING or not self.frontier.drained():
            return None
        run = self._run_for(info["id"])
        stats = {**run.stats, "newsarchive/run_key": f"{self.keys.namespace}:{run.redis_id}"}
        # Stopped by its page budget, or done.
        row = finish_run(self.db, run.archive_id, stats, info.get("stop") or "finished")
        self.stalled = None
        finish_redis_run(self.server, self.keys, run.redis_id, row)
        logger.info("Run %s finished: crawl run %d", run.redis_id, run.archive_id)
        self.run = None
        return row

    # What workers need to know ------------------------------------------------------------

    def publish_archived(self, url_keys: set[str] | None = None) -> int:
        """Publish archived URL keys with their validators for workers' incremental crawling:
        all of them (`url_keys` None), or those just stored."""
        if url_keys is not None and not url_keys:
            return 0
        sql = """select u.url_key, u.last_seen, u.etag, u.last_modified, a.run_id
                 from article_urls u join articles a on a.id = u.article_id"""
        chunks = [None] if url_keys is None else _chunks(sorted(url_keys), 500)
        published = 0
        for chunk in chunks:
            where, params = ("", []) if chunk is None else (
                f" where u.url_key in ({', '.join('?' for _ in chunk)})", chunk)  # fmt: skip
            cursor = self.db.execute(sql + where, params)
            while rows := cursor.fetchmany(2000):
                self.server.hset(
                    self.keys.archived,
                    mapping={index_field(key): encode_entry(*rest) for key, *rest in rows},
                )
                published += len(rows)
        return published


def _chunks(values: list[str], size: int) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _url_keys(item: ArticleItem) -> set[str]:
    return {url_key(u) for u in (item.url, item.fetched_url, item.requested_url) if u}


def _message_id(raw: bytes) -> str | None:
    try:
        return json.loads(raw).get("id")
    except ValueError:
        return None
