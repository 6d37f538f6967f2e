from crawler.feeds import NewsSitemap, parse_feed, sitemap_entry, to_iso

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>
<item><title>First</title><link>https://a.example/2025/05/first-story/</link>
<pubDate>Tue, 10 Jun 2025 04:00:00 +0200</pubDate></item>
<item><title>Second</title><guid isPermaLink="true">https://a.example/second-story</guid>
<dc:date>2025-06-11T08:30:00Z</dc:date></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>H</title>
<entry><title>One</title><link rel="alternate" href="https://h.example/one"/>
<link rel="enclosure" href="https://h.example/one.mp3"/>
<published>2025-01-02T03:04:05Z</published><updated>2025-01-03T00:00:00Z</updated></entry>
</feed>"""

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://a.example/news/story</loc><lastmod>2025-03-02</lastmod>
<news:news><news:publication><news:name>A</news:name><news:language>en</news:language>
</news:publication><news:publication_date>2025-03-01T09:00:00+01:00</news:publication_date>
<news:title>Story</news:title></news:news></url>
<url><loc>https://a.example/news/plain</loc></url>
</urlset>"""


def test_rss_entries_with_dates():
    first, second = parse_feed(RSS)
    assert first.url == "https://a.example/2025/05/first-story/"
    assert first.published == "2025-06-10T02:00:00Z"
    assert first.title == "First"
    assert second.url == "https://a.example/second-story"
    assert second.published == "2025-06-11T08:30:00Z"


def test_atom_entries_use_the_alternate_link():
    (entry,) = parse_feed(ATOM)
    assert entry.url == "https://h.example/one"
    assert entry.published == "2025-01-02T03:04:05Z"
    assert entry.updated == "2025-01-03T00:00:00Z"


def test_not_a_feed_gives_no_entries():
    assert parse_feed(b"<html><body>hello</body></html>") == []
    assert parse_feed(b"\x00\xff garbage") == []
    assert parse_feed(b"") == []


def test_feed_entities_are_not_expanded():
    xxe = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
    <rss><channel><item><title>&x;</title><link>https://a.example/x</link></item></channel></rss>"""
    (entry,) = parse_feed(xxe)
    assert "root:" not in (entry.title or "")


def test_news_sitemap_keeps_publication_dates():
    story, plain = (sitemap_entry(e) for e in NewsSitemap(NEWS_SITEMAP))
    assert story.url == "https://a.example/news/story"
    assert story.published == "2025-03-01T08:00:00Z"
    assert story.updated == "2025-03-02T00:00:00"
    assert story.title == "Story"
    assert plain.published is None


def test_to_iso():
    assert to_iso("Wed, 02 Oct 2002 13:00:00 GMT") == "2002-10-02T13:00:00Z"
    assert to_iso("2024-02-29") == "2024-02-29T00:00:00"
    assert to_iso("yesterday") is None
    assert to_iso(None) is None
