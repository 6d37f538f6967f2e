"""Generic boilerplate rules: tree pruning before trafilatura, line filters after it.

Every rule here describes how news pages in general are built, never one site: headline and
standfirst repeated above the body, inline "Read more:" teasers, newsletter and app prompts,
share bars, related-story boxes. Each was kept only if it helped (or was neutral) on both
random halves of the extraction benchmark.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cssselect import HTMLTranslator, SelectorError
from lxml.etree import XPath, XPathError, strip_elements
from lxml.html import HtmlElement

# --- tree pruning -----------------------------------------------------------------------------

_CSS = HTMLTranslator()


def compile_selector(selector: str) -> XPath | None:
    """XPath when it starts with '/' or '(', else CSS via cssselect; None if invalid."""
    selector = selector.strip()
    if not selector:
        return None
    try:
        if selector.startswith(("/", "(")):
            return XPath(selector)
        return XPath(_CSS.css_to_xpath(selector))
    except (XPathError, SelectorError, ValueError, TypeError):
        return None


# Never article text, and trafilatura discards all of them anyway: dropping them up front makes
# its tree copy and its XPath passes cheaper (about a tenth of the extraction time).
NON_CONTENT_TAGS = (
    "style", "svg", "template", "noscript", "iframe", "link", "nav", "aside", "footer",
)  # fmt: skip


# Chrome that holds most of the page's text is where the page put its article (a whole page in
# <noscript> for browsers without JavaScript, a blog post inside <nav>), unless the page marks
# its content elsewhere with <main> or <article> (neither inside the chrome nor around it): then
# it is a mega menu beside a short story.
CHROME_TAGS = ("noscript", "nav", "aside", "footer")
MOST_OF_THE_PAGE = 0.5


def _chars(elem: HtmlElement) -> int:
    return len(" ".join(elem.text_content().split()))


def _nested(a: HtmlElement, b: HtmlElement) -> bool:
    return a in b.iterancestors() or b in a.iterancestors()


def strip_non_content(tree: HtmlElement) -> None:
    """Remove scripts (except JSON-LD, trafilatura's last-resort body source) and page chrome,
    except chrome that holds most of the page's text and holds, or sits inside, each of its
    <main> and <article> elements (kept, as a plain <div>)."""
    for script in list(tree.iter("script")):
        if "ld+json" not in (script.get("type") or "").lower():
            drop_element(script)
    # Chrome's share is measured on the text a reader sees: style sheets and the like go first.
    strip_elements(tree, *(t for t in NON_CONTENT_TAGS if t not in CHROME_TAGS), with_tail=False)
    total = _chars(tree) - sum(_chars(script) for script in tree.iter("script"))  # JSON-LD
    big = [e for e in tree.iter(*CHROME_TAGS) if total and _chars(e) > MOST_OF_THE_PAGE * total]
    if big:
        landmarks = [e for e in tree.iter("main", "article") if _WORD_CHAR.search(e.text_content())]
        for elem in big:
            # Nested either way: the chrome holds the landmarks, or sits inside one (markup
            # left unclosed can put a whole article inside the <nav> of its own header).
            if all(_nested(elem, landmark) for landmark in landmarks):
                elem.tag = "div"
    strip_elements(tree, *CHROME_TAGS, with_tail=False)


# An <article> inside another is, by the HTML standard, something related to it: a comment, a
# related story's card, a teaser. One that holds half of its outer article is a wrapper instead,
# and inner articles that hold most of it together, each under its own heading, are the
# sections of a listicle.
NESTED_ARTICLE_SHARE = 0.5
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def drop_nested_articles(tree: HtmlElement) -> int:
    """Remove the <article> elements nested in another <article> (comments, related stories),
    except a second wrapper (half of its outer article's text or more) and the headed sections
    of a listicle."""
    nested: dict[HtmlElement, list[HtmlElement]] = {}
    for inner in tree.iter("article"):
        outer = next(inner.iterancestors("article"), None)
        if outer is not None:
            nested.setdefault(outer, []).append(inner)
    doomed = []
    for outer, inner in nested.items():
        limit = NESTED_ARTICLE_SHARE * _chars(outer)
        small = {e: size for e in inner if (size := _chars(e)) < limit}
        headed = all(next(e.iter(*_HEADINGS), None) is not None for e in small)
        if small and not (headed and sum(small.values()) > limit):  # a listicle's sections
            doomed.extend(small)
    return sum(drop_element(elem) for elem in doomed)


def compile_selectors(selectors: Iterable[str]) -> list[XPath]:
    """Compile per-source selectors, skipping invalid ones: a bad rule must not stop a crawl."""
    compiled = (compile_selector(s) for s in selectors if isinstance(s, str))
    return [xpath for xpath in compiled if xpath is not None]


def remove_elements(tree: HtmlElement, xpaths: Iterable[XPath]) -> int:
    """Remove matched elements, keeping their tail text (it belongs to the parent)."""
    removed = 0
    for xpath in xpaths:
        try:
            matches = xpath(tree)
        except XPathError:
            continue
        if not isinstance(matches, list):  # count(), string() and friends select no element
            continue
        for elem in matches:
            if isinstance(elem, HtmlElement) and drop_element(elem):
                removed += 1
    return removed


def drop_element(elem: HtmlElement) -> bool:
    """Remove `elem` from its tree, keeping its tail text (it belongs to the parent); False
    for the root."""
    parent = elem.getparent()
    if parent is None:
        return False
    if elem.tail:
        previous = elem.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + elem.tail
        else:
            parent.text = (parent.text or "") + elem.tail
    parent.remove(elem)
    return True


_WORDS = re.compile(r"\w+")
_URL_TEXT = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$")
# A link-only paragraph of fewer words is a label or a product name, not a teaser.
MIN_TEASER_WORDS = 4


_WORD_CHAR = re.compile(r"\w")


def _unlinked_words(elem: HtmlElement) -> bool:
    """True as soon as some word of the element lies outside every link (early exit)."""
    if elem.text and _WORD_CHAR.search(elem.text):
        return True
    for child in elem:
        if isinstance(child.tag, str) and child.tag != "a" and _unlinked_words(child):
            return True
        if child.tail and _WORD_CHAR.search(child.tail):
            return True
    return False


def _link_only(elem: HtmlElement) -> bool:
    return not _unlinked_words(elem) and elem.find(".//a") is not None


def prune_link_blocks(tree: HtmlElement) -> int:
    """Remove teaser paragraphs and link lists, the inline "related stories" of news pages.

    A paragraph whose every word is a link is a promo for another story (a headline set as a
    link between two paragraphs), unless it is a bare URL, which cites a source. A list whose
    every item is nothing but a link is a related-articles or navigation list.
    """
    doomed = []
    for elem in tree.iter("p", "ul", "ol"):
        if elem.tag == "p":
            if _link_only(elem):
                text = elem.text_content()
                if len(_WORDS.findall(text)) >= MIN_TEASER_WORDS and not _URL_TEXT.match(text):
                    doomed.append(elem)
        else:
            items = [child for child in elem if child.tag == "li"]
            # Anything else in the list must be wordless: a list left unclosed by the page
            # (libxml2 then nests the rest of the page in it) holds the article after its items.
            others = [child for child in elem if child.tag != "li"]
            if (
                len(items) >= 2
                and all(_link_only(item) for item in items)
                and not any(_WORD_CHAR.search(other.text_content()) for other in others)
            ):
                doomed.append(elem)
    return sum(drop_element(elem) for elem in doomed)


# --- line filters -----------------------------------------------------------------------------


def words(text: str) -> list[str]:
    """Lower-cased \\w+ tokens, the unit every comparison here works on."""
    return _WORDS.findall(text.casefold())


def drop_headline(lines: list[str], titles: Iterable[str]) -> list[str]:
    """Drop the headline (and short kicker lines above it) when the text starts with it.

    The body of an article never repeats its own headline; trafilatura keeps it when the <h1>
    sits inside the article container.
    """
    keys = {" ".join(w) for t in titles if (w := words(t))}
    if not keys:
        return lines
    for index, line in enumerate(lines[:4]):
        if " ".join(words(line)) in keys:
            return lines[index + 1 :]
        if len(words(line)) > 8:  # a real paragraph before any headline: leave the text alone
            break
    return lines


# Inline teasers: a label, then a colon or a dash, then a link to another story.
_TEASER_LABELS = (
    r"also read|read also|read more|read next|related(?: posts?| articles?| stor(?:y|ies)"
    r"| coverage| content| reading| links?)?|recommended(?: reading| for you)?|see also|more"
    r"|more from [\w .'’-]{1,40}|don[’']?t miss|must read|trending(?: now)?|top stories"
    r"|watch(?: now)?|listen(?: now)?|you may also like|you might also like|further reading"
    r"|leggi anche|lire aussi|à lire aussi|voir aussi|lesen sie auch|mehr zum thema"
    r"|lea también|leia também|veja também|saiba mais"
)
LINE_RULES: dict[str, re.Pattern[str]] = {
    # "Read more: …", "[Related: …]", "ALSO READ | …", or the label alone on its line
    "teaser": re.compile(
        rf"^[\[(]?\s*(?:{_TEASER_LABELS})\s*(?:[:|»>–—-]|[\])]?\s*$)", re.IGNORECASE
    ),
    # newsletter and subscription prompts
    "newsletter": re.compile(
        r"\b(?:sign(?:ing)? up|subscrib\w*)\b.{0,120}\b(?:newsletters?|inbox)\b"
        r"|\bnewsletters?\b.{0,120}\b(?:sign up|subscribe)\b|\bdelivered to your inbox\b"
        r"|^(?:subscribe|sign up)\b.{0,80}\b(?:youtube|podcast|channel|today|now|here)\W*$",
        re.IGNORECASE,
    ),
    # app and social calls to action
    "call_to_action": re.compile(
        r"^click here to (?:get|download) (?:the|our) .{0,40}\bapp\b"
        r"|\bby clicking here\W*$"
        r"|^follow\b.{0,80}\b(?:twitter|facebook|instagram|youtube|linkedin|tiktok|telegram)\b"
        r"|\bshare (?:it|this(?: article| story)?) with\b",
        re.IGNORECASE,
    ),
    # comment forms and page chrome
    "chrome": re.compile(
        r"^[-–•]?\s*(?:leave a (?:reply|comment)|post a comment|add a comment|\d* ?comments?"
        r"|your email address will not be published|back to top|share this(?: article| story)?"
        r"|print (?:this )?article|order reprints)\W*$",
        re.IGNORECASE,
    ),
    # dateline stamps: "Updated at 1:23 p.m.", "- Published 18 November 2019"
    # or the bare label left when the date itself sat in a <time> element: "· Updated"
    "timestamp": re.compile(
        r"^[-–•·|]?\s*(?:last )?(?:updated|published|posted|first published)"
        r"(?:\b(?=.*\d)[\w\s.,:/-]{0,60}|\W*)$",
        re.IGNORECASE,
    ),
    # reading-time stamps: "5 min read", "3 MIN. READ", "Reading time: 4 minutes"
    "reading_time": re.compile(
        r"^[-–•·|]?\s*(?:\d+(?:\s*[–-]\s*\d+)?\s*min(?:ute)?s?\.?\s+read(?:ing)?(?: time)?"
        r"|(?:estimated )?(?:reading time|read time|lesezeit|temps de lecture|tiempo de lectura)"
        r"\W*(?:ca\.\s*)?\d+(?:\s*[–-]\s*\d+)?\s*(?:min(?:ute)?s?|minuten)\.?)\W*$",
        re.IGNORECASE,
    ),
    # a photo credit alone on its line: "Photo: Reuters", "(Bild: dpa)", "Image credit: Getty"
    "photo_credit": re.compile(
        r"^[\[(]?\s*(?:(?:main |lead |header |featured |top )?(?:photo(?:graph)?s?|images?"
        r"|pictures?|pics?|illustrations?|fotos?|bild(?:er)?|crédits? photos?|crédit)"
        r"(?:\s+credits?)?|credits?)\s*(?:by\b|:|©)\s*[^!?:]{2,60}?[\])]?\.?$",
        re.IGNORECASE,
    ),
    # a label alone on its line: an ad slot's, or a table of contents' (its entries are links)
    "label": re.compile(
        r"^(?:advertisement|advertising|anzeige|werbung|publicité|publicidad"
        r"|table of contents|contents|inhaltsverzeichnis|sommaire|índice)\W*$",
        re.IGNORECASE,
    ),
}
# Promo lines are short; a long paragraph that happens to mention a newsletter is article text.
MAX_RULE_WORDS = 40


def drop_boilerplate_lines(lines: list[str], rules: Iterable[str] | None = None) -> list[str]:
    """Remove short lines that match a boilerplate rule (all rules unless named)."""
    patterns = [LINE_RULES[name] for name in (rules if rules is not None else LINE_RULES)]
    return [
        line
        for line in lines
        if len(words(line)) > MAX_RULE_WORDS or not any(p.search(line) for p in patterns)
    ]


def drop_own_url(lines: list[str], urls: Iterable[str | None]) -> list[str]:
    """Drop lines that are nothing but the page's own address (share and permalink widgets)."""
    own = {u.strip().rstrip("/") for u in urls if u}
    return [line for line in lines if line.strip().rstrip("/") not in own]


def drop_standfirst(lines: list[str], descriptions: Iterable[str]) -> list[str]:
    """Drop a first line that repeats the page description (the standfirst under the headline)."""
    keys = {" ".join(w) for d in descriptions if (w := words(d))}
    if lines and " ".join(words(lines[0])) in keys:
        return lines[1:]
    return lines


# A paragraph followed by this many sibling paragraphs of more than SUBSTANTIAL_WORDS words
# opens the body. Many sites copy their first paragraph into the page description; a standfirst
# stands apart from the body (a heading, or a paragraph of its own before the body's container).
BODY_PARAGRAPHS_AFTER = 2
SUBSTANTIAL_WORDS = 10


def opens_the_body(tree: HtmlElement, text: str) -> bool:
    """True when `text` is a <p> of the page followed, among its siblings, by paragraphs of
    substance, or the start of a <p> that goes on with more than SUBSTANTIAL_WORDS words (the
    paragraphs of a body split by <br> in one <p>): the body's first paragraph, which a
    description may repeat, not a standfirst."""
    key = words(text)
    if not key:
        return False
    for paragraph in tree.iter("p"):
        found = words(paragraph.text_content())
        if found[: len(key)] == key and len(found) > len(key) + SUBSTANTIAL_WORDS:
            return True
        if found != key:
            continue
        after = 0
        for sibling in paragraph.itersiblings("p"):
            after += len(words(sibling.text_content())) > SUBSTANTIAL_WORDS
            if after >= BODY_PARAGRAPHS_AFTER:
                return True
    return False
