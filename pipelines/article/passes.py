"""The trafilatura passes behind the article body: a fast recall pass, a fuller one when needed.

trafilatura's fast mode skips its comparison with the bundled readability and jusText ports;
that comparison costs about a third of its time on every page, but it is what saves pages whose
main container trafilatura's own rules miss (a short story among big menus, a site with
unusual markup). Here the fast pass runs first, with favor_recall; only when it kept a small
share of the page's text, the cheap sign of a missed container, the full extraction (fallback
comparison included) runs on the same pruned page and replaces it. And when most of what the
fast pass kept is short list items, the sign of menus swept up with a short article, the
favor_precision pass replaces it. When the full extraction, too, left most of the page's
prose behind, the elements that trafilatura's class rules dropped around it are given back
(`rescue`). Last, when the page's own structured data (JSON-LD articleBody) holds several
times the text of the chosen pass, the pass missed the body and the structured body replaces
it. FALLBACK_SHARE, MENU_SHARE, BODY_RATIO and rescue.RESCUE_SHARE were chosen by
cross-validation grouped by site on both dev sets (bench/extraction_cv.py).

The fast and full passes call trafilatura's own steps (`trafilatura_sequence` and what it
runs) rather than `bare_extraction`, which copies the page four times in fast mode where two
are needed, and prunes it again for each pass. They are internals of trafilatura 2.3.1, which
pyproject.toml pins; tests/test_extract_passes.py checks that both give what `bare_extraction`
gives, so an upgrade that changes them fails there.
"""

from __future__ import annotations

import re
from copy import copy
from dataclasses import dataclass
from typing import Any

import trafilatura
from lxml.etree import _Element
from lxml.html import HtmlElement
from trafilatura.baseline import baseline
from trafilatura.core import _forum_thread_page, trafilatura_sequence
from trafilatura.htmlprocessing import convert_tags, prune_unwanted_nodes, tree_cleaning
from trafilatura.main_extractor import extract_content
from trafilatura.settings import Extractor
from trafilatura.xml import xmltotxt
from trafilatura.xpaths import RAW_TREE_PRUNE_XPATH, REMOVE_COMMENTS_AND_LISTS_XPATH

from pipelines.article import rescue
from pipelines.article.boilerplate import drop_element

# The fast pass: favor_recall, no comparison, no comments.
FAST = Extractor(output_format="python", fast=True, recall=True, comments=False)
# The full extraction: trafilatura's default settings, its comparison included.
FULL = Extractor(output_format="python", comments=False)
# The menu check's pass: fast favor_precision.
PRECISE_OPTIONS: dict[str, Any] = {"fast": True, "favor_precision": True}
# The fast pass kept less than this share of the page's text: run the full extraction.
FALLBACK_SHARE = 0.4
# More than this share of the fast pass's text is menu items: run the precision pass instead.
MENU_SHARE = 0.4
# The page's JSON-LD articleBody holds this many times the pass's text: it replaces the pass.
BODY_RATIO = 3.0
# A list item of at most this many words is a menu entry, not a point of the article.
MENU_ITEM_WORDS = 6

_WORD = re.compile(r"\w+")


@dataclass
class Extraction:
    """A pass's text lines and trafilatura's body XML they come from (None without text)."""

    lines: list[str]
    body: _Element | None


def _extraction(body: _Element, text: str) -> Extraction:
    if len(text) < FAST.min_output_size:  # bare_extraction's size check
        return Extraction([], None)
    lines = [stripped for line in xmltotxt(body, False).splitlines() if (stripped := line.strip())]
    return Extraction(lines, body if lines else None)


def prune_page(tree: HtmlElement) -> None:
    """trafilatura's own pruning of the raw page, in place: containers of appended articles,
    and comment sections (not on a forum thread, whose posts are the content); and the page's
    <title> elements, read with the metadata before this and never body text (on a page with
    its head written twice, trafilatura's fallback glued their texts into words the page
    lacks: "Daily LedgerPutin")."""
    for title in list(tree.iter("title")):
        drop_element(title)
    forum = _forum_thread_page(tree)
    prune_unwanted_nodes(tree, RAW_TREE_PRUNE_XPATH)
    if not forum:
        prune_unwanted_nodes(tree, REMOVE_COMMENTS_AND_LISTS_XPATH)


def fast_pass(tree: HtmlElement) -> Extraction:
    """trafilatura's fast favor_recall extraction of a page pruned by `prune_page`; the page
    itself is left as it is."""
    cleaned = convert_tags(tree_cleaning(copy(tree), FAST), FAST)
    body, text = extract_content(cleaned, FAST)
    if len(text) < FAST.min_extracted_size:  # trafilatura's rescue of a near-empty result
        rescued, rescued_text, size = baseline(tree)
        if size > len(text):
            body, text = rescued, rescued_text
    return _extraction(body, text)


def split_glued_words(body: _Element, page_text: str) -> int:
    """Split each word of `body`'s text that the page lacks into two words the page has with
    only whitespace between them (the first such cut), in place; returns how many distinct
    words were split. jusText, which the full extraction compares with, skips text that is
    only whitespace, so `<a>Output Hike</a> <a>Champions League</a>` comes out of it as
    "Output HikeChampions League"."""
    vocabulary = set(_WORD.findall(page_text))
    mended: dict[str, str] = {}  # a page repeats its words: each is looked at once

    def mend(match: re.Match[str]) -> str:
        word = match.group()
        if word in vocabulary:
            return word
        if word not in mended:
            mended[word] = word
            for cut in range(1, len(word)):
                first, second = word[:cut], word[cut:]
                if (
                    first in vocabulary
                    and second in vocabulary
                    and re.search(
                        rf"(?<!\w){re.escape(first)}\s+{re.escape(second)}(?!\w)", page_text
                    )
                ):
                    mended[word] = f"{first} {second}"
                    break
        return mended[word]

    for elem in body.iter():
        for attr in ("text", "tail"):
            value = getattr(elem, attr)
            if value and any(word not in vocabulary for word in _WORD.findall(value)):
                setattr(elem, attr, _WORD.sub(mend, value))
    return sum(fixed != word for word, fixed in mended.items())


def full_pass(tree: HtmlElement) -> Extraction:
    """trafilatura's full extraction in its default settings (its comparison with readability
    and jusText included) of a page pruned by `prune_page`, which it may prune further, with
    the words jusText glued together split again (`split_glued_words`)."""
    page_text = tree.text_content()
    body, text, _, _ = trafilatura_sequence(tree, FULL)
    split_glued_words(body, page_text)
    return _extraction(body, text)


def bare_pass(tree: HtmlElement, options: dict[str, Any]) -> Extraction:
    """One whole trafilatura pass over `tree` with these `bare_extraction` options
    (trafilatura copies the tree it is given)."""
    doc = trafilatura.bare_extraction(tree, include_comments=False, with_metadata=False, **options)
    text = (doc.text if doc is not None else "") or ""
    lines = [stripped for line in text.splitlines() if (stripped := line.strip())]
    return Extraction(lines, doc.body if doc is not None and lines else None)


def precise_pass(tree: HtmlElement) -> Extraction:
    """trafilatura's fast favor_precision extraction."""
    return bare_pass(tree, PRECISE_OPTIONS)


def run_pass(tree: HtmlElement, options: dict[str, Any]) -> list[str]:
    """Text lines of one trafilatura pass over `tree` (see `bare_pass`)."""
    return bare_pass(tree, options).lines


def page_chars(tree: HtmlElement) -> int:
    """Characters of the page's text with whitespace runs counted once."""
    return len(" ".join(tree.text_content().split()))


def kept_share(lines: list[str], chars: int) -> float:
    """Share of the page's text that `lines` hold."""
    return sum(len(line) for line in lines) / max(1, chars)


def needs_fallback(share: float, threshold: float = FALLBACK_SHARE) -> bool:
    return share < threshold


def menu_share(lines: list[str]) -> float:
    """Share of the text of `lines` in short list items: menus, tag clouds, archive lists."""
    total = sum(len(line) for line in lines)
    menu = sum(
        len(line)
        for line in lines
        if line.startswith("- ") and len(_WORD.findall(line)) <= MENU_ITEM_WORDS
    )
    return menu / total if total else 0.0


def prefers_structured_body(
    lines: list[str], structured: list[str], ratio: float = BODY_RATIO
) -> bool:
    """Whether the page's structured body (JSON-LD articleBody, as lines) replaces a pass's
    `lines`: it holds at least `ratio` times their text, the sign of a body the pass missed."""
    return bool(structured) and sum(map(len, structured)) >= ratio * sum(map(len, lines))


@dataclass
class Rescue:
    """What a pass left of the page's prose (`rescue`), and the pass run again without the
    class and id around what it missed, when that one keeps more of it (else None)."""

    missed_chars: int
    total_chars: int
    extraction: Extraction | None


def rescue_pass(
    tree: HtmlElement, chosen: Extraction, share: float = rescue.RESCUE_SHARE
) -> Rescue:
    """Measure what `chosen` missed of the prose of `tree` (pruned, as the pass saw it) and,
    when that `rescue.needs_rescue`, run the fast pass again with the class and id of the
    elements around the missed paragraphs removed (in place)."""
    paragraphs = rescue.prose_paragraphs(tree)
    left = rescue.missed(paragraphs, chosen.lines)
    result = Rescue(rescue.chars(left), rescue.chars(paragraphs), None)
    if rescue.needs_rescue(result.missed_chars, result.total_chars, share):
        rescue.unclass_containers(left)
        again = fast_pass(tree)
        if len(rescue.missed(paragraphs, again.lines)) < len(left):
            result.extraction = again
    return result


def body_pass(
    tree: HtmlElement, structured: list[str] | None = None
) -> tuple[list[str], _Element | None]:
    """The body lines of a pruned page and trafilatura's body XML they come from (for the
    markdown; None for the structured body): the fast pass, or another when it looks wrong.
    `structured` is the page's JSON-LD articleBody as lines. Prunes `tree` (`prune_page`)."""
    chars = page_chars(tree)
    prune_page(tree)
    chosen = fast_pass(tree)
    fell_back = needs_fallback(kept_share(chosen.lines, chars))
    if fell_back:
        other = full_pass(tree)
    elif menu_share(chosen.lines) > MENU_SHARE:
        other = precise_pass(tree)
    else:
        other = chosen
    if other.lines:
        chosen = other
    if fell_back and (rescued := rescue_pass(tree, chosen).extraction) is not None:
        chosen = rescued
    if structured and prefers_structured_body(chosen.lines, structured):
        return list(structured), None
    return chosen.lines, chosen.body


def body_lines(tree: HtmlElement) -> list[str]:
    """The body lines of a pruned page (see `body_pass`)."""
    return body_pass(tree)[0]
