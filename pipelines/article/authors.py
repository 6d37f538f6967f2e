"""Who an article is credited to: the byline as published, and the people in it.

The credit comes from JSON-LD, <meta> tags, the page's byline markup or, last, trafilatura's
author XPaths. It is cleaned ("By", "Author:", a date that runs on, e-mail addresses and links
removed) and kept as the `byline`: a person, several, an organisation or a desk. The `authors`
are the people in it: the byline split ("A and B", "A & B", "A, B"), credentials ("PhD, RD")
dropped, and desk, wire, team or site credits ("Staff Desk", "Associated Press", "Camphouse
Team", the site's own name) left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

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
    "citation_author",
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
SOURCES = ("jsonld", "meta", "markup", "trafilatura")


@dataclass(frozen=True)
class CreditRules:
    """The choices of `find_credit`, picked by cross-validation (python -m bench.metadata)."""

    order: Sequence[str] = SOURCES  # where to look for a credit, most trusted first
    prefer_people: bool = False  # skip a credit with no person when a later source names one


DEFAULT_RULES = CreditRules()


@dataclass(frozen=True)
class Credit:
    """The byline as published (None if the page has none) and the people it names."""

    byline: str | None
    authors: list[str]


_LABEL = re.compile(
    r"^(?:(?:written|posted|reported|words|story|text|article|published|submitted|reviewed"
    r"|edited|compiled)\s+)?(?:by|von|par|por|di|door|av|af)\b[:\s]*"
    r"|^(?:authors?|written|byline|autor|auteur|posted)\s*[:|]\s*"
    r"|^(?:(?:read\s+)?more\s+(?:about|from|by)|about(?:\s+the\s+author)?|meet)\s+",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"\s*(?:,|;|\||/|&|\+|\band\b|\bund\b|\bet\b|\bwith\b|\s[-–—]\s)\s*", re.I)
# Words that make a name a credit line rather than a person: desks, wires, teams, site sections
# ("CNN Business", "Telegraph Sport"), organisations.
_NOT_A_PERSON_WORDS = """
staff desk team editor editors editorial admin administrator newsroom newsdesk news reporter
reporters correspondent correspondents contributor contributors writer writers agency agencies
wire wires press associated service services bureau online digital media redaction redaktion
redazione redacción web guest sponsored partner content unknown anonymous our the
sport sports business politics tech technology entertainment opinion science health travel
lifestyle markets weather group inc ltd llc company corp corporation foundation institute
university college association society council department office network magazine journal
times daily weekly blog official community marketing agency security solutions studio studios
expert experts clinician doctors
"""
NOT_A_PERSON = frozenset(_NOT_A_PERSON_WORDS.split())
# Degrees and post-nominal letters after a name: "Jane Doe, PhD, RD", "Sarah Knowles MW".
_CREDENTIAL_WORDS = """
phd md rd ms ma mba bsc msc ba bs mph rn np pa do dds dmd jd llm cpa cfa pe mw fand cdn ldn cscs
cpt dvm pharmd faan facp frcp mrcp obe mbe cbe esq jr sr ii iii iv
"""
_CREDENTIALS = frozenset(_CREDENTIAL_WORDS.split())
# Where a byline runs on into a date or a timestamp.
_DATE_START = re.compile(
    r"\d|\b(?:on|updated|published|posted|last)\b"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d",
    re.IGNORECASE,
)
_MONTH_GLUED = re.compile(
    r"(?<=[a-z])(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?$"
)
_NOT_A_CREDIT = re.compile(r"@|https?:|www\.")
_LOWER_PARTICLES = frozenset(
    "van von der den de del della di da dos das du la le bin al el ter".split()  # noqa: SIM905
)
_MAX_CREDIT_CHARS = 120


def clean_byline(raw: str) -> str:
    """The credit in a byline text: without "By"/"Author:", a date or timestamp that follows,
    e-mail addresses and links; '' when nothing that can be a credit is left."""
    text = clean(raw).strip(" »«›‹>|:-–—•·")
    for _ in range(2):  # "Written by: Author: Jane Doe"
        text = _LABEL.sub("", text).strip(" »«›‹>|:-–—•·")
    cut = _DATE_START.search(text)
    if cut:
        text = text[: cut.start()]
    text = _MONTH_GLUED.sub("", text.strip())  # "Jane DoeDec 3" once the day is cut
    parts = [p for p in re.split(r"\s+", text) if p and not _NOT_A_CREDIT.search(p)]
    text = " ".join(parts).strip(" ,;|/&:-–—•·()[]'\"")
    if not text or len(text) > _MAX_CREDIT_CHARS or not re.search(r"[^\W\d_]", text):
        return ""
    return text


def people_in(byline: str, site_name: str | None = None, url: str | None = None) -> list[str]:
    """The person names in a cleaned byline, in order and without duplicates."""
    site_keys = _site_keys(site_name, url)
    names: dict[str, str] = {}
    for part in _SPLIT.split(byline):
        name = _strip_credentials(_LABEL.sub("", part).strip(" .:-–—'\"()[]"))
        if not _is_person(name) or _key(name) in site_keys:
            continue
        if name.isupper() or name.islower():  # "JANE DOE" and "jane doe" are styling
            name = " ".join(w if w.lower() in _LOWER_PARTICLES else w.title() for w in name.split())
        names.setdefault(_key(name), name)
    people = list(names.values())
    if any(" " in name for name in people):  # "Paul Frew, Home and Security Expert"
        people = [name for name in people if " " in name or not re.search(r"[A-Za-z]", name)]
    return people


def clean_authors(raw: Iterable[str], site_name: str | None = None) -> list[str]:
    """Person names in raw bylines: cleaned, split, and everything that is not a name dropped."""
    names: dict[str, str] = {}
    for byline in raw:
        for name in people_in(clean_byline(byline), site_name):
            names.setdefault(_key(name), name)
    return list(names.values())


def _key(text: str) -> str:
    return re.sub(r"\W+", "", text).casefold()


def _site_keys(site_name: str | None, url: str | None) -> set[str]:
    """The site's own name and its domain's main label ("swoogo" for swoogo.events)."""
    keys = {_key(site_name)} if site_name else set()
    host = urlsplit(url).hostname if url else None
    if host:
        labels = [x for x in host.split(".") if x not in ("www", "blog", "blogs", "m")]
        if len(labels) >= 2:
            keys.add(_key(labels[-2] if len(labels[-1]) > 2 or len(labels) < 3 else labels[-3]))
            keys.add(_key(".".join(labels)))
    keys.discard("")
    return keys


def _strip_credentials(name: str) -> str:
    words = name.replace(",", " ").split()
    while len(words) > 1 and words[-1].casefold().strip(".") in _CREDENTIALS:
        words.pop()
    while len(words) > 1 and words[0].casefold().strip(".") in {"dr", "prof", "mr", "mrs", "ms"}:
        words.pop(0)
    return " ".join(words)


def _is_person(name: str) -> bool:
    if not name or re.search(r"\d|@|https?:|www\.|\.com\b|[!?#*=<>{}]", name):
        return False
    words = name.split()
    if not 1 <= len(words) <= 5:
        return False
    if any(w.casefold().strip(".") in NOT_A_PERSON for w in words):
        return False
    if name.casefold().strip(".") in _CREDENTIALS:
        return False
    if len(words) == 1:
        # A lone word is a first name ("Susan") when capitalised like one; a handle ("admin",
        # "aawoods") or a brand ("EcoFlow") otherwise. Scripts written without spaces
        # (Chinese, Japanese, Korean) put a full name in one word.
        if not re.search(r"[A-Za-z]", name):
            return len(name) >= 2
        return bool(re.fullmatch(r"[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?", name)) and len(name) >= 3
    if name.islower() or name.isupper():
        return all(w.isalpha() or "-" in w or "'" in w or w.endswith(".") for w in words)
    return all(w[0].isupper() or not w[0].isalpha() or w.lower() in _LOWER_PARTICLES for w in words)


def find_credit(
    tree: HtmlElement,
    page: PageMeta,
    site_name: str | None,
    url: str | None = None,
    rules: CreditRules = DEFAULT_RULES,
) -> Credit:
    """The page's byline and its people, from the first source (in `rules.order`) that has one.

    With `rules.prefer_people`, a credit that names nobody (an organisation, a desk) is kept
    only when no later source names a person.
    """
    fallback: Credit | None = None
    for source in rules.order:
        for raw in _credits(source, tree, page):
            byline = clean_byline(raw)
            if not byline:
                continue
            credit = Credit(byline, people_in(byline, site_name, url))
            if credit.authors or not rules.prefer_people:
                return credit
            fallback = fallback or credit
            break  # this source's best credit names nobody: try the next source
    return fallback or Credit(None, [])


def _credits(source: str, tree: HtmlElement, page: PageMeta) -> Iterable[str]:
    """Raw credits from one source, best first; each is one whole byline."""
    if source == "jsonld":
        for key in ("author", "creator"):
            value = page.article.get(key)
            if names := jsonld_names(value, persons_only=True, graph=page.jsonld):
                yield ", ".join(names)
            if names := jsonld_names(value, graph=page.jsonld):
                yield ", ".join(names)
    elif source == "meta":
        values = [v for v in page.all(*AUTHOR_META) if not v.startswith(("http", "/"))]
        if values:
            yield ", ".join(dict.fromkeys(values))
    elif source == "markup":
        for xpath in BYLINE_XPATHS:
            if byline := _byline_group(tree.xpath(xpath)):
                yield byline
    elif source == "trafilatura":
        from trafilatura.metadata import extract_author  # deep-copies the tree: last resort

        if found := extract_author(tree):
            yield found.replace("; ", ", ")
    else:
        raise ValueError(f"unknown credit source {source!r}; expected one of {SOURCES}")


def _byline_group(elements: list[HtmlElement]) -> str:
    """The first byline element with a credit in it, joined with its siblings in the same
    byline (a co-authored byline links each author); later matches are other articles'."""
    for elem in elements:
        if clean_byline(elem.text_content()):
            parent = elem.getparent()
            group = [e for e in elements if e is elem or e.getparent() is parent is not None]
            texts = [text for e in group[:6] if (text := clean_byline(e.text_content()))]
            return ", ".join(dict.fromkeys(texts))
    return ""
