"""The body passes call trafilatura's internals (pinned 2.3.1): each must give exactly what
trafilatura's public `bare_extraction` gives with the same settings, so that an upgrade that
changes those internals fails here instead of changing the archive's text unseen. And the full
pass's one repair: the words jusText glues together are split again."""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path

import pytest
from justext.core import ParagraphMaker
from lxml.etree import Element, SubElement

from pipelines.article import boilerplate, passes
from pipelines.article.core import parse_html

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = sorted(
    [*FIXTURES.glob("extraction/*.html"), *FIXTURES.glob("extraction/wcxb/*.html")]
    + [*FIXTURES.glob("menu_heavy/*.html")]
)


def _pruned(path: Path):
    tree = parse_html(path.read_text(encoding="utf-8"))
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


def test_split_glued_words_mends_what_justext_glues() -> None:
    html = (
        "<html><body><p><a href='/a'><span>Output Hike</span></a>\n  <a href='/b'>Champions"
        " League</a> tickets resell for a record, the organisers of the final said.</p>"
        "<p>Every news&shy;letter of the week.</p></body></html>"
    )
    tree = parse_html(html)
    body = Element("body")  # what trafilatura makes of jusText's paragraphs
    for paragraph in ParagraphMaker.make_paragraphs(tree):
        SubElement(body, "p").text = paragraph.text
    assert body[0].text.startswith("Output HikeChampions League tickets")
    body[1].text = "Every newsletter of the week."  # trafilatura drops the soft hyphen
    assert passes.split_glued_words(body, tree.text_content()) == 1
    assert body[0].text.startswith("Output Hike Champions League tickets")
    # A word the page splits by something other than whitespace is left as it is.
    assert body[1].text == "Every newsletter of the week."
