"""Scrapy extensions: the live progress line, error counting."""
