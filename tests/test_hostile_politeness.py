"""Politeness: robots.txt is obeyed by default, and each site gets a few requests at a time,
spaced by the download delay, however many pages are waiting."""

from __future__ import annotations

import pytest

from newsarchive.crawl import project_settings
from tests.conftest import run_cli
from tests.hostile_site import POLITE_PAGES, HostileSite

pytestmark = pytest.mark.slow  # runs real crawls

NO_THROTTLE = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY_JITTER=0"]


def test_polite_defaults():
    settings = project_settings()
    assert settings.getbool("ROBOTSTXT_OBEY")
    assert settings.getbool("AUTOTHROTTLE_ENABLED")
    assert 0 < settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 4
    assert settings.getfloat("DOWNLOAD_DELAY") > 0


def crawl_polite_pages(tmp_path, *settings: str) -> HostileSite:
    with HostileSite() as site:
        db = tmp_path / "archive.db"
        result = run_cli("crawl", "--url", site.url + "/polite/", "--db", str(db), *settings)
        assert result.returncode == 0, result.stderr
        assert "articles        8 new" in result.stdout
        return site


def test_concurrency_per_site_is_capped(tmp_path):
    site = crawl_polite_pages(
        tmp_path, *NO_THROTTLE, "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"
    )
    assert site.max_in_flight == 2  # used, and never more


def test_requests_to_a_site_are_spaced_by_the_delay(tmp_path):
    delay = 0.3
    site = crawl_polite_pages(
        tmp_path, *NO_THROTTLE, "-s", f"DOWNLOAD_DELAY={delay}",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
    )  # fmt: skip
    starts = [hit.at for hit in site.hits() if hit.path.startswith("/polite/")]
    assert len(starts) == POLITE_PAGES + 1
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= delay * 0.9
