"""Score article-text extraction on both dev sets and the multilingual regression set.

Usage: ``python -m bench.extraction [--sets NAME ...] [--fresh] [--ablate] [--folds K]
[--show-worst N] [--bootstrap N]``

Sets (see bench/extraction_data.py): ``scrapinghub`` (108 pages) and ``wcxb`` (793 pages), the
dev sets, scored with the ScrapingHub shingle metric (F1 of mean precision and mean recall),
and ``multilingual`` (990 pages), the regression check, scored with trafilatura's snippet
metric. WCXB and multilingual also count the ``without`` snippets (boilerplate) that leak into
the output. Each set is reported on its own.

Rows: trafilatura 2.3.1 default, favor_precision, favor_recall and fast on the raw page
(``extract(html, include_comments=False)``); ``ours (cross-validated)``, the figure that
counts: each dev page extracted with the choices (the fallback threshold) made on the folds
that do not hold its site (bench/extraction_cv.py); and ``ours (shipped)``, ``extract_article``
as shipped, with the choice made on all dev pages (unseen on the multilingual set). ms/page
is the median wall time per page, each extractor in this process, one after another; the
summary also gives the median CPU time (process time), which a busy machine inflates less.

Speed is compared like for like. ``ours (shipped)`` also reads the metadata (title, authors,
dates with htmldate, tags...) and writes markdown, which trafilatura's ``extract`` skips by
default, so it is timed against ``trafilatura-default+meta`` (``with_metadata=True``, the
same text), and ``ours (text only)`` (``article_text``: the same text as shipped, without the
metadata) against ``trafilatura-default``. The shipped-against-text-alone ratio is printed too.

Outputs and times are cached in bench/out/runs/ by set, extractor and code version, so
experiments do not rerun trafilatura; ``--fresh`` recomputes everything (use it for timings).
``--ablate`` prints, for every rule, the cross-validated F1 without it minus with it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.extraction_data import (
    REPO_ROOT,
    SETS,
    SHARED,
    Page,
    PageScore,
    PageSet,
    aggregate,
    bootstrap_f1_std,
    page_precision,
    page_recall,
    page_score,
    snippet_counts,
    snippet_scores,
)
from bench.extraction_data import scrapinghub as _scrapinghub

__all__ = ["page_precision", "page_recall", "page_score", "load_pages", "resolve_bench_dir"]

DEFAULT_BENCH_DIR = SHARED / "extraction-bench"
ENV_VAR = "NEWSARCHIVE_EXTRACTION_BENCH"
RUN_CACHE = REPO_ROOT / "bench" / "out" / "runs"
# One noise unit: the READMEs' bootstrap figure for differences that mean nothing.
NOISE = 0.005
MARGIN = 0.01


def resolve_bench_dir(cli_value: str | None) -> Path:
    """--bench-dir, else $NEWSARCHIVE_EXTRACTION_BENCH, else ../shared/extraction-bench."""
    return Path(cli_value or os.environ.get(ENV_VAR) or DEFAULT_BENCH_DIR)


def load_pages(bench_dir: Path) -> list[Page]:
    """The ScrapingHub pages of `bench_dir` (bench.crawl serves them as a real site)."""
    return _scrapinghub(bench_dir).pages


def _ours() -> Callable[[Page], str | None]:
    from pipelines.article.core import extract_article, guess_language

    guess_language("Load the language model now, as a crawler process does once.")

    def run(page: Page) -> str | None:
        doc = extract_article(page.html, page.url)
        return doc["text"] if doc else None

    return run


def _ours_text_only() -> Callable[[Page], str | None]:
    from pipelines.article.core import article_text

    def run(page: Page) -> str | None:
        return article_text(page.html, page.url)

    return run


def _trafilatura(**options: bool) -> Callable[[], Callable[[Page], str | None]]:
    def load() -> Callable[[Page], str | None]:
        import trafilatura

        def run(page: Page) -> str | None:
            text = trafilatura.extract(page.html, include_comments=False, **options)
            if text and options.get("with_metadata") and text.startswith("---\n"):
                text = text.split("\n---\n", 1)[-1]  # the body without its metadata header
            return text

        return run

    return load


EXTRACTORS: dict[str, Callable[[], Callable[[Page], str | None]]] = {
    "trafilatura-default": _trafilatura(),
    "trafilatura-precision": _trafilatura(favor_precision=True),
    "trafilatura-recall": _trafilatura(favor_recall=True),
    "trafilatura-fast": _trafilatura(fast=True),
    "trafilatura-default+meta": _trafilatura(with_metadata=True),
    "ours (shipped)": _ours,
    "ours (text only)": _ours_text_only,
}
TRAFILATURA = [name for name in EXTRACTORS if name.startswith("trafilatura")]
# Speed is compared like for like: the same work on both sides (text and metadata, or text
# alone), and the shipped extraction against default's text alone as well.
SPEED_PAIRS = (
    ("ours (shipped)", "trafilatura-default+meta", "text and metadata"),
    ("ours (text only)", "trafilatura-default", "text alone"),
    ("ours (shipped)", "trafilatura-default", "ours with metadata, default text alone"),
)


def _version(name: str) -> str:
    import trafilatura

    key = f"trafilatura {trafilatura.__version__}"
    if not name.startswith("trafilatura"):
        folder = REPO_ROOT / "pipelines" / "article"
        code = b"".join(p.read_bytes() for p in sorted(folder.glob("*.py")))
        key += hashlib.sha1(code).hexdigest()
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def run_extractor(
    name: str, page_set: PageSet, fresh: bool = False
) -> tuple[list[str | None], list[float], list[float]]:
    """Texts, per-page wall seconds and per-page CPU seconds of one extractor on one set, from
    the cache unless `fresh` (or the cache predates CPU times)."""
    slug = re.sub(r"\W+", "-", name).strip("-")
    path = RUN_CACHE / f"{page_set.name}-{slug}-{_version(name)}.json"
    if path.is_file() and not fresh:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if "cpu_seconds" in cached:
            return cached["texts"], cached["seconds"], cached["cpu_seconds"]
    extractor = EXTRACTORS[name]()
    extractor(page_set.pages[0])  # warm-up: imports, compiled XPaths, caches
    texts, seconds, cpu_seconds = [], [], []
    for page in page_set.pages:
        start, start_cpu = time.perf_counter(), time.process_time()
        texts.append(extractor(page))
        cpu_seconds.append(time.process_time() - start_cpu)
        seconds.append(time.perf_counter() - start)
    path.parent.mkdir(parents=True, exist_ok=True)
    cache = {"texts": texts, "seconds": seconds, "cpu_seconds": cpu_seconds}
    path.write_text(json.dumps(cache), encoding="utf-8")
    return texts, seconds, cpu_seconds


def _leaks(page_set: PageSet, texts: Sequence[str | None]) -> tuple[int, int]:
    counts = [snippet_counts(p, t) for p, t in zip(page_set.pages, texts, strict=True)]
    return sum(c[2] for c in counts), sum(c[2] + c[3] for c in counts)


def _row(
    page_set: PageSet, name: str, texts: Sequence[str | None], ms: float | None, bootstrap: int
) -> dict[str, float]:
    leaked, snippets = _leaks(page_set, texts)
    if page_set.metric == "shingles":
        scores = [page_score(p.truth, t) for p, t in zip(page_set.pages, texts, strict=True)]
        p, r, f1 = aggregate(scores)
        std = f"{bootstrap_f1_std(scores, bootstrap):.3f}" if bootstrap > 1 else "-"
    else:
        counts = [snippet_counts(pg, t) for pg, t in zip(page_set.pages, texts, strict=True)]
        p, r, f1 = snippet_scores(counts)
        std = "-"
    ms_cell = f"{ms:.1f}" if ms is not None else "-"
    leak_cell = f"{leaked}/{snippets}" if snippets else "-"
    print(f"  {name:<28}{p:>8.3f}{r:>8.3f}{f1:>8.3f}{std:>8}{ms_cell:>9}{leak_cell:>12}")
    return {"p": p, "r": r, "f1": f1, "ms": ms if ms is not None else float("nan")}


def _header(page_set: PageSet) -> None:
    sites = len({p.site for p in page_set.pages})
    kind = "dev set" if page_set.dev else "regression set, not trained on"
    metric = "shingle F1" if page_set.metric == "shingles" else "snippet F1 (trafilatura eval)"
    print(f"\n{page_set.name}: {len(page_set.pages)} pages, {sites} sites ({kind}; {metric})")
    print(f"  {'extractor':<28}{'P':>8}{'R':>8}{'F1':>8}{'F1 std':>8}{'ms/page':>9}{'leaked':>12}")


def _verdict(rows: dict[str, dict[str, float]], ours: str) -> None:
    best_name = max(TRAFILATURA, key=lambda n: rows[n]["f1"])
    best = rows[best_name]["f1"]
    f1 = rows[ours]["f1"]
    checks = [
        (f"F1 {f1:.3f} >= best trafilatura ({best_name} {best:.3f}) + {MARGIN}",
         f1 >= best + MARGIN),
        (f"P {rows[ours]['p']:.3f} >= trafilatura-default's {rows['trafilatura-default']['p']:.3f}",
         rows[ours]["p"] >= rows["trafilatura-default"]["p"]),
    ]  # fmt: skip
    for text, ok in checks:
        print(f"  {'met' if ok else 'NOT MET'}: {ours}: {text}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extraction", description=__doc__)
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=list(SETS))
    parser.add_argument("--fresh", action="store_true", help="ignore cached outputs and times")
    parser.add_argument("--ablate", action="store_true", help="print each rule's effect")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (by site)")
    parser.add_argument("--bootstrap", type=int, default=300, help="bootstrap rounds (0: skip)")
    parser.add_argument("--show-worst", type=int, default=0, metavar="N", help="N worst pages")
    args = parser.parse_args(argv)

    from bench import extraction_cv as cv
    from pipelines.article import passes
    from pipelines.article.rescue import RESCUE_SHARE

    page_sets = {name: SETS[name]() for name in args.sets}
    cv_texts: dict[str, list[str]] = {}
    dev = {name: s for name, s in page_sets.items() if s.dev}
    cached = {name: cv.cached_pages(s) for name, s in dev.items()}
    if dev:
        cv_texts, chosen = cv.cross_validate(cached, args.folds)
        overall = cv.best_thresholds(cached)
        shipped = (passes.FALLBACK_SHARE, passes.MENU_SHARE, passes.BODY_RATIO, RESCUE_SHARE)
        print(
            "(fallback share, menu share, body ratio, rescue share) chosen per fold, grouped by "
            f"site: {chosen}"
        )
        print(
            f"chosen on all dev pages: {overall}; shipped in pipelines/article/passes.py and "
            f"rescue.py: {shipped}"
        )
        if overall != shipped:
            print("  WARNING: the shipped thresholds are not the cross-validated choice")

    timings: dict[str, list[float]] = {}
    cpu_timings: dict[str, list[float]] = {}
    for page_set in page_sets.values():
        _header(page_set)
        rows = {}
        for name in EXTRACTORS:
            texts, seconds, cpu_seconds = run_extractor(name, page_set, args.fresh)
            timings.setdefault(name, []).extend(seconds)
            cpu_timings.setdefault(name, []).extend(cpu_seconds)
            ms = 1000 * statistics.median(seconds)
            rows[name] = _row(page_set, name, texts, ms, args.bootstrap)
        if page_set.name in cv_texts:
            rows["cv"] = _row(
                page_set, "ours (cross-validated)", cv_texts[page_set.name], None, args.bootstrap
            )
            _verdict(rows, "cv")
        else:
            _verdict(rows, "ours (shipped)")
        if args.show_worst and page_set.metric == "shingles":
            _show_worst(page_set, cv_texts.get(page_set.name) or texts, args.show_worst)

    print("\nmedian ms/page over all pages of these sets (wall, CPU):")
    for name, seconds in timings.items():
        cpu = statistics.median(cpu_timings[name])
        print(f"  {name:<28}{1000 * statistics.median(seconds):>8.1f}{1000 * cpu:>8.1f}")
    for ours, theirs, work in SPEED_PAIRS:
        for label, table in (("wall", timings), ("CPU", cpu_timings)):
            ours_ms = 1000 * statistics.median(table[ours])
            theirs_ms = 1000 * statistics.median(table[theirs])
            state = "met" if ours_ms <= theirs_ms else "NOT MET"
            print(
                f"  {state}: {work}, {label}: {ours} {ours_ms:.1f} <= {theirs} {theirs_ms:.1f}"
                f" ({ours_ms / theirs_ms:.2f}x)"
            )

    if args.ablate and dev:
        from bench.extraction_ablation import print_ablation

        print_ablation(dev, page_sets.get("multilingual"), args.folds)
    return 0


def _show_worst(page_set: PageSet, texts: Sequence[str | None], n: int) -> None:
    ranked = []
    for page, text in zip(page_set.pages, texts, strict=True):
        score: PageScore = page_score(page.truth, text)
        p, r = page_precision(score), page_recall(score)
        ranked.append((2 * p * r / (p + r) if p + r else 0.0, p, r, page))
    ranked.sort(key=lambda item: item[0])
    print(f"  worst {n} pages for ours:")
    for f1, p, r, page in ranked[:n]:
        print(f"    {page.id[:16]}  F1 {f1:.3f}  P {p:.3f}  R {r:.3f}  {page.url}")


if __name__ == "__main__":
    sys.exit(main())
