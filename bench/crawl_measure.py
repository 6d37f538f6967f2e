"""Measuring a running crawl from outside: memory of its process tree, and articles stored over
time, sampled from the benchmark process while the crawl runs."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    todo.extend(int(child) for child in handle.read().split())
        except OSError:  # gone meanwhile
            continue
    return found


def rss_kb(pid: int) -> int:
    """Resident set size of one process in kB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def pss_kb(pid: int) -> int:
    """Proportional set size in kB: shared pages split between the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


@dataclass
class Samples:
    """What the sampler saw: peak memory, the most processes at once, (time, articles), and the
    last CPU time seen of the crawl process itself and of each of its descendants."""

    peak_rss_kb: int = 0
    peak_crawl_rss_kb: int = 0  # the crawl process alone
    peak_pss_kb: int = 0
    max_processes: int = 0
    stored: list[tuple[float, int]] = field(default_factory=list)
    cpu: dict[int, float] = field(default_factory=dict)

    def crawl_cpu(self, pid: int) -> tuple[float, float]:
        """(CPU seconds of the crawl process, of all its descendants together)."""
        own = self.cpu.get(pid, 0.0)
        return own, sum(self.cpu.values()) - own


class CrawlSampler:
    """Samples the crawl's process tree memory and the archive's article count in a thread."""

    def __init__(self, pid: int, db_path: Path, interval: float = 0.2) -> None:
        self.pid = pid
        self.db_path = db_path
        self.interval = interval
        self.samples = Samples()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._db: sqlite3.Connection | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> Samples:
        self._stop.set()
        self._thread.join()
        return self.samples

    def _articles(self) -> int | None:
        if self._db is None:
            if not self.db_path.exists():
                return None
            self._db = sqlite3.connect(self.db_path, timeout=1)
        try:
            return self._db.execute("select count(*) from articles").fetchone()[0]
        except sqlite3.Error:  # not created yet, or busy for a moment
            return None

    def _run(self) -> None:
        tick = 0
        while not self._stop.is_set():
            pids = process_tree(self.pid)
            s = self.samples
            s.max_processes = max(s.max_processes, len(pids))
            sizes = [rss_kb(p) for p in pids]
            s.peak_rss_kb = max(s.peak_rss_kb, sum(sizes))
            s.peak_crawl_rss_kb = max(s.peak_crawl_rss_kb, sizes[0])
            for pid in pids:
                s.cpu[pid] = max(s.cpu.get(pid, 0.0), cpu_seconds(pid))
            if tick % 5 == 0:  # smaps_rollup walks page tables: sample it less often
                s.peak_pss_kb = max(s.peak_pss_kb, sum(pss_kb(p) for p in pids))
            count = self._articles()
            if count is not None:
                s.stored.append((time.monotonic(), count))
            tick += 1
            self._stop.wait(self.interval)
        if self._db is not None:
            self._db.close()


def crossing_time(stored: list[tuple[float, int]], count: int) -> float | None:
    """When the stored-articles count reached `count`, interpolated between samples."""
    previous = None
    for moment, value in stored:
        if value >= count:
            if previous is None or value == previous[1]:
                return moment
            (t0, c0) = previous
            return t0 + (moment - t0) * (count - c0) / (value - c0)
        previous = (moment, value)
    return None


def window_rates(stored: list[tuple[float, int]], window: int) -> tuple[float, float] | None:
    """Articles/s over the first and the last `window` articles stored.

    The first window starts at the first sample with articles in the archive (the crawl's
    start-up is not part of it); the last window ends when the final count was first seen.
    """
    started = next(((t, c) for t, c in stored if c > 0), None)
    if started is None or not stored:
        return None
    final = stored[-1][1]
    if final - started[1] < 2 * window:
        return None
    first_end = crossing_time(stored, started[1] + window)
    last_start = crossing_time(stored, final - window)
    last_end = crossing_time(stored, final)
    if None in (first_end, last_start, last_end):
        return None
    return window / (first_end - started[0]), window / (last_end - last_start)


def part_rates(stored: list[tuple[float, int]], parts: int = 10) -> list[float]:
    """Articles/s over each of `parts` equal parts of the run, from the first sample with
    articles in the archive to the final count."""
    started = next(((t, c) for t, c in stored if c > 0), None)
    if started is None:
        return []
    final = stored[-1][1]
    bounds = [started[1] + (final - started[1]) * i / parts for i in range(parts + 1)]
    times = [started[0]] + [crossing_time(stored, round(b)) for b in bounds[1:]]
    if None in times:
        return []
    return [
        (bounds[i + 1] - bounds[i]) / (times[i + 1] - times[i])
        for i in range(parts)
        if times[i + 1] > times[i]
    ]
