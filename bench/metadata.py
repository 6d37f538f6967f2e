"""Score the metadata extraction (title, authors, published date) against known metadata.

Usage: ``python -m bench.metadata [--wcxb-dir DIR] [--no-demo] [--folds K]``

Data sets, each reported on its own: the WCXB dev article pages (unpack
../shared/extraction-bench-wcxb/wcxb-dev.tar.xz into bench/data/wcxb-dev, see its README) and
the bundled demo site, whose metadata is known (newsarchive.demo_site.expected). Our
``extract_article`` and trafilatura's ``bare_extraction`` metadata run on the same pages in the
same process. The rules of ``pipelines.article.authors.find_credit`` are chosen by
cross-validation grouped by site (domain): for each fold, the rules that score best on the
other folds are scored on it, and the held-out counts are summed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WCXB_DIR = REPO_ROOT / "bench" / "data" / "wcxb-dev"
DEMO_ORIGIN = "http://127.0.0.1:8000"
AUTHOR_JACCARD = 0.5

RULES_TEXT = f"""matching rules:
  author: Jaccard of the lowercased word sets (\\w+) of truth and prediction >= {AUTHOR_JACCARD}
          (several authors are joined); a page counts when its truth names an author
  date:   same calendar day (the first 10 characters of the ISO date, as the page gives it)
  title:  equal after normalisation (NFKC, casefold, runs of non-word characters -> one space)"""

_WORD = re.compile(r"\w+")


@dataclass
class Page:
    id: str
    url: str
    html: str
    title: str | None
    author: str | None
    date: str | None  # YYYY-MM-DD


@dataclass
class Prediction:
    title: str | None = None
    author: str | None = None  # the credit (ours: byline), authors joined by ", "
    people: str | None = None  # ours only: the `authors` list joined
    date: str | None = None
    archived: bool = False  # extraction found text, so the page would be stored


@dataclass
class Result:
    name: str
    predictions: list[Prediction] = field(default_factory=list)
    seconds: float = 0.0


def words(text: str | None) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text or "")}


def author_matches(truth: str | None, predicted: str | None) -> bool:
    """Jaccard of the lowercased word sets >= AUTHOR_JACCARD."""
    a, b = words(truth), words(predicted)
    return bool(a and b) and len(a & b) / len(a | b) >= AUTHOR_JACCARD


def date_matches(truth: str | None, predicted: str | None) -> bool:
    return bool(truth and predicted) and predicted[:10] == truth[:10]


def normalise_title(text: str | None) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return " ".join(_WORD.findall(text))


def title_matches(truth: str | None, predicted: str | None) -> bool:
    return bool(truth) and normalise_title(truth) == normalise_title(predicted)


def domain(url: str) -> str:
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return host or url


# --- data sets --------------------------------------------------------------------------------


def load_wcxb(bench_dir: Path) -> list[Page]:
    """The WCXB dev article pages with their reviewed metadata, in id order."""
    truth = json.loads((bench_dir / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth):
        item = truth[page_id]
        day = item.get("publish_date") or ""
        pages.append(
            Page(
                page_id,
                item.get("url") or "",
                (bench_dir / "html" / f"{page_id}.html").read_text(encoding="utf-8"),
                item.get("title"),
                item.get("author") if words(item.get("author")) else None,
                day[:10] if re.match(r"\d{4}-\d\d-\d\d", day) else None,
            )
        )
    return pages


def load_demo() -> list[Page]:
    """The demo site's articles, as served, with the metadata they were written with."""
    from newsarchive.demo_site import DemoSite

    site = DemoSite()
    pages = []
    for article in site.expected_articles():
        pages.append(
            Page(
                f"{article.site}/{article.slug}",
                article.url(DEMO_ORIGIN),
                site.get(article.path).body_for(DEMO_ORIGIN),
                article.title,
                ", ".join(article.authors) or None,
                article.published.date().isoformat(),
            )
        )
    return pages


# --- extractors -------------------------------------------------------------------------------


def predict_ours(page: Page) -> Prediction:
    from pipelines.article.core import extract_article

    doc = extract_article(page.html, page.url)
    if doc is None:  # no text: nothing is archived, so no metadata either
        return Prediction()
    authors = ", ".join(doc["authors"])
    return Prediction(doc["title"], doc["byline"], authors, doc["published"], archived=True)


def predict_trafilatura(page: Page) -> Prediction:
    import trafilatura

    doc = trafilatura.bare_extraction(
        page.html, url=page.url, with_metadata=True, include_comments=False
    )
    if doc is None:
        return Prediction()
    return Prediction(doc.title, doc.author, doc.author, doc.date, archived=True)


EXTRACTORS: dict[str, Callable[[Page], Prediction]] = {
    "ours": predict_ours,
    "trafilatura": predict_trafilatura,
}


def run(name: str, pages: Sequence[Page]) -> Result:
    result = Result(name)
    start = time.perf_counter()
    result.predictions = [EXTRACTORS[name](page) for page in pages]
    result.seconds = time.perf_counter() - start
    return result


# --- cross-validation of the rules -----------------------------------------------------------


def credit_candidates() -> list[Any]:
    """Every combination of `CreditRules` choices that cross-validation picks among."""
    from pipelines.article.authors import CreditRules

    orders = [
        ("jsonld", "meta", "markup", "trafilatura"),
        ("meta", "jsonld", "markup", "trafilatura"),
        ("jsonld", "meta", "markup"),
        ("jsonld", "markup", "meta", "trafilatura"),
    ]
    return [
        CreditRules(order=order, prefer_people=prefer)
        for order, prefer in itertools.product(orders, (False, True))
    ]


def date_candidates() -> list[Any]:
    """Every `DateRules` that cross-validation picks among."""
    from pipelines.article.dates import DateRules

    return [DateRules(shown_update=False), DateRules(shown_update=True)]


def under_rules(
    pages: Sequence[Page], archived: Sequence[bool], credits: Sequence[Any], dates: Sequence[Any]
) -> tuple[list[list[str | None]], list[list[str | None]]]:
    """Per candidate, per page: the byline and the published date (None where nothing is
    archived), from the metadata steps alone."""
    from pipelines.article import metadata as meta
    from pipelines.article.authors import find_credit
    from pipelines.article.core import parse_html
    from pipelines.article.dates import find_published

    bylines: list[list[str | None]] = [[None] * len(pages) for _ in credits]
    published: list[list[str | None]] = [[None] * len(pages) for _ in dates]
    for i, page in enumerate(pages):
        if not archived[i] or (tree := parse_html(page.html)) is None:
            continue
        info = meta.read_page_meta(tree)
        site_name = meta.pick_site_name(info)
        for r, rules in enumerate(credits):
            bylines[r][i] = find_credit(tree, info, site_name, page.url, rules).byline
        for r, rules in enumerate(dates):
            published[r][i] = find_published(tree, info, page.url, None, rules)[0]
    return bylines, published


def folds_by_site(pages: Sequence[Page], k: int, seed: int = 0) -> list[list[int]]:
    """K folds of page indexes; all pages of one domain fall in the same fold."""
    sites = sorted({domain(p.url) for p in pages})
    random.Random(seed).shuffle(sites)
    fold_of = {site: n % k for n, site in enumerate(sites)}
    folds: list[list[int]] = [[] for _ in range(k)]
    for i, page in enumerate(pages):
        folds[fold_of[domain(page.url)]].append(i)
    return folds


def cross_validate(hits: list[list[bool]], folds: list[list[int]]) -> tuple[int, list[int]]:
    """Held-out hits summed over folds, each fold scored with the candidate that is best on
    the other folds (ties: the earlier candidate); and the candidate picked per fold."""
    total, picked = 0, []
    for held_out in folds:
        held = set(held_out)
        train = [sum(h for i, h in enumerate(row) if i not in held) for row in hits]
        best = max(range(len(hits)), key=lambda r: (train[r], -r))
        picked.append(best)
        total += sum(hits[best][i] for i in held_out)
    return total, picked


# --- report -----------------------------------------------------------------------------------


def score(pages: Sequence[Page], result: Result) -> dict[str, tuple[int, int]]:
    rows = list(zip(pages, result.predictions, strict=True))
    with_author = [(p, q) for p, q in rows if p.author]
    with_date = [(p, q) for p, q in rows if p.date]
    with_title = [(p, q) for p, q in rows if p.title]
    figures = {
        "title": (sum(title_matches(p.title, q.title) for p, q in with_title), len(with_title)),
        "author": (
            sum(author_matches(p.author, q.author) for p, q in with_author),
            len(with_author),
        ),
        "date": (sum(date_matches(p.date, q.date) for p, q in with_date), len(with_date)),
    }
    if result.name == "ours":
        people = sum(author_matches(p.author, q.people) for p, q in with_author)
        figures["authors (people only)"] = (people, len(with_author))
    return figures


def print_scores(label: str, pages: Sequence[Page], results: Sequence[Result]) -> None:
    print(f"\n{label}: {len(pages)} pages, {len({domain(p.url) for p in pages})} domains")
    print(f"{'field':<24}" + "".join(f"{r.name:>18}" for r in results))
    table = [score(pages, r) for r in results]
    names = list(dict.fromkeys(k for t in table for k in t))
    for name in names:
        cells = []
        for figures in table:
            hit, total = figures.get(name, (0, 0))
            cells.append(f"{hit}/{total} {100 * hit / total:.1f}%" if total else "-")
        print(f"{name:<24}" + "".join(f"{c:>18}" for c in cells))
    print(f"{'seconds':<24}" + "".join(f"{r.seconds:>18.1f}" for r in results))


def print_cross_validation(pages: Sequence[Page], ours: Result, k: int) -> None:
    from pipelines.article.authors import DEFAULT_RULES
    from pipelines.article.dates import DEFAULT_DATE_RULES

    credits, dates = credit_candidates(), date_candidates()
    archived = [q.archived for q in ours.predictions]
    bylines, published = under_rules(pages, archived, credits, dates)
    folds = folds_by_site(pages, k)
    print(f"\nrules cross-validated over {k} folds grouped by domain:")
    for label, candidates, values, default in (
        ("author", credits, bylines, DEFAULT_RULES),
        ("date", dates, published, DEFAULT_DATE_RULES),
    ):
        matches = author_matches if label == "author" else date_matches
        truths = [getattr(p, label) for p in pages]
        hits = [
            [bool(t) and matches(t, v) for t, v in zip(truths, row, strict=True)] for row in values
        ]
        total = sum(1 for p in pages if getattr(p, label))
        held_out, picked = cross_validate(hits, folds)
        print(f"  {label}:")
        for r, rules in enumerate(candidates):
            mark = "  <- default" if rules == default else ""
            print(f"    [{r}] {sum(hits[r])}/{total}  {rules}{mark}")
        print(f"    picked per fold: {picked}")
        print(f"    cross-validated: {held_out}/{total} {100 * held_out / total:.1f}%")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.metadata", description=__doc__)
    parser.add_argument("--wcxb-dir", default=str(DEFAULT_WCXB_DIR), help="unpacked WCXB dev set")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo site")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    args = parser.parse_args(argv)

    print(RULES_TEXT, flush=True)
    wcxb_dir = Path(args.wcxb_dir)
    if not (wcxb_dir / "ground-truth.json").is_file():
        print(f"no WCXB dev set in {wcxb_dir}: unpack it as its README says", file=sys.stderr)
        return 2
    from pipelines.article.core import guess_language

    guess_language("Load the language model now, as a crawler process does once.")
    sets = [("WCXB dev", load_wcxb(wcxb_dir))]
    if not args.no_demo:
        sets.append(("demo site", load_demo()))
    for label, pages in sets:
        results = [run(name, pages) for name in EXTRACTORS]
        print_scores(label, pages, results)
        sys.stdout.flush()
        if label == "WCXB dev":
            print_cross_validation(pages, results[0], args.folds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
