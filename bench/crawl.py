"""End-to-end crawl benchmark: how fast `newsarchive crawl` archives a big local news site.

Usage: ``python -m bench.crawl [--pages N] [--page-kb KB] [--ref-pages N] [--into ARCHIVE]
[-s NAME=VALUE ...]``

Generates N distinct article pages (the demo site's two templates, padded to the weight of real
news pages), serves them pre-rendered from memory on 127.0.0.1, measures single-process
extraction-only rates on a sample of the same pages (trafilatura's defaults and our
`extract_article`: the per-core ceilings), then runs a full `newsarchive crawl` of the site in
a child process with politeness off and reports: pages/s end to end and the ratio to each
ceiling, pages/s over the first and last part of the run, the peak memory of the crawl's whole
process tree, and the archive's size per 1,000 articles with and without the raw HTML.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import last_run, remove_articles_after
from bench.crawl_measure import (
    CrawlSampler,
    Samples,
    machine_busy_seconds,
    part_rates,
    window_rates,
)
from bench.crawl_server import StaticServer, response_bytes
from bench.crawl_site import GeneratedSite, build_real_site, build_site
from bench.crawl_store import StoreCosts, store_costs

REPO_ROOT = Path(__file__).resolve().parent.parent
PROFILED_CRAWL = """import cProfile, sys, time
sys.argv[0] = "newsarchive"
from newsarchive.cli import cli
profile = cProfile.Profile(time.process_time)
try:
    profile.runcall(cli.main, args=sys.argv[1:], standalone_mode=False)
finally:
    profile.dump_stats({out!r})
"""
# Politeness off: this is our own server on 127.0.0.1.
FAST_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
}


def reference_rates(site: GeneratedSite, origin: str, count: int) -> dict[str, float]:
    """Single-process extraction-only pages/s (CPU time) on `count` pages spread over the site:
    trafilatura with default settings, our `extract_article`, and (`ours_fingerprinted`) what
    an extraction worker runs: it and the fingerprints the pool adds. No Scrapy, no SQLite."""
    import trafilatura

    from pipelines.article.core import extract_article
    from pipelines.article.pool import run_extractor

    step = max(1, len(site.article_paths) // count)
    paths = site.article_paths[::step][:count]
    pages = [(origin + p, site.resources[p].body_for(origin)) for p in paths]

    def trafilatura_default(url: str, body: bytes) -> object:
        return trafilatura.extract(body, include_comments=False)

    def ours(url: str, body: bytes) -> object:
        return extract_article(body, url, encoding="utf-8")

    def ours_fingerprinted(url: str, body: bytes) -> object:
        return run_extractor(extract_article, {"html": body, "url": url, "encoding": "utf-8"})

    rates = {}
    extractors = (("trafilatura", trafilatura_default), ("ours", ours),
                  ("ours_fingerprinted", ours_fingerprinted))  # fmt: skip
    for name, extract in extractors:
        for url, body in pages[:3]:  # warm up: imports, the language model
            extract(url, body)
        started = time.process_time()
        for url, body in pages:
            extract(url, body)
        rates[name] = len(pages) / (time.process_time() - started)
    rates["pages"] = len(pages)
    return rates


def archive_sizes(db_path: Path, workdir: Path) -> tuple[int, int, int]:
    """(articles, bytes with raw HTML, bytes without), each measured on a vacuumed copy."""
    with_html = workdir / "with-html.db"
    without_html = workdir / "without-html.db"
    for path in (with_html, without_html):
        path.unlink(missing_ok=True)
    conn = sqlite3.connect(db_path)
    try:
        articles = conn.execute("select count(*) from articles").fetchone()[0]
        conn.execute("vacuum into ?", [str(with_html)])
    finally:
        conn.close()
    shutil.copy(with_html, without_html)
    conn = sqlite3.connect(without_html)
    try:
        conn.execute("drop table article_html")
        conn.commit()
        conn.execute("vacuum")
    finally:
        conn.close()
    sizes = with_html.stat().st_size, without_html.stat().st_size
    with_html.unlink()
    without_html.unlink()
    return articles, *sizes


def run_crawl(
    sources: Path, db_path: Path, settings: dict[str, str], log: Path, profile: str | None = None
) -> dict:
    """Run `newsarchive crawl` in a child process while sampling it; what it did and cost."""
    args = [sys.executable, "-m", "newsarchive", "crawl", "--sources", str(sources)]
    if profile:  # CPU time, not wall time: workers and other load would skew wall time
        args[1:3] = ["-c", PROFILED_CRAWL.format(out=profile)]
    args += ["--db", str(db_path), "--log-level", "WARNING"]
    for name, value in settings.items():
        args += ["-s", f"{name}={value}"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as output:
        busy_before, own_before = machine_busy_seconds(), time.process_time()
        started = time.monotonic()
        child = subprocess.Popen(
            args, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT, env=env
        )
        sampler = CrawlSampler(child.pid, db_path)
        sampler.start()
        code = child.wait()
        elapsed = time.monotonic() - started
        samples = sampler.stop()
    cpu = os.times()
    crawl_cpu = cpu.children_user + cpu.children_system
    # What other processes of the machine took meanwhile: the crawl competed with them.
    others = machine_busy_seconds() - busy_before - crawl_cpu
    others -= time.process_time() - own_before  # this process: server, sampler
    return {
        "code": code,
        "pid": child.pid,
        "elapsed": elapsed,
        "samples": samples,
        "cpu": crawl_cpu,
        "others": max(0.0, others),
    }


def report(
    args: argparse.Namespace,
    site_seconds: float,
    refs: dict[str, float],
    crawl: dict,
    run: dict,
    sizes: tuple[int, int, int],
    server: StaticServer,
    writes: StoreCosts,
) -> list[str]:
    samples: Samples = crawl["samples"]
    # Article pages the crawl got through: stored (new, or another copy of a stored text) or
    # dropped with a reason. Equal to --pages when every page is a distinct article.
    stored = sum(run[k] or 0 for k in ("articles_new", "articles_updated", "articles_unchanged"))
    processed = stored + (run["pages_dropped"] or 0)
    rate = processed / crawl["elapsed"]
    window = min(1000, max(1, args.pages // 4))
    windows = window_rates(samples.stored, window)
    articles, with_html, without_html = sizes
    own_cpu, children_cpu = samples.crawl_cpu(crawl["pid"])
    per_k = 1000 / max(articles, 1) / 1e6
    lines = [
        f"crawl benchmark: {args.pages} {'real' if args.real_pages else 'generated'} pages of "
        f"~{args.page_kb} kB, {os.cpu_count()} CPUs, "
        f"load before {args.load_before}",
        f"  settings            {' '.join(f'{k}={v}' for k, v in args.settings.items()) or '-'}",
        f"  site generated in   {site_seconds:.1f} s; server CPU {server.cpu_seconds:.2f} s "
        f"for {server.requests} requests",
        f"  crawl               exit {crawl['code']}, {run['status']} ({run['finish_reason']}): "
        f"{run['pages_fetched']} fetched, {run['articles_new']} new articles "
        f"({stored - run['articles_new']} more copies), {run['pages_dropped']} dropped "
        f"{run['dropped']}, {run['errors']} errors",
        f"  end to end          {rate:.1f} pages/s ({processed} article pages in "
        f"{crawl['elapsed']:.1f} s, "
        f"process start to exit; crawl CPU {crawl['cpu']:.1f} s = "
        f"{crawl['cpu'] / crawl['elapsed']:.2f} cores)",
        f"  CPU by process      crawl process {own_cpu:.1f} s ({own_cpu / crawl['elapsed']:.0%} of "
        f"the run), its children {children_cpu:.1f} s, server {server.cpu_seconds:.1f} s; "
        f"other processes on the machine {crawl['others'] / crawl['elapsed']:.2f} cores",
        f"  extraction only     trafilatura default {refs['trafilatura']:.1f} pages/s, "
        f"ours {refs['ours']:.1f} pages/s (1 process, CPU time, {refs['pages']} of the same pages)",
        f"  end to end / 1 core {rate / refs['trafilatura']:.2f}x trafilatura default, "
        f"{rate / refs['ours']:.2f}x our extract_article",
    ]
    if windows:
        first, last = windows
        lines.append(
            f"  first/last {window:<8} {first:.1f} / {last:.1f} pages/s "
            f"(last/first {last / first:.2f})"
        )
    parts = part_rates(samples.stored)
    if parts:
        lines.append(f"  by tenths of run   {' '.join(f'{rate:.0f}' for rate in parts)} pages/s")
    lines += [
        f"  peak memory         RSS {samples.peak_rss_kb / 1024:.0f} MB summed over the process "
        f"tree (up to {samples.max_processes} processes; the crawl process alone "
        f"{samples.peak_crawl_rss_kb / 1024:.0f} MB), PSS {samples.peak_pss_kb / 1024:.0f} MB",
        f"  archive / 1,000     {with_html * per_k:.1f} MB with raw HTML, "
        f"{without_html * per_k:.1f} MB without ({articles} articles, vacuumed copies)",
        f"  writes              {writes.total_ms:.2f} ms CPU/article in batches of 50, of which "
        f"FTS index {writes.fts_ms:.2f} ms, compression {writes.compress_ms:.2f} ms "
        f"({writes.articles} articles stored again, no Scrapy)",
        f"  load after          {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]
    return lines


def _last_article_id(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("select coalesce(max(id), 0) from articles").fetchone()[0]
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000, help="article pages (default 2000)")
    parser.add_argument("--page-kb", type=int, default=110, help="page weight (0: lean demo)")
    parser.add_argument(
        "--real-pages",
        action="store_true",
        help="copies of the extraction benchmark's real news pages instead of generated ones",
    )
    parser.add_argument("--ref-pages", type=int, default=300, help="pages timed per reference")
    parser.add_argument("--workdir", help="keep the archive and crawl log here")
    parser.add_argument(
        "--into",
        type=Path,
        help="crawl into this existing archive (e.g. bench.scale's) instead of an empty one; "
        "the crawled articles are deleted again afterwards (their run stays in crawl_runs); "
        "sizes and store costs are not measured",
    )
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--profile", help="run the crawl under cProfile, stats to this file")
    parser.add_argument("-s", dest="extra", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    args.settings = dict(item.split("=", 1) for item in args.extra)
    args.load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-crawl-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = args.into or workdir / "archive.db"
    if not args.into:
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    last_id_before = _last_article_id(db_path) if args.into else 0
    started = time.monotonic()
    if args.real_pages:
        from bench.extraction import load_pages, resolve_bench_dir

        real = [page.html for page in load_pages(resolve_bench_dir(None))]
        site = build_real_site(args.pages, real)
        args.page_kb = sum(len(p) for p in real) // len(real) // 1024
    else:
        site = build_site(args.pages, args.page_kb)
    site_seconds = time.monotonic() - started
    with StaticServer() as server:
        origin = server.origin
        server.responses = {
            path: response_bytes(r.body_for(origin), r.content_type)
            for path, r in site.resources.items()
        }
        refs = reference_rates(site, origin, args.ref_pages)
        sources = workdir / "sources.toml"
        sources.write_text(site.sources_toml(origin), encoding="utf-8")
        settings = {**FAST_SETTINGS, **args.settings}
        crawl = run_crawl(sources, db_path, settings, workdir / "crawl.log", args.profile)
    run = last_run(db_path)
    if args.into:  # copying a big archive to measure it would take longer than the crawl
        sizes, writes = (run["articles_new"] or 0, 0, 0), StoreCosts(0, 0.0, 0.0, 0.0)
        # Today's crawled pages would be the archive's newest articles, which its search
        # samples: left in, they change what bench.scale measures next.
        from pipelines.archive.schema import open_archive

        db = open_archive(db_path)
        try:
            remove_articles_after(db, last_id_before)
        finally:
            db.close()
    else:
        sizes, writes = archive_sizes(db_path, workdir), store_costs(db_path, workdir)
    lines = report(args, site_seconds, refs, crawl, run, sizes, server, writes)
    if args.into:
        unmeasured = ("  archive / 1,000", "  writes ")
        lines = [line for line in lines if not line.startswith(unmeasured)]
        lines.insert(1, f"  into                {args.into} (existing archive)")
    print("\n".join(lines))
    if crawl["code"] != 0:
        print((workdir / "crawl.log").read_text(errors="replace")[-3000:], file=sys.stderr)
    if args.json:
        samples = crawl.pop("samples")
        record = {"pages": args.pages, "refs": refs, "crawl": crawl, "report": lines}
        record["stored"] = samples.stored
        Path(args.json).write_text(json.dumps(record, indent=1), encoding="utf-8")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if crawl["code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
