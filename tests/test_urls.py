import pytest

from crawler.urls import canonical_url, clean_url, url_key


def test_clean_url_drops_tracking_and_fragment():
    url = "https://WWW.Example.com:443/news/story/?utm_source=x&fbclid=1&b=2&a=1#comments"
    assert clean_url(url) == "https://www.example.com/news/story/?a=1&b=2"


@pytest.mark.parametrize(
    "variant",
    [
        "https://example.com/news/story",
        "http://www.example.com/news/story/",
        "https://example.com/news/story/amp/",
        "https://amp.example.com/news/story",
        "https://example.com/news/story?utm_campaign=rss",
        "https://example.com/news/story#respond",
    ],
)
def test_variants_of_one_article_share_a_key(variant):
    assert url_key(variant) == url_key("https://www.example.com/news/story")


def test_different_articles_have_different_keys():
    assert url_key("https://example.com/news/a") != url_key("https://example.com/news/b")
    assert url_key("https://example.com/p?id=1") != url_key("https://example.com/p?id=2")


def test_canonical_url_prefers_the_declared_link_on_the_same_site():
    assert canonical_url("https://example.com/a/amp/", "https://www.example.com/a/") == (
        "https://www.example.com/a/"
    )
    # A canonical link to another site is not trusted.
    assert canonical_url("https://example.com/a", "https://other.example/a") == (
        "https://example.com/a"
    )
    assert canonical_url("https://example.com/a?utm_source=x", None) == "https://example.com/a"
