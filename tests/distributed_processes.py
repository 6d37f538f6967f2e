"""Child `newsarchive` processes for distributed-crawl tests: workers, ingesters, seeders."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.distributed.keys import Keys
from tests.conftest import ROOT

KEYS = Keys("newsarchive")
# Our own fixture site needs no politeness; a few requests per worker so both get some.
FAST = [
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "CONCURRENT_REQUESTS=4",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
]  # fmt: skip


class Processes:
    """Child `newsarchive` processes of a test, with their output in files; all stopped at the
    end of the test."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [sys.executable, "-m", "newsarchive", *args],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        process.log = log
        process.name = name
        self.started.append(process)
        return process

    def output(self, process: subprocess.Popen) -> str:
        return (self.folder / f"{process.name}.log").read_text()

    def wait(self, process: subprocess.Popen, timeout: float = 120) -> int:
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{process.name} did not finish:\n{self.output(process)[-3000:]}")

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.log.close()


@pytest.fixture
def procs(tmp_path):
    processes = Processes(tmp_path)
    yield processes
    processes.stop_all()


def start_workers(procs, redis_url, client, names, *extra):
    workers = [
        procs.start(name, "worker", "--redis", redis_url, "--id", name, *FAST, *extra)
        for name in names
    ]
    deadline = time.monotonic() + 60
    while client.hlen(KEYS.workers) < len(names):  # each says hello once it is running
        assert time.monotonic() < deadline, "workers did not start"
        assert all(w.poll() is None for w in workers), procs.output(workers[0])[-3000:]
        time.sleep(0.1)
    return workers
