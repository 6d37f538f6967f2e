"""The news archiver as an application: the `newsarchive` command line and what it runs (crawls,
schedules, reports, re-extraction, the distributed ingest service, the demo site).

The only package that imports click; it composes `crawler` (Scrapy up to the item), `pipelines`
(items to the archive) and `browse` (reading the archive)."""
