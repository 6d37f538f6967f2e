"""Per-site concurrency that holds: Scrapy's downloader with one fix.

Scrapy 2.19 starts each download as an asyncio task and counts the request as "transferring"
only once that task runs, on the next turn of the event loop. A site's queue is drained in a
loop that checks the free transfer slots before any of those tasks has run, so a site without
a download delay got every queued request at once, whatever CONCURRENT_REQUESTS_PER_DOMAIN said
(tests/test_hostile_politeness.py saw 8 requests in flight with a limit of 2). Here a request
counts as transferring from the moment it leaves the queue.
"""

from __future__ import annotations

from time import monotonic

from scrapy.core.downloader import Downloader, Slot
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro


class PoliteDownloader(Downloader):
    """Scrapy's Downloader whose per-slot concurrency limit holds (setting DOWNLOADER)."""

    def _process_queue(self, slot: Slot) -> None:
        # Scrapy 2.19's Downloader._process_queue, but for the line marked "the fix".
        if slot.latercall:
            return  # a delayed call will process the queue
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # the fix; _download adds it again, and removes it
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:  # one request per delay: no bursts
                self._process_queue(slot)
                break
