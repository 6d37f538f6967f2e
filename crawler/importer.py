"""Importing WARC files: the import's spider, and the engine that runs it instead of Scrapy's.

An import fetches nothing, so it needs nothing of Scrapy's engine but the item pipelines: no
scheduler, downloader, spider middlewares or heartbeat. `ImportCrawler` is a Scrapy crawler
(settings, stats, signals, extensions, logging, the reactor, Ctrl-C and SIGTERM handling all
Scrapy's own) whose engine, `ImportEngine`, hands each item the spider yields straight to the
crawl's item pipelines (ITEM_PIPELINES, built as Scrapy builds them: the extraction pool,
validation, dedup, batched storage and the `crawl_runs` row), with the signals and log lines
Scrapy's scraper sends for an item. So an import stores and counts exactly what a crawl would.

The spider reads nothing itself: `start()` yields one PageItem per 2xx response record, read by
a thread (`crawler.warc.reader`) so that reading and inflating a file, or waiting on a URL,
never holds up the event loop. Records that are no responses, HTTP errors and damage are
counted by kind: what is skipped on purpose under `newsarchive/out_of_scope/<kind>`, what is
wrong under `newsarchive/errors/warc_<kind>` (or `http_<status>`, as a crawl names them).

Resuming: a record is done once its article is committed (the storage pipeline's
`articles_stored` signal) or it was dropped. `on_checkpoint(location, offset, completed)` is
called with the offset before which every record of the file is done, so that reading again
from there loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urljoin

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.http import Headers, Response, TextResponse
from scrapy.responsetypes import responsetypes
from scrapy.utils.defer import ensure_awaitable
from scrapy.utils.log import logformatter_adapter
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.python.failure import Failure

from crawler.downloadermiddlewares.charset import CharsetMiddleware
from crawler.items import ArticleItem, PageItem
from crawler.pagetype import is_article_page
from crawler.signals import articles_stored
from crawler.sources import Source, Target, in_domains, url_domain
from crawler.spiders.news import page_from_response
from crawler.stats import (
    ARTICLES_PREFIX,
    ERRORS_PREFIX,
    OUT_OF_SCOPE_PREFIX,
    PAGES,
    SOURCE_PAGES,
)
from crawler.warc.reader import Capture, Skipped, read_warc

RECORDS = "newsarchive/warc/records"
BYTES = "newsarchive/warc/bytes"  # payload bytes of the responses read
FILES_DONE = "newsarchive/warc/files_done"
UNFINISHED = "newsarchive/warc/unfinished"  # "location: why" of files not read to their end
CHECKPOINT_SECONDS = 1.0
READ_BATCH = 16  # records handed from the reading thread at once
READ_AHEAD = 64  # records read ahead of the pipelines, at most
_END = object()

logger = logging.getLogger(__name__)

Checkpoint = Callable[[str, int, bool], None]


def progress_line(stats: dict, elapsed: float) -> str:
    """The import's live progress: records read, bytes, articles stored, rate."""
    records = stats.get(RECORDS, 0)
    stored = sum(stats.get(ARTICLES_PREFIX + k, 0) for k in ("new", "updated"))
    rate = records / elapsed if elapsed > 0 else 0.0
    return (
        f"read {records} records, {stats.get(BYTES, 0) / 1e6:.1f} MB ({rate:.1f} records/s)"
        f" | stored {stored} articles | unchanged {stats.get(ARTICLES_PREFIX + 'unchanged', 0)}"
    )


class WarcImportSpider(Spider):
    """Imports WARC files (`files`: local paths or http(s) URLs) into the archive; run it with
    `ImportCrawler` (it is no spider of `scrapy crawl`).

    `sources` names the records: a record a newsarchive crawl wrote says its source; others
    belong to the first source whose allowed_domains hold their host, else to their domain.
    Filters: `source_names`, `domains`, `since`/`until` (on WARC-Date, ISO). `resume` maps a
    location to the offset to start reading at.
    """

    name = "warc_import"
    # Nothing is downloaded: AutoThrottle (which tunes the downloader) has nothing to do.
    custom_settings = {"AUTOTHROTTLE_ENABLED": False}

    def __init__(
        self,
        files: Sequence[str] = (),
        sources: Iterable[Source] = (),
        source_names: Iterable[str] = (),
        domains: Iterable[str] = (),
        since: str | None = None,
        until: str | None = None,
        resume: dict[str, int] | None = None,
        on_checkpoint: Checkpoint | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.files = list(files)
        self.sources = {s.name: s for s in sources}
        self.source_names = set(source_names)
        self.domains = tuple(d.lower() for d in domains)
        self.since, self.until = since, until
        self.resume = dict(resume or {})
        self.on_checkpoint = on_checkpoint
        # What the storage pipeline records as the run's targets.
        self.targets = [Target(kind="warc", url=f, source="") for f in self.files]
        # Records handed to the pipelines and not yet done: (location, offset) -> count, and by
        # (url, WARC-Date) the (location, offset) of each, oldest first.
        self.inflight: dict[tuple[str, int], int] = defaultdict(int)
        self.by_key: dict[tuple[str, str], deque[tuple[str, int]]] = defaultdict(deque)
        self.processing = 0  # yielded, not yet through the pipelines (for back-pressure)
        self.max_processing = 32
        self.wake = asyncio.Event()
        self.read_to: dict[str, int] = {}  # location -> offset after the last record read
        self.finished: set[str] = set()  # read to their end
        self.last_checkpoint = 0.0
        self.redirects: dict[str, str] = {}  # a redirect's target -> the URL first asked for
        self.stop_reading = threading.Event()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> WarcImportSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_processing = max(16, 8 * (crawler.settings.getint("CONCURRENT_ITEMS") or 4))
        for handler, signal in (
            (spider._item_done, signals.item_dropped),
            (spider._item_done, signals.item_error),
            (spider._item_scraped, signals.item_scraped),
            (spider._stored, articles_stored),
            (spider._closed, signals.spider_closed),
        ):
            crawler.signals.connect(handler, signal=signal)
        return spider

    progress_line = staticmethod(progress_line)

    # Reading ---------------------------------------------------------------------------------

    def _reader(self, events: queue.Queue) -> None:
        """The reading thread: every file's events into `events`, READ_BATCH at a time (one
        hand-over between threads a record costs more than reading it), then _END."""
        max_size = self.settings.getint("DOWNLOAD_MAXSIZE") or (8 << 20)
        for location in self.files:
            batch: list[tuple[str, Any]] = []
            try:
                for event in read_warc(location, self.resume.get(location, 0), max_size):
                    batch.append((location, event))
                    if len(batch) >= READ_BATCH:
                        if not self._put(events, batch):
                            return
                        batch = []
                batch.append((location, None))
            except BaseException as error:  # noqa: BLE001 - cannot open it, the connection broke,
                # or the parser gave up (fastwarc's panics are BaseExceptions): the file is
                # reported as not read to its end, never silently.
                failure = error if isinstance(error, OSError) else OSError(f"{location}: {error}")
                batch.append((location, failure))
            if not self._put(events, batch):
                return
        self._put(events, [(None, _END)])

    @staticmethod
    def _wait(events: queue.Queue) -> Any:
        # Never blocks for long: a thread stuck in get() would hold up the interpreter's exit.
        try:
            return events.get(timeout=0.5)
        except queue.Empty:
            return None

    def _put(self, events: queue.Queue, value: Any) -> bool:
        """Queue one batch of events, waiting for room; False once the spider stopped reading."""
        while not self.stop_reading.is_set():
            try:
                events.put(value, timeout=0.2)
            except queue.Full:
                continue
            return True
        return False

    async def start(self) -> AsyncIterator[Any]:
        self.charset = CharsetMiddleware(self.crawler)  # labels checked as in a crawl
        # A few batches of records (with their bodies) read ahead: memory stays flat.
        events: queue.Queue = queue.Queue(maxsize=READ_AHEAD // READ_BATCH)
        thread = threading.Thread(target=self._reader, args=(events,), daemon=True)
        thread.start()
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    batch = events.get_nowait()
                except queue.Empty:
                    batch = await loop.run_in_executor(None, self._wait, events)
                    if batch is None:  # nothing yet: go on waiting while the reader reads
                        if thread.is_alive() or not events.empty():
                            continue
                        return
                for location, event in batch:
                    if event is _END:
                        return
                    item = self._handle(location, event)
                    if item is not None:
                        yield item
                    while self.processing >= self.max_processing:
                        self.wake.clear()
                        await self.wake.wait()
                    self._checkpoint()
        finally:
            self.stop_reading.set()

    def _handle(self, location: str, event: Any) -> PageItem | None:
        """Count one reader event; the item to hand to the pipelines, if any."""
        stats = self.crawler.stats
        if event is None:  # read to its end
            self.finished.add(location)
            stats.inc_value(FILES_DONE)
            self._checkpoint(force=True)
            return None
        if isinstance(event, OSError):
            stats.inc_value(ERRORS_PREFIX + "warc_unreadable")
            unfinished = stats.get_value(UNFINISHED) or []
            stats.set_value(UNFINISHED, [*unfinished, str(event)])
            self.logger.error("cannot read %s: %s", location, event)
            self._checkpoint(force=True)
            return None
        stats.inc_value(RECORDS)
        self.read_to[location] = event.offset + 1  # at least past this record's start
        if isinstance(event, Skipped):
            self._skipped(event)
            return None
        if not self._wanted(event):
            return None
        source = self._source_of(event)
        if self.source_names and source not in self.source_names:
            stats.inc_value(OUT_OF_SCOPE_PREFIX + "source")
            return None
        stats.inc_value(PAGES)
        stats.inc_value(BYTES, len(event.body))
        stats.inc_value(SOURCE_PAGES.format(source))
        response = self._response(event)
        if not self._is_candidate(event, response):
            stats.inc_value(OUT_OF_SCOPE_PREFIX + "index_page")
            return None
        item = self._page(event, response, source)
        key = (location, event.offset)
        self.inflight[key] += 1
        self.by_key[(item.url, item.fetched_at)].append(key)
        self.processing += 1
        return item

    def _skipped(self, event: Skipped) -> None:
        stats = self.crawler.stats
        if event.location and event.url and 300 <= event.status < 400:
            target = urljoin(event.url, event.location)
            self.redirects[target] = self.redirects.get(event.url, event.url)
        if event.error:
            kind = event.kind if event.kind.startswith("http_") else "warc_" + event.kind
            stats.inc_value(ERRORS_PREFIX + kind)
            self.logger.warning("%s at offset %d: %s %s", kind, event.offset, event.url,
                                event.message)  # fmt: skip
        else:
            kind = "redirect" if 300 <= event.status < 400 else event.kind
            stats.inc_value(OUT_OF_SCOPE_PREFIX + kind)

    def _wanted(self, capture: Capture) -> bool:
        stats = self.crawler.stats
        if self.domains and not in_domains(capture.url, self.domains):
            stats.inc_value(OUT_OF_SCOPE_PREFIX + "domain")
            return False
        if (self.since and capture.date < self.since) or (
            self.until and capture.date[: len(self.until)] > self.until
        ):
            stats.inc_value(OUT_OF_SCOPE_PREFIX + "date")
            return False
        return True

    def _source_of(self, capture: Capture) -> str:
        if capture.source:
            return capture.source
        for source in self.sources.values():
            if in_domains(capture.url, source.allowed_domains):
                return source.name
        return url_domain(capture.url)

    @staticmethod
    def _is_candidate(capture: Capture, response: Response) -> bool:
        """Whether the crawl that wrote the record took it for an article (then it is
        judged as that crawl did); a record of any other crawler always is."""
        if capture.kind in ("feed", "sitemap", "frontpage"):
            return False
        if capture.kind in ("page", "url") and isinstance(response, TextResponse):
            return is_article_page(response)
        return True

    def _response(self, capture: Capture) -> Response:
        headers = Headers(capture.headers)
        headers.pop(b"Content-Encoding", None)  # the reader decoded the payload
        cls = responsetypes.from_args(headers=headers, url=capture.url, body=capture.body)
        request = Request(capture.url)
        response = cls(
            url=capture.url,
            status=capture.status,
            headers=headers,
            body=capture.body,
            request=request,
            protocol=capture.protocol,
        )
        return self.charset.process_response(request, response)

    def _page(self, capture: Capture, response: Response, source: str) -> PageItem:
        # The page's own date first; else the feed's or sitemap's (a crawl's WARC says), else
        # the capture's date (published_source "warc").
        hints = {**capture.hints, "captured": capture.date}
        defined = self.sources.get(source)
        return page_from_response(
            response,
            source,
            defined.drop_selectors if defined else (),
            fetched_at=capture.date,
            requested_url=self.redirects.pop(capture.url, capture.url),
            hints=hints,
        )

    # Knowing what is done ------------------------------------------------------------------

    def _release(self) -> None:
        self.processing = max(0, self.processing - 1)
        self.wake.set()

    def _item_scraped(self, item: Any) -> None:
        self._release()  # stored only once its batch is committed (`_stored`)
        if not isinstance(item, ArticleItem):
            self._done(item)

    def _item_done(self, item: Any) -> None:
        self._release()
        self._done(item)

    def _stored(self, items: list) -> None:
        for item in items:
            self._done(item)
        # Each committed batch is a checkpoint: what is stored and what the file's row says is
        # done then never drift apart by more than the batch in hand (a kill loses no progress).
        self._checkpoint(force=True)

    def _done(self, item: Any) -> None:
        url = item.fetched_url if isinstance(item, ArticleItem) else getattr(item, "url", "")
        keys = self.by_key.get((url, getattr(item, "fetched_at", "")))
        if not keys:
            return
        key = keys.popleft()
        if not keys:
            del self.by_key[(url, item.fetched_at)]
        self.inflight[key] -= 1
        if self.inflight[key] <= 0:
            del self.inflight[key]

    def _checkpoint(self, force: bool = False) -> None:
        """Report, at most every second (or now), how far each file is done."""
        now = time.monotonic()
        if self.on_checkpoint is None or (
            not force and now - self.last_checkpoint < CHECKPOINT_SECONDS
        ):
            return
        self.last_checkpoint = now
        pending: dict[str, int] = {}
        for location, offset in self.inflight:
            pending[location] = min(offset, pending.get(location, offset))
        for location, read in self.read_to.items():
            if location in pending:
                self.on_checkpoint(location, pending[location], False)
            elif location in self.finished:
                self.on_checkpoint(location, read, True)
            else:
                # Nothing in flight: every record read is done; the last one may be re-read.
                self.on_checkpoint(location, read - 1, False)
        for location in self.finished - set(self.read_to):  # files with no record at all
            self.on_checkpoint(location, self.resume.get(location, 0), True)
            self.read_to[location] = self.resume.get(location, 0)

    def _closed(self, spider: Spider) -> None:
        self.stop_reading.set()
        self._checkpoint(force=True)


# The engine ---------------------------------------------------------------------------------


class ImportEngine:
    """What an import needs of Scrapy's ExecutionEngine: open the spider, send every item its
    `start()` yields through the item processor (ITEM_PROCESSOR, i.e. ITEM_PIPELINES) with the
    signals and log lines of Scrapy's scraper, and close the spider when the items run out, on a
    graceful stop (Ctrl-C, SIGTERM: the items in hand are finished first), or when a component
    asks (`close_spider_async`, e.g. the storage pipeline on a failed write).

    Implements the part of ExecutionEngine's interface that Crawler and the components use:
    `open_spider_async`, `start_async`, `stop_async`, `close_async`, `close_spider_async`,
    `running` and `spider`. How many items are in flight is the spider's to bound (its `start()`
    waits for room), as Scrapy leaves it to the scraper slot.
    """

    def __init__(self, crawler: Crawler, spider_closed_callback: Callable[[Spider], Any]):
        self.crawler = crawler
        self.signals = crawler.signals
        self.logformatter = crawler.logformatter
        self.itemproc = build_from_crawler(load_object(crawler.settings["ITEM_PROCESSOR"]), crawler)
        self.spider: Spider | None = None
        self.running = False
        self.active: set[asyncio.Task] = set()  # items in the pipelines
        self._feeding: asyncio.Task | None = None
        self._closing: asyncio.Future | None = None
        self._stopped: asyncio.Future | None = None
        self._spider_closed_callback = spider_closed_callback

    async def open_spider_async(self) -> None:
        """Open the pipelines (the storage pipeline records the run, or asks to close: then
        CloseSpider is raised once everything is open, as Scrapy's engine does)."""
        self.spider = self.crawler.spider
        logger.info("Spider opened", extra={"spider": self.spider})
        refused: CloseSpider | None = None
        try:
            await self.itemproc.open_spider_async()
        except CloseSpider as error:
            refused = error
        self.crawler.stats.open_spider()
        await self.signals.send_catch_log_async(signals.spider_opened, spider=self.spider)
        if refused is not None:
            raise refused

    async def start_async(self) -> None:
        """Feed the spider's items to the pipelines; complete once the engine has stopped."""
        self._stopped = asyncio.get_running_loop().create_future()
        self.running = True
        await self.signals.send_catch_log_async(signal=signals.engine_started)
        self._feeding = asyncio.ensure_future(self._feed())
        try:
            reason = await self._feeding
        except asyncio.CancelledError:
            pass  # stopped or closed meanwhile: that closes the spider
        else:
            await self.close_spider_async(reason=reason)
        await self._stopped

    async def _feed(self) -> str:
        """Every item of `spider.start()` into the pipelines; the reason to close with."""
        assert self.spider is not None
        try:
            async for item in self.spider.start():
                task = asyncio.ensure_future(self._process(item))
                self.active.add(task)
                task.add_done_callback(self.active.discard)
        except CloseSpider as error:
            return error.reason or "cancelled"
        except Exception as error:  # noqa: BLE001 - the run says it failed, with the log's why
            logger.error("Error while reading start items: %s", error, exc_info=True)
            return "start_error"
        return "finished"

    async def _process(self, item: Any) -> None:
        """One item through the pipelines, ending as Scrapy's scraper ends it: dropped, failed
        (logged with its traceback) or scraped, with the matching signal."""
        spider = self.spider
        try:
            output = await self.itemproc.process_item_async(item)
        except DropItem as error:
            logkws = self.logformatter.dropped(item, error, None, spider)
            if logkws is not None:
                logger.log(*logformatter_adapter(logkws), extra={"spider": spider})
            self.signals.send_catch_log(signals.item_dropped, item=item, response=None,
                                        spider=spider, exception=error)  # fmt: skip
        except Exception as error:  # noqa: BLE001 - counted (ErrorCounter), the run goes on
            logkws = self.logformatter.item_error(item, error, None, spider)
            logger.log(*logformatter_adapter(logkws), extra={"spider": spider}, exc_info=True)
            self.signals.send_catch_log(signals.item_error, item=item, response=None,
                                        spider=spider, failure=Failure())  # fmt: skip
        else:
            logkws = self.logformatter.scraped(output, None, spider)
            if logkws is not None:
                logger.log(*logformatter_adapter(logkws), extra={"spider": spider})
            self.signals.send_catch_log(signals.item_scraped, item=output, response=None,
                                        spider=spider)  # fmt: skip

    async def close_spider_async(self, *, reason: str = "cancelled") -> None:
        """Stop feeding, let the items in hand through, close the pipelines (the last batch is
        written, the run's end recorded) and the spider."""
        if self._closing is not None:
            await asyncio.shield(self._closing)
            return
        self._closing = asyncio.get_running_loop().create_future()
        spider = self.spider
        logger.info("Closing spider (%(reason)s)", {"reason": reason}, extra={"spider": spider})
        if self._feeding is not None and self._feeding is not asyncio.current_task():
            self._feeding.cancel()
        while self.active:
            await asyncio.wait(list(self.active))
        for what, step in (
            ("Item pipelines", self.itemproc.close_spider_async),
            (
                "spider_closed",
                lambda: self.signals.send_catch_log_async(
                    signal=signals.spider_closed, spider=spider, reason=reason
                ),
            ),  # fmt: skip
        ):
            try:
                await step()
            except Exception:  # noqa: BLE001 - the rest of the closing must run
                logger.error("%s close failure", what, exc_info=True, extra={"spider": spider})
        self.crawler.stats.close_spider(reason=reason)
        logger.info("Spider closed (%(reason)s)", {"reason": reason}, extra={"spider": spider})
        self.spider = None
        self._closing.set_result(None)
        await ensure_awaitable(self._spider_closed_callback(spider))

    async def stop_async(self) -> None:
        """Stop gracefully: close the spider (reason "shutdown") unless it is closed already."""
        if not self.running:
            return
        self.running = False
        if self.spider is not None:
            await self.close_spider_async(reason="shutdown")
        await self.signals.send_catch_log_async(signal=signals.engine_stopped)
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(None)

    async def close_async(self, *, reason: str = "shutdown") -> None:
        """Stop if started; else close the spider (a run whose pipelines could not open)."""
        if self.running:
            await self.stop_async()
        elif self.spider is not None:
            await self.close_spider_async(reason=reason)


class ImportCrawler(Crawler):
    """A Scrapy crawler whose engine is ImportEngine (see the module doc)."""

    def _create_engine(self) -> ImportEngine:  # type: ignore[override]
        return ImportEngine(self, lambda _: self.stop_async())
