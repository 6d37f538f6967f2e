"""``python -m bench.extraction --ablate``: each rule's effect on each set.

For every tree rule (applied before trafilatura), every line rule (applied to its lines), the
menu check, the structured body (JSON-LD articleBody), the rescue of prose that the full
extraction left behind, all passes but the fast one, and the fast
pass's favor_recall, ours runs without it: on the dev
sets cross-validated by site exactly as with it (the fallback threshold chosen fold by fold), on
the multilingual set with the threshold chosen on all dev pages. The table prints F1 without
minus F1 with: negative means the choice helps. A choice whose removal gains any set more than
the noise (0.005 F1) is flagged "drop".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench import extraction_cv as cv
from bench.extraction_data import PageSet, snippet_counts, snippet_scores

NOISE = 0.005


def _scores(
    dev: dict[str, PageSet],
    multilingual: PageSet | None,
    folds: int,
    tree_rules: Sequence[str] = cv.TREE_RULES,
    menu_grid: Sequence[float] = cv.MENU_SHARES,
    ratio_grid: Sequence[float] = cv.BODY_RATIOS,
    rescue_grid: Sequence[float] = cv.RESCUE_SHARES,
    **choices: Any,
) -> dict[str, float]:
    cached = {name: cv.cached_pages(s, tree_rules) for name, s in dev.items()}
    texts, _ = cv.cross_validate(cached, folds, menu_grid, ratio_grid, rescue_grid, **choices)
    out = {name: cv.set_f1(cached[name], texts[name])[2] for name in dev}
    if multilingual is not None:
        share, menu, ratio, saved = cv.best_thresholds(
            cached, menu_grid, ratio_grid, rescue_grid, **choices
        )
        pages = cv.cached_pages(multilingual, tree_rules)
        ml_texts = [
            cv.page_text(p, share, menu, body_ratio=ratio, rescue_share=saved, **choices)
            for p in pages
        ]
        counts = [snippet_counts(pg, t) for pg, t in zip(multilingual.pages, ml_texts, strict=True)]
        out["multilingual"] = snippet_scores(counts)[2]
    return out


def print_ablation(dev: dict[str, PageSet], multilingual: PageSet | None, folds: int) -> None:
    """Print the table described in the module docstring."""
    base = _scores(dev, multilingual, folds)
    names = list(base)
    print("\nablation: F1 without the choice minus F1 with it (dev sets cross-validated by site)")
    print(f"  {'without':<24}" + "".join(f"{n:>14}" for n in names) + "   verdict")
    print(f"  {'(nothing: as shipped)':<24}" + "".join(f"{base[n]:>14.3f}" for n in names))

    def report(label: str, scores: dict[str, float]) -> None:
        deltas = {n: scores[n] - base[n] for n in names}
        verdict = "drop" if any(d > NOISE for d in deltas.values()) else "keep"
        print(f"  {label:<24}" + "".join(f"{deltas[n]:>+14.3f}" for n in names) + f"   {verdict}")

    for rule in cv.LINE_RULES:
        rules = [r for r in cv.LINE_RULES if r != rule]
        report(rule, _scores(dev, multilingual, folds, line_rules=rules))
    for rule in cv.TREE_RULES:
        rules = [r for r in cv.TREE_RULES if r != rule]
        report(rule, _scores(dev, multilingual, folds, tree_rules=rules))
    report("every other pass", _never(dev, multilingual))
    report("menu check", _scores(dev, multilingual, folds, menu_grid=(1.0,)))
    report("structured body", _scores(dev, multilingual, folds, ratio_grid=(float("inf"),)))
    report("prose rescue", _scores(dev, multilingual, folds, rescue_grid=(float("inf"),)))
    report("favor_recall", _scores(dev, multilingual, folds, fast_pass="balanced"))


def _never(dev: dict[str, PageSet], multilingual: PageSet | None) -> dict[str, float]:
    """Scores with the fast pass alone (no fallback, menu check or structured body): no
    threshold to choose, so nothing to cross-validate."""
    sets = dict(dev)
    if multilingual is not None:
        sets["multilingual"] = multilingual
    out = {}
    for name, page_set in sets.items():
        pages = cv.cached_pages(page_set)
        # (share 0 never falls back, so nothing is rescued either)
        texts = [cv.page_text(p, 0.0, 1.0, body_ratio=float("inf")) for p in pages]
        if page_set.metric == "shingles":
            out[name] = cv.set_f1(pages, texts)[2]
        else:
            counts = [snippet_counts(pg, t) for pg, t in zip(page_set.pages, texts, strict=True)]
            out[name] = snippet_scores(counts)[2]
    return out
