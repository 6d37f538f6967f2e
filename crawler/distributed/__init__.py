"""Distributed crawling: a shared frontier on Redis, many workers, one archive writer.

    newsarchive crawl --redis URL    seeds a run: the sources' feeds, sitemaps and start URLs
    newsarchive worker --redis URL   (on any number of machines) downloads, extracts, hands off
    newsarchive ingest --redis URL   the single writer: drains finished articles into archive.db

The frontier is scrapy-redis's: its Scheduler, its priority queue and its Redis-set duplicate
filter. Its queues pop destructively, so a worker that dies would lose what it had taken; here
a pop moves the request into a lease instead (`frontier.Frontier`), the worker acknowledges it
once the request is completely handled (downloaded, called back, its follow-up requests queued
and its articles handed off), renews its leases while it works, and expired leases are put back
on the queue by whichever worker reaps next. Articles go to the ingester through a Redis list;
the ingester moves them to a processing list, stores them, commits, and only then removes them,
remembering the ids of each committed batch in the archive so a restart never stores one twice.

Politeness is the cluster's, not each worker's: a worker's downloader takes an expiring hold on
a site in Redis before each download (`politeness`, `downloader`), so the site's concurrency,
delay and robots.txt Crawl-delay hold however many workers run, and robots.txt is fetched once
per run (`robots`). Workers beat (`liveness`), so a run with work left and no worker alive is
reported as stalled; a run's page budget is a counter in the same script.

Nothing here is imported by a local crawl: `redis` and `scrapy_redis` load only with --redis.
"""
