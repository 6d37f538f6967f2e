"""What `newsarchive crawl --redis`, `worker` and `ingest` do; the click layer only parses."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Mapping
from typing import Any

from crawler.distributed.connection import connect, keys_of, redis_overrides
from crawler.sources import Source, Target
from newsarchive.crawl import CrawlResult, format_summary, project_settings
from newsarchive.errors import CommandError


def _settings(redis_url: str, namespace: str, overrides: Mapping[str, Any] = ()):
    try:
        extra = redis_overrides(redis_url, namespace)
    except ValueError as error:
        raise CommandError(str(error)) from error
    return project_settings({**dict(overrides), **extra})


def _reachable(settings) -> Any:
    from redis.exceptions import RedisError

    try:
        server = connect(settings)
        server.ping()
    except (RedisError, ValueError) as error:
        raise CommandError(f"cannot reach Redis at {settings.get('REDIS_URL')}: {error}") from error
    return server


def seed(
    redis_url: str,
    namespace: str,
    overrides: Mapping[str, Any],
    sources: list[Source],
    targets: list[Target] | None,
    wait: bool,
    echo: Callable[[str], None],
    max_pages: int | None = None,
) -> bool:
    """Start a distributed run (of at most `max_pages` downloads, when given); with `wait`,
    wait for it and print its summary. True if ok; CommandError if it stalls (no worker alive
    for NEWSARCHIVE_WORKER_TIMEOUT seconds while it has requests left)."""
    from crawler.distributed.redis_runs import RunInProgress, RunStalled, wait_for_run
    from crawler.distributed.seed import seed_run

    settings = _settings(redis_url, namespace, overrides)
    server = _reachable(settings)
    try:
        run = seed_run(settings, sources, targets, max_pages=max_pages)
    except RunInProgress as error:
        raise CommandError(str(error)) from error
    echo(
        f"Run {run['id']} seeded with {run['seeds']} requests on {redis_url} ({namespace}):"
        " `newsarchive worker` crawls it, `newsarchive ingest` stores it."
    )
    if not wait:
        return True
    timeout = settings.getfloat("NEWSARCHIVE_WORKER_TIMEOUT")
    try:
        done = wait_for_run(server, keys_of(settings), run["id"], worker_timeout=timeout)
    except RunStalled as error:
        raise CommandError(str(error)) from error
    if done is None:
        raise CommandError(f"run {run['id']} was replaced before it finished")
    result = CrawlResult(run=done.get("result"))
    echo(format_summary(result))
    return result.ok


def work(
    redis_url: str, namespace: str, overrides: Mapping[str, Any], echo: Callable[[str], None]
) -> bool:
    """Run a worker until it is stopped; print what it did. True unless Redis failed it."""
    from crawler.distributed.state import default_worker_id
    from crawler.distributed.worker import run_worker, worker_settings
    from crawler.stats import PAGES, ROBOTS_PAGES

    settings = worker_settings(_settings(redis_url, namespace), overrides)
    _reachable(settings)
    stats = run_worker(settings)
    worker_id = settings.get("NEWSARCHIVE_WORKER_ID") or default_worker_id()
    pages = stats.get(PAGES, 0) - stats.get(ROBOTS_PAGES, 0)
    reason = stats.get("finish_reason", "?")
    echo(
        f"Worker {worker_id} stopped ({reason}): fetched {pages} pages,"
        f" handed off {stats.get('newsarchive/handed_off', 0)} articles"
    )
    return reason != "redis_error"


def ingest(
    redis_url: str,
    namespace: str,
    db_path: str,
    once: bool,
    batch_size: int,
    echo: Callable[[str], None],
    quiet: bool = False,
    overrides: Mapping[str, Any] = (),
) -> bool:
    """Drain the namespace into the archive until stopped (or, with `once`, one run); log at
    INFO (WARNING when `quiet`)."""
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s ingest: %(message)s",
    )
    from newsarchive.ingest import Ingester, IngesterBusy
    from pipelines.archive.lock import ArchiveBusy
    from pipelines.archive.schema import ArchiveError

    settings = _settings(redis_url, namespace, overrides)
    server = _reachable(settings)
    ingester = Ingester(
        server,
        keys_of(settings),
        db_path,
        batch_size=batch_size,
        worker_timeout=settings.getfloat("NEWSARCHIVE_WORKER_TIMEOUT"),
    )
    # SIGTERM stops it like Ctrl-C: an interrupted batch is rolled back and stays in Redis.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        ingester.open()
    except (IngesterBusy, ArchiveBusy, ArchiveError) as error:
        raise CommandError(str(error)) from error
    echo(f"Storing runs from {redis_url} ({namespace}) into {db_path}; Ctrl-C stops.")
    finished = None
    try:
        finished = ingester.run_forever(
            once=once, on_finished=lambda row: echo(format_summary(CrawlResult(run=row)))
        )
    except KeyboardInterrupt:
        logging.getLogger(__name__).info("stopped")
    finally:
        ingester.close()
    return finished is None or finished["status"] == "completed"
