"""WARC files (ISO 28500): reading captures out of them (`reader`) and writing a crawl's
traffic into them (`writer`), both with warcio."""
