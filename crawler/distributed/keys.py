"""The names of everything a distributed crawl keeps in Redis, under one namespace."""

from __future__ import annotations

import re

NAMESPACE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
DEFAULT_NAMESPACE = "newsarchive"


class Keys:
    """Redis key names of one namespace (one archive's crawls)."""

    def __init__(self, namespace: str = DEFAULT_NAMESPACE):
        if not NAMESPACE_PATTERN.match(namespace or ""):
            raise ValueError(f"bad Redis namespace {namespace!r} (letters, digits, _ . : -)")
        self.namespace = namespace
        prefix = namespace + ":"
        # The frontier, partitioned by site (download slot) so that a worker's downloader holds
        # many sites at once instead of one site's backlog: a sorted set of requests per site
        # (scrapy-redis's priority order), the ring of sites with requests queued (by when each
        # is next due), and how many requests are queued in all. The duplicate filter is
        # scrapy-redis's (a set).
        self.sites = prefix + "requests:sites"  # sorted set: slot by the time its turn comes
        self.queued = prefix + "requests:queued"  # counter: requests in every site queue
        self.site_queue_prefix = prefix + "requests:site:"
        self.unpartitioned_requests = prefix + "requests"  # the one queue of versions before
        self.dupefilter = prefix + "dupefilter"
        # Leases: requests a worker took and has not finished yet.
        self.leases = prefix + "leases"  # hash: lease id -> request as queued
        self.lease_info = prefix + "lease_info"  # hash: lease id -> "<score> <worker> <slot>"
        self.deadlines = prefix + "lease_deadlines"  # sorted set: lease id by expiry time
        self.lease_seq = prefix + "lease_seq"
        self.deliveries = prefix + "deliveries"  # hash: sha1 of request -> times re-queued
        self.dead = prefix + "dead"  # list: requests given up on after too many re-queues
        # Hand-off from workers to the ingester.
        self.items = prefix + "items"
        self.processing = prefix + "items:processing"
        self.ingester = prefix + "ingester"  # who drains this namespace, with a TTL
        # The run being crawled, and what the archive already holds.
        self.run = prefix + "run"  # hash: id, state, started, targets, sources, ...
        self.run_seq = prefix + "run_seq"
        self.archived = prefix + "archived"  # hash: url_key digest -> validators (archive_index)
        self.skipped = prefix + "skipped"  # set: archived URL keys this run skipped
        self.workers = prefix + "workers"  # hash: worker id -> last heartbeat (JSON)
        self.heartbeats = prefix + "heartbeats"  # sorted set: worker id by Redis time last seen
        # Politeness shared by every worker (crawler.distributed.politeness).
        self.robots = prefix + "robots"  # hash: netloc -> robots.txt body fetched this run
        self.pages = prefix + "pages"  # counter: downloads of this run, for its page budget
        self.host_prefix = prefix + "host:"
        self._prefix = prefix

    def site_queue(self, slot: str) -> str:
        """Sorted set of one site's queued requests, most urgent first."""
        return self.site_queue_prefix + slot

    def host(self, slot: str) -> str:
        """Hash of one site (download slot): its shared clock, AutoThrottle and Crawl-delay."""
        return self.host_prefix + slot

    def host_holds(self, slot: str) -> str:
        """Sorted set of one site's requests in flight, by the expiry of their hold."""
        return f"{self.host_prefix}{slot}:holds"

    def robots_claim(self, netloc: str) -> str:
        """Who fetches `netloc`'s robots.txt for the cluster (expires)."""
        return f"{self._prefix}robots:claim:{netloc}"

    def run_scoped(self) -> list[str]:
        """Keys that start empty with every run."""
        return [self.dupefilter, self.skipped, self.deliveries, self.robots, self.pages]
