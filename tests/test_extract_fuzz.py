"""Fuzzing: `extract_article` never raises, what it returns keeps the contract, its text comes
from the page and never from nowhere, and an article among boilerplate is always found."""

from __future__ import annotations

import html as html_lib
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipelines.article.core import FIELDS, extract_article, parse_html

pytestmark = pytest.mark.slow

SEED = (Path(__file__).parent / "fixtures" / "extraction" / "seed-article.html").read_text(
    encoding="utf-8"
)
SOURCES = {None, "jsonld", "meta", "feed", "sitemap", "text"}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w+")

# Snippets that stress the parser and the metadata readers when spliced into a page.
SNIPPETS = st.sampled_from(
    [
        "<",
        ">",
        "</div>",
        "<p>",
        '"',
        "\x00",
        "\x0b",
        "&#0;",
        "&#xD800;",
        "<![CDATA[",
        "<!--",
        '<script type=\'application/ld+json\'>{"@type": ["NewsArticle"], "author": [[[',
        '<meta property="article:published_time" content="9999-99-99">',
        '<meta property="og:locale" content="__">',
        "<html lang='zz-ZZZZZZZZ'>",
        "\ud7ff\ufffe\uffff",
        "<svg><math><table><tr><td>",
    ]
)


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def check_contract(result: Any, page: str | bytes) -> None:
    """The result is None or a complete article whose every word stands in the page."""
    if result is None:
        return
    assert tuple(result) == FIELDS
    assert isinstance(result["text"], str) and result["text"].strip()
    assert all(isinstance(a, str) and a for a in result["authors"])
    assert all(isinstance(t, str) for t in result["tags"] + result["categories"])
    assert result["published_source"] in SOURCES
    assert (result["published"] is None) == (result["published_source"] is None)
    assert result["language"] is None or re.fullmatch(r"[a-z]{2}", result["language"])
    if isinstance(page, bytes):
        page = page.decode("utf-8", "replace")
    # Tags removed (words split by a tag join up), entities decoded: an extractor that invents,
    # garbles or mis-decodes text says a word that is not there.
    source = _folded(_TAG.sub("", html_lib.unescape(page)))
    # What the parser itself took for text counts too: in a page mangled so that an element
    # holding raw text (a <title> left open) swallows markup, that markup is the page's text.
    tree = parse_html(page)
    if tree is not None:
        source += "\n" + _folded(tree.text_content())
    source = "".join(ch for ch in source if ch.isprintable() or ch in "\n\t")
    missing = [w for w in _WORD.findall(_folded(result["text"])) if w not in source]
    assert not missing, f"words not in the page: {missing[:10]}"


@FUZZ
@given(st.binary(max_size=4000))
def test_random_bytes(data: bytes) -> None:
    check_contract(extract_article(data), data)


@FUZZ
@given(st.text(max_size=2000))
def test_random_text(text: str) -> None:
    check_contract(extract_article(text, "https://example.org/x"), text)


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=1),
            st.sampled_from(["cut", "insert", "repeat"]),
            st.integers(min_value=1, max_value=3000),
            SNIPPETS | st.text(max_size=40),
        ),
        min_size=1,
        max_size=8,
    )
)
# Found by this test: the head repeated three times, the texts of its <title>s glued together by
# trafilatura's fallback ("Daily LedgerPutin").
@example(
    edits=[(0.0, "cut", 1, "")] * 4
    + [(0.0, "repeat", 426, ""), (0.25, "cut", 2071, ""), (0.390625, "cut", 874, "")]
)
@example(  # the same with the titles still in the head
    edits=[(1.0, "cut", 1, ""), (0.5, "cut", 1, ""), (0.5, "cut", 1717, "")]
    + [(0.375, "cut", 2068, ""), (0.0625, "cut", 236, ""), (0.0078125, "cut", 1, "")]
    + [(0.0, "repeat", 366, "")]
)
# Found by this test: two links of a headline ticker, set apart by a line break only, glued into
# a word the page does not have ("HikeChampions") by jusText in the full extraction.
@example(
    edits=[(0.0, "cut", 1, ""), (0.0, "cut", 1, ""), (0.3556633682119335, "cut", 516, "")]
    + [(0.0, "repeat", 95, ""), (0.3046875, "repeat", 2878, "")]
)
def test_mutated_seed_page(edits: list[tuple[float, str, int, str]]) -> None:
    html = SEED
    for where, operation, length, snippet in edits:
        at = int(where * len(html))
        if operation == "cut":
            html = html[:at] + html[at + length :]
        elif operation == "insert":
            html = html[:at] + snippet + html[at:]
        else:
            html = html[:at] + html[at : at + length] * 3 + html[at:]
    check_contract(extract_article(html, "https://dailyledger.example/x"), html)
    data = html.encode("utf-8", "surrogatepass")
    check_contract(extract_article(data, encoding="utf-8"), data)


# Generated articles: paragraphs of ordinary words, set in a page full of boilerplate.
WORDS = [
    "council",
    "harbour",
    "budget",
    "minister",
    "river",
    "school",
    "winter",
    "market",
    "report",
    "station",
    "workers",
    "families",
    "village",
    "railway",
    "hospital",
    "election",
    "energy",
    "prices",
    "weather",
    "museum",
    "teachers",
    "farmers",
    "bridge",
    "festival",
    "project",
    "local",
    "national",
    "said",
    "would",
    "after",
    "before",
    "during",
    "because",
    "against",
]
SENTENCE = st.lists(st.sampled_from(WORDS), min_size=8, max_size=18).map(
    lambda words: " ".join(words).capitalize() + "."
)
PARAGRAPH = st.lists(SENTENCE, min_size=2, max_size=4).map(" ".join)
BOILERPLATE = [
    "Also Read: Ten things to do this weekend",
    "Share on Facebook",
    "Leave a Reply",
    "Your email address will not be published.",
    "Back To Top",
]


def article_page(title: str, paragraphs: list[str], menu_items: int) -> str:
    menu = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(menu_items))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="en"><head><title>{title} | The Gazette</title></head>
<body><header><nav><ul>{menu}</ul></nav></header>
<main><article><h1>{title}</h1>
<div class="share"><a href="/s/fb">Share on Facebook</a> <a href="/s/x">Share on X</a></div>
<div class="entry-content">{body}
<p><strong>Also Read: <a href="/other">Ten things to do this weekend</a></strong></p></div>
</article>
<section id="comments"><h3>Leave a Reply</h3><form><p>Your email address will not be published.
</p><textarea name="comment"></textarea></form></section></main>
<footer><ul>{menu}</ul><a href="#top">Back To Top</a><p>Copyright 2026 The Gazette</p></footer>
</body></html>"""


@FUZZ
@given(
    st.lists(PARAGRAPH, min_size=3, max_size=8),
    st.integers(min_value=0, max_value=60),
)
def test_generated_article_is_found_and_boilerplate_is_not(
    paragraphs: list[str], menu_items: int
) -> None:
    page = article_page("Harbour council approves budget", paragraphs, menu_items)
    result = extract_article(page, "https://gazette.example/2026/03/04/harbour-budget/")
    assert result is not None
    check_contract(result, page)
    text = " ".join(result["text"].split())
    for paragraph in paragraphs:
        assert paragraph in text
    for line in BOILERPLATE:
        assert line not in text
    assert "Section 1" not in text
