"""WARC import benchmark: builds a WARC of generated news pages (the crawl benchmark's), imports
it with `newsarchive import` and prints, from one run, the import's rate next to single-process
extraction of the same pages by our extractor, the import's CPU (its own process and the
extraction workers), its peak RSS (process tree) at two file sizes, and the WARC readers' own
speed (warcio, fastwarc). The target (issue 12): the whole import at 1.7 times single-process
extraction on a 2-core machine.

    python -m bench.warc [--pages 2000] [--page-kb 110] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from bench import last_run
from bench.crawl import reference_rates
from bench.crawl_measure import CrawlSampler, machine_busy_seconds
from bench.crawl_site import GeneratedSite, build_site

ORIGIN = "https://bench.example.com"
REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.7  # times single-process extraction, on 2 cores (issue 12)


def write_warc(site: GeneratedSite, paths: list[str], path: Path) -> None:
    """A .warc.gz of request and response records of these pages, as a crawl writes them."""
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True, warc_version="1.1")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "bench.warc"}))
        for page in paths:
            url = ORIGIN + page
            http = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            body = site.resources[page].body_for(ORIGIN)
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), http_headers=http
                )  # fmt: skip
            )
            request = StatusAndHeaders(f"GET {page} HTTP/1.1", [("Host", "bench.example.com")],
                                       is_http_request=True)  # fmt: skip
            writer.write_record(writer.create_warc_record(url, "request", http_headers=request))


def reader_rates(path: Path) -> dict[str, float]:
    """Records per second (CPU) reading every record and its payload, per WARC library, and
    through the import's own reader (`crawler.warc.reader`: fastwarc, events built)."""
    from fastwarc.warc import ArchiveIterator as FastIterator

    from crawler.warc.reader import read_warc

    def warcio_records() -> int:
        with open(path, "rb") as stream:
            return sum(len(r.content_stream().read()) >= 0 for r in ArchiveIterator(stream))

    def fastwarc_records() -> int:
        with open(path, "rb") as stream:
            records = FastIterator(stream, parse_http=True, fsspec_args=False)
            return sum(len(r.reader.read()) >= 0 for r in records)

    def import_reader_records() -> int:
        return sum(1 for _ in read_warc(str(path)))

    rates = {}
    for name, read in (("warcio", warcio_records), ("fastwarc", fastwarc_records),
                       ("the import's reader", import_reader_records)):  # fmt: skip
        started = time.process_time()
        count = read()
        rates[name] = count / (time.process_time() - started)
    return rates


def run_import(warc: Path, db: Path, log: Path) -> dict:
    """`newsarchive import` in a child process, sampled: seconds, peak RSS, CPU seconds of the
    import's own process and of its extraction workers, what the rest of the machine took
    meanwhile, and the run's row."""
    args = [sys.executable, "-m", "newsarchive", "import", str(warc), "--db", str(db),
            "--sources", str(db.parent / "no-sources.toml"), "--log-level", "WARNING"]  # fmt: skip
    with open(log, "wb") as output:
        before = os.times()
        busy_before, own_before = machine_busy_seconds(), time.process_time()
        started = time.monotonic()
        child = subprocess.Popen(args, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
        sampler = CrawlSampler(child.pid, db, interval=0.1)
        sampler.start()
        code = child.wait()
        elapsed = time.monotonic() - started
        samples = sampler.stop()
    if code != 0:
        raise SystemExit(f"the import failed (exit {code}); see {log}")
    after = os.times()
    # The child and the workers it waited for: exact, from the kernel.
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    own, _ = samples.crawl_cpu(child.pid)  # the import's process, last sampled
    others = machine_busy_seconds() - busy_before - cpu - (time.process_time() - own_before)
    return {
        "elapsed": elapsed,
        "rss_mb": samples.peak_rss_kb / 1024,
        "run": last_run(db),
        "cpu": cpu,
        "main_cpu": min(own, cpu),
        "others": max(0.0, others),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--page-kb", type=int, default=110)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-warc-"))
    workdir.mkdir(parents=True, exist_ok=True)

    site = build_site(args.pages, args.page_kb)
    sizes = sorted({max(1, args.pages // 2), args.pages})
    cores = os.cpu_count() or 1
    print(f"{args.pages} generated pages (~{args.page_kb} kB), work in {workdir}; {cores} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at the start")  # fmt: skip
    reference = reference_rates(site, ORIGIN, min(300, args.pages))
    ours = reference["ours"]
    print(f"single-process extraction (ours, CPU time, {reference['pages']} pages): "
          f"{ours:.1f} pages/s ({1000 / ours:.2f} ms a page)")  # fmt: skip
    print(f"  with the fingerprints an extraction worker adds (content hash, SimHash): "
          f"{reference['ours_fingerprinted']:.1f} pages/s")  # fmt: skip
    measured = []  # (articles, CPU seconds of the process tree, wall seconds)
    for count in sizes:
        warc = workdir / f"bench-{count}.warc.gz"
        write_warc(site, site.article_paths[:count], warc)
        readers = reader_rates(warc)
        db = workdir / f"import-{count}.db"
        for path in workdir.glob(f"import-{count}.db*"):
            path.unlink()
        result = run_import(warc, db, workdir / f"import-{count}.log")
        stored = result["run"]["articles_new"] or 0
        rate = stored / result["elapsed"]
        print(
            f"import of {count} pages ({warc.stat().st_size / 1e6:.1f} MB .warc.gz): "
            f"{stored} articles in {result['elapsed']:.1f} s = {rate:.1f} articles/s = "
            f"{rate / ours:.2f}x single-process extraction; "
            f"peak RSS {result['rss_mb']:.0f} MB (process tree)"
        )
        main_cpu, workers_cpu = result["main_cpu"], result["cpu"] - result["main_cpu"]
        per = 1000 / max(1, stored)
        print(f"  CPU (user+sys): import process {main_cpu:.2f} s ({main_cpu * per:.2f} ms an "
              f"article = {main_cpu * per * ours / 1000:.2f}x extraction's), extraction workers "
              f"{workers_cpu:.2f} s ({workers_cpu * per:.2f} ms an article); other processes "
              f"of the machine took {result['others']:.1f} CPU s meanwhile")  # fmt: skip
        # CPU per article of the whole process tree (start-up included) does not depend on
        # what else the machine runs: what idle cores would give, at best.
        measured.append((stored, result["cpu"], result["elapsed"]))
        per_article = result["cpu"] / max(1, stored)
        print(f"  on {cores} idle cores at most {cores / per_article / ours:.2f}x (the process "
              f"tree's {per_article * 1000:.2f} ms of CPU an article, with start-up)")  # fmt: skip
        print("  WARC reading alone (CPU): "
              + ", ".join(f"{name} {r:,.0f} records/s" for name, r in readers.items()))  # fmt: skip
    if len(measured) == 2 and measured[1][0] > measured[0][0]:
        # The big file's extra articles without the fixed start-up (processes, imports).
        (n1, cpu1, wall1), (n2, cpu2, wall2) = measured
        marginal = (cpu2 - cpu1) / (n2 - n1)
        print(f"marginal CPU an article (start-up excluded): {marginal * 1000:.2f} ms: on "
              f"{cores} idle cores at most {cores / marginal / ours:.2f}x")  # fmt: skip
        if wall2 > wall1:
            steady = (n2 - n1) / (wall2 - wall1)
            print(f"steady rate (the big file's extra articles over its extra seconds, start-up "
                  f"excluded): {steady:.1f} articles/s = {steady / ours:.2f}x single-process "
                  f"extraction")  # fmt: skip
    stored, _, wall = measured[-1]
    ratio = stored / wall / ours
    verdict = "met" if ratio >= TARGET else "NOT MET"
    print(f"target {TARGET}x single-process extraction (the whole {stored}-article import, "
          f"start-up included): {verdict} ({ratio:.2f}x); load average "
          f"{os.getloadavg()[0]:.2f} at the end: on a busy machine the rates mean little, the "
          f"CPU figures still hold")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
