"""The metadata benchmark's matching rules and its cross-validation grouped by site."""

from __future__ import annotations

from bench.metadata import (
    Page,
    author_matches,
    cross_validate,
    date_matches,
    folds_by_site,
    title_matches,
)


def test_matching_rules() -> None:
    assert author_matches("Dylan Bailey, MS, RD, FAND", "Dylan Bailey, MS, RD, FAND")
    assert author_matches("Harry Rabinowitz", "Harry Rabinowitz Tech Reporter")  # 2/4
    assert not author_matches("Dylan Bailey, MS, RD, FAND", "Dylan Bailey")  # 2/5
    assert not author_matches("Susan", None)
    assert date_matches("2025-02-22", "2025-02-22T22:13:14+00:00")
    assert not date_matches("2025-02-22", "2025-02-23")
    assert title_matches("What is Cloud Computing?", "what is cloud  computing")
    assert not title_matches("What is Cloud Computing?", "What is Cloud Computing? | Google")


def test_folds_keep_each_site_together() -> None:
    pages = [
        Page(
            str(i),
            f"https://{'www.' if i % 2 else ''}site{i % 7}.example/{i}",
            "",
            None,
            None,
            None,
        )
        for i in range(40)
    ]
    folds = folds_by_site(pages, 5)
    assert sorted(i for fold in folds for i in fold) == list(range(40))
    for fold in folds:
        others = {
            pages[i].url.split("/")[2].removeprefix("www.")
            for f in folds
            if f is not fold
            for i in f
        }
        assert not {pages[i].url.split("/")[2].removeprefix("www.") for i in fold} & others


def test_cross_validation_scores_each_fold_with_rules_chosen_on_the_others() -> None:
    # candidate 0 wins on pages 0-1, candidate 1 on pages 2-3: each held-out fold gets the
    # other fold's winner, which loses on it.
    hits = [[True, True, False, False], [False, False, True, True]]
    total, picked = cross_validate(hits, [[0, 1], [2, 3]])
    assert (total, picked) == (0, [1, 0])
    total, picked = cross_validate([[True] * 4, [False] * 4], [[0, 1], [2, 3]])
    assert (total, picked) == (4, [0, 0])
