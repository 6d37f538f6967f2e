"""WARC import benchmark: builds a WARC of generated news pages (the crawl benchmark's), imports
it with `newsarchive import` and prints the import's rate next to single-process extraction of
the same pages, with the import's peak RSS (process tree) at two file sizes, and the WARC
readers' own speed (warcio, and fastwarc when installed).

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
from bench.crawl_measure import CrawlSampler
from bench.crawl_site import GeneratedSite, build_site

ORIGIN = "https://bench.example.com"
REPO_ROOT = Path(__file__).resolve().parent.parent


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
    """Records per second (CPU) reading every record and its payload, per WARC library."""
    rates = {}
    started = time.process_time()
    with open(path, "rb") as stream:
        count = sum(len(r.content_stream().read()) >= 0 for r in ArchiveIterator(stream))
    rates["warcio"] = count / (time.process_time() - started)
    try:
        from fastwarc.warc import ArchiveIterator as FastIterator
    except ImportError:
        return rates
    started = time.process_time()
    with open(path, "rb") as stream:
        count = sum(len(r.reader.read()) >= 0 for r in FastIterator(stream, parse_http=True))
    rates["fastwarc"] = count / (time.process_time() - started)
    return rates


def run_import(warc: Path, db: Path, log: Path) -> dict:
    """`newsarchive import` in a child process, sampled: seconds, peak RSS, its run row."""
    args = [sys.executable, "-m", "newsarchive", "import", str(warc), "--db", str(db),
            "--sources", str(db.parent / "no-sources.toml"), "--log-level", "WARNING"]  # fmt: skip
    with open(log, "wb") as output:
        started = time.monotonic()
        child = subprocess.Popen(args, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
        sampler = CrawlSampler(child.pid, db)
        sampler.start()
        code = child.wait()
        elapsed = time.monotonic() - started
        samples = sampler.stop()
    if code != 0:
        raise SystemExit(f"the import failed (exit {code}); see {log}")
    run = last_run(db)
    cpu = sum(samples.cpu.values())
    return {"elapsed": elapsed, "rss_mb": samples.peak_rss_kb / 1024, "run": run, "cpu": cpu}


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
    print(f"{args.pages} generated pages (~{args.page_kb} kB), work in {workdir}")
    reference = reference_rates(site, ORIGIN, min(300, args.pages))
    print(f"single-process extraction (ours, CPU time, {reference['pages']} pages): "
          f"{reference['ours']:.1f} pages/s")  # fmt: skip
    with_fingerprints = reference["ours_fingerprinted"]
    print(f"  with the fingerprints an extraction worker adds (content hash, SimHash): "
          f"{with_fingerprints:.1f} pages/s")  # fmt: skip
    measured = []  # (articles, CPU seconds of the process tree, wall seconds)
    for count in sizes:
        warc = workdir / f"bench-{count}.warc.gz"
        write_warc(site, site.article_paths[:count], warc)
        readers = reader_rates(warc)
        db = workdir / f"import-{count}.db"
        for path in workdir.glob(f"import-{count}.db*"):
            path.unlink()
        result = run_import(warc, db, workdir / f"import-{count}.log")
        run = result["run"]
        stored = run["articles_new"] or 0
        rate = stored / result["elapsed"]
        print(
            f"import of {count} pages ({warc.stat().st_size / 1e6:.1f} MB .warc.gz): "
            f"{stored} articles in {result['elapsed']:.1f} s = {rate:.1f} articles/s = "
            f"{rate / reference['ours']:.2f}x single-process extraction; "
            f"peak RSS {result['rss_mb']:.0f} MB (process tree)"
        )
        # CPU per article of the whole process tree (start-up included) does not depend on
        # what else the machine runs: what two idle cores would give, at best.
        measured.append((stored, result["cpu"], result["elapsed"]))
        per_article = result["cpu"] / max(1, stored)
        print(f"  CPU {result['cpu']:.1f} s for the process tree = {per_article * 1000:.1f} ms per "
              f"article (extraction alone {1000 / reference['ours']:.1f} ms): on 2 idle cores at "
              f"most {2 / per_article / reference['ours']:.2f}x")  # fmt: skip
        print("  WARC reading alone: "
              + ", ".join(f"{name} {r:,.0f} records/s" for name, r in readers.items()))  # fmt: skip
    if len(measured) == 2 and measured[1][0] > measured[0][0]:
        # The second half of the big file without the fixed start-up (processes, imports).
        (n1, cpu1, wall1), (n2, cpu2, wall2) = measured
        marginal = (cpu2 - cpu1) / (n2 - n1)
        print(f"marginal CPU per article (start-up excluded): {marginal * 1000:.1f} ms: on 2 "
              f"idle cores at most {2 / marginal / reference['ours']:.2f}x")  # fmt: skip
        if wall2 > wall1:
            steady = (n2 - n1) / (wall2 - wall1)
            print(f"steady rate (the big file's extra articles over its extra seconds, start-up "
                  f"excluded): {steady:.1f} articles/s = {steady / reference['ours']:.2f}x "
                  f"single-process extraction, {steady / with_fingerprints:.2f}x with "
                  f"fingerprints")  # fmt: skip
    print(f"machine: {os.cpu_count()} CPUs; timings are only meaningful on a quiet machine")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
