"""Authors of an article as a clean list of person names.

Bylines come from JSON-LD, <meta> tags or the page's byline markup, in that order of trust.
They are split ("A and B", "A, B"), stripped of "By", and anything that is not a person name is
dropped: dates, e-mail addresses, links, desk and wire credits ("Staff", "News Desk",
"Associated Press"), the site's own name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml.html import HtmlElement

from pipelines.article.metadata import PageMeta, clean, jsonld_names

AUTHOR_META = (
    "author",
    "article:author",
    "byl",
    "parsely-author",
    "sailthru.author",
    "dc.creator",
    "dcterms.creator",
)
# Byline markup in order of precision: schema.org microdata, rel=author, author archive links
# (WordPress and most CMSs link a byline to /author/<slug>/), then byline containers.
BYLINE_XPATHS = (
    '//*[@itemprop="author"]//*[@itemprop="name"]',
    '//*[@itemprop="author"][not(.//*[@itemprop="name"])]',
    '//a[contains(concat(" ", normalize-space(@rel), " "), " author ")]',
    '//a[contains(@href, "/author/") or contains(@href, "/authors/")]',
    '//*[contains(@class, "byline") or contains(@class, "author-name")]',
)
_BY = re.compile(
    r"^(?:(?:written|posted|reported|words|story|text)\s+)?(?:by|von|par|por|di|door|av|af)\b[:\s]*",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"\s*(?:,|;|\||/|&|\band\b|\bund\b|\bwith\b|\s[-–—]\s)\s*", re.IGNORECASE)
# Words that make a byline a credit line rather than a person: desks, wires, site sections
# ("CNN Business", "Telegraph Sport").
_NOT_A_PERSON_WORDS = """
staff desk team editor editors editorial admin administrator newsroom news reporter reporters
correspondent correspondents contributor contributors writer writers agency agencies wire wires
press associated service bureau online digital media redaction redaktion redazione redacción web
guest sponsored partner content unknown anonymous
sport sports business politics tech technology entertainment opinion science health travel
lifestyle markets weather
"""
NOT_A_PERSON = frozenset(_NOT_A_PERSON_WORDS.split())
# Where a byline runs on into a date or a timestamp.
_DATE_START = re.compile(
    r"\d|\b(?:on|updated|published|posted)\b"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d",
    re.IGNORECASE,
)
_LOWER_PARTICLES = frozenset(
    "van von der den de del della di da dos das du la le bin al el ter".split()  # noqa: SIM905
)


def clean_authors(raw: Iterable[str], site_name: str | None = None) -> list[str]:
    """Split bylines into person names and drop everything that is not a name."""
    site = _key(site_name or "")
    names: dict[str, str] = {}
    for byline in raw:
        byline = clean(byline)
        if not byline or len(byline) > 200:
            continue
        for part in _SPLIT.split(_BY.sub("", byline)):
            name = _BY.sub("", part).strip(" .:-–—'\"()[]")
            if _is_person(name) and (not site or _key(name) not in site):
                if name.isupper():  # "JOHN SMITH" bylines are styling, not spelling
                    name = name.title()
                names.setdefault(_key(name), name)
    return list(names.values())


def _key(text: str) -> str:
    return re.sub(r"\W+", "", text).casefold()


def _is_person(name: str) -> bool:
    if not name or re.search(r"\d|@|https?:|www\.|\.com\b", name):
        return False
    words = name.split()
    if not 1 <= len(words) <= 5:
        return False
    if any(w.casefold().strip(".") in NOT_A_PERSON for w in words):
        return False
    if len(words) == 1:
        # a lone word is a handle or a brand in Latin script ("admin", "Reuters"), but a full
        # name in scripts written without spaces (Chinese, Japanese, Korean)
        return not re.search(r"[A-Za-z]", name) and len(name) >= 2
    return all(w[0].isupper() or not w[0].isalpha() or w.lower() in _LOWER_PARTICLES for w in words)


def find_authors(tree: HtmlElement, page: PageMeta, site_name: str | None) -> list[str]:
    """The first source that yields a person name: JSON-LD, meta tags, byline markup."""
    article = page.article
    jsonld = jsonld_names(article.get("author"), persons_only=True, graph=page.jsonld)
    jsonld = jsonld or jsonld_names(article.get("creator"), persons_only=True, graph=page.jsonld)
    if names := clean_authors(jsonld, site_name):
        return names
    meta = [v for v in page.all(*AUTHOR_META) if not v.startswith(("http", "/"))]
    if names := clean_authors(meta, site_name):
        return names
    for xpath in BYLINE_XPATHS:
        if names := _byline_names(tree.xpath(xpath), site_name):
            return names
    return []


def _byline_names(elements: list[HtmlElement], site_name: str | None) -> list[str]:
    """Names from the first byline element that has one, plus its siblings in the same byline
    (a co-authored byline links each author); later matches are other articles' bylines."""
    for elem in elements:
        if clean_authors([_before_date(elem.text_content())], site_name):
            parent = elem.getparent()
            group = [e for e in elements if e is elem or e.getparent() is parent is not None]
            return clean_authors([_before_date(e.text_content()) for e in group[:6]], site_name)
    return []


def _before_date(text: str) -> str:
    """Byline boxes often run on into the date: "By Jane Doe May 15, 2025" -> "By Jane Doe"."""
    text = clean(text)
    cut = _DATE_START.search(text)
    return text[: cut.start()] if cut else text
