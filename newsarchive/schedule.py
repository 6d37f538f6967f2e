"""Crawl runs on a schedule, one after another, each in its own process."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.sources import parse_duration
from newsarchive.errors import CommandError
from pipelines.archive import lock

logger = logging.getLogger(__name__)


def make_trigger(every: str | None = None, cron: str | None = None) -> BaseTrigger:
    """An APScheduler trigger from `--every 30m` or `--cron "*/30 * * * *"`; ValueError if bad."""
    if bool(every) == bool(cron):
        raise ValueError("give exactly one of --every or --cron")
    if every:
        return IntervalTrigger(seconds=parse_duration(every))
    return CronTrigger.from_crontab(cron)


class CrawlScheduler:
    """Runs `newsarchive crawl ARGS` in a child process each time the trigger fires; a run that
    is still going when the next one is due makes that one wait (never two at once)."""

    def __init__(self, trigger: BaseTrigger, crawl_args: Sequence[str], run_now: bool = True):
        self.trigger = trigger
        self.command = [sys.executable, "-m", "newsarchive", "crawl", *crawl_args]
        self.child: subprocess.Popen | None = None
        self.scheduler = BlockingScheduler()
        self.scheduler.add_job(
            self.run_once,
            trigger,
            id="crawl",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(trigger.timezone) if run_now else None,
        )

    def run_once(self) -> int:
        """One crawl run in a child process; returns its exit code."""
        logger.info("starting: %s", " ".join(self.command[2:]))
        self.child = subprocess.Popen(self.command)
        code = self.child.wait()
        self.child = None
        if code:
            logger.warning("crawl run exited with code %s (see its message above)", code)
        job = self.scheduler.get_job("crawl")
        if job and job.next_run_time:
            logger.info("next run at %s", job.next_run_time.isoformat(timespec="seconds"))
        return code

    def stop(self, signum: int, frame: object) -> None:
        # The running crawl gets the same signal, so it stops cleanly and records it.
        if self.child and self.child.poll() is None:
            self.child.send_signal(signum)
            self.child.wait()
        self.scheduler.shutdown(wait=False)

    def run_forever(self) -> None:
        """Run crawls on schedule until SIGINT or SIGTERM."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self.scheduler.start()


def run_schedule(
    trigger: BaseTrigger, db_path: str, crawl_args: Sequence[str], *, run_now: bool = True
) -> None:
    """Run `newsarchive crawl --db DB_PATH CRAWL_ARGS` on `trigger` until stopped, holding the
    archive's scheduler lock (one scheduler per archive); CommandError if another holds it."""
    try:
        lock.acquire(f"{db_path}.scheduler", "scheduler")
    except lock.ArchiveBusy as error:
        raise CommandError(f"another scheduler runs on {db_path}: {error}") from error
    except OSError as error:
        raise CommandError(f"cannot use {db_path}: {error.strerror or error}") from error
    logging.basicConfig(level=logging.INFO, format="%(asctime)s schedule: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    CrawlScheduler(trigger, ["--db", db_path, *crawl_args], run_now=run_now).run_forever()
