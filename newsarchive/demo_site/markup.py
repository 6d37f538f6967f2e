"""HTML helpers shared by both site templates."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from .content import Article, Block


def esc(text: str) -> str:
    """Escape text for HTML element content and double-quoted attributes."""
    return html.escape(text, quote=True)


def slugify(text: str) -> str:
    """A URL slug: lowercase ASCII letters and digits joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "item"


def long_date(moment: datetime) -> str:
    """A reader-facing date such as "March 4, 2026"."""
    return f"{moment:%B} {moment.day}, {moment.year}"


def iso(moment: datetime) -> str:
    """ISO 8601 with an explicit offset, as meta tags and sitemaps use."""
    return moment.isoformat(timespec="seconds")


def join_names(names: tuple[str, ...] | list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def render_block(block: Block) -> str:
    """One body block as HTML; paragraphs become exactly one <p> each."""
    if block.kind == "heading":
        return f"<h2>{esc(block.text)}</h2>"
    if block.kind == "quote":
        return f"<blockquote><p>{esc(block.text)}</p></blockquote>"
    if block.kind == "list":
        items = "".join(f"<li>{esc(item)}</li>" for item in block.items)
        return f"<ul>{items}</ul>"
    return f"<p>{esc(block.text)}</p>"


def render_body(article: Article, inserts: dict[int, str]) -> str:
    """The body blocks in order, with `inserts[i]` placed after block number i."""
    parts = []
    for index, block in enumerate(article.blocks):
        parts.append(render_block(block))
        if index in inserts:
            parts.append(inserts[index])
    return "\n".join(parts)


def insert_positions(article: Article, count: int) -> list[int]:
    """Block indexes after which inline teasers go: after the second block, then later on."""
    last = len(article.blocks) - 2  # never after the final block
    chosen = set()
    for position in [1, max(2, len(article.blocks) * 2 // 3)][:count]:
        position = min(position, last)
        # Never split a subheading from the paragraph it introduces.
        while position < last and article.blocks[position].kind == "heading":
            position += 1
        chosen.add(position)
    return sorted(chosen)


def share_links(url: str, title: str) -> list[tuple[str, str]]:
    """(network, href) pairs for a share bar; these point off-site, as real ones do."""
    u, t = quote(url, safe=""), quote(title, safe="")
    return [
        ("Facebook", f"https://www.facebook.com/sharer/sharer.php?u={u}"),
        ("Twitter", f"https://twitter.com/intent/tweet?text={t}&url={u}"),
        ("WhatsApp", f"https://api.whatsapp.com/send?text={t}%20{u}"),
        ("Email", f"mailto:?subject={t}&body={u}"),
    ]


def json_ld(data: dict[str, Any]) -> str:
    """A JSON-LD script element; "</" is escaped so the JSON cannot close the script."""
    text = json.dumps(data, ensure_ascii=False, indent=2).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{text}\n</script>'
