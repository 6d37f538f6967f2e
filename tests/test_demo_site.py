"""The bundled demo news sites: content, templates, feeds, sitemaps and the HTTP server."""

from __future__ import annotations

import http.client
import json
import tomllib
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from xml.etree import ElementTree

import pytest
from lxml import html as lxml_html

from newsarchive.demo_site import DemoSite, load_articles, render_sources_toml, serve_demo_site
from newsarchive.demo_site.content import parse_article

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
CUTOFF = datetime(2026, 11, 25, tzinfo=UTC)

# Text every article page carries around the article, and the clean text must never contain.
BOILERPLATE = (
    "Also Read:",
    "Share this article",
    "Subscribe to our newsletter",
    "Leave a Reply",
    "Your email address will not be published",
    "Post Comment",
    "Back To Top",
    "More from",
)
SHARE_TARGETS = ("facebook.com/sharer", "twitter.com/intent", "api.whatsapp.com", "mailto:")
# Where each template puts the article body.
BODY_XPATH = {
    "ledger": "//div[contains(@class, 'entry-content')]",
    "harbor": "//div[@class='story-body']",
}


@pytest.fixture(scope="module")
def server():
    """One read-only server for the whole module; tests that edit start their own."""
    with serve_demo_site() as running:
        yield running


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET"):
    """(status, headers, body) without raising on 3xx/4xx."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get_ok(url: str) -> tuple[object, bytes]:
    status, headers, body = fetch(url)
    assert status == 200, url
    return headers, body


# Content ---------------------------------------------------------------------------------


def test_there_are_enough_varied_articles_split_between_two_sites():
    articles = load_articles()
    by_site = {site: [a for a in articles if a.site == site] for site in ("ledger", "harbor")}
    assert len(articles) >= 36
    assert all(len(own) >= 16 for own in by_site.values())
    assert len({a.slug for a in articles}) == len(articles)
    assert len({a.section for a in articles}) >= 7
    assert any(len(a.authors) == 2 for a in articles)
    assert any(len(a.authors) == 3 for a in articles)
    for kind in ("heading", "quote", "list"):
        assert any(b.kind == kind for a in articles for b in a.blocks), kind


@pytest.mark.parametrize("article", load_articles(), ids=lambda a: a.slug)
def test_each_article_is_complete_and_plausible(article):
    assert 250 <= article.word_count <= 900
    assert 4 <= len(article.paragraphs) <= 12
    assert 1 <= len(article.authors) <= 3
    assert article.title and article.description and article.tags and article.image
    assert datetime(2025, 11, 1, tzinfo=UTC) < article.published < CUTOFF
    if article.modified:
        assert article.published < article.modified < CUTOFF


def test_article_files_parse_into_blocks_and_expected_text():
    source = """Title: A title
Site: ledger
Section: World
Authors: Ann One; Bob Two
Published: 2026-01-02T03:04:05Z
Tags: alpha, beta
Description: Standfirst.

First paragraph
wrapped over two lines.

## A subheading

> A quote.

- item one
- item two

Last paragraph."""
    article = parse_article("a-title", source)
    assert article.authors == ("Ann One", "Bob Two")
    assert article.published == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert article.modified is None and article.image == "a-title.png"
    assert [b.kind for b in article.blocks] == [
        "paragraph",
        "heading",
        "quote",
        "list",
        "paragraph",
    ]
    assert article.expected_text == (
        "First paragraph wrapped over two lines.\nA subheading\nA quote.\n"
        "- item one\n- item two\nLast paragraph."
    )
    with pytest.raises(ValueError, match="title"):
        parse_article("broken", source.replace("Title: A title\n", ""))


# Pages -----------------------------------------------------------------------------------


def test_front_pages_list_latest_articles_and_page_to_older_posts(server):
    site = server.site
    for name in ("ledger", "harbor"):
        headers, body = get_ok(f"{server.url}/{name}/")
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        page = body.decode()
        newest = next(a for a in site.articles if a.site == name)
        assert site.article_path(newest.slug) in page
        assert "Older posts" in page and f"/{name}/page/2/" in page
        _, older = get_ok(f"{server.url}/{name}/page/2/")
        assert b"Newer posts" in older


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/ledger/category/world/",
        "/ledger/tag/inflation/",
        "/ledger/author/eleanor-vance/",
        "/ledger/about/",
        "/harbor/city/",
        "/harbor/topics/transport/",
        "/harbor/people/mara-quinlan/",
        "/harbor/about/",
    ],
)
def test_index_and_about_pages_are_served(server, path):
    headers, body = get_ok(server.url + path)
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"<h1" in body


def test_every_article_page_carries_real_world_boilerplate_around_the_exact_body(server):
    for expected in server.expected_articles():
        _, body = get_ok(expected.url(server.url))
        page = body.decode()
        article = server.site.article(expected.slug)
        for marker in BOILERPLATE:
            assert marker in page, (expected.slug, marker)
            assert marker not in expected.text, (expected.slug, marker)
        assert all(target in page for target in SHARE_TARGETS)
        if expected.site == "harbor":
            assert "Read more:" in page
        tree = lxml_html.fromstring(body)
        assert tree.xpath("//h1")[0].text_content() == expected.title
        assert len(tree.xpath("//*[@id='comments']//li")) >= 2
        (container,) = tree.xpath(BODY_XPATH[expected.site])
        paragraphs = [
            p.text_content()
            for p in container.xpath("./p")
            if not p.text_content().startswith(("Also Read:", "Read more:"))
        ]
        assert paragraphs == article.paragraphs
        teasers = [p for p in container.xpath("./p") if p.text_content().startswith("Also Read:")]
        assert 1 <= len(teasers) <= 2


def test_templates_differ_in_the_way_real_sites_do(server):
    ledger = next(e for e in server.expected_articles() if e.site == "ledger")
    harbor = next(e for e in server.expected_articles() if e.site == "harbor")
    _, ledger_page = get_ok(ledger.url(server.url))
    _, harbor_page = get_ok(harbor.url(server.url))
    ledger_tree, harbor_tree = lxml_html.fromstring(ledger_page), lxml_html.fromstring(harbor_page)

    meta = {
        m.get("property") or m.get("name"): m.get("content") for m in ledger_tree.xpath("//meta")
    }
    assert meta["article:published_time"] == ledger.published.isoformat()
    assert meta["og:url"] == ledger.url(server.url)
    assert meta["author"] == ", ".join(ledger.authors)
    assert ledger_tree.xpath("//div[contains(@class, 'td-post-content')]")
    assert not ledger_tree.xpath("//article | //script[@type='application/ld+json']")

    (script,) = harbor_tree.xpath("//script[@type='application/ld+json']")
    data = json.loads(script.text)
    assert data["@type"] == "NewsArticle"
    assert [author["name"] for author in data["author"]] == list(harbor.authors)
    assert data["datePublished"] == harbor.published.isoformat().replace("+00:00", "Z")
    assert data["keywords"] == list(harbor.tags)
    assert harbor_tree.xpath("//article//header//time[@datetime]")
    assert harbor_tree.xpath("//link[@rel='canonical']/@href") == [harbor.url(server.url)]


def test_unknown_paths_get_a_small_404_page_and_missing_slashes_redirect(server):
    status, headers, body = fetch(server.url + "/ledger/no-such-page/")
    assert status == 404
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"Page not found" in body
    status, headers, _ = fetch(server.url + "/ledger/about")
    assert (status, headers["Location"]) == (301, server.url + "/ledger/about/")
    status, headers, _ = fetch(server.url + "/ledger/", method="POST")
    assert (status, headers["Allow"]) == (405, "GET, HEAD")


def test_absolute_urls_follow_the_host_header(server):
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
    connection.request("GET", "/harbor/atom.xml", headers={"Host": "news.test:8080"})
    body = connection.getresponse().read().decode()
    connection.close()
    assert "http://news.test:8080/harbor/" in body
    assert server.url not in body and "demo-origin.invalid" not in body


# Feeds, sitemaps, robots.txt -------------------------------------------------------------


def test_ledger_rss_feed_lists_newest_articles_with_dates(server):
    headers, body = get_ok(server.url + "/ledger/feed/")
    assert headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    channel = ElementTree.fromstring(body).find("channel")
    items = channel.findall("item")
    ledger = [e for e in server.expected_articles() if e.site == "ledger"]
    assert [item.findtext("link") for item in items] == [e.url(server.url) for e in ledger[:10]]
    assert parsedate_to_datetime(items[0].findtext("pubDate")) == ledger[0].published
    newest_change = max(e.modified or e.published for e in ledger)
    assert parsedate_to_datetime(channel.findtext("lastBuildDate")) == newest_change


def test_harbor_atom_feed_has_published_and_updated_dates(server):
    headers, body = get_ok(server.url + "/harbor/atom.xml")
    assert headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ElementTree.fromstring(body)
    entries = feed.findall(f"{ATOM}entry")
    harbor = [e for e in server.expected_articles() if e.site == "harbor"]
    assert len(entries) == 10
    for entry, expected in zip(entries, harbor, strict=False):
        assert entry.find(f"{ATOM}link").get("href") == expected.url(server.url)
        published = datetime.fromisoformat(entry.findtext(f"{ATOM}published"))
        assert published == expected.published
        assert datetime.fromisoformat(entry.findtext(f"{ATOM}updated")) >= published
        names = [a.findtext(f"{ATOM}name") for a in entry.findall(f"{ATOM}author")]
        assert names == list(expected.authors)
    assert feed.findtext(f"{ATOM}updated")


def test_ledger_news_sitemap_covers_every_article(server):
    headers, body = get_ok(server.url + "/ledger/news-sitemap.xml")
    assert headers["Content-Type"] == "application/xml; charset=utf-8"
    urls = ElementTree.fromstring(body).findall(f"{SITEMAP}url")
    found = {
        url.findtext(f"{SITEMAP}loc"): url.findtext(f"{NEWS}news/{NEWS}publication_date")
        for url in urls
    }
    ledger = [e for e in server.expected_articles() if e.site == "ledger"]
    assert found == {e.url(server.url): e.published.isoformat() for e in ledger}
    assert all(url.findtext(f"{SITEMAP}lastmod") for url in urls)
    assert all(url.findtext(f"{NEWS}news/{NEWS}title") for url in urls)


def test_harbor_sitemap_index_points_to_monthly_sitemaps_covering_every_article(server):
    _, body = get_ok(server.url + "/harbor/sitemap.xml")
    index = ElementTree.fromstring(body)
    assert index.tag == f"{SITEMAP}sitemapindex"
    found = set()
    for entry in index.findall(f"{SITEMAP}sitemap"):
        assert entry.findtext(f"{SITEMAP}lastmod")
        _, monthly = get_ok(entry.findtext(f"{SITEMAP}loc"))
        found |= {u.text for u in ElementTree.fromstring(monthly).iter(f"{SITEMAP}loc")}
    harbor = {e.url(server.url) for e in server.expected_articles() if e.site == "harbor"}
    assert found == harbor


def test_robots_txt_allows_crawling_and_lists_both_sitemaps(server):
    headers, body = get_ok(server.url + "/robots.txt")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    text = body.decode()
    assert "User-agent: *" in text and "Disallow: /ledger/wp-admin/" in text
    assert f"Sitemap: {server.url}/ledger/news-sitemap.xml" in text
    assert f"Sitemap: {server.url}/harbor/sitemap.xml" in text


def test_sources_name_each_sites_entry_points_and_render_as_toml(server):
    sources = server.sources()
    assert [s["name"] for s in sources] == ["ledger", "harbor"]
    assert sources[0] == {
        "name": "ledger",
        "allowed_domains": ["127.0.0.1"],
        "feeds": [server.url + "/ledger/feed/", server.url + "/ledger/picks/feed/"],
        "sitemaps": [server.url + "/ledger/news-sitemap.xml"],
        "start_urls": [server.url + "/ledger/"],
    }
    text = server.sources_toml()
    assert text.startswith('[[sources]]\nname = "ledger"\nallowed_domains = ["127.0.0.1"]\n')
    assert tomllib.loads(text) == {"sources": sources}
    assert render_sources_toml(sources) == text
    for source in sources:
        for url in source["feeds"] + source["sitemaps"] + source["start_urls"]:
            get_ok(url)


# HTTP caching ----------------------------------------------------------------------------


def test_conditional_requests_get_304_and_head_gets_headers_only(server):
    url = server.url + "/ledger/"
    status, headers, body = fetch(url)
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert status == 200 and etag.startswith('"') and last_modified

    assert fetch(url, {"If-None-Match": etag})[0] == 304
    assert fetch(url, {"If-None-Match": f'"other", W/{etag}'})[0] == 304
    assert fetch(url, {"If-None-Match": '"other"'})[0] == 200
    assert fetch(url, {"If-Modified-Since": last_modified})[0] == 304
    earlier = format_datetime(parsedate_to_datetime(last_modified) - timedelta(days=1), usegmt=True)
    assert fetch(url, {"If-Modified-Since": earlier})[0] == 200
    # If-None-Match wins over If-Modified-Since.
    assert fetch(url, {"If-None-Match": '"other"', "If-Modified-Since": last_modified})[0] == 200

    status, head_headers, head_body = fetch(url, method="HEAD")
    assert (status, head_body) == (200, b"")
    assert head_headers["ETag"] == etag
    assert int(head_headers["Content-Length"]) == len(body)


def test_request_log_counts_fetches_and_the_server_stays_quiet(capfd):
    with serve_demo_site() as server:
        path = server.site.article_path("harbor-tunnel-vote")
        for _ in range(2):
            get_ok(server.url + path)
        fetch(server.url + "/missing")
        assert server.requests.count(path) == 2
        assert server.requests.count("/missing", status=404) == 1
        assert server.requests.counter()[path] == 2
        server.requests.clear()
        assert len(server.requests) == 0
    out, err = capfd.readouterr()
    assert out == "" and err == ""


# Editing the site between crawls ---------------------------------------------------------


def test_updating_an_article_changes_its_page_etag_and_the_feed_date():
    with serve_demo_site(site=DemoSite()) as server:
        slug = "harbor-tunnel-vote"
        path = server.site.article_path(slug)
        untouched = server.site.article_path("waterfront-housing-plan")
        _, before, _ = fetch(server.url + path)
        _, untouched_before, _ = fetch(server.url + untouched)
        _, feed_before = get_ok(server.url + "/harbor/atom.xml")

        modified = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
        server.site.update_article(
            slug, paragraphs=["Rewritten first.", "Rewritten second."], modified=modified
        )

        status, after, body = fetch(server.url + path, {"If-None-Match": before["ETag"]})
        assert status == 200 and after["ETag"] != before["ETag"]
        assert parsedate_to_datetime(after["Last-Modified"]) == modified
        assert b"<p>Rewritten first.</p>" in body
        assert server.expected_articles()[0].slug != slug  # published order is unchanged
        expected = next(e for e in server.expected_articles() if e.slug == slug)
        assert expected.text == "Rewritten first.\nRewritten second."
        assert expected.modified == modified

        _, feed_after = get_ok(server.url + "/harbor/atom.xml")
        updated = ElementTree.fromstring(feed_after).findtext(f"{ATOM}updated")
        assert datetime.fromisoformat(updated) == modified and feed_after != feed_before
        assert fetch(server.url + untouched, {"If-None-Match": untouched_before["ETag"]})[0] == 304


def test_adding_an_article_updates_listings_feed_and_sitemap_but_not_older_pages():
    with serve_demo_site(site=DemoSite()) as server:
        older = server.site.article_path("comet-visible-to-naked-eye")
        _, older_before, _ = fetch(server.url + older)
        front_before = fetch(server.url + "/ledger/")[1]["ETag"]

        published = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
        article = server.site.add_article(
            slug="late-breaking-budget-deal",
            title="Late-breaking budget deal agreed",
            paragraphs=["Negotiators agreed a budget overnight.", "Details follow."],
            section="Politics",
            published=published,
        )
        path = server.site.article_path(article.slug)
        assert path == "/ledger/2026/11/25/late-breaking-budget-deal/"
        _, page = get_ok(server.url + path)
        assert b"<p>Negotiators agreed a budget overnight.</p>" in page

        status, front_after, front = fetch(server.url + "/ledger/", {"If-None-Match": front_before})
        assert status == 200 and path.encode() in front
        _, feed = get_ok(server.url + "/ledger/feed/")
        first_item = ElementTree.fromstring(feed).find("channel/item")
        assert first_item.findtext("link") == server.url + path
        _, sitemap = get_ok(server.url + "/ledger/news-sitemap.xml")
        assert (server.url + path).encode() in sitemap
        assert fetch(server.url + older, {"If-None-Match": older_before["ETag"]})[0] == 304

        with pytest.raises(ValueError, match="already exists"):
            server.site.add_article(slug=article.slug, title="Again", paragraphs=["Again."])
