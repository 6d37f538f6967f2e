"""The generic boilerplate rules, one by one."""

from __future__ import annotations

import pytest
from lxml.html import document_fromstring

from pipelines.article import boilerplate as b


def tree(body: str):
    return document_fromstring(f"<html><body>{body}</body></html>")


def texts(root, tag: str) -> list[str]:
    return [e.text_content() for e in root.iter(tag)]


def test_link_only_paragraph_is_a_teaser_but_prose_with_links_is_not() -> None:
    root = tree(
        "<p><strong><a href='/a'>Senator announces run for governor next year</a></strong></p>"
        "<p>The senator, <a href='/s'>Jane Doe</a>, spoke on Monday.</p>"
        "<p><a href='/b'>Short label</a></p>"
        "<p><a href='https://example.org/report'>https://example.org/report</a></p>"
    )
    b.prune_link_blocks(root)
    assert texts(root, "p") == [
        "The senator, Jane Doe, spoke on Monday.",
        "Short label",
        "https://example.org/report",
    ]


def test_list_of_links_goes_but_a_list_with_prose_stays() -> None:
    root = tree(
        "<ul id='related'><li><a href='/1'>One story</a></li><li><a href='/2'>Two</a></li></ul>"
        "<ul id='facts'><li><a href='/x'>Paris</a> is the capital</li><li>Lyon is big</li></ul>"
    )
    b.prune_link_blocks(root)
    assert [u.get("id") for u in root.iter("ul")] == ["facts"]


def test_a_list_left_unclosed_around_the_article_is_not_a_link_list() -> None:
    root = tree(
        "<ul class='menu'><li><a href='/a'>Awards</a></li><li><a href='/b'>Blogs</a></li>"
        "<div><p>The article, nested in the menu by the parser, stays with the page.</p></div>"
    )
    b.prune_link_blocks(root)
    assert "stays with the page" in root.text_content()


def test_removed_element_keeps_its_tail_text() -> None:
    root = tree("<p>Before <span class='ad'>ad</span> after</p>")
    b.remove_elements(root, b.compile_selectors(["span.ad"]))
    assert texts(root, "p") == ["Before  after"]


@pytest.mark.parametrize("selector", ["//p", "(//p)[1]", "p", "body > p"])
def test_selectors_compile(selector: str) -> None:
    assert b.compile_selector(selector) is not None


def test_strip_non_content_keeps_jsonld() -> None:
    root = tree(
        "<script>var x = 1;</script><script type='application/ld+json'>{}</script>"
        "<nav>Menu</nav><p>Text</p>"
    )
    b.strip_non_content(root)
    assert [s.get("type") for s in root.iter("script")] == ["application/ld+json"]
    assert not list(root.iter("nav"))


def test_chrome_is_stripped_unless_it_holds_most_of_the_page() -> None:
    story = "<p>" + "The harbour authority approved the new ferry terminal on Monday. " * 6 + "</p>"
    root = tree(f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><div>{story}</div>")
    b.strip_non_content(root)
    assert not list(root.iter("nav")) and "ferry terminal" in root.text_content()
    # A page for browsers without JavaScript, and a blog that put its post inside <nav>.
    for wrapper in ("noscript", "nav", "aside", "footer"):
        root = tree(f"<{wrapper}>{story}</{wrapper}><footer>Contact us</footer>")
        b.strip_non_content(root)
        assert "ferry terminal" in root.text_content() and "Contact us" not in root.text_content()
    # A mega menu bigger than a short article marked as such is still a menu.
    menu = "".join(f"<a href='/{n}'>Section number {n} of the site</a>" for n in range(40))
    root = tree(f"<nav>{menu}</nav><main>{story}</main>")
    b.strip_non_content(root)
    assert "Section number" not in root.text_content() and "ferry" in root.text_content()
    # Markup left unclosed in the header of an <article> can put the whole story in its <nav>.
    root = tree(f"<article><header><nav><a href='/'>Home</a>{story}</nav></header></article>")
    b.strip_non_content(root)
    assert "ferry terminal" in root.text_content()


def test_articles_nested_in_the_article_are_comments_or_related_stories() -> None:
    story = "<p>" + "The harbour authority approved the new ferry terminal on Monday. " * 6 + "</p>"
    related = "".join(
        f"<article class='related'><h3>Other story {n}</h3><p>A teaser for it.</p></article>"
        for n in range(3)
    )
    comment = "<article class='comment'><p>Great news for the island, at last!</p></article>"
    root = tree(f"<article><h1>Ferry</h1>{story}{related}{comment}</article>")
    assert b.drop_nested_articles(root) == 4
    assert "ferry terminal" in root.text_content()
    assert "Other story" not in root.text_content() and "at last" not in root.text_content()
    # An inner <article> holding most of the outer one is a second wrapper: it stays.
    root = tree(f"<article><p>Share</p><article>{story}</article>{comment}</article>")
    assert b.drop_nested_articles(root) == 1 and "ferry terminal" in root.text_content()
    # Inner articles that hold most of it together, each under its heading: a listicle.
    items = "".join(f"<article><h3>Ferry number {n}</h3>{story}</article>" for n in range(4))
    root = tree(f"<article><h1>The best ferries</h1><p>Our picks.</p>{items}</article>")
    assert b.drop_nested_articles(root) == 0


def test_a_description_copied_from_the_first_paragraph_opens_the_body() -> None:
    first = "The harbour authority approved the new ferry terminal on Monday."
    more = "<p>" + "Work starts in spring and the first boats sail in four years, it said. " * 2
    body = tree(f"<h1>Ferry</h1><div><p>{first}</p>{more}</p>{more}</p></div>")
    assert b.opens_the_body(body, first)
    # A standfirst stands apart: in the header, or followed by a byline and a date only.
    header = f"<header><h1>Ferry</h1><p>{first}</p><p>By A. Writer</p></header><div>{more}</p>"
    assert not b.opens_the_body(tree(header + f"{more}</p></div>"), first)
    assert not b.opens_the_body(tree(f"<h2>{first}</h2>{more}</p>{more}</p>"), first)
    assert not b.opens_the_body(body, "Not on the page at all")
    # The body's paragraphs split by <br> in one <p>: the first one still opens it.
    text = "Work starts in spring and the first boats sail in four years, it said."
    one_p = tree(f"<h1>Ferry</h1><div><p>{first}<br><br>{text}<br><br>{text}</p></div>")
    assert b.opens_the_body(one_p, first)
    # A standfirst followed by a few words in its <p> (a byline) is still a standfirst.
    assert not b.opens_the_body(tree(f"<header><p>{first} By A. Writer</p></header>"), first)


def test_headline_kicker_and_standfirst() -> None:
    lines = ["Politics", "Senate passes the budget", "A long night ends in a vote.", "Body one."]
    assert b.drop_headline(lines, ["Senate passes the budget | The Daily"]) == lines
    body = b.drop_headline(lines, ["Senate Passes the Budget"])  # case and punctuation aside
    assert body == ["A long night ends in a vote.", "Body one."]
    assert b.drop_standfirst(body, ["A long night ends in a vote"]) == ["Body one."]


def test_headline_after_the_body_starts_is_left_alone() -> None:
    lines = ["The Senate passed the budget after a long night of votes on Tuesday.", "Headline"]
    assert b.drop_headline(lines, ["Headline"]) == lines


@pytest.mark.parametrize(
    "line",
    [
        "Read more: Council approves new tram line",
        "[Related: Five things to know about the budget]",
        "ALSO READ | Markets rally",
        "Leggi anche",
        "Sign up for our newsletter",
        "Get the top stories delivered to your inbox every morning.",
        "CLICK HERE TO GET THE FOX NEWS APP",
        "Follow us on Twitter and Facebook",
        "Leave a Reply",
        "- Print Article",
        "Updated at 1:23 p.m.",
        "5 min read",
        "- 3 MIN. READ",
        "Reading time: 4 minutes",
        "Lesezeit: ca. 2 Min.",
        "Advertisement",
        "ANZEIGE",
        "Table of Contents",
        "Photo: Reuters",
        "(Bild: Dieter Stork)",
        "Image credit: © Depositphotos.com/AndrewLozovyi",
        "Crédits photos : Bestimage",
        "Credit: Andriy Onufriyenko / Getty Images",
    ],
)
def test_boilerplate_lines_are_dropped(line: str) -> None:
    assert b.drop_boilerplate_lines([line]) == []


@pytest.mark.parametrize(
    "line",
    [
        "More than 100 people attended the meeting.",
        "Related research has found similar effects in mice.",
        "Updated guidance was issued by the ministry.",
        "Published reports suggest the deal is close.",
        "Subscribers will get the new features first, the company said in a statement.",
        "120 minutes",
        "Bake for 45 min. Read the label before serving.",
        "Contents of the report were leaked on Monday.",
        "Advertisement revenue fell by a third.",
        "Photos: what we know so far about the storm and what comes next, explained here!",
        "Credit card debt rose again in March, the central bank said on Friday.",
        "Image rights are a matter for the courts: the judge said so.",
    ],
)
def test_prose_lines_are_kept(line: str) -> None:
    assert b.drop_boilerplate_lines([line]) == [line]


def test_own_url_line_is_dropped() -> None:
    url = "https://example.org/news/a"
    assert b.drop_own_url([url + "/", "Text"], [url, None]) == ["Text"]
