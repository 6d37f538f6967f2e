"""WARC files (ISO 28500): reading captures out of them (`reader`, with fastwarc) and writing a
crawl's traffic into them (`writer`, with warcio)."""
