"""The article body with its structure kept, as markdown: headings, lists, block quotes and tables.

Serialised from the body XML that trafilatura already made for the plain text (no second
extraction), block by block, keeping only the blocks whose text survived the line filters of
the plain text. The text is escaped: nothing in an article reads as markdown syntax of its own.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection

from lxml.etree import _Element
from trafilatura.xml import xmltotxt

# Characters that are markdown syntax anywhere in a line, and line starts that open a block.
_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
_BLOCK_START = re.compile(r"^(\s*)([#+=-]|\d+[.)])(?=\s|$)")


def escape(text: str) -> str:
    """`text` as markdown that renders as exactly that text (one line)."""
    text = _INLINE.sub(r"\\\1", " ".join(text.split()))
    return _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def _alone(element: _Element) -> _Element:
    """A copy of the element without its tail (text after it belongs to its parent)."""
    alone = copy.deepcopy(element)
    alone.tail = None
    return alone


def _lines(element: _Element) -> list[str]:
    text = xmltotxt(_alone(element), include_formatting=False) or ""
    return [stripped for line in text.splitlines() if (stripped := line.strip())]


def _text(element: _Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _block(element: _Element, kept: Collection[str]) -> str:
    """One block of the body as markdown; '' when none of its text was kept."""
    if element.tag == "list":
        numbered = element.get("rend") == "ol"
        items = [item for item in element if item.tag == "item" and set(_lines(item)) & kept]
        return "\n".join(
            f"{f'{n}.' if numbered else '-'} {escape(_text(item))}"
            for n, item in enumerate(items, 1)
        )
    if not set(_lines(element)) & kept:
        return ""
    if element.tag == "head":
        level = element.get("rend", "h2")[1:]
        hashes = "#" * (int(level) if level.isdigit() and 1 <= int(level) <= 6 else 2)
        return f"{hashes} {escape(_text(element))}"
    if element.tag == "quote":
        parts = [_block(child, kept) for child in element] if len(element) else []
        body = "\n\n".join(p for p in parts if p) or escape(_text(element))
        return "\n".join(f"> {line}" if line else ">" for line in body.splitlines())
    if element.tag == "table":
        return (xmltotxt(_alone(element), include_formatting=True) or "").strip()
    return escape(_text(element))


def body_markdown(body: _Element | None, kept_lines: Collection[str]) -> str:
    """Markdown of trafilatura's body XML (`Document.body`), keeping the blocks with a line in
    `kept_lines` (the lines of the plain text, as stored); '' for no body."""
    if body is None:
        return ""
    kept = set(kept_lines)
    blocks = [_block(element, kept) for element in body]
    return "\n\n".join(block for block in blocks if block)
