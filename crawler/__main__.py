"""`python -m crawler` is `newsarchive`."""

from crawler.cli import cli

cli()
