"""Serve a `DemoSite` over HTTP on a local port, in a background thread.

    with serve_demo_site() as server:
        urllib.request.urlopen(server.url + "/ledger/")
        server.requests.count("/ledger/")  # -> 1

Every response carries an ETag and Last-Modified, and conditional requests get 304s, so
incremental crawling can be tested. Absolute URLs in pages use the request's Host header.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from .expected import ExpectedArticle
from .landing import NOT_FOUND_PAGE
from .resource import HTML, Resource
from .site import DemoSite
from .sources import render_sources_toml

# A Host header we are willing to echo into pages: a hostname or IPv4 address, optional port.
SAFE_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")


@dataclass(frozen=True)
class RequestRecord:
    """One answered request."""

    method: str
    path: str
    status: int


class RequestLog:
    """Thread-safe log of the requests a server answered, oldest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def record(self, method: str, path: str, status: int) -> None:
        """Add one answered request."""
        with self._lock:
            self._records.append(RequestRecord(method, path, status))

    def records(self) -> list[RequestRecord]:
        """A snapshot of every record."""
        with self._lock:
            return list(self._records)

    def paths(self) -> list[str]:
        """Requested paths (without query strings), in order."""
        return [record.path for record in self.records()]

    def counter(self) -> Counter[str]:
        """How many times each path was requested."""
        return Counter(self.paths())

    def count(self, path: str, status: int | None = None) -> int:
        """How many times `path` was requested, optionally only those answered with `status`."""
        return sum(
            1
            for record in self.records()
            if record.path == path and (status is None or record.status == status)
        )

    def clear(self) -> None:
        """Forget every record, e.g. between two crawls."""
        with self._lock:
            self._records.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.records())


class _Handler(BaseHTTPRequestHandler):
    server: _DemoHTTPServer
    server_version = "newsarchive-demo/1.0"
    protocol_version = "HTTP/1.1"  # keep-alive, like real sites; every answer has a length

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(with_body=False)

    def do_POST(self) -> None:  # noqa: N802
        self._finish(HTTPStatus.METHOD_NOT_ALLOWED, {"Allow": "GET, HEAD"}, b"", True)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # tests and the demo command want a quiet server; RequestLog keeps the record

    def _answer(self, with_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        resource = self.server.site.get(path)
        if resource is None:
            self._not_found_or_redirect(path, with_body)
            return
        body = resource.body_for(self._origin())
        etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
        headers = {
            "ETag": etag,
            "Last-Modified": format_datetime(resource.last_modified.astimezone(UTC), usegmt=True),
            "Cache-Control": "no-cache",  # may be stored, but must be revalidated every time
        }
        if self._not_modified(etag, resource):
            self._finish(HTTPStatus.NOT_MODIFIED, headers, b"", with_body)
            return
        headers["Content-Type"] = resource.content_type
        self._finish(HTTPStatus.OK, headers, body, with_body)

    def _not_found_or_redirect(self, path: str, with_body: bool) -> None:
        if not path.endswith("/") and self.server.site.get(path + "/") is not None:
            # Like WordPress: /ledger/about -> /ledger/about/
            location = self._origin() + path + "/"
            self._finish(HTTPStatus.MOVED_PERMANENTLY, {"Location": location}, b"", with_body)
            return
        headers = {"Content-Type": HTML}
        self._finish(HTTPStatus.NOT_FOUND, headers, NOT_FOUND_PAGE, with_body)

    def _origin(self) -> str:
        host = self.headers.get("Host", "")
        if not SAFE_HOST.match(host):
            host = self.server.host_and_port
        return f"http://{host}"

    def _not_modified(self, etag: str, resource: Resource) -> bool:
        # RFC 9110: If-None-Match wins; If-Modified-Since only counts without it.
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if not if_modified_since:
            return False
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False  # unparseable dates are ignored, as the RFC says
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return resource.last_modified.replace(microsecond=0) <= since

    def _finish(
        self, status: HTTPStatus, headers: dict[str, str], body: bytes, with_body: bool
    ) -> None:
        # Record first, so a client that has its answer always finds it in the log.
        path = unquote(urlsplit(self.path).path)
        self.server.requests.record(self.command, path, int(status))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body and body:
            self.wfile.write(body)


class _DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a stuck keep-alive connection must not block interpreter exit

    def __init__(self, address: tuple[str, int], site: DemoSite, requests: RequestLog) -> None:
        self.site = site
        self.requests = requests
        super().__init__(address, _Handler)

    @property
    def host_and_port(self) -> str:
        host, port = self.server_address[:2]
        return f"{host}:{port}"


class DemoServer:
    """A running demo server. Use `serve_demo_site` to make one."""

    def __init__(self, site: DemoSite | None = None, host: str = "127.0.0.1", port: int = 0):
        self.site = site if site is not None else DemoSite()
        self.requests = RequestLog()
        self._httpd = _DemoHTTPServer((host, port), self.site, self.requests)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # how fast stop() returns
            name="demo-site-server",
            daemon=True,
        )
        self._stopped = False

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        """The port the server listens on (chosen by the OS when 0 was asked for)."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The server's origin, e.g. "http://127.0.0.1:43121" (no trailing slash)."""
        return f"http://{self._httpd.host_and_port}"

    def url_for(self, path: str) -> str:
        """The absolute URL of a site path on this server."""
        return self.url + path

    def start(self) -> DemoServer:
        """Start answering requests in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server and release its port; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def sources(self) -> list[dict[str, Any]]:
        """Crawler sources (name, allowed_domains, feeds, sitemaps, start_urls) for both sites."""
        return self.site.sources(self.url)

    def sources_toml(self) -> str:
        """`sources()` as the text of a sources.toml file."""
        return render_sources_toml(self.sources())

    def expected_articles(self) -> list[ExpectedArticle]:
        """The truth about every article; see `DemoSite.expected_articles`."""
        return self.site.expected_articles()

    def __enter__(self) -> DemoServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_demo_site(
    host: str = "127.0.0.1", port: int = 0, site: DemoSite | None = None
) -> DemoServer:
    """Start serving the demo sites (a fresh `DemoSite` unless given) and return the server.

    Port 0 lets the OS pick a free port; read it back from `server.url`.
    """
    return DemoServer(site, host, port).start()
