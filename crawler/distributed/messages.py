"""What workers hand to the ingester through Redis: articles, 304s and their crawl stats.

Every message is JSON with a unique `id` (so the ingester can tell one it already stored),
the `worker` that sent it and the `run` it belongs to. Raw HTML travels compressed.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from typing import Any

from crawler.compression import compress_html, read_html
from crawler.items import ArticleItem, NotModifiedItem

ARTICLE = "article"
NOT_MODIFIED = "not_modified"
STATS = "stats"


def article_message(item: ArticleItem) -> dict[str, Any]:
    """The message for an extracted, validated article."""
    data = asdict(item)
    data["html"] = base64.b64encode(compress_html(item.html)).decode("ascii")
    return {"type": ARTICLE, "item": data}


def not_modified_message(item: NotModifiedItem) -> dict[str, Any]:
    """The message for an archived article the server said is unchanged."""
    return {"type": NOT_MODIFIED, "item": asdict(item)}


def stats_message(stats: dict[str, int]) -> dict[str, Any]:
    """The message for a worker's crawl stats since its last one (counts to add up)."""
    return {"type": STATS, "stats": stats}


def encode(message: dict[str, Any]) -> bytes:
    """A message as the bytes pushed to Redis."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode(raw: bytes) -> dict[str, Any]:
    """A message from Redis, with its article or 304 as an item again (under `item`)."""
    message = json.loads(raw)
    data = message.get("item")
    if message["type"] == ARTICLE:
        html = read_html(base64.b64decode(data.pop("html")))
        message["item"] = ArticleItem(**data, html=html)
    elif message["type"] == NOT_MODIFIED:
        message["item"] = NotModifiedItem(**data)
    elif message["type"] != STATS:
        raise ValueError(f"unknown message type {message['type']!r}")
    return message
