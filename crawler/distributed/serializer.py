"""JSON for requests in the shared frontier (scrapy-redis's SCHEDULER_SERIALIZER).

scrapy-redis pickles requests by default; anyone who can write to the Redis could then run
code on every worker. Request dicts (`Request.to_dict`) are plain data except for bytes
(body, headers), which are tagged and base64-encoded here.
"""

from __future__ import annotations

import base64
import json
from typing import Any

BYTES_TAG = "__bytes__"
# Request arguments left out when they have Request's default value: Request.from_dict
# gives them back. Most queued requests are GETs with no headers, body or cookies, and this
# takes a third off each one's Redis memory.
DEFAULTS: dict[str, Any] = {
    "headers": {}, "body": b"", "cookies": {}, "encoding": "utf-8", "flags": [],
    "cb_kwargs": {}, "dont_filter": False, "method": "GET", "priority": 0, "meta": {},
    "callback": None, "errback": None,
}  # fmt: skip


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {BYTES_TAG: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {_key(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot put a {type(value).__name__} into the shared frontier: {value!r}")


def _key(key: Any) -> str:
    # Header names are bytes; they come back as str, which Scrapy's Headers accept alike.
    if isinstance(key, bytes):
        return key.decode("latin-1")
    if isinstance(key, str):
        return key
    raise TypeError(f"cannot put a {type(key).__name__} dict key into the frontier: {key!r}")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and BYTES_TAG in value:
            return base64.b64decode(value[BYTES_TAG])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dumps(obj: dict[str, Any]) -> bytes:
    """A request dict as compact JSON bytes, without the arguments that have their default."""
    obj = {k: v for k, v in obj.items() if k not in DEFAULTS or v != DEFAULTS[k]}
    return json.dumps(_encode(obj), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def loads(data: bytes | str) -> dict[str, Any]:
    """The request dict that `dumps` encoded."""
    return _decode(json.loads(data))
