"""Paragraphs of prose that a pass left behind, and giving back the elements that hold them.

trafilatura drops every element whose class or id holds one of its boilerplate words, even as
part of a longer word: "footer" in a theme's `page-footer` that wraps a whole list of
restaurants, "bar" in `bard`, "embed" in Webflow's `w-embed` around an article's tables. When
the full extraction, too, leaves most of a page's prose behind (passes.body_pass), the class
and id of the elements around the paragraphs it missed are removed and the fast pass runs
again. Prose is told by its text, not by its markup: a <p> of at least PARAGRAPH_WORDS words,
little of it link text. Comment sections are gone before this (passes.prune_page), so their
long paragraphs are never given back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lxml.html import HtmlElement

# A paragraph of prose: a <p> of at least this many words ...
PARAGRAPH_WORDS = 20
# ... of which links hold at most this share of the characters.
PARAGRAPH_LINK_SHARE = 0.3
# Too little to rescue: the missed paragraphs hold fewer characters than this.
RESCUE_CHARS = 1000
# The missed paragraphs hold at least this share of the page's prose: rescue them. Chosen by
# cross-validation grouped by site on both dev sets (bench/extraction_cv.py).
RESCUE_SHARE = 0.6
# A pass's line holds a paragraph when it holds the paragraph's first characters.
_PREFIX = 50

_WORD = re.compile(r"\w+")


@dataclass
class Paragraph:
    element: HtmlElement
    text: str  # whitespace runs squashed to one space


def prose_paragraphs(tree: HtmlElement) -> list[Paragraph]:
    """The page's paragraphs of prose, in document order."""
    out = []
    for elem in tree.iter("p"):
        text = " ".join(elem.text_content().split())
        if len(_WORD.findall(text)) < PARAGRAPH_WORDS:
            continue
        links = sum(len(" ".join(a.text_content().split())) for a in elem.iter("a"))
        if links <= PARAGRAPH_LINK_SHARE * len(text):
            out.append(Paragraph(elem, text))
    return out


def missed(paragraphs: Sequence[Paragraph], lines: Iterable[str]) -> list[Paragraph]:
    """The paragraphs that none of a pass's `lines` holds."""
    text = " ".join(" ".join(lines).split())
    return [p for p in paragraphs if p.text[:_PREFIX] not in text]


def chars(paragraphs: Iterable[Paragraph]) -> int:
    """Characters of these paragraphs' text."""
    return sum(len(p.text) for p in paragraphs)


def needs_rescue(missed_chars: int, total_chars: int, share: float = RESCUE_SHARE) -> bool:
    """Whether paragraphs of `missed_chars` characters, out of the page's `total_chars` of
    prose, are worth a second pass."""
    return missed_chars >= RESCUE_CHARS and missed_chars >= share * total_chars


def unclass_containers(paragraphs: Iterable[Paragraph]) -> None:
    """Remove the class and id of every element around these paragraphs, in place."""
    for paragraph in paragraphs:
        for elem in paragraph.element.iterancestors():
            elem.attrib.pop("class", None)
            elem.attrib.pop("id", None)
