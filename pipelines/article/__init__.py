"""From an HTML page to an article: clean text (trafilatura plus general boilerplate rules),
metadata (title, authors, dates...), fingerprints, and the process pool that runs it off the
crawl's event loop. Imports nothing of the archive.

`core.extract_article` composes `metadata`, `authors`, `dates` and `boilerplate`, as
trafilatura's `core` composes its metadata and main-extraction modules."""
