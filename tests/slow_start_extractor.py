"""An extractor that takes 2 s to import, as a fresh extraction worker may on a busy machine
(tests/test_extraction_pool.py: that start-up is not counted against its first page)."""

from __future__ import annotations

import time

from pipelines.article.core import extract_article

time.sleep(2)


def extract(html: bytes, url: str | None = None, **kwargs) -> dict | None:
    return extract_article(html, url, **kwargs)
