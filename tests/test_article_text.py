"""`article_text`, the text-only extraction (`newsarchive extract` in text format), gives exactly
the text `extract_article` stores, on every fixture page and with per-source selectors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.article.core import article_text, extract_article

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = sorted(
    [*FIXTURES.glob("extraction/*.html"), *FIXTURES.glob("extraction/wcxb/*.html")]
    + [*FIXTURES.glob("menu_heavy/*.html")]
)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_same_text_as_the_archive_stores(path: Path) -> None:
    html = path.read_bytes()
    article = extract_article(html, "https://example.com/news/a-story")
    assert article is not None
    assert article_text(html, "https://example.com/news/a-story") == article["text"]


def test_drop_selectors_apply_as_in_a_crawl() -> None:
    html = PAGES[0].read_bytes()
    selector = "//p[1]"
    dropped = extract_article(html, drop_selectors=[selector])
    assert dropped is not None
    assert dropped["text"] != (extract_article(html) or {}).get("text")  # the selector bites
    assert article_text(html, drop_selectors=[selector]) == dropped["text"]


@pytest.mark.parametrize("html", [b"", b"   ", "<html><body></body></html>", b"\xff\xfe\x00"])
def test_no_text_is_none(html: str | bytes) -> None:
    assert article_text(html) is None
    assert extract_article(html) is None
