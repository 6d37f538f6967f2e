"""An item pipeline that fails (an exception, no DropItem) on one page: the import's engine must
count it (dropped: pipeline_error, as Scrapy's scraper does in a crawl) and go on."""

from __future__ import annotations

FAIL_ON = "-1/"  # the second page of tests.test_warc.article_pages


class FailOnOnePage:
    def process_item(self, item: object) -> object:
        if FAIL_ON in (getattr(item, "fetched_url", "") or ""):
            raise RuntimeError("this pipeline fails on purpose")
        return item
