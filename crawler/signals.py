"""The crawl's own Scrapy signals (besides Scrapy's)."""

# Sent by the storage pipeline after a batch of items is committed to the archive, with
# `items` (the ArticleItem and NotModifiedItem objects of the batch): what is on disk for good.
articles_stored = object()
