"""Publication and modification dates, with where each was found.

Order of trust for the publication date: JSON-LD ("jsonld"), <meta> tags and htmldate's markup
pass ("meta"), the feed or sitemap that linked the page ("feed"/"sitemap"), then a date found
only by searching the page text ("text"). Dates before 1990 or more than a day ahead are
rejected wherever they come from: they are parsing mistakes or placeholders.

A page that was updated often shows only its update date, as the date of the article: when
htmldate reads the page's date as its modification date, and the page shows that date in its
text but not the publication date of its metadata, the shown date is the one (same source).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from htmldate import find_date
from lxml.etree import XPath
from lxml.html import HtmlElement

from crawler.clock import plausible
from pipelines.article.metadata import PageMeta

HINT_SOURCES = ("feed", "sitemap")


@dataclass(frozen=True)
class DateRules:
    """The choices of `find_published`, picked by cross-validation (python -m bench.metadata)."""

    shown_update: bool = True  # a page that shows only its update date is dated by it


DEFAULT_DATE_RULES = DateRules()

# Meta keys (property, name or itemprop, lower-cased) that hold the publication date.
PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "article:published",
    "datepublished",
    "published_time",
    "publishdate",
    "publish-date",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dcterms.created",
    "dc.date",
    "date",
    "article.published",
    "cxenseparse:recs:publishtime",
)
MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "article:modified",
    "modified_time",
    "last-modified",
    "dcterms.modified",
    "dc.date.modified",
)
_ISO = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?"
)
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})(?:$|[T\s])")


def parse_date(value: Any, now: datetime | None = None) -> str | None:
    """Normalise a date string to ISO 8601 (date, or datetime when a time is given).

    Accepts ISO 8601 variants, compact YYYYMMDD and RFC 2822; returns None for anything else
    and for dates outside [1990-01-01, now + 1 day].
    """
    if isinstance(value, datetime | date):  # hints may come from a feed parser as objects
        if not plausible(value, now):
            return None
        return value.isoformat()
    if not isinstance(value, str) or not value.strip():
        return None
    parsed: datetime | None = None
    has_time = False
    if match := _ISO.match(value):
        year, month, day, hour, minute, second, zone = match.groups()
        try:
            parsed = datetime(int(year), int(month), int(day))
            if hour is not None:
                has_time = True
                parsed = parsed.replace(hour=int(hour), minute=int(minute), second=int(second or 0))
                if zone:
                    parsed = datetime.fromisoformat(
                        parsed.isoformat() + ("+00:00" if zone == "Z" else _colon(zone))
                    )
        except ValueError:
            return None
    elif match := _COMPACT.match(value):
        try:
            parsed = datetime(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
    else:
        try:
            parsed = parsedate_to_datetime(value.strip())
            has_time = True
        except (TypeError, ValueError, IndexError):
            return None
    if not plausible(parsed, now):
        return None
    return parsed.isoformat() if has_time else parsed.date().isoformat()


def _colon(zone: str) -> str:
    return zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"


def _jsonld_date(page: PageMeta, *keys: str) -> str | None:
    for obj in [page.article, *page.jsonld]:
        for key in keys:
            if found := parse_date(obj.get(key)):
                return found
    return None


def _meta_date(page: PageMeta, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        for value in page.meta.get(key, ()):
            if found := parse_date(value):
                return found
    return None


def _markup_date(tree: HtmlElement, key: str) -> str | None:
    """<time datetime> or any element with itemprop=datePublished/dateModified."""
    for elem in tree.xpath(f'//*[@itemprop="{key}"][@datetime or @content]'):
        if found := parse_date(elem.get("datetime") or elem.get("content")):
            return found
    return None


def _htmldate(tree: HtmlElement, *, extensive: bool, url: str | None) -> str | None:
    try:
        found = find_date(tree, extensive_search=extensive, original_date=True, url=url)
    except Exception:  # htmldate raises on some malformed trees; a missing date is fine
        return None
    return parse_date(found) if found else None


def find_published(
    tree: HtmlElement,
    page: PageMeta,
    url: str | None,
    hints: Mapping[str, Any] | None,
    rules: DateRules = DEFAULT_DATE_RULES,
) -> tuple[str | None, str | None]:
    """(ISO date, source) of publication; source is jsonld, meta, feed, sitemap, text, warc
    (the `captured` hint: a WARC-Date) or None."""
    if found := _jsonld_date(page, "datePublished", "dateCreated", "uploadDate"):
        return _shown_update(tree, page, found) if rules.shown_update else found, "jsonld"
    found = _meta_date(page, PUBLISHED_META) or _markup_date(tree, "datePublished")
    if found and rules.shown_update:
        return _shown_update(tree, page, found), "meta"
    if found or (found := _htmldate(tree, extensive=False, url=None)):
        return found, "meta"
    hints = hints or {}
    source = hints.get("published_source") or "feed"
    if source in HINT_SOURCES and (found := parse_date(hints.get("published"))):
        return found, source
    # htmldate's last resorts in free text are a bare year or the copyright year, returned as
    # 1 January: a footer's "© 2019" is no publication date, so those are dropped.
    found = _htmldate(tree, extensive=True, url=url)
    if found and not found.endswith("-01-01"):
        return found, "text"
    # Last: when a web archive captured the page (its WARC-Date), which it cannot predate.
    if found := parse_date(hints.get("captured")):
        return found, "warc"
    return None, None


def _shown_update(tree: HtmlElement, page: PageMeta, published: str) -> str:
    """The modification date instead of `published` when the page shows only the former and
    htmldate takes it for the page's date (see the module docstring)."""
    modified = find_modified(tree, page, None)
    if not modified or modified[:10] <= published[:10]:
        return published
    # The page's own text first: a few milliseconds cheaper than htmldate, which most pages
    # then need not be asked.
    text = _visible_text(tree)
    if not _day_in(text, modified[:10]) or _day_in(text, published[:10]):
        return published
    shown = _htmldate(tree, extensive=False, url=None)
    return modified if shown and shown[:10] == modified[:10] else published


# Script and style hold raw text only (the HTML parser makes no elements in them), so a text
# node's parent tells; asking for every ancestor cost a third more.
_VISIBLE_TEXT = XPath("//body//text()[not(parent::script or parent::style)]")


def _visible_text(tree: HtmlElement) -> str:
    return " ".join(" ".join(_VISIBLE_TEXT(tree)).split()).casefold()


def _day_in(text: str, day: str) -> bool:
    """Whether `text` (casefolded) writes the ISO `day` in a common English or numeric form."""
    moment = date.fromisoformat(day)
    d, m, y = moment.day, moment.month, moment.year
    month, mon = moment.strftime("%B").casefold(), moment.strftime("%b").casefold()
    forms = [f"{month} {d}, {y}", f"{month} {d} {y}", f"{mon} {d}, {y}", f"{mon}. {d}, {y}"]
    forms += [f"{mon} {d} {y}", f"{d} {month} {y}", f"{d} {mon} {y}", f"{d}. {month} {y}"]
    forms += [f"{month} {d}{th}, {y}" for th in ("st", "nd", "rd", "th")]
    forms += [day, f"{m}/{d}/{y}", f"{m:02}/{d:02}/{y}", f"{d:02}/{m:02}/{y}", f"{d:02}.{m:02}.{y}"]
    return any(form in text for form in forms)


def find_modified(tree: HtmlElement, page: PageMeta, hints: Mapping[str, Any] | None) -> str | None:
    """ISO date of the last modification from JSON-LD, meta tags or markup, else the hint."""
    found = (
        _jsonld_date(page, "dateModified")
        or _meta_date(page, MODIFIED_META)
        or _markup_date(tree, "dateModified")
    )
    return found or parse_date((hints or {}).get("modified"))
