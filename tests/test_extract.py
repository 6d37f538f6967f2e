"""Contract, metadata and per-source rules of `pipelines.article.core.extract_article`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.article.authors import clean_authors
from pipelines.article.core import FIELDS, extract_article
from pipelines.article.dates import parse_date

FIXTURES = Path(__file__).parent / "fixtures" / "extraction"
SEED_URL = "https://dailyledger.example/2025/05/15/putin-and-trump-bail-on-high-stakes-ukraine-peace-talks/"

BODY = [
    "The city council voted on Tuesday to expand the bus network into the northern districts, "
    "a plan that has been debated for more than three years.",
    "Supporters said the new routes would cut commuting times for thousands of residents who "
    "currently depend on cars, while critics questioned the cost of the project.",
    "The first buses are expected to run next spring, according to the transport department, "
    "which will publish the detailed timetables in the coming weeks.",
]
FRENCH = [
    "Le conseil municipal a voté mardi l'extension du réseau de bus vers les quartiers du nord, "
    "un projet débattu depuis plus de trois ans par les élus et les habitants.",
    "Les partisans estiment que les nouvelles lignes réduiront les temps de trajet pour des "
    "milliers d'habitants qui dépendent aujourd'hui de leur voiture pour aller travailler.",
]


def page(head: str = "", body: str = "", *, lang: str | None = "en", paras=BODY) -> str:
    """A small article page: <head> extras, extra body markup, then the article paragraphs."""
    lang_attr = f' lang="{lang}"' if lang else ""
    text = "".join(f"<p>{p}</p>" for p in paras)
    return (
        f"<!DOCTYPE html><html{lang_attr}><head><title>Buses for the north</title>{head}</head>"
        f"<body><article><h1>Buses for the north</h1>{body}{text}</article></body></html>"
    )


def jsonld(**fields: object) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", **fields}
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def meta(prop: str, content: str) -> str:
    return f'<meta property="{prop}" content="{content}">'


def days_from_now(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


# --- contract ---------------------------------------------------------------------------------


def test_result_has_exactly_the_contract_keys() -> None:
    doc = extract_article(page())
    assert doc is not None
    assert tuple(doc) == FIELDS
    assert isinstance(doc["authors"], list) and isinstance(doc["tags"], list)
    assert isinstance(doc["categories"], list)
    assert doc["text"].split("\n") == BODY


def test_headline_is_not_part_of_the_text() -> None:
    doc = extract_article(page())
    assert doc is not None
    assert "Buses for the north" not in doc["text"]


def test_same_input_same_output() -> None:
    html = page(jsonld(author={"@type": "Person", "name": "Jane Doe"}))
    assert extract_article(html, "https://example.org/a") == extract_article(
        html, "https://example.org/a"
    )


@pytest.mark.parametrize(
    "garbage",
    ["", "   ", b"", b"\x00\x01\x02", "plain words", "<html></html>", "<p>Hi</p>", "\ufeff"],
)
def test_no_text_gives_none(garbage: str | bytes) -> None:
    assert extract_article(garbage) is None


def test_odd_argument_types_give_none() -> None:
    assert extract_article(None) is None  # type: ignore[arg-type]
    assert extract_article(12345) is None  # type: ignore[arg-type]


def test_deeply_nested_page_does_not_raise() -> None:
    html = "<html><body>" + "<div>" * 5000 + "<p>" + BODY[0] + "</p>" + "</div>" * 5000
    result = extract_article(html + "</body></html>")
    assert result is None or isinstance(result["text"], str)


def test_huge_page_gives_none_quickly() -> None:
    assert extract_article("<html><body><p>" + "word " * 4_100_000 + "</p></body></html>") is None


def test_bytes_are_decoded_with_the_given_encoding() -> None:
    html = page(paras=["Le café de la Gare a rouvert ses portes après deux ans de travaux. " * 3])
    doc = extract_article(html.encode("cp1252"), encoding="cp1252")
    assert doc is not None and "café" in doc["text"]


def test_bytes_default_to_utf8_and_survive_a_wrong_encoding() -> None:
    html = page(paras=["Der Bürgermeister eröffnete die Brücke über die Spree am Morgen. " * 3])
    assert "Bürgermeister" in extract_article(html.encode("utf-8"))["text"]
    assert "Bürgermeister" in extract_article(html.encode("utf-8"), encoding="no-such")["text"]


def test_a_page_that_opens_with_php_warnings_is_still_read() -> None:
    warnings = "<br />\n<b>Warning</b>:  mysql_connect(): Access denied in <b>/www/db.php</b>\n"
    doc = extract_article(warnings * 3 + page())
    assert doc is not None and BODY[0][:40] in doc["text"] and "mysql" not in doc["text"]


@pytest.mark.parametrize("end", ["</body></html>", "</BODY>\n</HTML >", "</html>"])
def test_an_article_after_an_early_document_end_is_read(end: str) -> None:
    # A theme whose header template closes the document: browsers still show what follows.
    header = '<header><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>'
    html = page().replace("<article>", f"{header}{end}\n<article>", 1)
    assert html.index(end) < html.index(BODY[0])
    doc = extract_article(html, "https://news.example/2025/buses")
    assert doc is not None
    assert doc["text"].splitlines() == BODY
    assert BODY[2] in doc["markdown"]


# --- seed article -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> dict:
    doc = extract_article((FIXTURES / "seed-article.html").read_bytes(), SEED_URL)
    assert doc is not None
    return doc


def test_seed_metadata(seed: dict) -> None:
    assert seed["title"].startswith("Putin and Trump Bail on High-Stakes Ukraine Peace Talks")
    assert seed["published"] == "2025-05-15T06:42:17+00:00"
    assert seed["published_source"] == "meta"
    assert seed["site_name"] == "The Daily Ledger"
    assert seed["language"] == "en"
    assert seed["canonical_url"] == SEED_URL
    assert seed["image"].endswith("/istanbul-talks.jpg")
    assert seed["page_type"] == "article"


def test_seed_byline_is_a_desk_not_a_person(seed: dict) -> None:
    # The byline reads "By Staff Desk" (followed by the date "May 15, 2025"): a desk credit,
    # not a person, so there is no author to record.
    assert seed["authors"] == []


def test_seed_categories_come_from_the_breadcrumb_not_the_menu(seed: dict) -> None:
    assert seed["categories"] == ["World"]


# --- authors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        ("By Jane Doe and John Smith", ["Jane Doe", "John Smith"]),
        ("Jane Doe, John Smith", ["Jane Doe", "John Smith"]),
        ("by JANE DOE", ["Jane Doe"]),
        ("By Jane Doe | May 15, 2025", ["Jane Doe"]),
        ("Written by Ludwig van Beethoven", ["Ludwig van Beethoven"]),
        ("Staff", []),
        ("By Staff Desk", []),
        ("Associated Press", []),
        ("News Desk", []),
        ("Telegraph Sport", []),
        ("Jill Disis, CNN Business", ["Jill Disis"]),
        ("jane.doe@example.com", []),
        ("https://example.com/authors/jane", []),
        ("May 15, 2025", []),
        ("admin", []),
    ],
)
def test_clean_authors(byline: str, expected: list[str]) -> None:
    assert clean_authors([byline]) == expected


def test_site_name_is_not_an_author() -> None:
    assert clean_authors(["The Daily Ledger"], site_name="The Daily Ledger") == []


def test_authors_from_jsonld_list_skip_organisations() -> None:
    authors = [
        {"@type": "Person", "name": "Jane Doe"},
        {"@type": "Person", "name": "John Smith"},
        {"@type": "Organization", "name": "Big Media Group"},
    ]
    doc = extract_article(page(jsonld(author=authors)))
    assert doc["authors"] == ["Jane Doe", "John Smith"]


def test_author_reference_in_jsonld_graph_is_resolved() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "Article", "author": {"@id": "#jane"}},
            {"@type": "Person", "@id": "#jane", "name": "Jane Doe"},
        ],
    }
    head = f'<script type="application/ld+json">{json.dumps(graph)}</script>'
    assert extract_article(page(head))["authors"] == ["Jane Doe"]


def test_author_from_meta_then_byline_markup() -> None:
    assert extract_article(page('<meta name="author" content="Jane Doe">'))["authors"] == [
        "Jane Doe"
    ]
    byline = '<p class="byline">By <a rel="author" href="/author/jdoe">Jane Doe</a></p>'
    assert extract_article(page(body=byline))["authors"] == ["Jane Doe"]


# --- dates ------------------------------------------------------------------------------------


UPDATED = jsonld(
    datePublished="2021-08-12T19:35:44+00:00", dateModified="2025-02-22T22:13:14+00:00"
) + meta("article:modified_time", "2025-02-22T22:13:14+00:00")


def test_page_showing_only_its_update_date_is_dated_by_it() -> None:
    doc = extract_article(page(UPDATED, '<p class="post-date">Updated on February 22, 2025</p>'))
    assert (doc["published"], doc["published_source"]) == ("2025-02-22T22:13:14+00:00", "jsonld")


@pytest.mark.parametrize(
    "shown", ["", '<p class="post-date">Published August 12, 2021, updated February 22, 2025</p>']
)
def test_update_date_not_shown_alone_keeps_the_publication_date(shown: str) -> None:
    assert extract_article(page(UPDATED, shown))["published"] == "2021-08-12T19:35:44+00:00"


def test_jsonld_date_wins_and_is_recorded_as_jsonld() -> None:
    head = jsonld(datePublished="2024-03-05T10:00:00Z", dateModified="2024-03-06T08:30:00+01:00")
    head += meta("article:published_time", "2024-03-01T00:00:00Z")
    doc = extract_article(page(head))
    assert (doc["published"], doc["published_source"]) == ("2024-03-05T10:00:00+00:00", "jsonld")
    assert doc["modified"] == "2024-03-06T08:30:00+01:00"


def test_meta_date_and_modified_time() -> None:
    head = meta("article:published_time", "2024-03-01T09:15:00-05:00")
    head += meta("article:modified_time", "2024-03-02T10:00:00-05:00")
    doc = extract_article(page(head))
    assert (doc["published"], doc["published_source"]) == ("2024-03-01T09:15:00-05:00", "meta")
    assert doc["modified"] == "2024-03-02T10:00:00-05:00"


def test_future_and_pre_1990_dates_are_rejected() -> None:
    assert parse_date(days_from_now(30)) is None
    assert parse_date("1985-06-01") is None
    assert parse_date("1990-01-01") == "1990-01-01"
    assert parse_date(days_from_now(0)) == days_from_now(0)
    future = extract_article(page(jsonld(datePublished=days_from_now(30))))
    assert future["published"] is None
    old = extract_article(page(meta("article:published_time", "1985-06-01")))
    assert old["published"] is None


def test_feed_hint_fills_in_when_the_page_has_no_date() -> None:
    hints = {"published": "2024-02-01T12:00:00Z", "published_source": "sitemap"}
    doc = extract_article(page(), hints=hints)
    assert (doc["published"], doc["published_source"]) == ("2024-02-01T12:00:00+00:00", "sitemap")


def test_feed_hint_does_not_beat_page_metadata() -> None:
    hints = {"published": "2024-02-01", "published_source": "feed"}
    doc = extract_article(page(meta("article:published_time", "2024-03-01")), hints=hints)
    assert (doc["published"], doc["published_source"]) == ("2024-03-01", "meta")


def test_text_only_date_is_marked_text_and_loses_to_a_hint() -> None:
    paras = [*BODY, "This story was first reported on March 3, 2021 by our newsroom in town."]
    doc = extract_article(page(paras=paras))
    assert (doc["published"], doc["published_source"]) == ("2021-03-03", "text")
    hinted = extract_article(page(paras=paras), hints={"published": "2021-03-04"})
    assert (hinted["published"], hinted["published_source"]) == ("2021-03-04", "feed")


def test_hint_may_be_a_datetime_and_modified_hint_is_used() -> None:
    hints = {"published": datetime(2024, 2, 1, 12, tzinfo=UTC), "modified": "2024-02-02"}
    doc = extract_article(page(), hints=hints)
    assert (doc["published"], doc["published_source"]) == ("2024-02-01T12:00:00+00:00", "feed")
    assert doc["modified"] == "2024-02-02"


def test_implausible_hint_is_ignored() -> None:
    doc = extract_article(page(), hints={"published": "1970-01-01", "published_source": "feed"})
    assert doc["published"] is None and doc["published_source"] is None


# --- language and other metadata --------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "head", "expected"),
    [
        ("en-US", "", "en"),
        (None, meta("og:locale", "de_DE"), "de"),
        (None, jsonld(inLanguage="es-ES"), "es"),
        (None, '<meta http-equiv="Content-Language" content="it">', "it"),
    ],
)
def test_declared_language(lang: str | None, head: str, expected: str) -> None:
    assert extract_article(page(head, lang=lang))["language"] == expected


def test_language_guessed_from_text_when_undeclared() -> None:
    assert extract_article(page(lang=None, paras=FRENCH))["language"] == "fr"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (
            meta("og:title", "Bike review | MoreBikes") + meta("og:site_name", "MoreBikes"),
            "Bike review",
        ),
        ("<title>Big news - The Daily</title>", "Big news"),
    ],
)
def test_title_without_site_name(head: str, expected: str) -> None:
    paras = "".join(f"<p>{p}</p>" for p in BODY)
    html = f"<html><head>{head}</head><body><h1>A</h1><h1>B</h1>{paras}</body></html>"
    assert extract_article(html)["title"] == expected


def test_tags_categories_description_image_canonical() -> None:
    head = (
        meta("article:section", "Transport")
        + meta("article:tag", "buses")
        + meta("article:tag", "city council")
        + meta("og:description", "The council expands the bus network.")
        + meta("og:image", "/img/bus.jpg")
        + '<link rel="canonical" href="/news/buses">'
    )
    nav = '<nav><a href="/c/politics">Politics</a><a href="/c/sport">Sport</a></nav>'
    doc = extract_article(page(head, nav), "https://example.org/news/buses?utm=x")
    assert doc["categories"] == ["Transport"]
    assert doc["tags"] == ["buses", "city council"]
    assert doc["description"] == "The council expands the bus network."
    assert doc["image"] == "https://example.org/img/bus.jpg"
    assert doc["canonical_url"] == "https://example.org/news/buses"


# --- drop_selectors ---------------------------------------------------------------------------

PROMO = '<div class="promo"><p>Win a free trip to the seaside with our travel club.</p></div>'


@pytest.mark.parametrize("selector", ['//div[@class="promo"]', "div.promo", "(//div)[1]"])
def test_drop_selectors_xpath_and_css(selector: str) -> None:
    assert "free trip" in extract_article(page(body=PROMO))["text"]
    doc = extract_article(page(body=PROMO), drop_selectors=[selector])
    assert "free trip" not in doc["text"]
    assert BODY[0] in doc["text"]


@pytest.mark.parametrize("selector", ["//div[", "div..promo", "", "count(//p)", "!!"])
def test_invalid_or_non_element_selectors_are_ignored(selector: str) -> None:
    doc = extract_article(page(body=PROMO), drop_selectors=[selector])
    assert doc is not None and BODY[0] in doc["text"]


# --- line filters -----------------------------------------------------------------------------


def test_teasers_and_prompts_are_removed_but_prose_is_kept() -> None:
    paras = [
        BODY[0],
        "Read more: Council approves new tram line",
        BODY[1],
        "Sign up for our newsletter to get the top stories in your inbox.",
        "Related coverage was published by several papers in the region, and the debate among "
        "residents continued well into the evening on Tuesday.",
        BODY[2],
    ]
    text = extract_article(page(paras=paras))["text"]
    assert "Council approves new tram line" not in text
    assert "newsletter" not in text
    assert "Related coverage was published" in text
    assert BODY[2] in text
