"""Short log lines for scraped and dropped items: a URL, never a page body."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter


class NewsLogFormatter(logformatter.LogFormatter):
    """Logs items by URL; drops at INFO with their reason instead of WARNING with the item."""

    def scraped(self, item: Any, response: Any, spider: Any) -> dict[str, Any]:
        return {
            "level": logging.DEBUG,
            "msg": "Stored %(url)s",
            "args": {"url": getattr(item, "url", "?")},
        }

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> dict:
        return {"level": logging.INFO, "msg": "Dropped %(reason)s", "args": {"reason": exception}}
