import pytest

from crawler.sources import (
    Source,
    SourcesError,
    load_sources,
    parse_duration,
    parse_sources,
    select_sources,
    targets_of,
)

GOOD = """
# two sources
[[sources]]
name = "ledger"
feeds = ["https://ledger.example/feed/"]
sitemaps = ["https://ledger.example/news-sitemap.xml"]

[[sources]]
name = "harbor"
allowed_domains = ["harbor.example", "cdn.harbor.example"]
start_urls = ["https://www.harbor.example/"]
drop_selectors = ["//div[@class='promo']", ".newsletter"]
recheck_after = "6h"
"""


def test_parse_sources_reads_every_field():
    ledger, harbor = parse_sources(GOOD)
    assert ledger.name == "ledger"
    assert ledger.allowed_domains == ("ledger.example",)  # derived from its URLs
    assert ledger.feeds == ("https://ledger.example/feed/",)
    assert harbor.allowed_domains == ("harbor.example", "cdn.harbor.example")
    assert harbor.drop_selectors == ("//div[@class='promo']", ".newsletter")
    assert harbor.recheck_after == 6 * 3600
    assert harbor.line == 8


def test_targets_cover_every_kind():
    ledger, harbor = parse_sources(GOOD)
    kinds = [(t.kind, t.source) for t in targets_of(ledger) + targets_of(harbor)]
    assert kinds == [("feed", "ledger"), ("sitemap", "ledger"), ("frontpage", "harbor")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[sources]\nname='x'", "not valid TOML"),
        ("title = 'no sources'", "no [[sources]] entries"),
        ("\n[[sources]]\nfeeds = ['https://a.example/feed']", "sources.toml:2: every source"),
        ("[[sources]]\nname = 'a'", "has no feeds, sitemaps, start_urls or urls"),
        ("[[sources]]\nname = 'a'\nfeed = ['https://a.example/']", "did you mean 'feeds'"),
        ("[[sources]]\nname = 'a'\nfeeds = ['ftp://a.example/']", "not an http(s) URL"),
        ("[[sources]]\nname = 'a'\nurls = ['https://u:p@a.example/']", "credentials"),
        ("[[sources]]\nname = 'a'\nfeeds = 'https://a.example/'\nrecheck_after = 'soon'", "bad"),
        (
            "[[sources]]\nname='a'\nurls=['https://a.example/']\n"
            "[[sources]]\nname='a'\nurls=['https://a.example/']",
            "sources.toml:4: duplicate source name 'a'",
        ),
    ],
)
def test_malformed_sources_name_the_problem(text, message):
    with pytest.raises(SourcesError) as error:
        parse_sources(text)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SourcesError, match="sources file not found"):
        load_sources(tmp_path / "nope.toml")


def test_select_sources_by_name():
    sources = parse_sources(GOOD)
    assert [s.name for s in select_sources(sources, ["harbor"])] == ["harbor"]
    assert select_sources(sources, []) == sources
    with pytest.raises(SourcesError, match="unknown source 'nope'; known sources: ledger, harbor"):
        select_sources(sources, ["nope"])


def test_durations():
    assert parse_duration("30m") == 1800
    assert parse_duration("2d") == 172800
    assert parse_duration(90) == 90
    with pytest.raises(ValueError):
        parse_duration("-3h")


def test_example_sources_file_parses():
    sources = load_sources("sources.toml")
    assert sources and all(isinstance(s, Source) for s in sources)
