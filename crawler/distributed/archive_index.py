"""What workers know of the archive, for incremental crawling, kept compact in Redis.

The ingester publishes one entry per archived URL key into one hash (`Keys.archived`): the
field is a 12-byte BLAKE2b digest of the URL key (a collision among 10^9 keys has odds below
one in 10^11), the value the last fetch time, the Last-Modified date and the storing run as
three 32-bit integers, then the ETag's bytes. That is about 70 bytes of Redis memory per URL
without an ETag, against about 200 for the URL key and JSON (see `python -m bench.distributed`).
A Last-Modified that is not an HTTP date is not kept: the page is then re-fetched without
If-Modified-Since, which costs a download, never an article.
"""

from __future__ import annotations

import hashlib
import struct
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime

DIGEST_BYTES = 12
HEAD = struct.Struct(">III")  # last seen, last modified (Unix seconds; 0: none), run (0: none)


def index_field(url_key: str) -> bytes:
    """The hash field of a URL key."""
    return hashlib.blake2b(url_key.encode("utf-8"), digest_size=DIGEST_BYTES).digest()


def _seconds(iso: str | None) -> int:
    if not iso:
        return 0
    try:
        parsed = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return 0
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())


def _http_seconds(date: str | None) -> int:
    if not date:
        return 0
    try:
        return max(0, int(parsedate_to_datetime(date).timestamp()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0


def encode_entry(
    last_seen: str | None, etag: str | None, last_modified: str | None, run_id: int | None
) -> bytes:
    """The hash value of an archived URL."""
    head = HEAD.pack(_seconds(last_seen), _http_seconds(last_modified), run_id or 0)
    return head + (etag or "").encode("latin-1", "replace")


def decode_entry(raw: bytes) -> tuple[str | None, str | None, str | None, int | None]:
    """(last seen ISO time, ETag, Last-Modified HTTP date, run id) as `encode_entry` got them."""
    seen, modified, run_id = HEAD.unpack_from(raw)
    etag = raw[HEAD.size :].decode("latin-1")
    last_seen = (
        datetime.fromtimestamp(seen, UTC).isoformat().replace("+00:00", "Z") if seen else None
    )
    last_modified = formatdate(modified, usegmt=True) if modified else None
    return last_seen, etag or None, last_modified, run_id or None
