"""Turn one HTML page into clean article text and metadata.

This is the whole extraction step of the archive: the Scrapy pipeline, `newsarchive extract`,
`newsarchive reextract` and the extraction benchmark all call `extract_article`.

The page is parsed once and the source's `drop_selectors` are applied to it. Metadata is read
from that tree; then generic boilerplate rules prune it, trafilatura extracts the body from a
copy (a fast recall pass, the full extraction when the fast one kept too little of the page:
`passes`) and line filters clean the text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from lxml.etree import ParserError
from lxml.html import HtmlElement, document_fromstring
from trafilatura.utils import HTML_PARSER, decode_file

from crawler.items import EXTRACTED_FIELDS
from pipelines.article import boilerplate, passes
from pipelines.article import metadata as meta
from pipelines.article.authors import find_credit
from pipelines.article.dates import find_modified, find_published
from pipelines.article.markdown import body_markdown

LOGGER = logging.getLogger(__name__)

# trafilatura's own limit: bigger pages are not articles but dumps.
MAX_HTML_CHARS = 20_000_000

# C0 controls except tab, newline and carriage return: not allowed in XML text.
_CONTROL_BYTES = bytes(range(9)) + b"\x0b\x0c" + bytes(range(14, 32))

FIELDS = EXTRACTED_FIELDS  # the keys of extract_article's result, in order


def extract_article(
    html: str | bytes,
    url: str | None = None,
    *,
    drop_selectors: Iterable[str] = (),
    hints: Mapping[str, Any] | None = None,
    encoding: str | None = None,
) -> dict[str, Any] | None:
    """Extract clean article text and metadata from an HTML page; None when there is no text.

    `url` is the address the page was fetched from (fallback canonical URL, date in the path).
    `drop_selectors` are per-source XPath expressions, or CSS selectors when they do not start
    with "/" or "(", whose elements are removed before extraction. `hints` may carry
    `published` + `published_source` ("feed" or "sitemap") and `modified` from the feed or
    sitemap that linked the page: they fill in when the page has no date in its metadata.
    `encoding` is the charset of `html` when it is bytes (from the HTTP headers); without it
    the bytes are decoded as UTF-8, else by detection.

    Never raises: any input that cannot be read as an article gives None.
    """
    try:
        tree = _parsed(html, encoding, drop_selectors)
        return None if tree is None else _extract(tree, url, hints)
    except Exception:  # a crawler must survive any page: log it, skip it
        LOGGER.debug("extraction failed for %s", url, exc_info=True)
        return None


def article_text(
    html: str | bytes,
    url: str | None = None,
    *,
    drop_selectors: Iterable[str] = (),
    encoding: str | None = None,
) -> str | None:
    """The article text `extract_article` gives for a page, without reading the rest of its
    metadata (dates, authors, tags...) or writing its markdown; None when there is no text.

    Never raises, like `extract_article`.
    """
    try:
        tree = _parsed(html, encoding, drop_selectors)
        if tree is None:
            return None
        page = meta.read_page_meta(tree)
        lines, _ = _body_lines(
            tree,
            titles=meta.title_variants(page),
            descriptions=meta.description_variants(page),
            urls=(url, meta.pick_canonical(page, url)),
            structured=meta.structured_body(page),
        )
        return "\n".join(lines) or None
    except Exception:  # same contract as extract_article
        LOGGER.debug("extraction failed for %s", url, exc_info=True)
        return None


def _parsed(
    html: str | bytes, encoding: str | None, drop_selectors: Iterable[str]
) -> HtmlElement | None:
    tree = parse_html(html, encoding)
    if tree is not None:
        if isinstance(drop_selectors, str):  # one selector passed bare
            drop_selectors = [drop_selectors]
        boilerplate.remove_elements(tree, boilerplate.compile_selectors(drop_selectors))
    return tree


_LATE_HTML = re.compile(r"<(?:!doctype\s+)?html[\s>]", re.IGNORECASE)
_DOCUMENT_END = re.compile(rb"</(?:body|html)\s*>", re.IGNORECASE)


def parse_html(html: str | bytes, encoding: str | None = None) -> HtmlElement | None:
    """Decode and parse a page; None for empty or unparseable input.

    Parses UTF-8 bytes with trafilatura's parser settings (comments and processing
    instructions dropped), after deleting the control characters that libxml2 and lxml's
    text setters reject; bytes.translate does that far faster than a regex on the string.
    """
    if isinstance(html, bytes | bytearray):
        html = _decode(bytes(html), encoding)
    if not isinstance(html, str) or not html.strip() or len(html) > MAX_HTML_CHARS:
        return None
    if "html" not in html[:50].lower() and (late := _LATE_HTML.search(html, 0, 8000)):
        html = html[late.start() :]  # a preamble before the page (PHP warnings) is not the page
    data = html.encode("utf-8", "replace").translate(None, _CONTROL_BYTES)
    data = _without_early_end(data)
    data = data.replace(b"\xef\xbf\xbe", b"").replace(b"\xef\xbf\xbf", b"")
    try:
        tree = document_fromstring(data, parser=HTML_PARSER)
    except (ParserError, ValueError, TypeError):
        return None
    if not isinstance(tree, HtmlElement) or not len(tree):
        return None
    # trafilatura's sanity check: no <html> near the start and a single block is not a page
    if "html" not in html[:50].lower() and len(tree) < 2:
        return None
    return tree


def _without_early_end(data: bytes) -> bytes:
    """The page without its </body> and </html> tags.

    A template that closes the document early (a theme's header ending in </body></html>,
    the article after it) loses everything after it in libxml2, while browsers, which parse
    by HTML5's rules, show it as part of the body; without the tags libxml2 does the same.
    """
    first = _DOCUMENT_END.search(data)  # one scan of the bytes; str.find six times costs more
    if first is None:
        return data
    return data[: first.start()] + _DOCUMENT_END.sub(b"", data[first.start() :])


def _decode(data: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            pass  # wrong or unknown header charset: fall back to detection
    return decode_file(data)


def _extract(
    tree: HtmlElement, url: str | None, hints: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    page = meta.read_page_meta(tree)
    site_name = meta.pick_site_name(page)
    title = meta.pick_title(page, site_name)
    published, published_source = find_published(tree, page, url, hints)
    credit = find_credit(tree, page, site_name, url)
    result: dict[str, Any] = {
        "title": title,
        "byline": credit.byline,
        "authors": credit.authors,
        "published": published,
        "published_source": published_source,
        "modified": find_modified(tree, page, hints),
        "site_name": site_name,
        "description": meta.pick_description(page),
        "language": meta.pick_language(page),
        "tags": meta.pick_tags(page, tree),
        "categories": meta.pick_categories(page, tree, title),
        "image": meta.pick_image(page, tree, url),
        "canonical_url": meta.pick_canonical(page, url),
        "page_type": meta.pick_page_type(page),
    }
    text, markdown = extract_body(
        tree,
        titles=meta.title_variants(page),
        descriptions=meta.description_variants(page),
        urls=(url, result["canonical_url"]),
        structured=meta.structured_body(page),
    )
    if not text:
        return None
    if result["language"] is None:
        result["language"] = guess_language(text)
    result["text"] = text
    result["markdown"] = markdown
    return result


def extract_text(
    tree: HtmlElement,
    titles: Iterable[str] = (),
    descriptions: Iterable[str] = (),
    urls: Iterable[str | None] = (),
    structured: list[str] | None = None,
) -> str:
    """Article body of a parsed page as paragraphs separated by newlines ('' if none); see
    `extract_body`."""
    return extract_body(tree, titles, descriptions, urls, structured)[0]


def extract_body(
    tree: HtmlElement,
    titles: Iterable[str] = (),
    descriptions: Iterable[str] = (),
    urls: Iterable[str | None] = (),
    structured: list[str] | None = None,
) -> tuple[str, str]:
    """Article body of a parsed page as paragraphs separated by newlines, and the same body as
    markdown with its headings, lists and quotes (('', '') if none).

    `titles`, `descriptions` and `urls` are the page's own headline, summary and address, which
    the body repeats in its first lines on many sites. `structured` is the page's JSON-LD
    articleBody as lines (`metadata.structured_body`), which replaces a body the passes missed.
    Prunes `tree` in place: call it after everything else has read the page.
    """
    kept, body_xml = _body_lines(tree, titles, descriptions, urls, structured)
    if not kept:
        return "", ""
    if body_xml is None:  # the structured body: plain paragraphs
        return "\n".join(kept), "\n\n".join(kept)
    return "\n".join(kept), body_markdown(body_xml, kept)


def _body_lines(
    tree: HtmlElement,
    titles: Iterable[str],
    descriptions: Iterable[str],
    urls: Iterable[str | None],
    structured: list[str] | None = None,
) -> tuple[list[str], Any]:
    boilerplate.strip_non_content(tree)
    boilerplate.drop_nested_articles(tree)
    boilerplate.prune_link_blocks(tree)
    lines, body_xml = passes.body_pass(tree, structured)
    if not lines:
        return [], None
    lines = boilerplate.drop_own_url(lines, urls)
    body = boilerplate.drop_headline(lines, titles)
    if len(body) < len(lines):  # a standfirst only sits between the headline and the body
        rest = boilerplate.drop_standfirst(body, descriptions)
        if len(rest) < len(body) and not boilerplate.opens_the_body(tree, body[0]):
            body = rest
    return boilerplate.drop_boilerplate_lines(body), body_xml


def guess_language(text: str) -> str | None:
    """ISO 639-1 code of the text by py3langid, when the page declares none."""
    try:
        import py3langid

        code, _ = py3langid.classify(text[:5000])
    except Exception:  # the model is optional for extraction; no language is acceptable
        return None
    return meta.language_code(code)
