"""Turn one HTML page into clean article text and metadata.

This is the whole extraction step of the archive: the Scrapy pipeline, `newsarchive extract`,
`newsarchive reextract` and the extraction benchmark all call `extract_article`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import trafilatura
from lxml import html as lxml_html

# Lines that are never article text: inline teasers, share prompts, comment forms.
BOILERPLATE_LINE = re.compile(
    r"^\s*(also read|read more|read also|related|see also|recommended|more from|"
    r"leave a reply|leave a comment|your email address will not be published|"
    r"back to top|subscribe|share this|share on|follow us)\b",
    re.IGNORECASE,
)


def _parse(html: str | bytes) -> Any:
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    if not html.strip():
        return None
    try:
        return lxml_html.document_fromstring(html)
    except Exception:  # lxml raises several types for hopeless input
        return None


def _split_list(value: str | None) -> list[str]:
    if not value:
        return []
    return [part.strip() for part in re.split(r"[;,]| and ", value) if part.strip()]


def extract_article(
    html: str | bytes,
    url: str | None = None,
    *,
    drop_selectors: Iterable[str] = (),
    hints: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Extract clean text and metadata from an HTML page; None when no text is found.

    `drop_selectors` are extra XPath expressions removed before extraction (per-source rules).
    `hints` may carry `published` (ISO date) and `published_source` from a feed or sitemap,
    used when the page itself has no date.
    """
    tree = _parse(html)
    if tree is None:
        return None
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        include_comments=False,
        with_metadata=True,
        prune_xpath=list(drop_selectors) or None,
    )
    if doc is None or not doc.text:
        return None
    lines = [line for line in doc.text.splitlines() if not BOILERPLATE_LINE.match(line)]
    text = "\n".join(lines).strip()
    hints = hints or {}
    published, published_source = doc.date, "page" if doc.date else None
    if not published and hints.get("published"):
        published, published_source = hints["published"], hints.get("published_source")
    return {
        "title": doc.title,
        "authors": _split_list(doc.author),
        "published": published,
        "published_source": published_source,
        "modified": None,
        "site_name": doc.sitename,
        "description": doc.description,
        "language": doc.language,
        "tags": list(doc.tags or []),
        "categories": list(doc.categories or []),
        "image": doc.image,
        "canonical_url": doc.url,
        "page_type": doc.pagetype,
        "text": text,
    }
