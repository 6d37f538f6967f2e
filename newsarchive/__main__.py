"""`python -m newsarchive` is `newsarchive`."""

from newsarchive.cli import cli

cli()
