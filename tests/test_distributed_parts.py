"""The parts of a distributed crawl against a real redis-server: leases, serialization,
runs, and the ingester's exactly-once storage across a crash."""

import json
import time

import pytest
from scrapy import Request

from crawler.distributed import messages
from crawler.distributed.archive_index import decode_entry, encode_entry, index_field
from crawler.distributed.frontier import Frontier
from crawler.distributed.keys import Keys
from crawler.distributed.liveness import Liveness
from crawler.distributed.politeness import HostSlots
from crawler.distributed.redis_runs import RunInProgress, current_run, start_run
from crawler.distributed.serializer import dumps, loads
from crawler.items import ArticleItem
from crawler.sources import Source, Target
from crawler.spiders.news import NewsSpider
from newsarchive.ingest import INGESTED, Ingester
from pipelines.archive.schema import open_archive
from pipelines.article.fingerprints import content_hash, simhash

KEYS = Keys("t")


def test_requests_survive_the_json_serializer():
    spider = NewsSpider(sources=[Source("s", ("example.com",), feeds=("http://example.com/f",))])
    request = Request(
        "http://example.com/a",
        callback=spider.parse_article,
        errback=spider.on_error,
        headers={"If-None-Match": '"abc"'},
        body=b"\x00\xff",
        meta={"source": "s", "kind": "article", "hints": {"title": "Ünïcode"}, "n": [1, 2]},
        priority=3,
    )
    data = dumps(request.to_dict(spider=spider))
    assert b"pickle" not in data and data.startswith(b"{")
    back = Request.from_dict(loads(data), spider=spider) if hasattr(Request, "from_dict") else None
    if back is None:
        from scrapy.utils.request import request_from_dict

        back = request_from_dict(loads(data), spider=spider)
    assert back.callback == spider.parse_article and back.errback == spider.on_error
    assert back.body == b"\x00\xff" and back.headers[b"If-None-Match"] == b'"abc"'
    assert back.meta == request.meta and back.priority == 3
    with pytest.raises(TypeError, match="cannot put"):
        dumps({"meta": {"x": object()}})


def test_queued_requests_leave_out_default_arguments_and_get_them_back():
    from scrapy.utils.request import request_from_dict

    spider = NewsSpider(sources=[Source("s", ("example.com",), feeds=("http://example.com/f",))])
    request = Request("http://example.com/a", callback=spider.parse_article, meta={"source": "s"})
    data = dumps(request.to_dict(spider=spider))
    assert json.loads(data) == {
        "url": "http://example.com/a", "callback": "parse_article", "meta": {"source": "s"},
    }  # fmt: skip
    back = request_from_dict(loads(data), spider=spider)
    assert back.to_dict(spider=spider) == request.to_dict(spider=spider)


def test_the_archive_index_entry_keeps_the_validators_in_little_room():
    entry = encode_entry("2025-03-14T09:00:00Z", '"5f3a"', "Fri, 14 Mar 2025 09:00:00 GMT", 7)
    assert len(entry) == 12 + len('"5f3a"') and len(index_field("example.com/a")) == 12
    assert decode_entry(entry) == (
        "2025-03-14T09:00:00Z", '"5f3a"', "Fri, 14 Mar 2025 09:00:00 GMT", 7,
    )  # fmt: skip
    # An unreadable Last-Modified is dropped (the page is re-fetched without it), never kept wrong.
    assert decode_entry(encode_entry("2025-03-14T09:00:00Z", None, "soon", None)) == (
        "2025-03-14T09:00:00Z", None, None, None,
    )  # fmt: skip
    assert index_field("example.com/a") != index_field("example.com/b")


def test_leases_are_acknowledged_renewed_or_requeued(redis_client):
    frontier = Frontier(redis_client, KEYS, lease_seconds=0.5, max_deliveries=1)
    frontier.push([("a", -1, b"first"), ("a", 0, b"second"), ("a", 0, b"third")])
    lease1, data1, _ = frontier.pop("w1")
    lease2, data2, _ = frontier.pop("w1")
    assert data1 == b"first"  # the most urgent first, as scrapy-redis's priority queue
    assert frontier.counts()["queued"] == 1 and frontier.counts()["leased"] == 2
    assert frontier.lease_owners() == {lease1: "w1", lease2: "w1"}
    frontier.ack([lease1])
    assert frontier.reap() == (0, 0)  # nothing expired yet
    time.sleep(0.3)
    assert frontier.renew([lease1, lease2]) == [lease1]  # lease1 is gone: acknowledged
    time.sleep(0.3)
    assert frontier.reap() == (0, 0)  # renewed: lease2 is still alive
    time.sleep(0.4)
    assert frontier.reap() == (1, 0)  # its worker stopped renewing: back on the queue
    assert frontier.counts() == {"queued": 2, "leased": 0, "to_store": 0, "dead": 0}
    again = [frontier.pop("w2"), frontier.pop("w2")]
    assert sorted(data for _, data, _ in again) == [b"second", b"third"]
    assert frontier.pop("w2") is None
    time.sleep(0.6)
    # "second" was re-queued once already: the next expiry gives up on it.
    assert frontier.reap() == (1, 1)
    assert redis_client.lrange(KEYS.dead, 0, -1) == [data2]


def test_release_puts_requests_back_at_once(redis_client):
    frontier = Frontier(redis_client, KEYS, lease_seconds=60)
    frontier.push([("a", 0, b"r")])
    lease, _, _ = frontier.pop("w")
    assert frontier.release([lease]) == 1
    assert frontier.pop("w")[1] == b"r"


def test_requests_are_taken_site_by_site_in_turn(redis_client):
    frontier = Frontier(redis_client, KEYS, download_delay=1.0)
    frontier.push([("a", 0, f"a{n}".encode()) for n in range(4)])  # one site's backlog first
    frontier.push([("b", 0, b"b0"), ("c", 0, b"c0"), ("c", -1, b"c-urgent")])
    assert frontier.queued() == 7
    taken = [frontier.pop("w") for _ in range(7)]
    # One request of every site before a second of any; each site in its own priority order.
    assert [data for _, data, _ in taken] == [b"a0", b"b0", b"c-urgent", b"a1", b"c0", b"a2", b"a3"]
    assert frontier.pop("w") is None and frontier.queued() == 0
    assert redis_client.zcard(KEYS.sites) == 0  # no turn for a site without requests
    # A request given back goes back to its own site's queue.
    assert frontier.release([taken[4][0]]) == 1
    assert frontier.queued() == 1 and redis_client.zrange(KEYS.site_queue("c"), 0, -1) == [b"c0"]


def test_a_queue_left_by_an_earlier_version_goes_into_site_queues(redis_client):
    old = {dumps({"url": f"http://{host}/a"}): 0 for host in ("a.example", "b.example")}
    old[dumps({"url": "http://c.example/x", "meta": {"download_slot": "c"}})] = -1
    redis_client.zadd(KEYS.unpartitioned_requests, old)
    frontier = Frontier(redis_client, KEYS)
    assert frontier.adopt_unpartitioned_queue() == 3
    assert not redis_client.exists(KEYS.unpartitioned_requests) and frontier.queued() == 3
    assert sorted(redis_client.zrange(KEYS.sites, 0, -1)) == [b"a.example", b"b.example", b"c"]
    assert redis_client.zrange(KEYS.site_queue("c"), 0, -1, withscores=True)[0][1] == -1


def test_a_sites_crawl_delay_moves_its_turn(redis_client):
    frontier = Frontier(redis_client, KEYS)
    HostSlots(redis_client, KEYS).set_crawl_delay("slow", 100)
    frontier.push([("slow", 0, b"s0"), ("slow", 0, b"s1")])
    frontier.push([("fast", 0, f"f{n}".encode()) for n in range(3)])
    taken = [frontier.pop("w")[1] for _ in range(5)]
    assert taken == [b"s0", b"f0", b"f1", b"f2", b"s1"]  # the slow site waits for its turn


def test_one_run_at_a_time(redis_client):
    source = Source("s", ("example.com",), feeds=("http://example.com/f",))
    target = Target("feed", "http://example.com/f", "s")
    run = start_run(redis_client, KEYS, [source], [target], [("fp", "example.com", b"req", 0)])
    assert run["id"] == "1" and run["state"] == "running"
    assert run["sources"][0]["name"] == "s" and run["targets"] == [json.loads(json.dumps(
        {"kind": "feed", "url": "http://example.com/f", "source": "s"}))]  # fmt: skip
    with pytest.raises(RunInProgress, match="run 1 is still in progress"):
        start_run(redis_client, KEYS, [source], [target], [])
    assert Frontier(redis_client, KEYS).queued() == 1


def _article(n: int) -> ArticleItem:
    text = f"Article number {n}. " + " ".join(f"word{n}x{i}" for i in range(120))
    return ArticleItem(
        url=f"http://example.com/a/{n}",
        source="s",
        text=text,
        title=f"Title {n}",
        fetched_url=f"http://example.com/a/{n}",
        fetched_at="2026-01-01T00:00:00Z",
        content_hash=content_hash(text),
        simhash=simhash(text),
        word_count=len(text.split()),
        html=f"<html><p>{text}</p></html>".encode(),
    )


def _push(client, run_id: str, message: dict, n: int) -> None:
    message.update(id=f"w:{n}", worker="w", run=run_id)
    client.lpush(KEYS.items, messages.encode(message))


class Crash(Exception):
    pass


class DiesAfterCommit(Ingester):
    """An ingester that dies right after committing a batch, before Redis hears of it."""

    def _remove(self, raws):
        raise Crash


def test_ingester_restart_stores_each_message_exactly_once(redis_client, tmp_path):
    db_path = str(tmp_path / "archive.db")
    run = start_run(redis_client, KEYS, [], [], [])
    for n in range(5):
        _push(redis_client, run["id"], messages.article_message(_article(n)), n)
    _push(redis_client, run["id"], messages.stats_message({"response_received_count": 5}), 99)

    first = DiesAfterCommit(redis_client, KEYS, db_path, batch_size=4, wait_seconds=0.1)
    first.open()
    with pytest.raises(Crash):
        first.run_forever(once=True)
    first.close()
    assert redis_client.llen(KEYS.processing) == 4
    assert open_archive(db_path)["articles"].count == 4

    second = Ingester(redis_client, KEYS, db_path, batch_size=4, wait_seconds=0.1)
    second.open()  # recovers: the 4 committed messages are dropped, not stored again
    assert redis_client.llen(KEYS.processing) == 0
    row = second.run_forever(once=True)
    second.close()
    assert row["status"] == "completed"
    assert row["articles_new"] == 5 and row["articles_unchanged"] == 0
    assert row["pages_fetched"] == 5
    stats = json.loads(row["stats"])
    assert stats["newsarchive/workers/w/articles"] == 5
    db = open_archive(db_path)
    assert db["articles"].count == 5
    assert db[INGESTED].count <= 4  # never more than the last batch
    db.close()
    assert current_run(redis_client, KEYS)["state"] == "done"
    assert current_run(redis_client, KEYS)["result"]["articles_new"] == 5
    # The archive's URLs are published for workers' incremental crawling.
    assert redis_client.hlen(KEYS.archived) == 5


def test_ingester_stores_what_a_dead_ingester_took_but_never_committed(redis_client, tmp_path):
    db_path = str(tmp_path / "archive.db")
    run = start_run(redis_client, KEYS, [], [], [])
    for n in range(3):
        _push(redis_client, run["id"], messages.article_message(_article(n)), n)
    first = Ingester(redis_client, KEYS, db_path, wait_seconds=0.1)
    first.open()
    assert len(first.take()) == 3  # taken, then the process dies
    first.close()
    second = Ingester(redis_client, KEYS, db_path, wait_seconds=0.1)
    second.open()
    row = second.run_forever(once=True)
    second.close()
    assert row["articles_new"] == 3


def test_unreadable_messages_are_set_aside(redis_client, tmp_path):
    run = start_run(redis_client, KEYS, [], [], [])
    redis_client.lpush(KEYS.items, b"not json")
    _push(redis_client, run["id"], messages.article_message(_article(1)), 1)
    ingester = Ingester(redis_client, KEYS, str(tmp_path / "a.db"), wait_seconds=0.1)
    ingester.open()
    row = ingester.run_forever(once=True)
    ingester.close()
    assert row["articles_new"] == 1
    assert redis_client.lrange(KEYS.dead, 0, -1) == [b"not json"]


def test_a_site_hold_limits_the_cluster_and_a_dead_workers_hold_expires(redis_client):
    hosts = HostSlots(redis_client, KEYS)
    first = hosts.acquire("site", "w1:1", limit=1, delay=0, seconds=0.5)
    assert first.granted
    assert hosts.acquire("site", "w2:1", limit=1, delay=0, seconds=0.5).outcome == "full"
    assert hosts.acquire("other", "w2:2", limit=1, delay=0, seconds=0.5).granted  # not shared
    time.sleep(0.6)  # w1 died holding it: its hold expires
    assert hosts.acquire("site", "w2:3", limit=1, delay=0, seconds=5).granted
    hosts.release("site", "w2:3")
    assert hosts.in_flight("site") == 0


def test_a_sites_clock_spaces_starts_by_the_longest_delay(redis_client):
    hosts = HostSlots(redis_client, KEYS)
    assert hosts.acquire("site", "a", limit=4, delay=0.4, seconds=5).granted
    wait = hosts.acquire("site", "b", limit=4, delay=0.4, seconds=5)
    assert wait.outcome == "wait" and 0.3 < wait.seconds <= 0.4
    time.sleep(wait.seconds)
    hosts.set_crawl_delay("site", 1.0)  # robots.txt asks for more than DOWNLOAD_DELAY
    assert hosts.acquire("site", "b", limit=4, delay=0.4, seconds=5).seconds == 1.0
    assert 0.9 < hosts.acquire("site", "c", limit=4, delay=0.4, seconds=5).seconds <= 1.0
    hosts.release("site", "a", delay=2.5)  # AutoThrottle's estimate, for every worker
    assert hosts.acquire("site", "c", limit=4, delay=0, seconds=5).shared_delay == 2.5


def test_the_page_budget_is_shared_and_stops_the_run(redis_client):
    start_run(redis_client, KEYS, [], [], [("fp", "example.com", b"queued", 0)], max_pages=3)
    hosts = HostSlots(redis_client, KEYS)
    grants = [hosts.acquire(f"site{n}", str(n), 2, 0, 5).outcome for n in range(5)]
    assert grants == ["ok", "ok", "ok", "stop", "stop"]
    assert hosts.acquire("site9", "robots", 2, 0, 5, counts=False).granted  # robots.txt
    assert current_run(redis_client, KEYS)["stop"] == "closespider_pagecount"
    frontier = Frontier(redis_client, KEYS)
    assert frontier.pop("w") is None  # nothing more is taken
    assert frontier.drained() and frontier.counts()["queued"] == 0  # and the rest dropped


def test_a_run_stalls_when_no_worker_beats(redis_client):
    liveness = Liveness(redis_client, KEYS)
    start_run(redis_client, KEYS, [], [], [("fp", "example.com", b"queued", 0)])
    assert liveness.stall(0.3) is None  # just started
    time.sleep(0.4)
    stall = liveness.stall(0.3)
    assert stall is not None and stall.left == 1 and stall.run_id == "1"
    assert "run 1 stalled: 1 requests left and no worker alive since" in stall.message()
    liveness.beat("w1", held=0)
    assert liveness.stall(0.3) is None
    assert redis_client.hexists(KEYS.workers, "w1")
    liveness.leave("w1")
    assert not redis_client.hexists(KEYS.workers, "w1")
