"""Scrapy downloader middlewares: scope, retry with backoff, charset repair."""
