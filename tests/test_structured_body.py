"""A page whose JSON-LD articleBody holds several times the text the passes found gets that
body (a paywalled or script-rendered article); a teaser articleBody never replaces a body."""

from __future__ import annotations

import json

from pipelines.article import passes
from pipelines.article.core import article_text, extract_article, parse_html
from pipelines.article.metadata import read_page_meta, structured_body

PARAGRAPHS = [
    f"Paragraph {i} of the council's budget story: the committee met on Tuesday evening and "
    f"argued for two hours about the bus lanes, the library roof and item {i} of the plan."
    for i in range(12)
]


def _page(article_body: str, visible: list[str]) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Council passes its budget",
        "articleBody": article_body,
    }
    paragraphs = "".join(f"<p>{p}</p>" for p in visible)
    return (
        "<html><head><title>Council passes its budget</title>"
        f'<script type="application/ld+json">{json.dumps(data)}</script></head>'
        "<body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<article><h1>Council passes its budget</h1>{paragraphs}"
        "<p>Subscribe to read the full story.</p></article>"
        "<footer>© Example Gazette</footer></body></html>"
    )


def test_markup_in_article_body_is_removed_and_lines_kept() -> None:
    body = "<p>First &amp; foremost.</p><p>Second   line</p>\nThird"
    tree = parse_html(_page(body, PARAGRAPHS[:1]))
    assert tree is not None
    assert structured_body(read_page_meta(tree)) == ["First & foremost.", "Second line", "Third"]


def test_no_article_body_is_empty() -> None:
    tree = parse_html("<html><head></head><body><p>Hello there, reader.</p></body></html>")
    assert tree is not None
    assert structured_body(read_page_meta(tree)) == []


def test_a_body_the_page_hides_comes_from_the_structured_data() -> None:
    html = _page("\n".join(PARAGRAPHS), PARAGRAPHS[:3])  # a paywall shows three paragraphs
    article = extract_article(html, "https://example.com/news/budget")
    assert article is not None
    assert article["text"].splitlines() == PARAGRAPHS
    assert article["markdown"] == "\n\n".join(PARAGRAPHS)
    assert article_text(html, "https://example.com/news/budget") == article["text"]


def test_a_teaser_article_body_does_not_replace_the_page() -> None:
    html = _page(PARAGRAPHS[0], PARAGRAPHS)  # articleBody holds the first paragraph only
    article = extract_article(html, "https://example.com/news/budget")
    assert article is not None
    assert article["text"].splitlines()[: len(PARAGRAPHS)] == PARAGRAPHS


def test_the_ratio_decides() -> None:
    found = ["x" * 100]
    assert passes.prefers_structured_body(found, ["y" * 300])
    assert not passes.prefers_structured_body(found, ["y" * 299])
    assert not passes.prefers_structured_body(found, [])
    assert passes.prefers_structured_body([], ["y"])  # nothing found: any structured body
