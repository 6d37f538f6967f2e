"""Golden-file tests: extraction quality on fixed pages must not regress.

Each benchmark page has a floor for the benchmark's own per-page shingle F1 (see
tests/fixtures/extraction/README.md); the seed article must come out exactly as expected.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.extraction import page_precision, page_recall, page_score
from pipelines.article.core import extract_article

FIXTURES = Path(__file__).parent / "fixtures" / "extraction"
CASES = json.loads((FIXTURES / "cases.json").read_text(encoding="utf-8"))
SEED_URL = "https://dailyledger.example/2025/05/15/putin-and-trump-bail-on-high-stakes-ukraine-peace-talks/"


def page_f1(truth: str, text: str | None) -> float:
    """Per-page F1 of the benchmark's shingle precision and recall."""
    score = page_score(truth, text)
    p, r = page_precision(score), page_recall(score)
    return 2 * p * r / (p + r) if p + r else 0.0


def normalise(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("name", sorted(CASES))
def test_benchmark_page_keeps_its_score(name: str) -> None:
    case = CASES[name]
    html = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
    doc = extract_article(html, case["url"])
    assert doc is not None
    assert page_f1(case["truth"], doc["text"]) >= case["f1_floor"]


def test_seed_article_text_is_exact() -> None:
    html = (FIXTURES / "seed-article.html").read_bytes()
    expected = (FIXTURES / "seed-article.expected.txt").read_text(encoding="utf-8")
    doc = extract_article(html, SEED_URL)
    assert doc is not None
    assert normalise(doc["text"]) == normalise(expected)


if __name__ == "__main__":
    for name, case in sorted(CASES.items()):
        html = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
        doc = extract_article(html, case["url"])
        score = page_f1(case["truth"], doc["text"] if doc else None)
        print(f"{name:<24} F1 {score:.3f}  floor {case['f1_floor']:.3f}")


DEMO_ORIGIN = "http://127.0.0.1:8000"


def _demo_articles():
    from newsarchive.demo_site import DemoSite

    site = DemoSite()
    return [(site, article) for article in site.expected_articles()]


@pytest.mark.parametrize(
    ("site", "article"), _demo_articles(), ids=lambda v: getattr(v, "slug", "")
)
def test_demo_site_article_extracts_exactly(site, article) -> None:
    # Both demo templates (WordPress-style and HTML5 + JSON-LD) carry every kind of
    # boilerplate; the clean text must be exactly the article's body.
    html = site.get(article.path).body_for(DEMO_ORIGIN)
    doc = extract_article(html, article.url(DEMO_ORIGIN))
    assert doc is not None
    assert doc["text"] == article.text
    assert doc["title"] == article.title
    assert doc["authors"] == list(article.authors)
    assert doc["published"][:10] == article.published.date().isoformat()
