"""Fingerprints of an article's text, which storage matches articles by."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from hashlib import blake2b

WHITESPACE = re.compile(r"\s+")
SIMHASH_BITS = 64


def content_hash(text: str) -> str:
    """SHA-256 of the text with whitespace normalized: equal for the same article text."""
    return hashlib.sha256(WHITESPACE.sub(" ", text).strip().encode("utf-8")).hexdigest()


def simhash(text: str) -> str:
    """A 64-bit SimHash (hex) of the text: close hashes mean near-duplicate texts.

    The same value as trafilatura's `Simhash(text)` (its tokens, each token's 8-byte BLAKE2b
    digest voting for its bits), counted with numpy over the distinct tokens instead of
    adding one 64-item list per token: four times faster on a long article.
    """
    # Imported here: importing trafilatura takes half a second, and a crawl process only needs
    # it for pages extracted without a worker (the workers fingerprint what they extract).
    import numpy as np
    from trafilatura.deduplication import sample_tokens

    counts = Counter(sample_tokens(text, SIMHASH_BITS))
    digests = b"".join(blake2b(token.encode(), digest_size=8).digest() for token in counts)
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(len(counts), 8), axis=1)
    weights = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    # A bit is set when at least half the tokens vote for it (no tokens: every bit).
    keep = 2 * (weights @ bits) >= weights.sum()
    return np.packbits(keep).tobytes().hex()


def add_fingerprints(extracted: dict) -> dict:
    """The extraction result with `content_hash` and `simhash` of its text added. Extraction
    workers call it, so the SimHash (~0.5 ms on a long article) is not computed in the crawl's
    event loop."""
    text = extracted["text"]
    extracted.setdefault("content_hash", content_hash(text))
    extracted.setdefault("simhash", simhash(text))
    return extracted
