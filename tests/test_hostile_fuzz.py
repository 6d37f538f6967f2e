"""Fuzzing the extraction step of the pipeline: whatever a hostile server sends, with whatever
headers, ExtractionPipeline.process_item gives an article or drops the page with a counted
reason (DropItem). Nothing else may come out of it: any other exception would lose the page
without a count. (tests/test_extract_fuzz.py fuzzes extract_article itself.)"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem, PageItem
from crawler.stats import DROPPED_PREFIX
from pipelines.extraction import ExtractionPipeline
from tests.hostile_site import GZIP_BOMB, article_html, deep_nesting, malformed

pytestmark = pytest.mark.slow

SEED = (Path(__file__).parent / "fixtures" / "extraction" / "seed-article.html").read_bytes()
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PAGES = [
    SEED,
    article_html("fuzz-story", "Fuzz story").encode(),
    malformed(),
    deep_nesting(),
    GZIP_BOMB[:3000],  # compressed bytes that were never decompressed
    b"",
    b"%PDF-1.4\n" + bytes(range(256)) * 4,
    b"\xef\xbb\xbf" + SEED,  # a UTF-8 byte order mark
    "<html><body><p>Zürich — naïve café</p></body></html>".encode("utf-16"),
]
CONTENT_TYPES = [
    "",
    "text/html",
    "text/html; charset=utf-8",
    "TEXT/HTML; Charset=ISO-8859-1",
    "application/xhtml+xml",
    "text/html; charset=no-such-charset",
    "text/html;;;charset=",
    "application/pdf",
    "application/json",
    "image/png",
    "text/plain",
]
ENCODINGS = [
    None,
    "utf-8",
    "cp1252",
    "latin-1",
    "utf-16",
    "shift_jis",
    "gb18030",
    "koi8-r",
    "ascii",
]
SELECTORS = ["", "nav", "div.ad, aside", "//footer", "(//div)[2]", "//[", "div >>> p", "][", "#"]
HINT_KEYS = ["published", "published_source", "modified", "updated", "title"]
HINT_VALUES = st.sampled_from(["feed", "sitemap", "2025-03-14T09:00:00Z", "9999-99-99", ""]) | (
    st.text(max_size=30)
)


def mutate(page: bytes, edits: list[tuple[float, str, int, bytes]]) -> bytes:
    """Cut, insert or repeat stretches of `page`."""
    for where, operation, length, snippet in edits:
        at = int(where * len(page))
        if operation == "cut":
            page = page[:at] + page[at + length :]
        elif operation == "insert":
            page = page[:at] + snippet + page[at:]
        else:
            page = page[:at] + page[at : at + length] * 3 + page[at:]
    return page


SNIPPETS = st.sampled_from(
    [b"<", b"</div>", b"<![CDATA[", b"<!--", b"\x00", b"\xff\xfe", b"\xc3", b"&#xD800;", b"<svg>"]
) | st.binary(max_size=40)
EDITS = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=1),
        st.sampled_from(["cut", "insert", "repeat"]),
        st.integers(min_value=1, max_value=4000),
        SNIPPETS,
    ),
    max_size=6,
)
BODIES = st.binary(max_size=3000) | st.builds(mutate, st.sampled_from(PAGES), EDITS)
PAGE_ITEMS = st.builds(
    PageItem,
    url=st.sampled_from(["https://news.example/2025/03/14/a-story.html", "http://x/", ""])
    | st.text(max_size=40),
    source=st.just("fuzz"),
    body=BODIES,
    encoding=st.sampled_from(ENCODINGS),
    status=st.sampled_from([200, 203, 206]),
    content_type=st.sampled_from(CONTENT_TYPES) | st.text(max_size=30),
    requested_url=st.none() | st.text(max_size=30),
    hints=st.dictionaries(st.sampled_from(HINT_KEYS), HINT_VALUES, max_size=3),
    drop_selectors=st.lists(st.sampled_from(SELECTORS), max_size=3),
)


def pipeline() -> ExtractionPipeline:
    crawler = get_crawler(Spider)
    crawler._apply_settings()  # builds the crawler's real StatsCollector
    return ExtractionPipeline.from_crawler(crawler)


def dropped(stats) -> int:
    return sum(v for k, v in stats.get_stats().items() if k.startswith(DROPPED_PREFIX))


@FUZZ
@given(PAGE_ITEMS)
def test_extraction_step_gives_an_article_or_a_counted_drop(item: PageItem) -> None:
    step = pipeline()
    try:
        result = step.process_item(item)
    except DropItem:
        assert dropped(step.stats) == 1  # never a drop without its reason counted
        return
    assert isinstance(result, ArticleItem)
    assert result.text.strip()
    assert result.word_count == len(result.text.split())
    assert result.html == item.body
    assert dropped(step.stats) == 0


def test_the_encodings_fuzzed_are_real_codecs() -> None:
    # Scrapy only ever hands the pipeline a charset Python knows.
    for name in ENCODINGS:
        if name:
            codecs.lookup(name)
