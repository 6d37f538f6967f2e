"""The body passes call trafilatura's internals (pinned 2.3.1): each must give exactly what
trafilatura's public `bare_extraction` gives with the same settings, so that an upgrade that
changes those internals fails here instead of changing the archive's text unseen."""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path

import pytest

from pipelines.article import boilerplate, passes
from pipelines.article.core import extract_article, parse_html

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = sorted(
    [*FIXTURES.glob("extraction/*.html"), *FIXTURES.glob("extraction/wcxb/*.html")]
    + [*FIXTURES.glob("menu_heavy/*.html")]
)


def _pruned(path: Path):
    return _pruned_html(path.read_text(encoding="utf-8"))


def _pruned_html(html: str):
    tree = parse_html(html)
    assert tree is not None
    boilerplate.strip_non_content(tree)
    boilerplate.drop_nested_articles(tree)
    boilerplate.prune_link_blocks(tree)
    return tree


def test_there_are_pages_of_both_kinds() -> None:
    # Both branches are exercised: pages the fast pass keeps and pages it sends on.
    shares = []
    for path in PAGES:
        tree = _pruned(path)
        chars = passes.page_chars(tree)
        passes.prune_page(tree)
        shares.append(passes.kept_share(passes.fast_pass(tree).lines, chars))
    assert len(PAGES) >= 20
    assert any(passes.needs_fallback(share) for share in shares)
    assert any(not passes.needs_fallback(share) for share in shares)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_fast_and_full_passes_are_trafilaturas(path: Path) -> None:
    tree = _pruned(path)
    untouched = deepcopy(tree)
    passes.prune_page(tree)
    fast = passes.fast_pass(tree)
    assert fast.lines == passes.run_pass(untouched, {"fast": True, "favor_recall": True})
    assert fast.lines  # every fixture is an article
    assert passes.full_pass(tree).lines == passes.run_pass(untouched, {})


def test_prune_page_removes_the_titles_keeping_their_tail() -> None:
    # Also a page whose head was written twice: libxml2 leaves the second <title> in the body.
    root = parse_html(
        "<html><head><title>Kept out</title></head><body><p>One</p>"
        "<title>Ferry News</title>\n<title>Ferry News</title> tail<p>Two</p></body></html>"
    )
    passes.prune_page(root)
    assert not list(root.iter("title"))
    assert "Ferry" not in root.text_content() and "Kept" not in root.text_content()
    assert "tail" in root.text_content() and "Two" in root.text_content()


BODY = [f"Paragraph {n} of the story, with enough words to be read as text." for n in range(6)]


def test_trim_margins_cuts_what_the_precision_pass_leaves_at_the_edges() -> None:
    lines = ["Subscribe to our newsletter", *BODY, "- About the author", "- Share this"]
    assert passes.trim_margins(lines, BODY, keep=0.5) == BODY


def test_trim_margins_keeps_unconfirmed_lines_inside_the_body() -> None:
    lines = [BODY[0], "A pull quote the precision pass dropped", *BODY[1:]]
    assert passes.trim_margins(lines, BODY) == lines


def test_trim_margins_compares_lines_without_list_and_heading_marks() -> None:
    confirming = ["Point one of the list", *BODY]
    lines = ["- Point one of the list", *BODY, "Related stories"]
    assert passes.trim_margins(lines, confirming, keep=0.5) == lines[:-1]


def test_trim_margins_never_cuts_more_than_its_keep_share() -> None:
    lines = [*BODY[:2], *(f"Unconfirmed line {n} with as many words as the rest" for n in range(4))]
    assert passes.trim_margins(lines, BODY[:2], keep=0.5) == lines
    assert passes.trim_margins(lines, BODY[:2], keep=0.3) == BODY[:2]


def test_trim_margins_without_a_confirming_pass_changes_nothing() -> None:
    lines = ["Subscribe to our newsletter", *BODY]
    assert passes.trim_margins(lines, []) == lines
    assert passes.trim_margins([], BODY) == []


def test_a_call_to_action_below_the_story_is_cut_from_text_and_markdown() -> None:
    # The recall pass keeps the box under the story; the precision pass drops it (its class
    # names the bottom of the page), so it is an unconfirmed margin.
    paragraph = (
        "<p>The harbour board met on Tuesday, meeting {n} of the year, and agreed after a long "
        "debate about the ferry timetable and the cost of fuel to keep the winter service.</p>"
    )
    story = "".join(paragraph.format(n=n) for n in range(1, 7))
    cta = "Enjoyed this story? Support local journalism with a subscription."
    html = (
        "<html><head><title>Ferry kept</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<main><article><h1>Ferry kept</h1>{story}"
        f"<div class='article-bottom'><p>{cta}</p></div></article></main></body></html>"
    )
    tree = _pruned_html(html)
    passes.prune_page(tree)
    fast = passes.FastPasses(tree)
    assert cta in fast.recall.lines and cta not in fast.confirming().lines
    article = extract_article(html, "https://ledger.example/ferry")
    assert article is not None
    assert "meeting 6 of the year" in article["text"]
    assert cta not in article["text"] and "Enjoyed this story" not in article["markdown"]
