"""A pool of extraction worker processes driven from the crawl's asyncio event loop.

Extraction is CPU-bound Python, so it runs in separate processes to use every core; the crawl
process keeps only fetching and storing. The pool has no threads of its own: each worker is a
child process (`python -m pipelines.article.pool`) talking over its stdin/stdout pipes in
length-prefixed pickle frames, and the event loop reads and writes those pipes without blocking.

Each worker gets at most `depth` pages at a time (one it works on, the next waiting in its pipe
so it never idles); other pages wait in the pool's backlog, whose length the crawl bounds (a
page waits inside the item pipeline, so Scrapy counts it against SCRAPER_SLOT_MAX_ACTIVE_SIZE
and stops downloading while too many wait). A page that takes longer than `timeout` seconds
gets its worker killed and replaced; a worker that dies fails only the page it was working on.
The clock starts when the worker is ready (it says so once it has imported the extractor), so
a replacement's start-up on a busy machine never counts against the next page.
Workers exit when their stdin closes, ignore Ctrl-C (the crawl shuts them down in order), and
are killed with the crawl process if it dies (Linux parent-death signal).
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import importlib
import logging
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.article.fingerprints import add_fingerprints

logger = logging.getLogger(__name__)

DEFAULT_EXTRACTOR = "pipelines.article.core.extract_article"
HEADER_BYTES = 4
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A worker told to stop has this long to finish its page before it is killed.
STOP_GRACE_SECONDS = 2.0
# A worker that has not imported the extractor this long after it was started is replaced.
START_SECONDS = 60.0
# The frame a worker sends once, before any answer: a header of size 0.
READY = (0).to_bytes(HEADER_BYTES, "big")
# Workers yield the CPU to the crawl process: its event loop is the one serial part of the
# crawl, and a worker that preempts it stalls every download and every other worker.
WORKER_NICENESS = int(os.environ.get("NEWSARCHIVE_WORKER_NICE", "10"))


class ExtractionFailed(Exception):
    """The extractor raised on a page, or its worker process died working on it."""


class ExtractionTimeout(ExtractionFailed):
    """A page took longer than the pool's time budget; its worker was replaced."""


class PoolClosed(ExtractionFailed):
    """The pool was closed before the page was extracted."""


def load_extractor(path: str) -> Callable[..., dict | None]:
    """The function at a dotted path, e.g. "pipelines.article.core.extract_article"."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class _FailureCatcher(logging.Handler):
    """extract_article logs (never raises) the exceptions it swallows: keep the last one, so a
    page that made extraction fail is told apart from a page without text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.error: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.error = describe(record.exc_info[1])


_catcher = _FailureCatcher()


def describe(error: BaseException) -> str:
    """One short line naming an exception."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}"[:200] if text else type(error).__name__


def catch_swallowed_failures(propagate: bool = True) -> None:
    """Route the failures extract_article logs to the catcher used by `run_extractor`;
    `propagate=False` keeps them from the root logger's handlers too."""
    extract_logger = logging.getLogger("pipelines.article.core")
    if _catcher not in extract_logger.handlers:
        extract_logger.addHandler(_catcher)
    if extract_logger.getEffectiveLevel() > logging.DEBUG:
        extract_logger.setLevel(logging.DEBUG)
    extract_logger.propagate = propagate


def run_extractor(extractor: Callable[..., dict | None], kwargs: dict[str, Any]) -> dict | None:
    """Call the extractor on one page; ExtractionFailed if it raised or swallowed an exception."""
    _catcher.error = None
    try:
        result = extractor(**kwargs)
    except Exception as error:  # noqa: BLE001 - any failure is this page's, not the crawl's
        raise ExtractionFailed(describe(error)) from error
    if result is None and _catcher.error:
        raise ExtractionFailed(_catcher.error)
    return add_fingerprints(result) if result and result.get("text") else result


# The worker process ----------------------------------------------------------------------


def _read_exact(stream: Any, size: int) -> bytes | None:
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


def _die_with_parent() -> None:
    # Linux: SIGKILL this worker when the crawl process dies, however it dies.
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl
            os._exit(0)


def worker_main(extractor_path: str) -> None:
    """Serve extraction requests on stdin, answer on stdout, until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the crawl, which stops us
    _die_with_parent()
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    # Frames go to the real stdout; anything a library prints goes to stderr instead.
    requests = os.fdopen(0, "rb", buffering=1 << 16)
    answers = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    logging.basicConfig(
        level=logging.WARNING, format="extraction worker %(process)d %(levelname)s: %(message)s"
    )
    catch_swallowed_failures(propagate=False)  # the crawl logs each failure in one line
    extractor = load_extractor(extractor_path)
    answers.write(READY)  # the pool starts our first page's clock now
    while True:
        header = _read_exact(requests, HEADER_BYTES)
        if header is None:
            return
        frame = _read_exact(requests, int.from_bytes(header, "big"))
        if frame is None:
            return
        task_id, kwargs = pickle.loads(frame)
        try:
            answer = (task_id, True, run_extractor(extractor, kwargs))
        except ExtractionFailed as error:
            answer = (task_id, False, str(error))
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        answers.write(len(data).to_bytes(HEADER_BYTES, "big") + data)


# The pool, in the crawl process ------------------------------------------------------------


@dataclass
class _Task:
    id: int
    frame: bytes
    future: asyncio.Future
    started: float = 0.0  # when its worker began on it (monotonic), once the worker is ready


@dataclass
class _Worker:
    process: subprocess.Popen
    tasks: collections.deque[_Task] = field(default_factory=collections.deque)
    inbox: bytearray = field(default_factory=bytearray)
    outbox: bytearray = field(default_factory=bytearray)
    spawned: float = field(default_factory=time.monotonic)
    ready: bool = False  # it has imported the extractor and said so

    @property
    def pid(self) -> int:
        return self.process.pid


class ExtractionPool:
    """`size` worker processes running `extractor` (a dotted path) on pages.

    `await pool.extract(**kwargs)` returns what the extractor returned for those keyword
    arguments, or raises ExtractionTimeout / ExtractionFailed. Call `start()` and `close()` from
    the event loop's thread.
    """

    def __init__(
        self,
        size: int,
        timeout: float,
        extractor: str = DEFAULT_EXTRACTOR,
        depth: int = 2,
    ) -> None:
        if size < 1:
            raise ValueError("an extraction pool needs at least one worker")
        self.size = size
        self.timeout = timeout
        self.extractor = extractor
        self.depth = depth
        self.workers: list[_Worker] = []
        self.backlog: collections.deque[_Task] = collections.deque()
        self.replaced = 0  # workers that hung or died and were replaced
        self._next_id = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._closed = False

    # Life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker processes (they import the extractor while the crawl starts)."""
        self._loop = asyncio.get_event_loop()
        for _ in range(self.size):
            self.workers.append(self._spawn())
        atexit.register(self.kill)
        self._watch()

    def _spawn(self) -> _Worker:
        env = dict(os.environ)
        # The workers import the very code the crawl runs, wherever it was started from.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.article.pool", self.extractor],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        worker = _Worker(process)
        for pipe in (process.stdin, process.stdout):
            os.set_blocking(pipe.fileno(), False)
        assert self._loop is not None
        self._loop.add_reader(process.stdout.fileno(), self._on_readable, worker)
        return worker

    def close(self) -> None:
        """Stop every worker: ask (close their stdin), wait briefly, then kill. Pages still
        waiting fail with PoolClosed."""
        if self._closed:
            return
        self._closed = True
        if self._watchdog:
            self._watchdog.cancel()
        for worker in self.workers:
            self._detach(worker)
            with contextlib.suppress(OSError):
                worker.process.stdin.close()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for worker in self.workers:
            try:
                worker.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            self._fail_all(worker, PoolClosed("the extraction pool was closed"))
        self.workers.clear()
        self._fail_backlog(PoolClosed("the extraction pool was closed"))
        atexit.unregister(self.kill)

    def kill(self) -> None:
        """Kill every worker at once (the interpreter is exiting without a clean close)."""
        for worker in self.workers:
            with contextlib.suppress(OSError):
                worker.process.kill()
                worker.process.wait(1)

    @property
    def running(self) -> bool:
        """True between `start()` and `close()`."""
        return self._loop is not None and not self._closed

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        return [worker.pid for worker in self.workers]

    # Work -----------------------------------------------------------------------------------

    async def extract(self, **kwargs: Any) -> dict | None:
        """Run the extractor on one page in a worker and return its result."""
        if self._closed or self._loop is None:
            raise PoolClosed("the extraction pool is not running")
        self._next_id += 1
        frame = pickle.dumps((self._next_id, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        task = _Task(self._next_id, frame, self._loop.create_future())
        self.backlog.append(task)
        self._dispatch()
        return await task.future

    def _dispatch(self) -> None:
        # Least-loaded first, so a page never waits behind a slow one while a worker idles.
        while self.backlog:
            worker = min(self.workers, key=lambda w: len(w.tasks), default=None)
            if worker is None or len(worker.tasks) >= self.depth:
                return
            task = self.backlog.popleft()
            if task.future.done():  # cancelled while waiting
                continue
            if not worker.tasks and worker.ready:
                task.started = time.monotonic()
            worker.tasks.append(task)
            self._send(worker, len(task.frame).to_bytes(HEADER_BYTES, "big") + task.frame)

    def _send(self, worker: _Worker, data: bytes) -> None:
        if not worker.outbox:
            try:
                written = os.write(worker.process.stdin.fileno(), data)
            except BlockingIOError:
                written = 0
            except OSError:  # the worker is gone; its reader sees EOF and handles that
                return
            if written == len(data):
                return
            data = data[written:]
            assert self._loop is not None
            self._loop.add_writer(worker.process.stdin.fileno(), self._on_writable, worker)
        worker.outbox += data

    def _on_writable(self, worker: _Worker) -> None:
        try:
            written = os.write(worker.process.stdin.fileno(), worker.outbox)
        except BlockingIOError:
            return
        except OSError:
            written = len(worker.outbox)
        del worker.outbox[:written]
        if not worker.outbox:
            assert self._loop is not None
            self._loop.remove_writer(worker.process.stdin.fileno())

    def _on_readable(self, worker: _Worker) -> None:
        try:
            data = os.read(worker.process.stdout.fileno(), 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._replace(worker, ExtractionFailed(self._death_reason(worker)))
            return
        worker.inbox += data
        while len(worker.inbox) >= HEADER_BYTES:
            size = int.from_bytes(worker.inbox[:HEADER_BYTES], "big")
            if size == 0:  # READY: the worker's first page starts its clock now
                del worker.inbox[:HEADER_BYTES]
                worker.ready = True
                if worker.tasks:
                    worker.tasks[0].started = time.monotonic()
                continue
            if len(worker.inbox) < HEADER_BYTES + size:
                break
            frame = bytes(worker.inbox[HEADER_BYTES : HEADER_BYTES + size])
            del worker.inbox[: HEADER_BYTES + size]
            self._finish(worker, pickle.loads(frame))
        self._dispatch()

    def _finish(self, worker: _Worker, answer: tuple[int, bool, Any]) -> None:
        task_id, ok, value = answer
        task = worker.tasks.popleft()
        assert task.id == task_id, "worker answers out of order"
        if worker.tasks:
            worker.tasks[0].started = time.monotonic()
        if task.future.done():
            return
        if ok:
            task.future.set_result(value)
        else:
            task.future.set_exception(ExtractionFailed(value))

    # Failures -------------------------------------------------------------------------------

    def _watch(self) -> None:
        now = time.monotonic()
        for worker in list(self.workers):
            if not worker.ready:
                if now - worker.spawned > START_SECONDS:
                    error = ExtractionFailed(f"extraction worker not ready in {START_SECONDS:g} s")
                    self._replace(worker, error, kill=True)
            elif worker.tasks and now - worker.tasks[0].started > self.timeout:
                self._replace(
                    worker, ExtractionTimeout(f"no result in {self.timeout:g} s"), kill=True
                )
        assert self._loop is not None
        self._watchdog = self._loop.call_later(min(1.0, self.timeout / 4), self._watch)

    def _death_reason(self, worker: _Worker) -> str:
        code = worker.process.poll()
        if code is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = worker.process.wait(1)
        if code is not None and code < 0:
            return f"extraction worker killed by {signal.Signals(-code).name}"
        return f"extraction worker exited (code {code})"

    def _replace(self, worker: _Worker, error: ExtractionFailed, kill: bool = False) -> None:
        """Fail the page `worker` was on, requeue the ones it had not started, start another."""
        if self._closed or worker not in self.workers:
            return
        self._detach(worker)
        if kill:
            with contextlib.suppress(OSError):
                worker.process.kill()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            worker.process.stdin.close()
            worker.process.wait(5)
        self.workers.remove(worker)
        if worker.tasks:
            current = worker.tasks.popleft()
            if not current.future.done():
                current.future.set_exception(error)
        self.backlog.extendleft(reversed(worker.tasks))
        worker.tasks.clear()
        logger.warning("extraction worker %d replaced: %s", worker.pid, error)
        self.replaced += 1
        self.workers.append(self._spawn())
        self._dispatch()

    def _detach(self, worker: _Worker) -> None:
        assert self._loop is not None
        self._loop.remove_reader(worker.process.stdout.fileno())
        if worker.outbox:
            self._loop.remove_writer(worker.process.stdin.fileno())
            worker.outbox.clear()

    def _fail_all(self, worker: _Worker, error: ExtractionFailed) -> None:
        for task in worker.tasks:
            if not task.future.done():
                task.future.set_exception(error)
        worker.tasks.clear()

    def _fail_backlog(self, error: ExtractionFailed) -> None:
        while self.backlog:
            task = self.backlog.popleft()
            if not task.future.done():
                task.future.set_exception(error)


if __name__ == "__main__":
    worker_main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_EXTRACTOR)
