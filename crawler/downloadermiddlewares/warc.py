"""Recording every response a crawl receives into WARC files (`crawl --warc DIR`)."""

from __future__ import annotations

import logging
import socket

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response

from crawler.stats import RUN_ID
from crawler.warc.writer import RotatingWarcFiles, crawl_fields

logger = logging.getLogger(__name__)

WARC_RECORDS = "newsarchive/warc/written"
WARC_FILES = "newsarchive/warc/files"


def _pairs(headers: object) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


class WarcRecorderMiddleware:
    """Downloader middleware writing each response (articles, feeds, sitemaps, index pages,
    robots.txt, errors, redirects) and its request as WARC 1.1 records
    (crawler.warc.writer), in NEWSARCHIVE_WARC_DIR, rotated at NEWSARCHIVE_WARC_MAX_SIZE bytes,
    with a CDXJ index per file unless NEWSARCHIVE_WARC_CDXJ is false.

    It sits outside HttpCompressionMiddleware and RedirectMiddleware (priority 860), so it
    sees the body as the server sent it (still compressed, with its Content-Encoding) and
    every redirect.
    """

    def __init__(self, crawler: Crawler, files: RotatingWarcFiles):
        self.crawler = crawler
        self.files = files

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecorderMiddleware:
        settings = crawler.settings
        directory = settings.get("NEWSARCHIVE_WARC_DIR")
        if not directory:
            raise NotConfigured
        info = {
            "software": f"newsarchive/{settings.get('VERSION')} (Scrapy, warcio)",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
            "warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
            "http-header-user-agent": settings.get("USER_AGENT"),
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        }
        files = RotatingWarcFiles(
            directory,
            info,
            max_size=settings.getint("NEWSARCHIVE_WARC_MAX_SIZE"),
            cdxj=settings.getbool("NEWSARCHIVE_WARC_CDXJ"),
        )
        middleware = cls(crawler, files)
        crawler.signals.connect(middleware.close, signal=signals.spider_closed)
        return middleware

    def process_response(
        self, request: Request, response: Response, spider: object = None
    ) -> Response:
        if self.files.serial == 0:  # the first file: the run is known by now
            run = self.crawler.stats.get_value(RUN_ID)
            archive = self.crawler.settings.get("ARCHIVE_DB")
            spider = self.crawler.spider.name if self.crawler.spider else "crawl"
            self.files.info["isPartOf"] = (
                f"newsarchive {spider} run {run} of {archive}" if run else f"newsarchive {spider}"
            )
        headers = _pairs(request.headers)
        if not any(name.lower() == "host" for name, _ in headers):
            headers.insert(0, ("Host", request.url.split("/", 3)[2]))
        try:
            self.files.file().write_response(
                response.url,
                response.status,
                _pairs(response.headers),
                response.body,
                protocol=response.protocol or "HTTP/1.1",
                fields=crawl_fields(
                    request.meta.get("source"), request.meta.get("hints"), request.meta.get("kind")
                ),
                request=(request.method, headers),
            )
        except OSError as error:  # a full disk: the crawl goes on, the archive is what matters
            logger.error("cannot write WARC records for %s: %s", response.url, error)
            self.crawler.stats.inc_value("newsarchive/warnings/warc_write_failed")
            return response
        self.crawler.stats.inc_value(WARC_RECORDS)
        return response

    def close(self) -> None:
        written = self.files.close()
        self.crawler.stats.set_value(WARC_FILES, [str(path) for path in written])
