"""Scrapy settings of the news archiver. Override any of them with `-s NAME=VALUE`."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("newsarchive")
except PackageNotFoundError:  # running from a checkout that was not installed
    VERSION = "0.0.0"

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# An honest User-Agent: who we are and where to read about it.
USER_AGENT = f"newsarchive/{VERSION} (news archiver; +https://github.com/newsarchive/newsarchive)"

# Politeness: robots.txt, AutoThrottle, a few requests per site at a time.
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
# No depth limit of Scrapy's: front pages are followed NEWSARCHIVE_FOLLOW_DEPTH hops, feeds and
# sitemaps one. A DEPTH_LIMIT set with -s still works; what it cuts is counted (not followed).
DEPTH_LIMIT = 0

SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "crawler.spidermiddlewares.depth.CountedDepthMiddleware": 900,  # Scrapy's place for it
    "crawler.spidermiddlewares.incremental.IncrementalMiddleware": 800,
}

# The pipelines, in the order items flow through them.
ITEM_PIPELINES = {
    "pipelines.extraction.ExtractionPipeline": 100,
    "pipelines.validation.ValidationPipeline": 200,
    "pipelines.dedup.DedupPipeline": 300,
    "pipelines.storage.StoragePipeline": 400,
}
# No consoles listening on local ports during a crawl.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

EXTENSIONS = {"crawler.extensions.progress.Progress": 500}
NEWSARCHIVE_PROGRESS = False  # the CLI turns the live progress line on for terminals
LOG_FORMATTER = "crawler.logformatter.NewsLogFormatter"
LOG_LEVEL = "INFO"

# The archive.
ARCHIVE_DB = "archive.db"
NEWSARCHIVE_SOURCES = "sources.toml"
NEWSARCHIVE_MIN_WORDS = 60  # fewer words than this is a snippet or an index page
NEWSARCHIVE_FOLLOW_DEPTH = 2  # link hops from a front page: front -> section -> article
NEWSARCHIVE_INCREMENTAL = True  # skip archived article URLs unless they changed
NEWSARCHIVE_RECHECK_AFTER = 0  # seconds before archived articles are re-checked (0: only
# when a feed or sitemap says they changed); sources may set their own recheck_after
NEWSARCHIVE_BATCH_SIZE = 50  # articles per write transaction
NEWSARCHIVE_FLUSH_SECONDS = 2.0  # ...or sooner, so a slow crawl still stores promptly
NEWSARCHIVE_SQLITE_PRAGMAS: list[str] = []  # extra "name=value" PRAGMAs for the archive's writer
NEWSARCHIVE_MAX_PAGES = 0  # downloads per run, robots.txt excluded (0: no limit; --max-pages)
NEWSARCHIVE_LIST_ONLY = False  # list the articles a run would fetch, fetch none (crawl --list)

# Faults and scope: hostile servers never stop a run, every failure is counted by kind, and the
# crawl stays on its sources' domains. See crawler/downloadermiddlewares/ (retry, scope, charset).
DOWNLOADER_MIDDLEWARES = {
    # Per source, not the union of all sources' domains; counts what it refuses.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.downloadermiddlewares.scope.ScopeMiddleware": 50,
    # after robots.txt (100): what robots.txt forbids is neither listed nor budgeted
    "crawler.downloadermiddlewares.limits.ArticleLister": 110,
    "crawler.downloadermiddlewares.limits.PageBudget": 120,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.downloadermiddlewares.retry.BackoffRetryMiddleware": 550,
    # after decompression (590), before meta refresh
    "crawler.downloadermiddlewares.charset.CharsetMiddleware": 585,
    # sees a redirect before RedirectMiddleware
    "crawler.downloadermiddlewares.scope.RedirectScopeMiddleware": 610,
    # raw responses (before decompression and redirects) into WARC files, with --warc DIR
    "crawler.downloadermiddlewares.warc.WarcRecorderMiddleware": 860,
}
# CONCURRENT_REQUESTS_PER_DOMAIN, enforced (Scrapy 2.19's own downloader lets it slip).
DOWNLOADER = "crawler.downloader.PoliteDownloader"
# News is on the web: no FTP, S3, file: or data: downloads, whatever a page links to.
DOWNLOAD_HANDLERS = {"ftp": None, "s3": None, "file": None, "data": None}
RETRY_ENABLED = True
RETRY_TIMES = 2
# 5xx and 429 only: any other client error (4xx) fails the same way on every try.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 429]
RETRY_GIVE_UP_LOG_LEVEL = "DEBUG"  # the spider logs the failure, once, with its kind
NEWSARCHIVE_RETRY_BACKOFF = 1.0  # seconds before the first retry, doubling for each next one
NEWSARCHIVE_RETRY_BACKOFF_MAX = 30.0
NEWSARCHIVE_RETRY_AFTER_MAX = 120.0  # a longer Retry-After is not waited for: no retry at all
DOWNLOAD_FAIL_ON_DATALOSS = True  # a truncated body is an error (and retried), never archived
# Counts exceptions in spider callbacks and item pipelines, which reach no errback; one log line
# (not a traceback) for a robots.txt that cannot be fetched.
EXTENSIONS = {
    **EXTENSIONS,
    "crawler.extensions.errors.ErrorCounter": 510,
    "crawler.extensions.errors.QuietRobotsTxtErrors": 520,
}

FEED_EXPORT_ENCODING = "utf-8"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# Distributed crawling (`newsarchive worker` / `ingest`, `crawl --redis`); unused without Redis.
# The frontier is scrapy-redis's (crawler/distributed); REDIS_URL is scrapy-redis's setting.
REDIS_URL = None  # set by --redis
NEWSARCHIVE_REDIS_NAMESPACE = "newsarchive"  # prefix of every key, so archives can share a Redis
NEWSARCHIVE_LEASE_SECONDS = 60  # a taken request goes back to the queue this long after its
# worker stopped renewing it (a worker renews every third of this while it runs)
NEWSARCHIVE_MAX_DELIVERIES = 5  # re-queues of one request before it is given up on
NEWSARCHIVE_WORKER_ID = None  # default host:pid
NEWSARCHIVE_WORKER_TICK = 0.2  # seconds between a worker's acknowledgements and polls
NEWSARCHIVE_WORKER_MAX_IDLE = 0  # a worker stops after this many idle seconds (0: never)
NEWSARCHIVE_WORKER_TIMEOUT = 120.0  # `crawl --redis --wait` and `ingest` call a run stalled
# when no worker was alive this long while it has requests left (0: never)
NEWSARCHIVE_CRAWL_DELAY_MAX = 60.0  # a robots.txt Crawl-delay is honoured up to this many seconds

# Throughput: extraction runs in worker processes (None: one per CPU; 0: in the crawl process,
# for debugging, without a time budget); a page gets this many seconds before its worker is
# replaced and the page dropped as extraction_timeout.
NEWSARCHIVE_EXTRACTION_WORKERS = None
NEWSARCHIVE_EXTRACTION_TIMEOUT = 20.0
NEWSARCHIVE_EXTRACTOR = "pipelines.article.core.extract_article"
# Scrapy starts this many tasks for every response's output; an article page yields one item.
CONCURRENT_ITEMS = 8

# WARC files of the crawl's traffic (`crawl --warc DIR`); unused without a directory.
NEWSARCHIVE_WARC_DIR = None  # write every response and its request into WARC files here
NEWSARCHIVE_WARC_MAX_SIZE = 1_000_000_000  # bytes; then the next file is started
NEWSARCHIVE_WARC_CDXJ = True  # a CDXJ index beside each finished file (for pywb)
