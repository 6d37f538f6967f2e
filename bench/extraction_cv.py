"""Cross-validation, grouped by site, of every choice the extractor makes.

The extractor's choices are the rules of pipelines/article/boilerplate.py (tree rules before
trafilatura, line rules after it), the fast pass's setting (favor_recall) and the threshold
that sends a page to the full extraction (passes.FALLBACK_SHARE), or to the precision pass
when menus dominate (passes.MENU_SHARE), how much of the page's prose the full extraction
must leave behind for its containers to be given back (rescue.RESCUE_SHARE), and how much
longer the page's JSON-LD articleBody must be to replace the passes' text (passes.BODY_RATIO).
Here each dev page's text is rebuilt from cached trafilatura passes exactly as
core.extract_text builds it, so a choice can be scored without rerunning trafilatura.

Grouped cross-validation: the sites of both dev sets, pooled, are dealt to K folds by a seeded
hash, so a site's pages are never on both sides. For each fold the thresholds are chosen on the
other folds (best mean F1 of the two dev sets) and applied to the fold's pages; the
concatenated held-out texts give the cross-validated figure of each set.

Caches, in bench/out/features/ (keyed by set, tree rules, boilerplate.py and trafilatura's
version): per page the lines of three fast passes (balanced, favor_precision, favor_recall),
the page's text length and metadata; and the full extraction of the pages the fast pass leaves
under the largest threshold tried, with what it missed of their prose and the rescued pass.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.extraction_data import REPO_ROOT, PageSet, aggregate, page_score
from pipelines.article import boilerplate, core, passes, rescue
from pipelines.article import metadata as meta
from pipelines.article.core import parse_html

CACHE = REPO_ROOT / "bench" / "out" / "features"
SEED = 11
TREE_RULES = ("strip_non_content", "drop_nested_articles", "prune_link_blocks")
LINE_RULES = (
    "drop_own_url", "drop_headline", "drop_standfirst", "keep_body_opener",
    *boilerplate.LINE_RULES,
)  # fmt: skip
# Fast passes cached per page: the shipped one (recall) and the alternatives the ablation tries.
FAST_PASSES: dict[str, dict[str, Any]] = {
    "balanced": {},
    "precision": {"favor_precision": True},
    "recall": {"favor_recall": True},
}
SHARES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)  # 0: never fall back
MENU_SHARES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)  # 1.0: never
BODY_RATIOS = (1.5, 2.0, 3.0, 4.0, float("inf"))  # inf: never
RESCUE_SHARES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, float("inf"))  # inf: never


@dataclass
class CachedPage:
    id: str
    site: str
    truth: str
    runs: dict[str, list[str]]  # fast pass name -> lines
    page_chars: int
    full: list[str] | None  # full extraction, where a threshold of SHARES[-1] asks for it
    titles: list[str]
    descriptions: list[str]
    urls: list[str]
    body_openers: list[str]  # the descriptions that open the body (boilerplate.opens_the_body)
    structured: list[str]  # the JSON-LD articleBody as lines (metadata.structured_body)
    # where `full` is: (prose chars the chosen lines missed, prose chars, rescued lines or None)
    rescue: tuple[int, int, list[str] | None] | None = None


def prune(tree: Any, tree_rules: Iterable[str]) -> None:
    """Apply the named tree rules to a parsed page, in the order core.extract_text does."""
    rules = set(tree_rules)
    if "strip_non_content" in rules:
        boilerplate.strip_non_content(tree)
    if "drop_nested_articles" in rules:
        boilerplate.drop_nested_articles(tree)
    if "prune_link_blocks" in rules:
        boilerplate.prune_link_blocks(tree)


def apply_line_rules(page: CachedPage, lines: list[str], line_rules: Iterable[str]) -> list[str]:
    """The line filters of core.extract_text, restricted to `line_rules`."""
    rules = set(line_rules)
    if "drop_own_url" in rules:
        lines = boilerplate.drop_own_url(lines, page.urls)
    if "drop_headline" in rules:
        body = boilerplate.drop_headline(lines, page.titles)
        if len(body) < len(lines) and "drop_standfirst" in rules:
            # opens_the_body depends on a line's words only: an opener's description is one
            # whose repeat is never a standfirst.
            descriptions = page.descriptions
            if "keep_body_opener" in rules:
                descriptions = [d for d in descriptions if d not in page.body_openers]
            body = boilerplate.drop_standfirst(body, descriptions)
        lines = body
    return boilerplate.drop_boilerplate_lines(
        lines, [r for r in boilerplate.LINE_RULES if r in rules]
    )


def _key(page_set: PageSet, tree_rules: Sequence[str]) -> str:
    import trafilatura

    # The rules, the parser and the passes: any change to them recomputes the cache.
    code = b"".join(Path(m.__file__).read_bytes() for m in (boilerplate, passes, core, rescue))
    code += json.dumps(FAST_PASSES).encode()
    code += trafilatura.__version__.encode() + ",".join(sorted(tree_rules)).encode()
    return f"{page_set.name}-{hashlib.sha1(code).hexdigest()[:12]}"


def _fast_passes(page_set: PageSet, tree_rules: Sequence[str]) -> list[dict[str, Any]]:
    path = CACHE / f"{_key(page_set, tree_rules)}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    out = []
    for page in page_set.pages:
        tree = parse_html(page.html)
        item: dict[str, Any] = {
            "id": page.id, "titles": [], "descriptions": [], "urls": [page.url], "openers": [],
            "structured": [],
        }  # fmt: skip
        if tree is not None:
            info = meta.read_page_meta(tree)
            item["titles"] = sorted(meta.title_variants(info))
            item["descriptions"] = sorted(meta.description_variants(info))
            canonical = meta.pick_canonical(info, page.url)
            item["urls"] = [u for u in (page.url, canonical) if u]
            item["structured"] = meta.structured_body(info)
            prune(tree, tree_rules)
            chars = passes.page_chars(tree)  # before trafilatura's pruning, as body_pass counts
            passes.prune_page(tree)
            runs = {
                name: passes.run_pass(tree, {"fast": True, **options})
                for name, options in FAST_PASSES.items()
            }
            # A first line repeating a description has the description's words, so the flag
            # of each description is the flag of any line that repeats it.
            item["openers"] = [
                d for d in item["descriptions"] if boilerplate.opens_the_body(tree, d)
            ]
            item["signals"] = {"runs": runs, "page_chars": chars}
        out.append(item)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out), encoding="utf-8")
    return out


def _full_passes(
    page_set: PageSet, tree_rules: Sequence[str], items: Sequence[dict[str, Any]]
) -> dict[str, list[Any]]:
    path = CACHE / f"{_key(page_set, tree_rules)}-full.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for page, item in zip(page_set.pages, items, strict=True):
        signals = item.get("signals")
        if not signals:
            continue
        share = passes.kept_share(signals["runs"]["recall"], signals["page_chars"])
        if passes.needs_fallback(share, SHARES[-1]):
            tree = parse_html(page.html)
            prune(tree, tree_rules)
            passes.prune_page(tree)
            full = passes.full_pass(tree)
            chosen = full if full.lines else passes.fast_pass(tree)  # as body_pass chooses
            found = passes.rescue_pass(tree, chosen, share=0.0)  # rescued at any share
            rescued = found.extraction.lines if found.extraction else None
            out[page.id] = [full.lines, [found.missed_chars, found.total_chars, rescued]]
    path.write_text(json.dumps(out), encoding="utf-8")
    return out


def cached_pages(page_set: PageSet, tree_rules: Sequence[str] = TREE_RULES) -> list[CachedPage]:
    """Every page of a set with its cached passes (computed on first use)."""
    items = _fast_passes(page_set, tree_rules)
    full = _full_passes(page_set, tree_rules, items)
    out = []
    for page, item in zip(page_set.pages, items, strict=True):
        signals = item.get("signals") or {"runs": {}, "page_chars": 0}
        full_lines, found = full.get(page.id) or (None, None)
        out.append(
            CachedPage(
                page.id,
                page.site,
                page.truth,
                signals["runs"],
                signals["page_chars"],
                full_lines,
                item["titles"],
                item["descriptions"],
                item["urls"],
                item["openers"],
                item["structured"],
                tuple(found) if found else None,
            )  # fmt: skip
        )
    return out


def page_text(
    page: CachedPage,
    share: float = passes.FALLBACK_SHARE,
    menu: float = passes.MENU_SHARE,
    line_rules: Iterable[str] = LINE_RULES,
    fast_pass: str = "recall",
    body_ratio: float = passes.BODY_RATIO,
    rescue_share: float = rescue.RESCUE_SHARE,
) -> str:
    """The text core.extract_text gives the page with these choices."""
    lines = page.runs.get(fast_pass, [])
    if page.runs and not passes.needs_fallback(passes.kept_share(lines, page.page_chars), share):
        if passes.menu_share(lines) > menu:
            lines = page.runs["precision"] or lines
    elif page.runs:
        if page.full is None and fast_pass == "recall":
            raise ValueError(f"{page.id}: no cached full extraction for share {share}")
        # (the cache holds the full extraction where the recall pass asks for it; another fast
        # pass asking elsewhere keeps its own lines: an approximation for the ablation only)
        lines = page.full or lines
        if page.rescue and fast_pass == "recall":
            missed_chars, total_chars, rescued = page.rescue
            if rescued and rescue.needs_rescue(missed_chars, total_chars, rescue_share):
                lines = rescued
    if passes.prefers_structured_body(lines, page.structured, body_ratio):
        lines = page.structured
    return "\n".join(apply_line_rules(page, lines, line_rules))


_SCORES: dict[tuple[str, int], tuple[float, float, float]] = {}


def set_f1(pages: Sequence[CachedPage], texts: Sequence[str]) -> tuple[float, float, float]:
    """The set's (P, R, F1); page scores are memoised, the grids rescore the same texts."""
    scores = []
    for page, text in zip(pages, texts, strict=True):
        key = (page.id, hash(text))
        if key not in _SCORES:
            _SCORES[key] = page_score(page.truth, text)
        scores.append(_SCORES[key])
    return aggregate(scores)


def site_folds(sites: Sequence[str], folds: int) -> list[int]:
    """Fold number of each page: sites dealt to folds by a seeded hash, never split."""
    return [int(hashlib.sha1(f"{SEED}:{s}".encode()).hexdigest(), 16) % folds for s in sites]


Thresholds = tuple[float, float, float, float]  # (fallback, menu share, body ratio, rescue)


def best_thresholds(
    sets: dict[str, list[CachedPage]],
    menu_grid: Sequence[float] = MENU_SHARES,
    ratio_grid: Sequence[float] = BODY_RATIOS,
    rescue_grid: Sequence[float] = RESCUE_SHARES,
    **choices: Any,
) -> Thresholds:
    """The thresholds (fallback share, menu share, body ratio, rescue share) with the best mean
    F1 over the sets.

    Chosen one after the other (the fallback share with the rescue, the menu check and the
    structured body off, then the rescue share, the menu share, the body ratio). Fallback ties
    go to the cheaper choice (fewer pages sent to the full extraction); rescue ties to the
    larger share (fewer pages rescued); menu ties to the value nearest the shipped prior (the
    dev sets have few menu-dominated pages, so the check is mostly neutral there); ratio ties
    too (25 WCXB and 10 ScrapingHub pages have a structured body, and once the rescue gives
    back what the passes missed, no dev page's text depends on the ratio).
    """

    def mean_f1(share: float, menu: float, ratio: float, saved: float) -> float:
        scores = []
        for pages in sets.values():
            if pages:
                texts = [
                    page_text(p, share, menu, body_ratio=ratio, rescue_share=saved, **choices)
                    for p in pages
                ]
                scores.append(set_f1(pages, texts)[2])
        return sum(scores) / len(scores)

    never = float("inf")
    share = max(SHARES, key=lambda s: (round(mean_f1(s, 1.0, never, never), 4), -s))
    saved = max(rescue_grid, key=lambda r: (round(mean_f1(share, 1.0, never, r), 4), r))
    menu = max(
        menu_grid,
        key=lambda m: (round(mean_f1(share, m, never, saved), 4), -abs(m - passes.MENU_SHARE)),
    )
    ratio = max(
        ratio_grid,
        key=lambda r: (round(mean_f1(share, menu, r, saved), 4), -abs(r - passes.BODY_RATIO)),
    )
    return share, menu, ratio, saved


def cross_validate(
    sets: dict[str, list[CachedPage]],
    folds: int = 5,
    menu_grid: Sequence[float] = MENU_SHARES,
    ratio_grid: Sequence[float] = BODY_RATIOS,
    rescue_grid: Sequence[float] = RESCUE_SHARES,
    **choices: Any,
) -> tuple[dict[str, list[str]], list[Thresholds]]:
    """Held-out texts of every dev page and the threshold each fold chose on the others."""
    fold_of = {name: site_folds([p.site for p in pages], folds) for name, pages in sets.items()}
    texts: dict[str, list[str]] = {name: [""] * len(pages) for name, pages in sets.items()}
    chosen = []
    for fold in range(folds):
        train = {
            name: [p for p, f in zip(pages, fold_of[name], strict=True) if f != fold]
            for name, pages in sets.items()
        }
        share, menu, ratio, saved = best_thresholds(
            train, menu_grid, ratio_grid, rescue_grid, **choices
        )
        chosen.append((share, menu, ratio, saved))
        for name, pages in sets.items():
            for i, (page, f) in enumerate(zip(pages, fold_of[name], strict=True)):
                if f == fold:
                    texts[name][i] = page_text(
                        page, share, menu, body_ratio=ratio, rescue_share=saved, **choices
                    )
    return texts, chosen
