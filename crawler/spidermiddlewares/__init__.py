"""Scrapy spider middlewares: incremental crawling (skip what is archived)."""
