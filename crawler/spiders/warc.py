"""The WARC import spider: archived HTTP responses instead of downloads, fed through the crawl's
own item pipelines (extraction pool, validation, dedup, batched storage, `crawl_runs` row).

Nothing is fetched: `start()` yields one PageItem per HTML-or-not 2xx response record, read by a
thread (`crawler.warc.reader`) so that reading and inflating a file, or waiting on a URL, never
holds up the pool. Records that are no responses, HTTP errors and damage are counted by kind:
what is skipped on purpose under `newsarchive/out_of_scope/<kind>`, what is wrong under
`newsarchive/errors/warc_<kind>` (or `http_<status>`, as a crawl names them).

Resuming: a record is done once its article is committed (the storage pipeline's
`articles_stored` signal) or it was dropped. `on_checkpoint(location, offset, completed)` is
called with the offset before which every record of the file is done, so that reading again
from there loses nothing.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urljoin

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Headers, Response, TextResponse
from scrapy.responsetypes import responsetypes

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
_END = object()

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
    """Imports WARC files (`files`: local paths or http(s) URLs) into the archive.

    `sources` names the records: a record a newsarchive crawl wrote says its source; others
    belong to the first source whose allowed_domains hold their host, else to their domain.
    Filters: `source_names`, `domains`, `since`/`until` (on WARC-Date, ISO). `resume` maps a
    location to the offset to start reading at.
    """

    name = "warc_import"
    custom_settings = {"ROBOTSTXT_OBEY": False}

    def __init__(
        self,
        files: Sequence[str] | str = (),
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
        self.files = [f for f in files.split(",") if f] if isinstance(files, str) else list(files)
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
        """The reading thread: every file's events into `events`, then _END."""
        max_size = self.settings.getint("DOWNLOAD_MAXSIZE") or (8 << 20)
        for location in self.files:
            try:
                for event in read_warc(location, self.resume.get(location, 0), max_size):
                    if not self._put(events, (location, event)):
                        return
                if not self._put(events, (location, None)):
                    return
            except Exception as error:  # noqa: BLE001 - cannot open it, the connection broke...
                failure = error if isinstance(error, OSError) else OSError(f"{location}: {error}")
                if not self._put(events, (location, failure)):
                    return
        self._put(events, (None, _END))

    @staticmethod
    def _wait(events: queue.Queue) -> Any:
        # Never blocks for long: a thread stuck in get() would hold up the interpreter's exit.
        try:
            return events.get(timeout=0.5)
        except queue.Empty:
            return None

    def _put(self, events: queue.Queue, value: Any) -> bool:
        """Queue one event, waiting for room; False once the spider stopped reading."""
        while not self.stop_reading.is_set():
            try:
                events.put(value, timeout=0.2)
            except queue.Full:
                continue
            return True
        return False

    async def start(self) -> AsyncIterator[Any]:
        self.charset = CharsetMiddleware(self.crawler)  # labels checked as in a crawl
        events: queue.Queue = queue.Queue(maxsize=64)  # bodies: memory stays flat
        thread = threading.Thread(target=self._reader, args=(events,), daemon=True)
        thread.start()
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    location, event = events.get_nowait()
                except queue.Empty:
                    got = await loop.run_in_executor(None, self._wait, events)
                    if got is None:  # nothing yet: go on waiting while the reader reads
                        if thread.is_alive() or not events.empty():
                            continue
                        return
                    location, event = got
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
        self._finish_closing()

    def _finish_closing(self, tries: int = 50) -> None:
        # Scrapy 2.19 checks whether a closing scraper is idle only when a response is done,
        # never after an item from start(): on Ctrl-C/SIGTERM mid-import the spider would wait
        # for ever. So once it closes, check it here until the last item is through.
        scraper = self.crawler.engine.scraper if self.crawler.engine else None
        slot = getattr(scraper, "slot", None)
        if slot is None or slot.closing is None or slot.closing.called:
            return
        if slot.is_idle():
            scraper._check_if_closing()
        elif tries:
            asyncio.get_running_loop().call_later(0.2, self._finish_closing, tries - 1)

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
        if self.on_checkpoint is None or (not force and now - self.last_checkpoint < 1.0):
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
