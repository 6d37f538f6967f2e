"""WARC in and out: importing warcio-written files (with every kind of bad record), a crawl's
own WARC files imported into an empty archive, resuming a killed import, and exports."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from bench.crawl_site import build_site
from crawler.settings import ITEM_PIPELINES
from crawler.warc.reader import Capture, read_warc
from tests.conftest import FAST, ONE_WORKER, ROOT, query, run_cli

SITE = "https://news.example.com"
# Exact counts are asserted: no page may miss extraction's time budget on a busy machine.
PATIENT = ("-s", "NEWSARCHIVE_EXTRACTION_TIMEOUT=300")
WARC_DATE = "2024-06-01T08:30:00Z"


def article_pages(count: int) -> list[tuple[str, bytes]]:
    """(URL, HTML) of `count` distinct generated article pages (the benchmark's generator)."""
    site = build_site(count, page_kb=0)
    return [(SITE + path, site.resources[path].body_for(SITE)) for path in site.article_paths]


def undated_page() -> bytes:
    words = " ".join(f"word{n} of an undated story" for n in range(40))
    return (
        f"<html><head><title>An undated story</title></head><body><article><h1>An undated "
        f"story</h1><p>{words}.</p><p>{words} again.</p></article></body></html>"
    ).encode()


class Warc:
    """A WARC file written with warcio, record by record."""

    def __init__(self, path: Path, gzipped: bool = True):
        self.path = path
        self.stream = open(path, "wb")  # noqa: SIM115
        self.writer = WARCWriter(self.stream, gzip=gzipped, warc_version="1.1")
        self.offsets: list[int] = []

    def response(self, url, body, status="200 OK", headers=(("Content-Type", "text/html"),),
                 date=WARC_DATE, **kwargs):  # fmt: skip
        http = StatusAndHeaders(status, list(headers), protocol="HTTP/1.1")
        record = self.writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http,
            warc_headers_dict={"WARC-Date": date}, **kwargs,
        )  # fmt: skip
        self.write(record)
        return record

    def write(self, record) -> None:
        self.offsets.append(self.stream.tell())
        self.writer.write_record(record)

    def close(self) -> Path:
        self.stream.close()
        return self.path


def write_articles(path: Path, pages: list[tuple[str, bytes]]) -> Path:
    warc = Warc(path)
    warc.write(warc.writer.create_warcinfo_record(path.name, {"software": "tests"}))
    for url, html in pages:
        warc.response(url, html)
    return warc.close()


def run_import(*args: str, **kwargs):
    """`newsarchive import ARGS` with one extraction worker (the tests' files are small)."""
    return run_cli("import", *ONE_WORKER, *args, **kwargs)


def import_run(db: Path) -> dict:
    return query(db, "select * from crawl_runs order by id desc limit 1")[0]


@pytest.mark.slow
def test_import_archives_articles_and_is_idempotent(tmp_path):
    pages = article_pages(12)
    path = write_articles(tmp_path / "news.warc.gz", pages)
    db = tmp_path / "a.db"
    result = run_import(str(path), "--db", str(db), "--sources", str(tmp_path / "none"))
    assert result.returncode == 0, result.stderr
    assert "Import run 1 completed" in result.stdout
    rows = query(db, "select url, source, fetched_url, text from articles order by url")
    assert sorted(r["fetched_url"] for r in rows) == sorted(url for url, _ in pages)
    assert {r["source"] for r in rows} == {"news.example.com"}  # no sources file: the domain
    run = import_run(db)
    assert run["spider"] == "warc_import" and run["articles_new"] == 12
    assert json.loads(run["out_of_scope"]) == {"warcinfo": 1}
    assert query(db, "select count(*) as n from article_html")[0]["n"] == 12
    # Again: the file is known, nothing is read, no run is added.
    again = run_import(str(path), "--db", str(db), "--sources", str(tmp_path / "none"))
    assert again.returncode == 0, again.stderr
    assert "imported before" in again.stdout
    assert query(db, "select count(*) as n from crawl_runs")[0]["n"] == 1
    assert query(db, "select count(*) as n from articles")[0]["n"] == 12


@pytest.mark.slow
def test_every_kind_of_bad_record_is_counted_and_skipped(tmp_path):
    (url1, good1), (url2, good2), (url3, good3), (url4, good4) = article_pages(4)
    warc = Warc(tmp_path / "bad.warc.gz")
    warc.write(warc.writer.create_warcinfo_record("bad.warc.gz", {"software": "tests"}))
    first = warc.response(url1, good1)
    warc.write(warc.writer.create_warc_record(
        url1, "request", http_headers=StatusAndHeaders(
            "GET / HTTP/1.1", [("Host", "news.example.com")], is_http_request=True)))  # fmt: skip
    warc.write(warc.writer.create_warc_record(
        url1, "metadata", payload=io.BytesIO(b"via: x\n"),
        warc_content_type="application/warc-fields"))  # fmt: skip
    warc.write(warc.writer.create_revisit_record(
        url1, digest=first.rec_headers.get_header("WARC-Payload-Digest"),
        refers_to_uri=url1, refers_to_date=WARC_DATE))  # fmt: skip
    warc.response(
        SITE + "/report.pdf", b"%PDF-1.4 " * 50, headers=[("Content-Type", "application/pdf")]
    )
    warc.response(SITE + "/logo.png", b"\x89PNG\r\n" * 50, headers=[("Content-Type", "image/png")])
    warc.response(SITE + "/api.json", b'{"a": 1}', headers=[("Content-Type", "application/json")])
    warc.response(SITE + "/gone", b"<html>Not found</html>", status="404 Not Found")
    warc.response(SITE + "/broken", b"<html>Oops</html>", status="500 Internal Server Error")
    # Chunked, gzip-compressed, and UTF-8 labelled as Latin-1: all three archived.
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(good2[i:i + 900]), good2[i:i + 900])
                       for i in range(0, len(good2), 900)) + b"0\r\n\r\n"  # fmt: skip
    warc.response(url2, chunked, headers=[("Content-Type", "text/html; charset=utf-8"),
                                          ("Transfer-Encoding", "chunked")])  # fmt: skip
    warc.response(url3, gzip.compress(good3), headers=[("Content-Type", "text/html"),
                                                        ("Content-Encoding", "gzip")])  # fmt: skip
    latin = good4.replace(b"Reporting for", "Zürich café reporting for".encode(), 1)
    assert latin != good4
    warc.response(url4, latin, headers=[("Content-Type", "text/html; charset=iso-8859-1")])
    corrupt_at = warc.stream.tell()
    warc.response(SITE + "/corrupt", undated_page())
    undated = warc.response(SITE + "/undated", undated_page().replace(b"undated", b"dateless"))
    last = warc.stream.tell()
    warc.response(SITE + "/cut-off", good1.replace(b"<p>", b"<p>Cut ", 1))
    path = warc.close()
    data = bytearray(path.read_bytes())
    data[corrupt_at + 40 : corrupt_at + 90] = b"\x55" * 50  # inside the member's deflate data
    path.write_bytes(bytes(data[: last + 300]))  # the last record loses its end
    assert undated is not None

    db = tmp_path / "a.db"
    result = run_import(str(path), "--db", str(db), "--sources", str(tmp_path / "none"),
                     *PATIENT, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    run = import_run(db)
    assert run["status"] == "completed"
    errors = json.loads(run["error_kinds"])
    assert errors == {"http_404": 1, "http_5xx": 1, "warc_corrupt_gzip": 1, "warc_truncated": 1}
    skipped = json.loads(run["out_of_scope"])
    assert skipped == {"warcinfo": 1, "request": 1, "metadata": 1, "revisit": 1}
    assert json.loads(run["dropped"]) == {"not_html": 3}
    rows = {r["fetched_url"]: r for r in query(db, "select * from articles")}
    assert set(rows) == {url1, url2, url3, url4, SITE + "/undated"}
    assert "Zürich café" in rows[url4]["text"]
    # No date on the page: the capture's date, saying so.
    assert rows[SITE + "/undated"]["published"].startswith("2024-06-01T08:30")
    assert rows[SITE + "/undated"]["published_source"] == "warc"
    assert rows[url1]["published_source"] != "warc"


@pytest.mark.slow
def test_filters_keep_one_domain_and_a_date_range(tmp_path):
    pages = article_pages(6)
    warc = Warc(tmp_path / "mixed.warc")  # a plain, uncompressed WARC
    for n, (url, html) in enumerate(pages):
        host_url = url if n % 2 else url.replace("news.example.com", "other.example.org")
        warc.response(host_url, html, date=f"2024-06-0{n + 1}T10:00:00Z")
    path = warc.close()
    sources = tmp_path / "sources.toml"
    sources.write_text('[[sources]]\nname = "news"\nurls = ["https://news.example.com/"]\n')
    db = tmp_path / "a.db"
    window = ("--since", "2024-06-03", "--until", "2024-06-05")
    result = run_import(str(path), "--db", str(db), "--sources", str(sources),
                     "--source", "news", *window)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = query(db, "select source, fetched_url from articles")
    assert [r["source"] for r in rows] == ["news"]  # June 3-5, and of those only June 4 is news
    assert json.loads(import_run(db)["out_of_scope"]) == {"date": 3, "source": 2}
    by_domain = run_import(str(path), "--db", str(tmp_path / "b.db"),
                        "--domain", "other.example.org", "--sources", str(sources))  # fmt: skip
    assert by_domain.returncode == 0, by_domain.stderr
    assert query(tmp_path / "b.db", "select count(*) as n from articles")[0]["n"] == 3
    unknown = run_import(str(path), "--db", str(db), "--sources", str(sources),
                      "--source", "nope")  # fmt: skip
    assert unknown.returncode == 1 and "unknown source 'nope'" in unknown.stderr


@pytest.mark.parametrize("gzipped", [True, False])
def test_a_file_cut_anywhere_ends_in_one_truncated_record(tmp_path, gzipped):
    """However a file is cut short, the records before the cut are read whole and the one cut
    is counted as truncated, at its own offset: never an exception, never a record lost."""
    pages = article_pages(3)
    warc = Warc(tmp_path / ("in.warc.gz" if gzipped else "in.warc"), gzipped=gzipped)
    for url, html in pages:
        warc.response(url, html)
    data = warc.close().read_bytes()
    whole = [(e.url, e.body) for e in read_warc(str(warc.path))]
    assert whole == [(url, html) for url, html in pages]
    starts = [*warc.offsets, len(data)]
    cut_file = tmp_path / ("cut.warc.gz" if gzipped else "cut.warc")
    for index in (1, 2):  # cut inside the second record, then the third (not in closing CRLFs)
        start, end = starts[index], starts[index + 1] - 4
        for cut in range(start + 1, end, max(1, (end - start) // 40)):
            cut_file.write_bytes(data[:cut])
            events = list(read_warc(str(cut_file)))
            assert [(e.url, e.body) for e in events[:-1]] == whole[:index], cut
            last = events[-1]
            assert not isinstance(last, Capture), cut
            assert (last.kind, last.error, last.offset) == ("truncated", True, start), cut


def test_arc_and_other_files_get_one_line_errors(tmp_path):
    arc = tmp_path / "old.arc.gz"
    arc.write_bytes(gzip.compress(b"filedesc://old.arc 0.0.0.0 20040101000000 text/plain 76\n"))
    text = tmp_path / "notes.warc"
    text.write_text("hello\n")
    db = str(tmp_path / "a.db")
    for path, said in ((arc, "an ARC file"), (text, "not a WARC file")):
        result = run_import(str(path), "--db", db)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and said in lines[0], result.stderr
    missing = run_import(str(tmp_path / "nope.warc.gz"), "--db", db)
    assert missing.returncode == 1 and "nope.warc.gz: no such file" in missing.stderr


@pytest.mark.slow
def test_an_import_that_cannot_write_stops_says_so_and_goes_on_later(tmp_path):
    pages = article_pages(40)
    path = write_articles(tmp_path / "news.warc.gz", pages)
    db = tmp_path / "a.db"
    args = (str(path), "--db", str(db), "--sources", "none", *PATIENT)
    # The archive may not grow past 130 pages of 4 kB: full after about 20 articles.
    full = run_import(*args, "-s", "NEWSARCHIVE_BATCH_SIZE=5",
                      "-s", "NEWSARCHIVE_SQLITE_PRAGMAS=max_page_count=130")  # fmt: skip
    assert full.returncode == 1
    assert "database or disk is full" in full.stderr and "Import run 1 failed" in full.stderr
    run = import_run(db)
    assert (run["status"], run["finish_reason"]) == ("failed", "storage_error")
    stored = query(db, "select count(*) as n from articles")[0]["n"]
    assert 0 < stored == run["articles_new"] < 40
    progress = query(db, "select offset, completed from warc_files")
    assert len(progress) == 1 and progress[0]["completed"] is None and progress[0]["offset"] > 0
    again = run_import(*args)
    assert again.returncode == 0, again.stderr
    urls = [r["fetched_url"] for r in query(db, "select fetched_url from articles")]
    assert sorted(urls) == sorted(url for url, _ in pages)


@pytest.mark.slow
def test_a_pipeline_that_fails_on_a_page_loses_that_page_only_and_says_so(tmp_path):
    pages = article_pages(6)
    path = write_articles(tmp_path / "news.warc.gz", pages)
    db = tmp_path / "a.db"
    pipelines = {**ITEM_PIPELINES, "tests.failing_pipeline.FailOnOnePage": 350}
    result = run_import(str(path), "--db", str(db), "--sources", "none", *PATIENT,
                        "-s", f"ITEM_PIPELINES={json.dumps(pipelines)}")  # fmt: skip
    assert "this pipeline fails on purpose" in result.stderr
    run = import_run(db)
    assert run["status"] == "completed" and json.loads(run["dropped"]) == {"pipeline_error": 1}
    stored = {r["fetched_url"] for r in query(db, "select fetched_url from articles")}
    assert stored == {url for url, _ in pages if "-1/" not in url}
    assert query(db, "select completed from warc_files")[0]["completed"]


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_killed_import_goes_on_where_it_stopped(tmp_path, how):
    pages = article_pages(400)
    path = write_articles(tmp_path / "big.warc.gz", pages)
    db = tmp_path / "a.db"
    args = [sys.executable, "-m", "newsarchive", "import", str(path), "--db", str(db),
            "--sources", str(tmp_path / "none"), "-s", "NEWSARCHIVE_BATCH_SIZE=20",
            *PATIENT]  # fmt: skip
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and stored < 60:
        time.sleep(0.3)
        try:
            stored = query(db, "select count(*) as n from articles")[0]["n"]
        except Exception:  # noqa: BLE001 - not created yet
            stored = 0
    if how == "SIGKILL":
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    else:  # a graceful stop: the import finishes what it has in hand and says so
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=180) == 1
        assert query(db, "select status from crawl_runs")[0]["status"] == "interrupted"
    assert 60 <= stored < 400, "the import finished before it could be killed"
    done = query(db, "select * from warc_files")
    assert len(done) == 1 and done[0]["completed"] is None and done[0]["offset"] > 0
    result = run_import(str(path), "--db", str(db), "--sources", str(tmp_path / "none"),
                     *PATIENT, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    runs = query(db, "select * from crawl_runs order by id")
    assert [r["status"] for r in runs] == ["interrupted", "completed"]
    assert runs[1]["pages_fetched"] < 400  # it went on, it did not start over
    urls = [r["fetched_url"] for r in query(db, "select fetched_url from articles")]
    assert sorted(urls) == sorted(url for url, _ in pages)  # every one, once
    assert query(db, "select completed from warc_files")[0]["completed"]


@pytest.mark.slow
def test_a_crawls_warc_imported_into_an_empty_archive_gives_the_same_articles(
    demo_server, demo_sources, tmp_path
):
    warcs = tmp_path / "warcs"
    crawled = tmp_path / "crawl.db"
    small = "NEWSARCHIVE_WARC_MAX_SIZE=60000"  # so that files rotate
    crawl = run_cli("crawl", "--sources", str(demo_sources), "--db", str(crawled),
                    "--warc", str(warcs), "-s", small, *FAST, *PATIENT, timeout=600)  # fmt: skip
    assert crawl.returncode == 0, crawl.stderr
    files = sorted(warcs.glob("newsarchive-*.warc.gz"))
    assert len(files) > 1 and not list(warcs.glob("*.open"))  # rotated, all closed
    records = []
    for path in files:
        assert path.with_name(path.name.removesuffix(".warc.gz") + ".cdxj").stat().st_size
        with open(path, "rb") as stream:
            own = list(_records(stream))
        assert own[0]["type"] == "warcinfo" and b"newsarchive" in own[0]["payload"]
        records += own
    responses = [r for r in records if r["type"] == "response"]
    requests = [r for r in records if r["type"] == "request"]
    assert len(responses) == len(requests) >= 41 + 4  # articles, feeds, sitemaps, robots.txt
    assert all(r["digest"].startswith("sha1:") for r in responses)
    assert any(r["url"].endswith("/robots.txt") for r in responses)
    assert all(r["version"] == "WARC/1.1" for r in records)
    assert all(b"User-Agent" in r["http"] for r in requests)

    imported = tmp_path / "import.db"
    result = run_import(*map(str, files), "--db", str(imported),
                     "--sources", str(demo_sources), *PATIENT, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    sql = "select url, source, title, text, published from articles order by url"
    assert query(imported, sql) == query(crawled, sql)
    assert len(query(imported, sql)) == 41


def _records(stream):
    iterator = ArchiveIterator(stream)
    for record in iterator:
        yield {
            "type": record.rec_type,
            "url": record.rec_headers.get_header("WARC-Target-URI"),
            "digest": record.rec_headers.get_header("WARC-Payload-Digest") or "",
            "version": record.rec_headers.protocol,
            "payload": record.content_stream().read(),
            "http": record.http_headers.to_bytes() if record.http_headers else b"",
        }


@pytest.mark.slow
def test_export_jsonl_csv_and_warc_round_trip(tmp_path):
    pages = article_pages(5)
    path = write_articles(tmp_path / "in.warc.gz", pages)
    db = tmp_path / "a.db"
    assert run_import(str(path), "--db", str(db), "--sources", "none").returncode == 0
    out = tmp_path / "articles.jsonl"
    result = run_cli("export", "--jsonl", str(out), "--db", str(db))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 5 and {"url", "title", "text", "authors", "published"} <= set(lines[0])
    assert isinstance(lines[0]["authors"], list)
    csv_out = tmp_path / "articles.csv"
    result = run_cli("export", "--csv", str(csv_out), "--db", str(db), "--until", "1990-01-01")
    assert result.returncode == 0, result.stderr
    assert csv_out.read_text().count("\n") == 1  # the header only: nothing that old
    warc_out = tmp_path / "out.warc.gz"
    result = run_cli("export", "--warc", str(warc_out), "--db", str(db))
    assert result.returncode == 0, result.stderr
    again = tmp_path / "b.db"
    assert run_import(str(warc_out), "--db", str(again), "--sources", "none").returncode == 0
    sql = "select url, title, text, published from articles order by url"
    assert query(again, sql) == query(db, sql)
    bad = run_cli("export", "--db", str(db))
    assert bad.returncode != 0 and "--warc, --jsonl or --csv" in bad.stderr


@pytest.mark.slow
def test_import_streams_a_warc_over_http(static_server, tmp_path):
    folder, base = static_server
    pages = article_pages(3)
    write_articles(folder / "remote.warc.gz", pages)
    db = tmp_path / "a.db"
    result = run_import(f"{base}/remote.warc.gz", "--db", str(db), "--sources", "none")
    assert result.returncode == 0, result.stderr
    assert query(db, "select count(*) as n from articles")[0]["n"] == 3
    assert query(db, "select location from warc_files")[0]["location"] == f"{base}/remote.warc.gz"
    missing = run_import(f"{base}/missing.warc.gz", "--db", str(db))
    assert missing.returncode == 1
    assert "missing.warc.gz" in missing.stderr and "404" in missing.stderr


class _RangedHandler(BaseHTTPRequestHandler):
    """Serves one file as CC-NEWS's servers do: `Range: bytes=N-` honoured (206), 416 past the
    end."""

    data = b""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        start = int(match[1]) if match else 0
        if start and start >= len(self.data):
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(self.data)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(self.data) - start))
        self.end_headers()
        self.wfile.write(self.data[start:])

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def ranged_warc(tmp_path):
    """A warcio-written WARC of 4 pages served with ranges: (URL, pages, record offsets)."""
    pages = article_pages(4)
    warc = Warc(tmp_path / "ranged.warc.gz")
    for url, html in pages:
        warc.response(url, html)
    handler = type("Handler", (_RangedHandler,), {"data": warc.close().read_bytes()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/news.warc.gz", pages, warc.offsets
    server.shutdown()
    server.server_close()


def test_a_warc_over_http_is_read_from_any_record_with_ranges(ranged_warc):
    location, pages, offsets = ranged_warc
    assert [(e.url, e.body) for e in read_warc(location)] == pages
    # Where an import that stopped goes on: only the records from there, and a clean end.
    assert [(e.url, e.body) for e in read_warc(location, offsets[2])] == pages[2:]


@pytest.mark.slow
def test_import_over_http_with_ranges(ranged_warc, tmp_path):
    location, pages, _ = ranged_warc
    db = tmp_path / "a.db"
    result = run_import(location, "--db", str(db), "--sources", "none")
    assert result.returncode == 0, result.stderr
    assert query(db, "select count(*) as n from articles")[0]["n"] == len(pages)
    assert query(db, "select completed from warc_files")[0]["completed"]
