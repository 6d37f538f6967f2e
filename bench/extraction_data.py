"""The extraction benchmark's page sets: loading, unpacking, sites and the two metrics.

Three sets live in ../shared (read-only; where it is looked for: `_shared_dir`): the 108
ScrapingHub pages (a folder), the 793 WCXB dev articles and trafilatura's 990-page multilingual
eval set (both .tar.xz archives, unpacked once into bench/data/, which git ignores). The first
two are dev sets scored with the ScrapingHub shingle metric; the third is a regression check
with trafilatura's own snippet metric.
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import subprocess
import tarfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent


def _shared_dir() -> Path:
    """The shared benchmark material: ../shared beside this checkout, as CI keeps it; else
    $NEWSARCHIVE_SHARED; else ../shared beside the local repository this one was cloned from
    (a clone in a temporary folder)."""
    beside = REPO_ROOT.parent / "shared"
    if beside.is_dir():
        return beside
    if env := os.environ.get("NEWSARCHIVE_SHARED"):
        return Path(env)
    try:
        origin = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "config", "--get", "remote.origin.url"],
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout.strip()  # fmt: skip
    except OSError:
        origin = ""
    if origin and (candidate := Path(origin).resolve().parent / "shared").is_dir():
        return candidate
    return beside


SHARED = _shared_dir()
DATA_DIR = REPO_ROOT / "bench" / "data"

_TOKEN = re.compile(r"\w+")

# Per-page (tp, fp, fn), normalised so that they sum to 1 (or all 0 for two empty texts).
PageScore = tuple[float, float, float]


@dataclass
class Page:
    id: str
    url: str
    html: str
    truth: str = ""
    with_snippets: list[str] = field(default_factory=list)
    without_snippets: list[str] = field(default_factory=list)

    @property
    def site(self) -> str:
        """The page's site (host without www.): the unit of grouped cross-validation."""
        return site_of(self.url)


@dataclass
class PageSet:
    name: str
    pages: list[Page]
    metric: str  # "shingles" (ScrapingHub's) or "snippets" (trafilatura's eval)
    dev: bool  # dev sets train and select; the regression set only checks


def site_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _unpacked(archive: Path, target: Path) -> Path:
    """`target`, unpacking `archive` into it first when it is not there yet."""
    if not any(target.glob("*.json")):
        if not archive.is_file():
            raise FileNotFoundError(f"{archive} is missing: cannot unpack {target}")
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "r:xz") as tar:
            tar.extractall(target, filter="data")
    return target


def _read(folder: Path, page_id: str) -> str:
    return (folder / "html" / f"{page_id}.html").read_text(encoding="utf-8")


def load_truth_set(folder: Path) -> list[Page]:
    """Pages with ground-truth bodies (and snippets when the set has them), in id order."""
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    snippets_file = folder / "snippets.json"
    snippets = (
        json.loads(snippets_file.read_text(encoding="utf-8")) if snippets_file.is_file() else {}
    )
    pages = []
    for page_id in sorted(truth):
        item, snip = truth[page_id], snippets.get(page_id, {})
        pages.append(
            Page(
                page_id,
                item.get("url") or "",
                _read(folder, page_id),
                item.get("articleBody") or "",
                list(snip.get("with", [])),
                list(snip.get("without", [])),
            )
        )
    return pages


def load_snippet_set(folder: Path) -> list[Page]:
    """Pages with only with/without snippets (the multilingual set), in id order."""
    snippets = json.loads((folder / "snippets.json").read_text(encoding="utf-8"))
    return [
        Page(
            page_id,
            item.get("url") or "",
            _read(folder, page_id),
            with_snippets=list(item.get("with", [])),
            without_snippets=list(item.get("without", [])),
        )
        for page_id, item in sorted(snippets.items())
    ]


def scrapinghub(bench_dir: Path | None = None) -> PageSet:
    return PageSet(
        "scrapinghub", load_truth_set(bench_dir or SHARED / "extraction-bench"), "shingles", True
    )


def wcxb() -> PageSet:
    folder = _unpacked(SHARED / "extraction-bench-wcxb" / "wcxb-dev.tar.xz", DATA_DIR / "wcxb-dev")
    return PageSet("wcxb", load_truth_set(folder), "shingles", True)


def multilingual() -> PageSet:
    folder = _unpacked(
        SHARED / "extraction-bench-multilingual" / "trafilatura-eval.tar.xz",
        DATA_DIR / "multilingual",
    )
    return PageSet("multilingual", load_snippet_set(folder), "snippets", False)


SETS = {"scrapinghub": scrapinghub, "wcxb": wcxb, "multilingual": multilingual}


# --- the ScrapingHub shingle metric -----------------------------------------------------------


def shingles(text: str | None, n: int = 4) -> Counter[tuple[str, ...]]:
    """Multiset of n-token shingles; 1 to n-1 tokens make one short shingle, none make none."""
    tokens = _TOKEN.findall(text or "")
    if not tokens:
        return Counter()
    if len(tokens) < n:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def page_score(truth: str | None, pred: str | None) -> PageScore:
    """Normalised (tp, fp, fn) of one page, as the benchmark computes it."""
    true_sh, pred_sh = shingles(truth), shingles(pred)
    tp = sum((true_sh & pred_sh).values())
    fp = sum((pred_sh - true_sh).values())
    fn = sum((true_sh - pred_sh).values())
    total = tp + fp + fn
    if total == 0:
        return (0.0, 0.0, 0.0)
    return (tp / total, fp / total, fn / total)


def page_precision(score: PageScore) -> float:
    tp, fp, fn = score
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fp) if tp + fp else 0.0


def page_recall(score: PageScore) -> float:
    tp, fp, fn = score
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fn) if tp + fn else 0.0


def aggregate(scores: Sequence[PageScore]) -> tuple[float, float, float]:
    """(precision, recall, F1) over pages: F1 of the mean precision and the mean recall."""
    precisions = [page_precision(s) for s in scores if s[0] + s[1] > 0]
    recalls = [page_recall(s) for s in scores if s[0] + s[2] > 0]
    p = statistics.fmean(precisions) if precisions else 0.0
    r = statistics.fmean(recalls) if recalls else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1


def bootstrap_f1_std(scores: Sequence[PageScore], rounds: int = 1000, seed: int = 0) -> float:
    """Standard deviation of F1 over bootstrap resamples of the pages."""
    rng = random.Random(seed)
    n = len(scores)
    values = [aggregate([scores[rng.randrange(n)] for _ in range(n)])[2] for _ in range(rounds)]
    return statistics.stdev(values)


# --- trafilatura's snippet metric -------------------------------------------------------------


def _squash(text: str) -> str:
    return " ".join(text.split())


def snippet_counts(page: Page, pred: str | None) -> tuple[int, int, int, int]:
    """(tp, fn, fp, tn) of one page: `with` passages found / missed, `without` found / absent."""
    text = _squash(pred or "")
    found_with = sum(1 for s in page.with_snippets if _squash(s) in text)
    found_without = sum(1 for s in page.without_snippets if _squash(s) in text)
    return (
        found_with,
        len(page.with_snippets) - found_with,
        found_without,
        len(page.without_snippets) - found_without,
    )


def snippet_scores(counts: Sequence[tuple[int, int, int, int]]) -> tuple[float, float, float]:
    """(precision, recall, F1) from the summed counts, as trafilatura's evaluation."""
    tp = sum(c[0] for c in counts)
    fn = sum(c[1] for c in counts)
    fp = sum(c[2] for c in counts)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)
