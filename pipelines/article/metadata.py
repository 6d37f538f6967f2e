"""Read page metadata: <meta> tags, JSON-LD, microdata breadcrumbs, canonical link, title.

Everything here reads the parsed page once and never modifies it. The structured sources come
first (JSON-LD and Open Graph are written by the publisher for machines and are the most
reliable), visible markup last.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import urljoin

from lxml.html import HtmlElement

# JSON-LD types that describe the article itself (NewsArticle, BlogPosting, ReportageNewsArticle…).
_ARTICLE_TYPE = re.compile(r"Article|Posting|Report|Review|Story", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_MARKUP = re.compile(r"<[^>]*>")  # some CMSs put the body's HTML into articleBody
# "Headline | Site" / "Headline - Site" / "Headline – Site" in <title>.
_TITLE_SEPARATOR = re.compile(r"\s+[|\-–—•·:»]+\s+")
_JSON_WRAPPER = re.compile(
    r"^(?:<!--|/\*<!\[CDATA\[\*/|//<!\[CDATA\[)|(?:-->|/\*\]\]>\*/|//\]\]>)$"
)
# A tag or category starts with a letter or digit (not "/article", not "&quot").
_LABEL = re.compile(r"^[^\W_]")
_HOME = frozenset({"home", "homepage", "start", "accueil", "inicio", "startseite"})
_LANG = re.compile(r"^([a-zA-Z]{2})(?:[-_][a-zA-Z0-9]+)*$")
# A few three-letter codes seen in the wild in place of ISO 639-1.
_LANG3 = {"eng": "en", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr", "spa": "es", "ita": "it"}


def clean(text: Any) -> str:
    """Collapse whitespace; non-strings become ''."""
    return _SPACE.sub(" ", text).strip() if isinstance(text, str) else ""


@dataclass
class PageMeta:
    """Raw metadata gathered from one page, before any field is chosen."""

    meta: dict[str, list[str]] = field(default_factory=dict)  # name/property/itemprop -> contents
    jsonld: list[dict[str, Any]] = field(default_factory=list)  # every JSON-LD object, flattened
    html_lang: str = ""
    title_tag: str = ""
    h1: list[str] = field(default_factory=list)
    canonical: str = ""

    def first(self, *keys: str) -> str:
        """First non-empty content among meta keys, in the order of the keys."""
        for key in keys:
            for value in self.meta.get(key, ()):
                if value:
                    return value
        return ""

    def all(self, *keys: str) -> list[str]:
        """Every non-empty content of the given meta keys."""
        return [value for key in keys for value in self.meta.get(key, ()) if value]

    @property
    def article(self) -> dict[str, Any]:
        """The JSON-LD object that describes the article (or the page), else {}."""
        fallback: dict[str, Any] = {}
        for obj in self.jsonld:
            names = _type_names(obj)
            if _ARTICLE_TYPE.search(names):
                return obj
            if not fallback and names == "WebPage" and ("datePublished" in obj or "author" in obj):
                fallback = obj
        return fallback


def _type_names(obj: dict[str, Any]) -> str:
    types = obj.get("@type")
    if isinstance(types, list):
        return " ".join(t for t in types if isinstance(t, str))
    return types if isinstance(types, str) else ""


def read_page_meta(tree: HtmlElement) -> PageMeta:
    """Collect <meta>, JSON-LD, lang, <title>, <h1> and canonical link in one pass each."""
    page = PageMeta()
    for elem in tree.iter("meta"):
        key = elem.get("property") or elem.get("name") or elem.get("itemprop") or ""
        if not key:
            if elem.get("http-equiv", "").lower() == "content-language":
                key = "content-language"
            else:
                continue
        content = clean(elem.get("content") or elem.get("datetime") or "")
        page.meta.setdefault(key.strip().lower(), []).append(content)
    for script in tree.iter("script"):
        if "ld+json" in (script.get("type") or "").lower() and script.text:
            page.jsonld.extend(_flatten_jsonld(_load_json(script.text)))
    page.html_lang = clean(tree.get("lang") or tree.get("xml:lang") or "")
    title = tree.find(".//title")
    page.title_tag = clean(title.text_content()) if title is not None else ""
    page.h1 = [text for h in tree.iter("h1") if (text := clean(h.text_content()))]
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            page.canonical = link.get("href", "").strip()
            break
    return page


def structured_body(page: PageMeta) -> list[str]:
    """The article text the page's JSON-LD carries (the longest articleBody), as lines with
    any markup removed; [] without one."""
    bodies = [body for obj in page.jsonld if isinstance(body := obj.get("articleBody"), str)]
    if not bodies:
        return []
    text = unescape(_MARKUP.sub("\n", max(bodies, key=len)))
    return [line for raw in text.splitlines() if (line := clean(raw))]


def _load_json(text: str) -> Any:
    text = text.strip()
    # CMSs wrap JSON-LD in HTML comments or CDATA; some add trailing semicolons.
    text = _JSON_WRAPPER.sub("", text)
    try:
        return json.loads(text.strip().rstrip(";"), strict=False)
    except (ValueError, RecursionError):
        return None


def _flatten_jsonld(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Top-level objects, list members and @graph members (not nested properties)."""
    if depth > 5:
        return
    if isinstance(data, list):
        for item in data:
            yield from _flatten_jsonld(item, depth + 1)
    elif isinstance(data, dict):
        if "@type" in data:
            yield data
        if "@graph" in data:
            yield from _flatten_jsonld(data["@graph"], depth + 1)


def jsonld_names(
    value: Any, *, persons_only: bool = False, graph: list[dict[str, Any]] | None = None
) -> list[str]:
    """Names out of a JSON-LD value that is a string, a {name: …} object or a list of them.

    A bare {"@id": …} reference (Yoast puts the author in the @graph that way) is looked up
    among the page's other JSON-LD objects.
    """
    if isinstance(value, str):
        return [clean(value)] if clean(value) else []
    if isinstance(value, list):
        return [n for item in value[:20] for n in jsonld_names(item, persons_only=persons_only)]
    if isinstance(value, dict):
        if "name" not in value and isinstance(value.get("@id"), str) and graph:
            value = next((obj for obj in graph if obj.get("@id") == value["@id"]), value)
        if persons_only and "Organization" in str(value.get("@type", "")):
            return []
        name = value.get("name")
        if isinstance(name, str | list):
            return jsonld_names(name, persons_only=persons_only)
    return []


def language_code(value: str) -> str | None:
    """'en-US', 'en_GB', 'EN', 'eng' -> 'en'; None when it is not a language code."""
    value = value.strip()
    if match := _LANG.match(value):
        return match[1].lower()
    return _LANG3.get(value.lower())


def pick_language(page: PageMeta) -> str | None:
    """Declared language: <html lang>, og:locale, JSON-LD inLanguage, Content-Language."""
    candidates = [page.html_lang, page.first("og:locale")]
    in_language = page.article.get("inLanguage")
    if isinstance(in_language, str):
        candidates.append(in_language)
    candidates += [page.first("content-language", "language", "dc.language")]
    for candidate in candidates:
        # Content-Language may list several: "en, fr"
        if candidate and (code := language_code(candidate.split(",")[0])):
            return code
    return None


def pick_title(page: PageMeta, site_name: str | None = None) -> str | None:
    """og:title, JSON-LD headline, the only <h1>, else <title>; without a trailing site name."""
    headline = clean(page.article.get("headline"))
    title = page.first("og:title", "twitter:title") or headline
    if not title and len(page.h1) == 1:
        title = page.h1[0]
    if not title and page.title_tag:
        title = _headline_part(page.title_tag, site_name)
    title = title or (page.h1[0] if page.h1 else "")
    if title and site_name:
        # "Headline | Site" in og:title too, on some sites
        parts = _TITLE_SEPARATOR.split(title)
        if len(parts) > 1 and _same_text(parts[-1], site_name):
            title = title[: title.rindex(parts[-1])].rstrip(" |-–—•·:»")
    return title or None


def _headline_part(title_tag: str, site_name: str | None) -> str:
    """The headline in "Headline | Site" or "Site - Headline": not the site's name, and the
    first part unless another is more than twice as long."""
    parts = [p for p in _TITLE_SEPARATOR.split(title_tag) if p]
    named = [p for p in parts if not (site_name and _same_text(p, site_name))] or parts
    longest = max(named, key=len)
    return named[0] if len(longest) <= 2 * len(named[0]) else longest


def title_variants(page: PageMeta) -> list[str]:
    """Every spelling of the headline the page carries, for spotting it in the text."""
    headline = clean(page.article.get("headline"))
    variants = [page.first("og:title"), page.first("twitter:title"), headline]
    variants += page.h1[:3]
    if page.title_tag:
        variants += [page.title_tag, *_TITLE_SEPARATOR.split(page.title_tag)]
    return [v for v in dict.fromkeys(variants) if v]


def pick_site_name(page: PageMeta) -> str | None:
    """og:site_name, JSON-LD publisher name, application-name."""
    publisher = jsonld_names(page.article.get("publisher"), graph=page.jsonld)
    for candidate in (page.first("og:site_name"), *publisher, page.first("application-name")):
        if candidate:
            # some sites put their address there: keep the host name
            return re.sub(r"^[a-z]+://|/+$", "", candidate, flags=re.IGNORECASE)
    return None


def pick_description(page: PageMeta) -> str | None:
    """og:description, meta description, twitter:description, JSON-LD description."""
    for candidate in (
        page.first("og:description", "description", "twitter:description"),
        clean(page.article.get("description")),
    ):
        if candidate:
            return candidate
    return None


def description_variants(page: PageMeta) -> list[str]:
    """Every description the page carries, for spotting a repeated standfirst in the text."""
    variants = page.all("og:description", "description", "twitter:description")
    variants.append(clean(page.article.get("description")))
    return [v for v in dict.fromkeys(variants) if v]


def pick_image(page: PageMeta, tree: HtmlElement, base_url: str | None) -> str | None:
    """og:image, twitter:image, JSON-LD image, <link rel=image_src>; made absolute."""
    candidates = [page.first("og:image", "og:image:url", "og:image:secure_url", "twitter:image")]
    image = page.article.get("image")
    if isinstance(image, list) and image:
        image = image[0]
    if isinstance(image, dict):
        image = image.get("url") or image.get("contentUrl")
    candidates.append(clean(image))
    for link in tree.iter("link"):
        if (link.get("rel") or "").lower() == "image_src":
            candidates.append(link.get("href", ""))
    return _absolute(next((c for c in candidates if c), ""), base_url)


def pick_canonical(page: PageMeta, url: str | None) -> str | None:
    """<link rel=canonical>, og:url, else the URL the page was fetched from."""
    candidate = page.canonical or page.first("og:url")
    return _absolute(candidate, url) if candidate else url


def pick_page_type(page: PageMeta) -> str | None:
    """og:type, else 'article' when JSON-LD describes an article."""
    if og_type := page.first("og:type"):
        return og_type.lower()
    return "article" if _ARTICLE_TYPE.search(_type_names(page.article)) else None


def pick_tags(page: PageMeta, tree: HtmlElement) -> list[str]:
    """article:tag, JSON-LD keywords, news_keywords, rel=tag links; meta keywords last."""
    tags = [t for value in page.all("article:tag") for t in _split_keywords(value)]
    tags += _split_keywords(page.article.get("keywords"))
    tags += [t for value in page.all("news_keywords") for t in _split_keywords(value)]
    for link in tree.iter("a"):
        rel = (link.get("rel") or "").lower().split()
        if "tag" in rel and "category" not in rel:
            tags.append(clean(link.text_content()))
    if not tags:
        tags = [t for value in page.all("keywords") for t in _split_keywords(value)]
    return _unique(tags)


def pick_categories(page: PageMeta, tree: HtmlElement, title: str | None) -> list[str]:
    """article:section, JSON-LD articleSection, breadcrumb trail, rel="category" links.

    Navigation menus are never used: they list every section of the site, not the article's.
    """
    categories = page.all("article:section")
    section = page.article.get("articleSection")
    sections = section if isinstance(section, list) else [section]
    categories += [name for s in sections if (name := clean(s))]
    if not categories:
        categories = _breadcrumb(page, tree, title)
    if not categories:
        for link in tree.iter("a"):
            if "category" in (link.get("rel") or "").lower().split():
                categories.append(clean(link.text_content()))
    return _unique(categories)


def _breadcrumb(page: PageMeta, tree: HtmlElement, title: str | None) -> list[str]:
    """Middle items of a JSON-LD or microdata BreadcrumbList: not 'Home', not the page itself."""
    names: list[str] = []
    for obj in page.jsonld:
        if obj.get("@type") == "BreadcrumbList" and isinstance(obj.get("itemListElement"), list):
            items = [i for i in obj["itemListElement"] if isinstance(i, dict)]
            items.sort(key=lambda i: i.get("position") if isinstance(i.get("position"), int) else 0)
            for item in items:
                name = item.get("name") or (
                    item["item"].get("name") if isinstance(item.get("item"), dict) else None
                )
                names.append(clean(name))
            break
    if not names:
        for trail in tree.xpath('//*[@itemtype][contains(@itemtype, "BreadcrumbList")]'):
            for item in trail.xpath('.//*[@itemprop="itemListElement"]'):
                name = item.xpath('.//*[@itemprop="name"]')
                names.append(clean(name[0].text_content()) if name else "")
            break
    names = [n for n in names if n]
    if names and names[0].lower() in _HOME:
        names = names[1:]
    if names and title and _same_text(names[-1], title):
        names = names[:-1]
    return names


def _split_keywords(value: Any) -> list[str]:
    if isinstance(value, list):
        return [clean(v) for v in value if isinstance(v, str)]
    if isinstance(value, str):
        return [clean(v) for v in value.split(",")]
    return []


def _unique(values: list[str]) -> list[str]:
    """Deduplicated labels, without the empty, the overlong and markup debris ("&quot", "/x")."""
    seen: dict[str, str] = {}
    for value in values:
        value = clean(value)
        if value and len(value) < 100 and _LABEL.match(value):
            seen.setdefault(value.casefold(), value)
    return list(seen.values())


def _same_text(a: str, b: str) -> bool:
    return re.sub(r"\W+", "", a).casefold() == re.sub(r"\W+", "", b).casefold()


def _absolute(link: str, base_url: str | None) -> str | None:
    link = link.strip()
    if not link:
        return None
    if link.startswith("//"):
        return "https:" + link
    if base_url and not re.match(r"^[a-z][a-z0-9+.-]*:", link, re.IGNORECASE):
        try:
            return urljoin(base_url, link)
        except ValueError:
            return link
    return link
