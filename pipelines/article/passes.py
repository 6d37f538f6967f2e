"""The trafilatura passes behind the article body: a fast recall pass, a fuller one when needed.

trafilatura's fast mode skips its comparison with the bundled readability and jusText ports;
that comparison costs about a third of its time on every page, but it is what saves pages whose
main container trafilatura's own rules miss (a short story among big menus, a site with
unusual markup). Here the fast pass runs first, with favor_recall; only when it kept a small
share of the page's text, the cheap sign of a missed container, the full extraction (fallback
comparison included) runs on the same pruned page and replaces it. And when most of what the
fast pass kept is short list items, the sign of menus swept up with a short article, the
favor_precision pass replaces it. FALLBACK_SHARE and MENU_SHARE were chosen by cross-validation
grouped by site on both dev sets (bench/extraction_cv.py).
"""

from __future__ import annotations

import re
from typing import Any

import trafilatura
from lxml.etree import _Element
from lxml.html import HtmlElement

FAST_OPTIONS: dict[str, Any] = {"fast": True, "favor_recall": True}
FULL_OPTIONS: dict[str, Any] = {}
PRECISE_OPTIONS: dict[str, Any] = {"fast": True, "favor_precision": True}
# The fast pass kept less than this share of the page's text: run the full extraction.
FALLBACK_SHARE = 0.4
# More than this share of the fast pass's text is menu items: run the precision pass instead.
MENU_SHARE = 0.4
# A list item of at most this many words is a menu entry, not a point of the article.
MENU_ITEM_WORDS = 6

_WORD = re.compile(r"\w+")


def _pass(tree: HtmlElement, options: dict[str, Any]) -> tuple[list[str], _Element | None]:
    doc = trafilatura.bare_extraction(tree, include_comments=False, with_metadata=False, **options)
    text = doc.text if doc is not None else ""
    lines = [stripped for line in (text or "").splitlines() if (stripped := line.strip())]
    return lines, (doc.body if doc is not None and lines else None)


def run_pass(tree: HtmlElement, options: dict[str, Any]) -> list[str]:
    """Text lines of one trafilatura pass over `tree` (trafilatura copies the tree it is given)."""
    return _pass(tree, options)[0]


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


def body_pass(tree: HtmlElement) -> tuple[list[str], _Element | None]:
    """The body lines of a pruned page and trafilatura's body XML they come from (for the
    markdown): the fast pass, or another when it looks wrong."""
    fast = _pass(tree, FAST_OPTIONS)
    lines = fast[0]
    if needs_fallback(kept_share(lines, page_chars(tree))):
        other = _pass(tree, FULL_OPTIONS)
    elif menu_share(lines) > MENU_SHARE:
        other = _pass(tree, PRECISE_OPTIONS)
    else:
        return fast
    return other if other[0] else fast


def body_lines(tree: HtmlElement) -> list[str]:
    """The body lines of a pruned page (see `body_pass`)."""
    return body_pass(tree)[0]
