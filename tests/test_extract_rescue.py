"""The rescue of prose that trafilatura's class rules dropped (pipelines/article/rescue.py)."""

from __future__ import annotations

import trafilatura
from lxml.html import document_fromstring

from pipelines.article import rescue
from pipelines.article.core import extract_article

PROSE = [
    f"Step {i} of the guide explains how the new bus routes reach the northern districts, "
    "which stops they serve and how often the buses run on weekdays and at weekends."
    for i in range(1, 9)
]
INTRO = [
    f"Intro sentence {i} says what the guide covers and who wrote it for the readers of the "
    "paper this week."
    for i in range(1, 4)
]
COMMENTS = [
    f"Comment {i}: I have taken the northern route every morning for years and I think the "
    "council should have asked the people who ride it before changing the timetable again."
    for i in range(1, 9)
]


def _page(container_class: str, *, comments: bool = False) -> str:
    menu = "".join(
        f'<li><a href="/s/{i}">Section number {i} of the site</a></li>' for i in range(60)
    )
    prose = "".join(f"<p>{p}</p>" for p in PROSE)
    intro = "".join(f"<p>{p}</p>" for p in INTRO)
    thread = "".join(f"<p>{c}</p>" for c in COMMENTS) if comments else ""
    return (
        "<html><head><title>Bus guide</title></head><body>"
        f"<header><nav><ul>{menu}</ul></nav></header>"
        f'<section id="content"><h1>Bus guide</h1>{intro}'
        f'<div class="{container_class}"><div>{prose}</div></div>'
        f'<div id="comments" class="comments-area">{thread}</div></section>'
        "<footer><p>Copyright the Gazette</p></footer></body></html>"
    )


def test_prose_in_a_container_with_a_boilerplate_class_is_given_back() -> None:
    # A theme that wraps the article in "page-footer": trafilatura drops the whole container.
    html = _page("page-footer")
    plain = trafilatura.extract(html) or ""
    assert INTRO[0] in plain and PROSE[0] not in plain
    doc = extract_article(html, "https://news.example/guide")
    assert doc is not None
    assert doc["text"].splitlines() == INTRO + PROSE
    assert PROSE[-1] in doc["markdown"]


def test_comments_are_never_given_back() -> None:
    # Comment threads are pruned before the prose is measured: long comments are not prose.
    doc = extract_article(_page("page-footer", comments=True), "https://news.example/guide")
    assert doc is not None
    assert PROSE[0] in doc["text"]
    assert not any(comment[:30] in doc["text"] for comment in COMMENTS)


def test_prose_paragraphs_are_long_and_not_mostly_links() -> None:
    links = " ".join(f'<a href="/{i}">linked words here</a>' for i in range(8))
    tree = document_fromstring(
        f"<html><body><p>{PROSE[0]}</p><p>Too short to be prose.</p><p>{links}</p>"
        f'<div><p>{PROSE[1]} <a href="/x">one link</a></p></div></body></html>'
    )
    found = rescue.prose_paragraphs(tree)
    assert [p.text for p in found] == [PROSE[0], f"{PROSE[1]} one link"]
    left = rescue.missed(found, [f"Intro. {PROSE[0]}"])
    assert [p.text for p in left] == [f"{PROSE[1]} one link"]
    assert rescue.chars(left) == len(PROSE[1]) + len(" one link")


def test_rescue_needs_enough_missed_prose() -> None:
    assert rescue.needs_rescue(rescue.RESCUE_CHARS, rescue.RESCUE_CHARS)
    assert not rescue.needs_rescue(rescue.RESCUE_CHARS - 1, rescue.RESCUE_CHARS - 1)
    # a small share of a long article is not a missed article
    assert not rescue.needs_rescue(rescue.RESCUE_CHARS, 10 * rescue.RESCUE_CHARS, share=0.5)
    assert rescue.needs_rescue(5 * rescue.RESCUE_CHARS, 10 * rescue.RESCUE_CHARS, share=0.5)
    assert not rescue.needs_rescue(10**6, 10**6, share=float("inf"))


def test_unclass_containers_keeps_the_paragraphs_own_attributes() -> None:
    tree = document_fromstring(
        f'<html><body class="b"><div id="d" class="page-footer"><p class="lead">{PROSE[0]}</p>'
        '</div><div class="sidebar"><p>other</p></div></body></html>'
    )
    rescue.unclass_containers(rescue.prose_paragraphs(tree))
    assert tree.find(".//div").attrib == {}
    assert tree.find(".//body").attrib == {}
    assert tree.find(".//p").get("class") == "lead"
    assert tree.xpath("//div[@class='sidebar']")  # not around the missed prose: untouched
