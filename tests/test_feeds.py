"""Feeds as publishers write them: feedparser's own test feeds (tests/fixtures/feeds/), JSON Feed,
odd dates and ill-formed XML, parsed and crawled from a local site into a real archive."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest

from crawler.feeds import NewsSitemap, parse_feed, sitemap_entry, to_iso
from tests.conftest import FAST, ROOT, query, run_cli

FIXTURES = ROOT / "tests" / "fixtures" / "feeds"
# The hosts of feedparser's test feeds, rewritten to the test site when served.
FIXTURE_HOSTS = (
    "http://www.example.com",
    "http://guid.example.com",
    "http://example.com",
    "http://www.example.org",
    "http://link",
)
# fixture -> the article URLs feedparser's own expectations give (before the host rewrite).
EXPECTED_LINKS = {
    "feedparser/rss20_item_link.xml": ["http://example.com/"],
    "feedparser/rss20_item_guid.xml": ["http://guid.example.com/"],
    "feedparser/rss10_rdf_item_link.xml": ["http://example.com/1"],
    "feedparser/atom03_entry_link_href.xml": ["http://www.example.com/"],
    "feedparser/atom10_entry_link_href.xml": ["http://www.example.com/"],
    "feedparser/atom10_entry_id_map_guid.xml": ["http://example.com/"],
    "feedparser/atom03_http_entry_link_base_docuri.xml": ["/relative/link"],
    "feedparser/cdf_item_href_map_link.xml": ["http://www.example.org/"],
    "feedparser/illformed_rss_item_link_corrupted_ampersands.xml": ["http://link/get?a=1&b=2"],
    "adapted/rss090_item_link.xml": ["http://example.com/rss090"],
    "adapted/rss091_item_link.xml": ["http://example.com/rss091"],
    "adapted/rss092_item_link.xml": ["http://example.com/rss092"],
    "adapted/atom10_entry_link_xml_base.xml": ["http://example.com/test/2004/story.html"],
    "adapted/illformed_rss_item_link_unescaped_ampersands.xml": ["http://link/get?a=1&b=2&c"],
    "adapted/rss20_item_odd_dates.xml": [
        "http://example.com/perforce",
        "http://example.com/comma",
        "http://example.com/no-time",
    ],
    "ours/jsonfeed10_item_url.json": ["http://example.com/json10"],
    "ours/jsonfeed11_item_id_relative.json": [
        "http://example.com/json11-id",
        "/feeds/ours/json11-relative",
    ],
}
ILL_FORMED = {name for name in EXPECTED_LINKS if "illformed" in name}
# The odd dates of feedparser's date tests, as feedparser reads them (UTC).
ODD_DATES = {
    "http://example.com/perforce": "2006-09-15T12:19:53",  # Fri, 2006/09/15 08:19:53 EDT
    "http://example.com/comma": "2012-02-13T06:28:00",  # Mon, 13 Feb, 2012 06:28:00 UTC
    "http://example.com/no-time": "2004-01-01T00:00:00",  # Thu, 01 Jan 2004
}
WORDS = [
    "harbour",
    "council",
    "budget",
    "river",
    "school",
    "market",
    "bridge",
    "station",
    "festival",
    "library",
    "winter",
    "tunnel",
    "ferry",
    "museum",
    "hospital",
    "election",
    "farmers",
    "rail",
    "housing",
    "theatre",
    "football",
    "climate",
    "energy",
    "water",
    "port",
    "mayor",
    "police",
    "court",
    "report",
    "survey",
    "workers",
    "union",
    "prices",
    "rents",
    "jobs",
    "traffic",
    "storm",
    "coast",
    "garden",
    "bakery",
    "novel",
    "concert",
    "teachers",
    "students",
    "nurses",
    "doctors",
    "science",
    "transport",
    "parliament",
]


def served_url(url: str, fixture: str, origin: str) -> str:
    """A fixture's URL as the test site serves it: its hosts under /a/<fixture stem>."""
    if url.startswith("/"):
        return origin + url
    stem = Path(fixture).stem
    for host in FIXTURE_HOSTS:
        if url.startswith(host + "/"):
            return f"{origin}/a/{stem}{url[len(host) :]}"
    raise AssertionError(f"unexpected host in {url}")


def article_page(target: str) -> bytes:
    """An undated article page whose text is unique to `target` (path and query)."""
    seed = int(hashlib.sha256(target.encode()).hexdigest()[:12], 16)
    rng = random.Random(seed)
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + ".</p>"
        for _ in range(4)
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Story</title>"
        "<meta property='og:type' content='article'></head><body><article><h1>Story "
        f"{seed}</h1>{paragraphs}</article></body></html>"
    ).encode()


class FeedSite(ThreadingHTTPServer):
    """Serves the feed fixtures under /feeds/ and an article page at any other path."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FeedSiteHandler)
        self.origin = f"http://127.0.0.1:{self.server_address[1]}"
        self.requested: list[str] = []


class _FeedSiteHandler(BaseHTTPRequestHandler):
    server: FeedSite

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.requested.append(self.path)
        path = urlsplit(self.path).path
        fixture = FIXTURES / path.removeprefix("/feeds/")
        if path == "/robots.txt":
            self._send(404, "text/plain", b"")
        elif path.startswith("/feeds/") and fixture.is_file():
            body = fixture.read_text(encoding="utf-8")
            name = str(fixture.relative_to(FIXTURES))
            for host in FIXTURE_HOSTS:  # the served_url rewrite, on the whole file
                body = body.replace(host + "/", f"{self.server.origin}/a/{Path(name).stem}/")
            kind = "application/feed+json" if name.endswith(".json") else "application/xml"
            self._send(200, f"{kind}; charset=utf-8", body.encode())
        else:
            self._send(200, "text/html; charset=utf-8", article_page(self.path))

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def feed_site():
    site = FeedSite()
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield site
    site.shutdown()
    site.server_close()


def test_fixture_feeds_keep_feedparser_licence():
    licence = (FIXTURES / "LICENSE-feedparser").read_text()
    assert "Copyright (C) 2002-2008 Mark Pilgrim" in licence
    readme = (FIXTURES / "README.md").read_text()
    for name in EXPECTED_LINKS:
        assert name in readme or name.startswith("ours/"), name


@pytest.mark.parametrize("fixture", sorted(EXPECTED_LINKS))
def test_every_feed_kind_lists_its_articles(fixture):
    origin = "http://127.0.0.1:8097"  # the document URI feedparser's docuri test expects
    body = (FIXTURES / fixture).read_bytes()
    content_type = "application/feed+json" if fixture.endswith(".json") else "application/xml"
    feed = parse_feed(body, f"{origin}/feeds/{fixture}", content_type)
    expected = [origin + url if url.startswith("/") else url for url in EXPECTED_LINKS[fixture]]
    assert [entry.url for entry in feed.entries] == expected
    assert (feed.problem is not None) == (fixture in ILL_FORMED)
    assert feed.kind or fixture.startswith("feedparser/cdf")  # feedparser names no CDF version


@pytest.mark.slow  # a real crawl
def test_crawl_of_every_feed_kind_archives_its_articles_with_their_dates(feed_site, tmp_path):
    origin = feed_site.origin
    feeds = [arg for name in EXPECTED_LINKS for arg in ("--feed", f"{origin}/feeds/{name}")]
    db = tmp_path / "archive.db"
    result = run_cli("crawl", *feeds, "--db", str(db), *FAST)
    assert result.returncode == 0, result.stderr
    archived = {row["fetched_url"]: row for row in query(db, "select * from articles")}
    for fixture, links in EXPECTED_LINKS.items():
        for link in links:
            url = served_url(link, fixture, origin)
            assert url in archived, f"{fixture}: {url} not archived"
            assert url.removeprefix(origin) in feed_site.requested
    # The unescaped & stays a separator: the server was asked for ?a=1&b=2&c, not ?a=1=2.
    stem = "illformed_rss_item_link_unescaped_ampersands"
    assert f"/a/{stem}/get?a=1&b=2&c" in feed_site.requested
    for link, moment in ODD_DATES.items():
        row = archived[served_url(link, "adapted/rss20_item_odd_dates.xml", origin)]
        assert row["published_source"] == "feed"
        assert datetime.fromisoformat(row["published"]) == datetime.fromisoformat(moment + "Z")
    (run,) = query(db, "select * from crawl_runs")
    assert json.loads(run["warnings"]) == {"ill_formed_feed": len(ILL_FORMED)}
    assert run["errors"] == 0


@pytest.mark.slow  # a real crawl
def test_not_a_feed_is_an_empty_feed_warning_and_fails_its_source(feed_site, tmp_path):
    db = tmp_path / "archive.db"
    result = run_cli("crawl", "--feed", feed_site.origin + "/feeds/README.md", "--db", str(db))
    assert result.returncode == 2, result.stderr  # the source found nothing: README's status 2
    (run,) = query(db, "select * from crawl_runs")
    assert json.loads(run["warnings"]) == {"empty_feed": 1}
    assert query(db, "select count(*) as n from articles")[0]["n"] == 0


# Parsing, without a crawl ----------------------------------------------------------------

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>
<item><title>First &amp; best</title><link>https://a.example/2025/05/first-story/</link>
<pubDate>Tue, 10 Jun 2025 04:00:00 +0200</pubDate></item>
<item><title>Second</title><guid isPermaLink="true">https://a.example/second-story</guid>
<dc:date>2025-06-11T08:30:00Z</dc:date></item>
<item><guid isPermaLink="false">12345</guid></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>H</title>
<entry><title>One</title><link rel="alternate" href="https://h.example/one"/>
<link rel="enclosure" href="https://h.example/one.mp3"/>
<published>2025-01-02T03:04:05Z</published><updated>2025-01-03T00:00:00Z</updated></entry>
<entry><id>tag:h.example,2025:2</id><title>No URL anywhere</title></entry>
</feed>"""

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://a.example/news/story</loc><lastmod>2025-03-02</lastmod>
<news:news><news:publication><news:name>A</news:name><news:language>en</news:language>
</news:publication><news:publication_date>2025-03-01T09:00:00+01:00</news:publication_date>
<news:title>Story</news:title></news:news></url>
<url><loc>https://a.example/news/plain</loc><lastmod>Fri, 2006/09/15 08:19:53 EDT</lastmod></url>
</urlset>"""


def test_rss_entries_with_dates_and_decoded_titles():
    first, second = parse_feed(RSS, "https://a.example/feed/", "application/rss+xml").entries
    assert first.url == "https://a.example/2025/05/first-story/"
    assert first.published == "2025-06-10T02:00:00Z"
    assert first.updated is None  # a pubDate is no modification date
    assert first.title == "First & best"
    assert second.url == "https://a.example/second-story"
    assert second.published == second.updated == "2025-06-11T08:30:00Z"  # dc:date


def test_atom_entries_use_the_alternate_link_and_skip_ids_that_are_no_urls():
    (entry,) = parse_feed(ATOM, "https://h.example/feed", "application/atom+xml").entries
    assert entry.url == "https://h.example/one"
    assert entry.published == "2025-01-02T03:04:05Z"
    assert entry.updated == "2025-01-03T00:00:00Z"


def test_entries_with_full_content_and_a_bare_ampersand_keep_link_title_and_warning():
    # What the crawl skips (content, categories, media) is cut before feedparser reads the
    # feed; a bare `&` is escaped for that, outside CDATA, and still reported as ill-formed.
    rss = b"""<?xml version="1.0" encoding="utf-8"?>
    <rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"
         xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>
    <item><title>Rock &amp; roll</title><link>https://a.example/get?a=1&b=2&c</link>
      <description><![CDATA[<p>Fish & chips &amp; more</p>]]></description>
      <content:encoded><![CDATA[<p>Long & body</p>]]></content:encoded>
      <category>Food</category><media:content url="https://a.example/i.jpg"/>
      <pubDate>Tue, 10 Jun 2025 02:00:00 GMT</pubDate></item>
    <item><guid>https://a.example/by-guid</guid><!-- a & in a comment --></item>
    </channel></rss>"""
    feed = parse_feed(rss, "https://a.example/feed", "application/rss+xml")
    first, second = feed.entries
    assert (first.url, first.title) == ("https://a.example/get?a=1&b=2&c", "Rock & roll")
    assert first.published == "2025-06-10T02:00:00Z"
    assert second.url == "https://a.example/by-guid"
    assert feed.kind == "rss20" and "unescaped &" in feed.problem


@pytest.mark.parametrize(
    ("declared", "encoding", "content_type"),
    [
        ("ISO-8859-1", "latin-1", "application/rss+xml"),
        ("ISO-8859-1", "latin-1", "text/xml"),  # RFC 3023 would say us-ascii
        ("utf-8", "cp1252", "application/rss+xml"),  # declared wrong
        ("utf-8", "utf-8", "text/html; charset=iso-8859-1"),  # labelled wrong
    ],
)
def test_titles_are_decoded_by_the_feeds_real_encoding(declared, encoding, content_type):
    text = (
        f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel><item>'
        "<title>Café crème à Zürich</title><link>http://a.example/x</link></item></channel></rss>"
    )
    feed = parse_feed(text.encode(encoding), "http://a.example/feed", content_type)
    assert [entry.title for entry in feed.entries] == ["Café crème à Zürich"]


def test_relative_xml_base_chains_resolve_against_the_feed_url():
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom" xml:base="sub/">
    <entry xml:base="../x/"><link href="rel?a=1"/></entry>
    <entry><link href="//other.example/p"/></entry></feed>"""
    entries = parse_feed(atom, "http://h.example/feeds/atom.xml", "application/atom+xml").entries
    assert [e.url for e in entries] == [
        "http://h.example/feeds/x/rel?a=1",
        "http://other.example/p",
    ]


def test_not_a_feed_gives_no_entries():
    for body in (b"<html><body>hello</body></html>", b"\x00\xff garbage", b"", b"[1, 2]"):
        assert parse_feed(body, "https://a.example/feed").entries == []
    not_json = parse_feed(b"{oops", "https://a.example/feed.json", "application/json")
    assert not_json.entries == [] and "not JSON" in not_json.problem
    other_json = parse_feed(b'{"items": [{"url": "https://a.example/x"}]}', "https://a.example/")
    assert other_json.entries == [] and "JSON Feed version" in other_json.problem


def test_feed_entities_are_not_expanded():
    xxe = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
    <rss><channel><item><title>&x;</title><link>https://a.example/x</link></item></channel></rss>"""
    (entry,) = parse_feed(xxe, "https://a.example/feed").entries
    assert entry.url == "https://a.example/x"
    assert "root:" not in (entry.title or "")


def test_news_sitemap_keeps_publication_dates_in_utc():
    story, plain = (sitemap_entry(e) for e in NewsSitemap(NEWS_SITEMAP))
    assert story.url == "https://a.example/news/story"
    assert story.published == "2025-03-01T08:00:00Z"
    assert story.updated == "2025-03-02T00:00:00Z"
    assert story.title == "Story"
    assert plain.published is None
    assert plain.updated == "2006-09-15T12:19:53Z"


def test_to_iso_reads_feed_dates_and_drops_implausible_ones():
    assert to_iso("Wed, 02 Oct 2002 13:00:00 GMT") == "2002-10-02T13:00:00Z"
    assert to_iso("2024-02-29") == "2024-02-29T00:00:00Z"
    assert to_iso("Mon, 13 Feb, 2012 06:28:00 UTC") == "2012-02-13T06:28:00Z"
    assert to_iso("Thu, 01 Jan 2004") == "2004-01-01T00:00:00Z"
    assert to_iso("Thu, 01 Jan 1989 10:00:00 GMT") is None  # before 1990: a placeholder
    tomorrow_and_more = datetime.now(UTC) + timedelta(days=3)
    assert to_iso(tomorrow_and_more.strftime("%a, %d %b %Y %H:%M:%S GMT")) is None
    assert to_iso("yesterday") is None
    assert to_iso(None) is None


# The demo site's JSON Feed and ill-formed feed ---------------------------------------------


def test_demo_json_feed_lists_the_newest_articles_like_the_atom_feed(demo_server):
    with urllib.request.urlopen(demo_server.url + "/harbor/feed.json") as response:
        assert response.headers["Content-Type"] == "application/feed+json; charset=utf-8"
        document = json.loads(response.read())
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    harbor = [e for e in demo_server.expected_articles() if e.site == "harbor"][:10]
    assert [item["url"] for item in document["items"]] == [e.url(demo_server.url) for e in harbor]
    published = [datetime.fromisoformat(item["date_published"]) for item in document["items"]]
    assert published == [e.published for e in harbor]


def test_demo_picks_feed_is_ill_formed_but_read_whole(demo_server):
    url = demo_server.url + "/ledger/picks/feed/"
    with urllib.request.urlopen(url) as response:
        body = response.read()
    assert b"&utm_source=picks" in body
    with pytest.raises(ElementTree.ParseError):
        ElementTree.fromstring(body)
    feed = parse_feed(body, url, "application/rss+xml")
    assert feed.problem and len(feed.entries) == 10
    ledger = {e.url(demo_server.url) for e in demo_server.expected_articles() if e.site == "ledger"}
    assert {entry.url for entry in feed.entries} <= ledger


@pytest.mark.slow  # a real crawl
def test_demo_json_feed_and_ill_formed_picks_feed_are_crawled(demo_server, tmp_path):
    ledger, harbor = demo_server.sources()
    db = tmp_path / "archive.db"
    picks = next(url for url in ledger["feeds"] if "picks" in url)
    json_feed = next(url for url in harbor["feeds"] if url.endswith(".json"))
    result = run_cli("crawl", "--feed", picks, "--feed", json_feed, "--db", str(db), *FAST)
    assert result.returncode == 0, result.stderr
    rows = query(db, "select url, published_source from articles")
    assert sum("/harbor/" in row["url"] for row in rows) == 10
    assert sum("/ledger/" in row["url"] for row in rows) == 10
    assert {row["published_source"] for row in rows} <= {"feed", "jsonld", "meta"}
    (run,) = query(db, "select * from crawl_runs")
    assert json.loads(run["warnings"]) == {"ill_formed_feed": 1}
