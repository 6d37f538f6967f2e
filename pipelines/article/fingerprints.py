"""Fingerprints of an article's text, which storage matches articles by."""

from __future__ import annotations

import hashlib
import re

WHITESPACE = re.compile(r"\s+")


def content_hash(text: str) -> str:
    """SHA-256 of the text with whitespace normalized: equal for the same article text."""
    return hashlib.sha256(WHITESPACE.sub(" ", text).strip().encode("utf-8")).hexdigest()


def simhash(text: str) -> str:
    """A 64-bit SimHash (hex) of the text: close hashes mean near-duplicate texts."""
    # Imported here: importing trafilatura takes half a second, and a crawl process only needs
    # it for pages extracted without a worker (the workers fingerprint what they extract).
    from trafilatura.deduplication import Simhash

    return f"{Simhash(text).hash:016x}"


def add_fingerprints(extracted: dict) -> dict:
    """The extraction result with `content_hash` and `simhash` of its text added. Extraction
    workers call it, so the SimHash (~2 ms on a long article) is not computed in the crawl's
    event loop."""
    text = extracted["text"]
    extracted.setdefault("content_hash", content_hash(text))
    extracted.setdefault("simhash", simhash(text))
    return extracted
