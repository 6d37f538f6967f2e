"""Fuzzing: `extract_article` never raises, and what it returns always keeps the contract."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.article.core import FIELDS, extract_article

SEED = (Path(__file__).parent / "fixtures" / "extraction" / "seed-article.html").read_text(
    encoding="utf-8"
)
SOURCES = {None, "jsonld", "meta", "feed", "sitemap", "text"}
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

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


def check_contract(result: Any) -> None:
    if result is None:
        return
    assert tuple(result) == FIELDS
    assert isinstance(result["text"], str) and result["text"].strip()
    assert all(isinstance(a, str) and a for a in result["authors"])
    assert all(isinstance(t, str) for t in result["tags"] + result["categories"])
    assert result["published_source"] in SOURCES
    assert (result["published"] is None) == (result["published_source"] is None)
    assert result["language"] is None or re.fullmatch(r"[a-z]{2}", result["language"])


@FUZZ
@given(st.binary(max_size=4000))
def test_random_bytes(data: bytes) -> None:
    check_contract(extract_article(data))


@FUZZ
@given(st.text(max_size=2000))
def test_random_text(text: str) -> None:
    check_contract(extract_article(text, "https://example.org/x"))


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
    check_contract(extract_article(html, "https://dailyledger.example/x"))
    check_contract(extract_article(html.encode("utf-8", "surrogatepass"), encoding="utf-8"))
