"""Distributed crawl throughput: pages/s with 1 and 2 worker processes, and a local crawl.

Usage: ``python -m bench.distributed [--copies 10] [--workers 1 2] [--concurrency 16]
[--repeat 3] [--sites N [--delay 0.25] [--per-site 2]] [--memory-count 1000000]``

First, Redis memory per queued request and per archived URL (`bench.distributed_memory`,
`--memory-count` of each; 0 skips it).

With `--sites N`, the demo site is served N times, each copy on its own loopback address
(127.0.0.2, 127.0.0.3...: one host, so one download slot, per site), and crawled politely:
DOWNLOAD_DELAY `--delay` and CONCURRENT_REQUESTS_PER_DOMAIN `--per-site`, for the whole cluster.
The politeness ceiling is then N / delay pages/s; each distributed configuration is also run
with the per-worker limits workers had before (`per-worker limits`: each worker alone keeps the
site's delay, so two workers hit each site twice as often), to show what cluster-wide
politeness costs on many sites.

The site is the demo site with every article published `--copies` times (body reordered, a
dateline added, so every copy is a distinct article), served on 127.0.0.1 by this process; the
crawl enters through each paper's feed, sitemap and front page as `newsarchive demo` does.
Redis is a private redis-server on a free port. For each configuration the archive starts
empty; the workers and the ingester are started and ready before the clock starts, then the
clock runs from seeding the run to the ingester closing it (every article stored). The local
crawl's figure is Scrapy's own elapsed time of `newsarchive crawl`, storage included.

CPU seconds of every process (workers, ingester, redis-server, the site server in this
process) are printed too: on a small machine they tell what bounds the figure.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bench import last_run
from bench.distributed_memory import memory_report
from crawler.distributed.local_redis import LocalRedis
from newsarchive.demo_site import Article, Block, DemoSite, load_articles, serve_demo_site
from newsarchive.demo_site.server import DemoServer
from newsarchive.demo_site.sources import render_sources_toml

ROOT = Path(__file__).resolve().parent.parent
TOWNS = ("Port Alder", "Kingsbridge", "Eastmoor", "Wexley", "Calder", "Norhaven", "Linwood")


def article_copies(copies: int) -> list[Article]:
    """Every demo article `copies` times, each copy a distinct article of its own."""
    originals = load_articles()
    made = []
    for index in range(copies):
        for article in originals:
            if index == 0:
                made.append(article)
                continue
            rng = random.Random(f"{article.slug}-{index}")
            head, rest = list(article.blocks[:1]), list(article.blocks[1:])
            rng.shuffle(rest)
            town = TOWNS[index % len(TOWNS)]
            dateline = Block("paragraph", f"{town.upper()} - Reported from {town}; desk {index}.")
            made.append(
                dataclasses.replace(
                    article,
                    slug=f"{article.slug}-{index}",
                    title=f"{article.title} ({town})",
                    published=article.published - timedelta(hours=index * 7),
                    modified=None,
                    blocks=tuple(head + [dateline] + rest),
                )
            )
    return made


def _stat(pid: int | str) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a live process and its live descendants (a worker's
    extraction processes) have used so far."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(entry.name)):
            parents[int(entry.name)] = int(fields[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    ticks = sum(int(f[11]) + int(f[12]) for p in tree if (f := _stat(p)))
    return ticks / os.sysconf("SC_CLK_TCK")


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Result:
    name: str
    seconds: float
    pages: int
    articles: int
    cpu: dict[str, float] = field(default_factory=dict)
    pages_by_worker: dict[str, int] = field(default_factory=dict)
    spread: str = ""  # pages/s of the fastest and slowest of repeated runs


EXTRACTION_WORKERS: list[str] = []  # -s NEWSARCHIVE_EXTRACTION_WORKERS=N, from --extraction-workers
POLITENESS: list[str] = []  # per-site delay and concurrency, from --sites
PER_WORKER_LIMITS = ["-s", "DOWNLOADER=crawler.downloader.PoliteDownloader"]


def fast_settings(concurrency: int) -> list[str]:
    return [*EXTRACTION_WORKERS,
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
        "-s", f"CONCURRENT_REQUESTS={concurrency}",
        "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
        "-s", "LOG_LEVEL=WARNING", *POLITENESS,
    ]  # fmt: skip


def newsarchive(*args: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "newsarchive", *args],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait4(process: subprocess.Popen, timeout: float) -> float:
    """Wait for a child and return the CPU seconds it used (never `poll()` it: that reaps it)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError(f"{' '.join(process.args[3:5])} did not finish")
        time.sleep(0.02)


def fresh(db: Path) -> Path:
    """`db`, deleted if an earlier run left it: every run starts with an empty archive."""
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)
    return db


def local_crawl(sources: Path, work: Path, concurrency: int) -> Result:
    db = fresh(work / "local.db")
    cpu_before = self_cpu()
    crawl = newsarchive("crawl", "--sources", str(sources), "--db", str(db),
                        *fast_settings(concurrency), log=work / "local.log")  # fmt: skip
    cpu = wait4(crawl, 1800)
    run = last_run(db)
    seconds = json.loads(run["stats"])["elapsed_time_seconds"]
    return Result("local crawl", seconds, run["pages_fetched"], run["articles_new"],
                  {"crawl (with start-up)": cpu, "site": self_cpu() - cpu_before})  # fmt: skip


def distributed_crawl(
    workers: int,
    sources: Path,
    work: Path,
    redis: LocalRedis,
    concurrency: int,
    extra: tuple[str, ...] = (),
) -> Result:
    import redis as redis_client

    from crawler.distributed.connection import redis_overrides
    from crawler.distributed.seed import seed_run
    from crawler.sources import load_sources
    from newsarchive.crawl import project_settings

    settings = project_settings(redis_overrides(redis.url, "newsarchive"))
    sources = load_sources(sources)

    client = redis_client.Redis.from_url(redis.url)
    client.flushall()
    db = fresh(work / f"distributed-{workers}.db")
    procs = [
        newsarchive(
            "worker",
            "--redis",
            redis.url,
            "--id",
            f"w{i}",
            *fast_settings(concurrency),
            *extra,
            log=work / f"worker{i}.log",
        )  # fmt: skip
        for i in range(1, workers + 1)
    ]
    ingester = newsarchive("ingest", "--redis", redis.url, "--db", str(db), "--once", "-q",
                           log=work / f"ingest-{workers}.log")  # fmt: skip
    while client.hlen("newsarchive:workers") < workers or not client.exists("newsarchive:ingester"):
        if any(os.waitpid(p.pid, os.WNOHANG)[0] for p in [*procs, ingester]):
            raise RuntimeError(f"a process died at start; see {work}")
        time.sleep(0.05)
    others = {f"w{i}": p.pid for i, p in enumerate(procs, start=1)}
    pids = {"ingester": ingester.pid, "redis": redis.process.pid, **others}
    cpu_before = {name: cpu_of(pid) for name, pid in pids.items()}
    cpu_after, site_before = dict(cpu_before), self_cpu()
    started = time.monotonic()
    seed_run(settings, sources)  # in this process: the clock is for crawling, not start-up
    while not os.waitpid(ingester.pid, os.WNOHANG)[0]:
        cpu_after = {name: cpu_of(pid) for name, pid in pids.items()}  # until the end
        time.sleep(0.02)
    seconds = time.monotonic() - started
    cpu = {name: cpu_after[name] - cpu_before[name] for name in pids}
    cpu["site"] = self_cpu() - site_before
    for process in procs:
        process.send_signal(signal.SIGTERM)
    for process in procs:
        wait4(process, 120)
    run = last_run(db)
    stats = json.loads(run["stats"])
    by_worker = {
        f"w{i}": stats.get(f"newsarchive/workers/w{i}/pages", 0) for i in range(1, workers + 1)
    }
    name = f"{workers} worker" + ("s" if workers > 1 else "") + (" (old limits)" if extra else "")
    return Result(name, seconds, run["pages_fetched"], run["articles_new"], cpu, by_worker)


def median_result(results: list[Result]) -> Result:
    """The run with the median time (its own CPU and split), noting the spread in its name."""
    ordered = sorted(results, key=lambda r: r.seconds)
    middle = ordered[len(ordered) // 2]
    if len(ordered) > 1:
        rates = sorted(r.pages / r.seconds for r in ordered)
        slowest, fastest = rates[0], rates[-1]
        middle = dataclasses.replace(middle, spread=f"{slowest:.0f}-{fastest:.0f}")
    return middle


def report(results: list[Result], cores: int) -> str:
    lines = [
        f"{'configuration':<22} {'seconds':>8} {'pages':>6} {'pages/s':>8} {'(range)':>9}"
        f" {'articles/s':>10}  {'CPU busy':>8}  CPU seconds by process; pages by worker"
    ]
    for r in results:
        busy = sum(r.cpu.values()) / (r.seconds * cores)
        cpu = ", ".join(f"{k} {v:.2f}" for k, v in r.cpu.items())
        split = ", ".join(f"{k} {v}" for k, v in r.pages_by_worker.items())
        lines.append(
            f"{r.name:<22} {r.seconds:>8.2f} {r.pages:>6} {r.pages / r.seconds:>8.1f}"
            f" {r.spread:>9} {r.articles / r.seconds:>10.1f}  {busy:>7.0%}  {cpu}"
            + (f"; {split}" if split else "")
        )
    return "\n".join(lines)


def many_sites_sources(servers: list[DemoServer]) -> str:
    """One source per publication of every copy of the demo site, named after its copy."""
    sources = [
        {**source, "name": f"{source['name']}-{n}"}
        for n, server in enumerate(servers, start=1)
        for source in server.sources()
    ]
    return render_sources_toml(sources)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=10, help="copies of each demo article")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts")
    parser.add_argument("--concurrency", type=int, default=16, help="requests per process")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (median shown)")
    parser.add_argument("--no-local", action="store_true", help="skip the local crawl")
    parser.add_argument(
        "--extraction-workers",
        type=int,
        help="extraction processes per crawl or worker (default: one per CPU; 0: in-process)",
    )
    parser.add_argument("--sites", type=int, default=0, help="serve the site N times, politely")
    parser.add_argument("--delay", type=float, default=0.25, help="with --sites: DOWNLOAD_DELAY")
    parser.add_argument("--per-site", type=int, default=2, help="with --sites: requests at once")
    parser.add_argument(
        "--memory-count", type=int, default=1_000_000, help="queued requests, archived URLs"
    )
    args = parser.parse_args(argv)
    if args.extraction_workers is not None:
        EXTRACTION_WORKERS[:] = ["-s", f"NEWSARCHIVE_EXTRACTION_WORKERS={args.extraction_workers}"]
    if args.memory_count:
        print("\n".join(memory_report(args.memory_count)), flush=True)
    if args.sites:
        POLITENESS[:] = ["-s", f"DOWNLOAD_DELAY={args.delay}", "-s", "DOWNLOAD_DELAY_JITTER=0",
                         "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={args.per_site}"]  # fmt: skip

    site = DemoSite(article_copies(args.copies))
    cores = os.cpu_count() or 1
    copies = max(args.sites, 1)
    print(f"site: {len(site.articles)} articles, {len(site.resources)} pages, served {copies}"
          f" times; {cores} cores; load average {os.getloadavg()[0]:.2f} before")  # fmt: skip
    if args.sites:
        print(f"politeness: {args.per_site} requests at once and {args.delay} s apart per site"
              f" for the whole cluster: at most {args.sites / args.delay:.0f} pages/s")  # fmt: skip
    runs: dict[str, list[Result]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-distributed-") as tmp,
        contextlib.ExitStack() as servers,
        LocalRedis() as redis,
    ):
        hosts = [f"127.0.0.{n + 2}" for n in range(args.sites)] or ["127.0.0.1"]
        served = [servers.enter_context(serve_demo_site(host, site=site)) for host in hosts]
        work = Path(tmp)
        sources = work / "sources.toml"
        sources.write_text(many_sites_sources(served), encoding="utf-8")
        configurations = [(w, ()) for w in args.workers]
        if args.sites:
            configurations += [(w, tuple(PER_WORKER_LIMITS)) for w in args.workers]
        for _ in range(args.repeat):  # interleaved, so drifting load hits all alike
            if not args.no_local:
                result = local_crawl(sources, work, args.concurrency)
                runs.setdefault(result.name, []).append(result)
                print(report([result], cores).splitlines()[-1], flush=True)
            for workers, extra in configurations:
                result = distributed_crawl(workers, sources, work, redis, args.concurrency, extra)
                runs.setdefault(result.name, []).append(result)
                print(report([result], cores).splitlines()[-1], flush=True)
    print(f"\nmedian of {args.repeat}; load average {os.getloadavg()[0]:.2f} after")
    print(report([median_result(results) for results in runs.values()], cores))


if __name__ == "__main__":
    main()
