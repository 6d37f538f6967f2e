"""Raw page bodies compressed for the archive (`article_html.html`) and for the distributed
crawl's Redis messages: zstd level 3 packs HTML as tightly as zlib level 6 for a sixth of the
CPU time; archives written before that hold zlib, which is still read."""

from __future__ import annotations

import zlib

try:  # Python 3.14+
    from compression import zstd
except ImportError:  # earlier Pythons: the backport Scrapy itself depends on
    from backports import zstd

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def compress_html(html: bytes) -> bytes:
    """Raw HTML, compressed for storage or transport."""
    return zstd.compress(html, 3)


def read_html(compressed: bytes) -> bytes:
    """The raw HTML of `compress_html`'s output (zstd), or of older archives' zlib."""
    if compressed[:4] == ZSTD_MAGIC:
        return zstd.decompress(compressed)
    return zlib.decompress(compressed)
