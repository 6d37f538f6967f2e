"""A hostile news site on 127.0.0.1: a few good articles among every way a web server can fail.

    with HostileSite() as site:
        site.url                    # http://127.0.0.1:PORT
        site.sources_toml()         # a sources file that crawls all of it in one run
        site.hits("/status/500")    # the requests that path got, with their times

A raw asyncio server (in a background thread), not http.server: resets, truncated bodies, slow
drips, lies in Content-Length and bytes that are not HTTP at all need control of the socket.
Every case is listed in CASES with what a crawl must make of it, so a test can check each one.
"""

from __future__ import annotations

import asyncio
import gzip
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate

# What a crawl must make of a case: "archived", "error:<kind>", "dropped:<reason>",
# "out_of_scope:<why>", "warning:<kind>" or "not_fetched".
Outcome = str
Handler = Callable[["HostileSite", "HttpRequest", asyncio.StreamWriter], Awaitable[None]]

DATE = "/news/2025/03/14/"
WORDS = " ".join(
    (
        "council harbour budget vote ferry tunnel residents mayor report plan water school",
        "market storm coast bridge station library hospital museum festival record season",
        "grid energy price farmers weather court ruling inquiry election turnout survey",
    )
).split()


@dataclass
class HttpRequest:
    """The parts of a request the handlers look at."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Hit:
    """One request the site received."""

    path: str
    host: str
    at: float  # time.monotonic() when its headers arrived


@dataclass(frozen=True)
class Case:
    """One page of the site and what a crawl must make of it."""

    path: str
    handler: Handler
    expect: tuple[Outcome, ...]
    in_feed: bool = True  # listed in /feed.xml (else linked from the front page, or a target)


def article_html(slug: str, title: str, *, extra: str = "", charset: str | None = "utf-8") -> str:
    """A plausible news article with enough distinct text to be archived."""
    rng = random.Random(slug)
    paragraphs = []
    for _ in range(5):
        sentence = " ".join(rng.choice(WORDS) for _ in range(14))
        paragraphs.append(
            f"<p>The {slug.replace('-', ' ')} story continues: {sentence}. Officials said the "
            f"{rng.choice(WORDS)} would be reviewed again next month, and residents {extra}"
            f"asked for a clearer answer on the {rng.choice(WORDS)}.</p>"
        )
    meta = f'<meta charset="{charset}">' if charset else ""
    return (
        f"<!doctype html><html lang='en'><head>{meta}<title>{title}</title>"
        f'<meta property="og:type" content="article">'
        f'<meta property="article:published_time" content="2025-03-14T09:00:00Z">'
        f"</head><body><header><nav><a href='/'>Home</a></nav></header>"
        f"<article><h1>{title}</h1>{''.join(paragraphs)}</article>"
        f"<footer>Hostile Gazette</footer></body></html>"
    )


# Raw HTTP ------------------------------------------------------------------------------------


def head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Date: {formatdate(usegmt=True)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send(
    writer: asyncio.StreamWriter,
    status: str,
    body: bytes = b"",
    content_type: str | None = "text/html; charset=utf-8",
    **headers: str,
) -> None:
    """A complete, honest response."""
    fields = {"Content-Type": content_type} if content_type else {}
    fields.update({k.replace("_", "-"): v for k, v in headers.items()})
    fields["Content-Length"] = str(len(body))
    writer.write(head(status, fields) + body)
    await writer.drain()


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST instead of a FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


# Handlers ------------------------------------------------------------------------------------


def good(title: str) -> Handler:
    async def handler(site: HostileSite, request: HttpRequest, writer) -> None:
        slug = request.path.rsplit("/", 1)[-1].removesuffix(".html")
        await send(writer, "200 OK", article_html(slug, title).encode())

    return handler


def status(code: str, body: bytes = b"<html><body>No.</body></html>", **headers: str) -> Handler:
    async def handler(site: HostileSite, request: HttpRequest, writer) -> None:
        await send(writer, code, body, **headers)

    return handler


async def flaky_429(site: HostileSite, request: HttpRequest, writer) -> None:
    # Rate limited on the first request; fine once the client waited as told.
    if len(site.hits(request.path)) == 1:
        await send(writer, "429 Too Many Requests", b"slow down", Retry_After="1")
    else:
        await good("Ferry timetable returns after rate limit")(site, request, writer)


async def slow(site: HostileSite, request: HttpRequest, writer) -> None:
    await asyncio.sleep(30)  # far past any test's DOWNLOAD_TIMEOUT


async def slow_drip(site: HostileSite, request: HttpRequest, writer) -> None:
    body = article_html("slow-drip", "Drip").encode()
    writer.write(head("200 OK", {"Content-Type": "text/html", "Content-Length": str(len(body))}))
    for byte in body:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.2)


async def reset_at_once(site: HostileSite, request: HttpRequest, writer) -> None:
    reset(writer)


async def reset_mid_body(site: HostileSite, request: HttpRequest, writer) -> None:
    body = article_html("reset-mid-body", "Cut").encode()
    writer.write(head("200 OK", {"Content-Type": "text/html", "Content-Length": str(len(body))}))
    writer.write(body[: len(body) // 3])
    await writer.drain()
    await asyncio.sleep(0.05)
    reset(writer)


async def truncated(site: HostileSite, request: HttpRequest, writer) -> None:
    body = article_html("truncated", "Half a story").encode()
    writer.write(head("200 OK", {"Content-Type": "text/html", "Content-Length": str(len(body))}))
    writer.write(body[: len(body) // 2])  # then a clean close, half the promised bytes short
    await writer.drain()


async def truncated_chunked(site: HostileSite, request: HttpRequest, writer) -> None:
    body = article_html("truncated-chunked", "Chunks").encode()
    writer.write(head("200 OK", {"Content-Type": "text/html", "Transfer-Encoding": "chunked"}))
    part = body[: len(body) // 2]
    writer.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")  # no last chunk
    await writer.drain()


async def not_http(site: HostileSite, request: HttpRequest, writer) -> None:
    writer.write(b"SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n")
    await writer.drain()


def redirect(location: str, code: str = "302 Found") -> Handler:
    async def handler(site: HostileSite, request: HttpRequest, writer) -> None:
        target = location.format(base=site.url, path=request.path)
        await send(writer, code, b"", Location=target)

    return handler


async def redirect_chain(site: HostileSite, request: HttpRequest, writer) -> None:
    step = int(request.path.rsplit("/", 1)[-1])
    await send(writer, "302 Found", b"", Location=f"/redirect/chain/{step + 1}")


def raw_body(body: bytes, content_type: str | None, **headers: str) -> Handler:
    async def handler(site: HostileSite, request: HttpRequest, writer) -> None:
        await send(writer, "200 OK", body, content_type, **headers)

    return handler


async def huge_declared(site: HostileSite, request: HttpRequest, writer) -> None:
    writer.write(head("200 OK", {"Content-Type": "text/html", "Content-Length": str(50 << 20)}))
    await stream_filler(writer, 4 << 20)


async def huge_streamed(site: HostileSite, request: HttpRequest, writer) -> None:
    writer.write(head("200 OK", {"Content-Type": "text/html"}))  # no length: until close
    writer.write(b"<html><body><article>")
    await stream_filler(writer, 4 << 20)


async def stream_filler(writer: asyncio.StreamWriter, size: int) -> None:
    chunk = b"<p>" + b"filler " * 9000 + b"</p>\n"
    sent = 0
    try:
        while sent < size:
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
    except ConnectionError:
        pass  # the client gave up, as it should


GZIP_BOMB = gzip.compress(b"<html><body>" + b" " * (24 << 20), compresslevel=9)


def charset_text(slug: str, title: str) -> str:
    html = article_html(slug, title, extra="of Zürich and Malmö — café owners, naïvely — ")
    return html.replace('<meta charset="utf-8">', "")


def deep_nesting() -> bytes:
    html = article_html("deeply-nested", "Deep")
    return html.replace("<article>", "<article>" + "<div>" * 5000).encode()


def malformed() -> bytes:
    html = article_html("malformed-markup", "Broken but readable <b>story")
    html = html.replace("</p>", "<div><span></i></td>&nbsp &amp &#xZZ; <<>>", 3)
    return html.replace("</article>", "</table></form><p <p <!-- never closed").encode()


# The site ------------------------------------------------------------------------------------


def _cases() -> list[Case]:
    bad = "/bad" + DATE
    return [
        # Good pages, to be archived whatever else happens.
        Case(DATE + "good-harbour-tunnel-vote.html", good("Harbour tunnel vote"), ("archived",)),
        Case(DATE + "good-ferry-budget.html", good("Ferry budget agreed"), ("archived",)),
        Case(DATE + "good-library-hours.html", good("Library hours extended"), ("archived",)),
        Case(
            DATE + "good-front-page-only.html",
            good("Market reopens"),
            ("archived",),
            in_feed=False,
        ),
        Case(
            DATE + "good-through-redirect.html",
            redirect("{base}" + DATE + "good-redirect-target.html", "301 Moved Permanently"),
            ("archived",),
        ),
        Case(
            DATE + "good-redirect-target.html",
            good("Coast guard drill"),
            (),
            in_feed=False,
        ),
        Case(bad + "rate-limited-once.html", flaky_429, ("archived",)),
        Case(
            bad + "charset-wrong.html",
            raw_body(
                charset_text("charset-wrong", "Zürich ferry").encode("utf-8"),
                "text/html; charset=iso-8859-1",
            ),
            ("archived", "warning:charset_mismatch"),
        ),
        Case(
            bad + "charset-missing.html",
            raw_body(charset_text("charset-missing", "Malmö market").encode("utf-8"), "text/html"),
            ("archived", "warning:charset_missing"),
        ),
        Case(
            bad + "cp1252-declared-utf8.html",
            raw_body(
                charset_text("cp1252-declared-utf8", "Café owners").encode("cp1252"),
                "text/html; charset=utf-8",
            ),
            ("archived", "warning:charset_mismatch"),
        ),
        Case(
            bad + "invalid-utf8.html",
            raw_body(
                article_html("invalid-utf8", "Bytes — gone").encode("utf-8") + b"\xff\xfe\xc3(",
                "text/html; charset=utf-8",
            ),
            ("archived", "warning:invalid_utf8"),
        ),
        Case(bad + "malformed-markup.html", raw_body(malformed(), "text/html"), ("archived",)),
        # Failures: counted as errors by kind.
        Case(bad + "not-found.html", status("404 Not Found"), ("error:http_404",)),
        Case(bad + "gone.html", status("410 Gone"), ("error:http_410",)),
        Case(bad + "forbidden.html", status("403 Forbidden"), ("error:http_403",)),
        Case(bad + "server-error.html", status("500 Internal Server Error"), ("error:http_5xx",)),
        Case(
            bad + "unavailable.html",
            status("503 Service Unavailable", Retry_After="1"),
            ("error:http_5xx",),
        ),
        Case(
            bad + "rate-limited-for-an-hour.html",
            status("429 Too Many Requests", Retry_After="3600"),
            ("error:http_429",),
        ),
        Case(bad + "slow.html", slow, ("error:timeout",)),
        Case(bad + "slow-drip.html", slow_drip, ("error:timeout",)),
        Case(bad + "reset.html", reset_at_once, ("error:connection_lost",)),
        Case(bad + "reset-mid-body.html", reset_mid_body, ("error:truncated",)),
        Case(bad + "truncated.html", truncated, ("error:truncated",)),
        Case(bad + "truncated-chunked.html", truncated_chunked, ("error:truncated",)),
        Case(bad + "not-http.html", not_http, ("error:bad_response",)),
        Case(bad + "redirect-loop-a.html", redirect(bad + "redirect-loop-b.html"), ()),
        Case(
            bad + "redirect-loop-b.html",
            redirect(bad + "redirect-loop-a.html"),
            ("error:redirect_loop",),
            in_feed=False,
        ),
        Case(bad + "redirect-self.html", redirect("{path}"), ("error:redirect_loop",)),
        Case("/redirect/chain/0", redirect_chain, ("error:too_many_redirects",)),
        Case(
            bad + "huge-declared.html",
            huge_declared,
            ("error:too_large",),
        ),
        Case(bad + "huge-streamed.html", huge_streamed, ("error:too_large",)),
        Case(
            bad + "gzip-bomb.html",
            raw_body(GZIP_BOMB, "text/html", Content_Encoding="gzip"),
            ("error:gzip_bomb",),
        ),
        Case(
            bad + "bad-gzip.html",
            raw_body(
                b"\x1f\x8b\x08\x00garbage, not deflate" * 20, "text/html", Content_Encoding="gzip"
            ),
            ("error:bad_encoding",),
        ),
        Case(bad + "empty.html", raw_body(b"", "text/html"), ("error:empty_body",)),
        # Not articles: dropped with a reason.
        Case(
            bad + "report.pdf",
            raw_body(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" * 50, "application/pdf"),
            ("dropped:not_html",),
        ),
        Case(
            bad + "photo.png",
            raw_body(b"\x89PNG\r\n\x1a\n" + bytes(2000), "image/png"),
            ("dropped:not_html",),
        ),
        Case(
            bad + "data.json",
            raw_body(b'{"articles": [1, 2, 3]}', "application/json"),
            ("dropped:not_html",),
        ),
        Case(
            bad + "deeply-nested.html", raw_body(deep_nesting(), "text/html"), ("dropped:no_text",)
        ),
        Case(
            bad + "binary-as-html.html",
            raw_body(random.Random(7).randbytes(5000), "text/html"),
            ("dropped:no_text", "warning:charset_missing"),
        ),
        Case(
            bad + "soft-404.html",
            raw_body(
                article_html("soft-404", "404 Not Found").encode(), "text/html; charset=utf-8"
            ),
            ("dropped:error_page",),
        ),
        # Never fetched: robots.txt, and out of scope (counted by why).
        Case(
            "/private" + DATE + "members-only.html",
            good("Private"),
            ("not_fetched",),
            in_feed=False,
        ),
        Case(
            bad + "redirect-offsite.html",
            redirect("http://elsewhere.example/x"),
            ("out_of_scope:redirect_offsite",),
        ),
        Case(
            bad + "redirect-to-file.html",
            redirect("file:///etc/passwd"),
            ("out_of_scope:redirect_scheme",),
        ),
    ]


POLITE_PAGES = 8
ROBOTS_TXT = b"User-agent: *\nDisallow: /private/\n"


class HostileSite:
    """The hostile site, served on 127.0.0.1 from a background thread while in a `with`."""

    def __init__(self, port: int = 0, crawl_delay: float | None = None):
        self.port = port
        self.robots_txt = ROBOTS_TXT
        if crawl_delay is not None:
            self.robots_txt += f"Crawl-delay: {crawl_delay}\n".encode()
        self.cases = {case.path: case for case in _cases()}
        self._hits: list[Hit] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        # Bound and never listening for the site's life: refused, and no other process (a
        # parallel test worker's server) can take the port meanwhile.
        self._closed = _refusing_socket()
        self.closed_port = self._closed.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileSite:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        started.result(timeout=10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._closed.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # Requests ---------------------------------------------------------------------------------

    def hits(self, path: str | None = None) -> list[Hit]:
        """The requests received (for `path`), oldest first."""
        with self._lock:
            return [hit for hit in self._hits if path is None or hit.path == path]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            request = await _read_request(reader)
            if request is None:
                return
            with self._lock:
                host = request.headers.get("host", "")
                self._hits.append(Hit(request.path, host, time.monotonic()))
            await self._dispatch(request, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client went away, or the site is shutting down
        finally:
            self.in_flight -= 1
            if not writer.transport.is_closing():
                writer.close()

    async def _dispatch(self, request: HttpRequest, writer: asyncio.StreamWriter) -> None:
        path = request.path.split("?", 1)[0]
        if path == "/robots.txt":
            await send(writer, "200 OK", self.robots_txt, "text/plain")
        elif path == "/feed.xml":
            await send(writer, "200 OK", self.feed(), "application/rss+xml")
        elif path == "/sitemap-garbage.xml":
            await send(writer, "200 OK", b"<?xml version='1.0'?><urlset><url><loc>", "text/xml")
        elif path == "/":
            await send(writer, "200 OK", self.front_page())
        elif path.startswith("/redirect/chain/"):
            await redirect_chain(self, request, writer)
        elif path in self.cases:
            await self.cases[path].handler(self, request, writer)
        elif path.startswith("/neighbour/"):
            await good("Neighbour's story")(self, request, writer)
        elif path == "/polite/":
            await send(writer, "200 OK", self.polite_index())
        elif path.startswith("/polite/"):
            await asyncio.sleep(0.2)  # slow enough for requests to overlap
            await good("A story told slowly")(self, request, writer)
        else:
            await send(writer, "404 Not Found", b"<html><body>Not here.</body></html>")

    # Pages ------------------------------------------------------------------------------------

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>{case.path}</title><link>{self.url}{case.path}</link>"
            f"<pubDate>Fri, 14 Mar 2025 09:00:00 GMT</pubDate></item>"
            for case in self.cases.values()
            if case.in_feed
        )
        return (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Hostile Gazette</title><link>{self.url}/</link>{items}</channel></rss>"
        ).encode()

    def front_page_links(self) -> list[tuple[str, tuple[Outcome, ...]]]:
        """The links on the front page, with what a crawl must make of each beyond the case the
        link leads to."""
        return [
            (self.url + DATE + "good-harbour-tunnel-vote.html", ()),  # also in the feed
            (DATE + "good-front-page-only.html", ()),
            ("/private" + DATE + "members-only.html", ()),  # disallowed by robots.txt
            ("https://elsewhere.example/2025/03/14/offsite-story.html", ("out_of_scope:offsite",)),
            # localhost is crawled, but by the other source: out of this one's scope.
            (
                f"http://localhost:{self.port}/neighbour/2025/03/14/another-source-story.html",
                ("out_of_scope:offsite",),
            ),
            (
                f"http://reader:secret@127.0.0.1:{self.port}{DATE}with-credentials-story.html",
                ("out_of_scope:credentials",),
            ),
            ("file:///etc/passwd", ("out_of_scope:scheme",)),
            (
                f"ftp://127.0.0.1:{self.port}/pub/2025/03/14/ftp-story.html",
                ("out_of_scope:scheme",),
            ),
            ("mailto:tips@hostile.example", ()),  # not links a crawler follows at all
            ("javascript:alert(1)", ()),
        ]

    def front_page(self) -> bytes:
        anchors = "".join(
            f"<li><a href='{link}'>Story {n}</a></li>"
            for n, (link, _) in enumerate(self.front_page_links())
        )
        return (
            "<!doctype html><html><head><title>Hostile Gazette</title>"
            "<meta property='og:type' content='website'></head>"
            f"<body><h1>Hostile Gazette</h1><ul>{anchors}</ul></body></html>"
        ).encode()

    def extra_targets(self) -> list[tuple[str, tuple[Outcome, ...]]]:
        """Crawl targets off the site itself, and what a crawl must make of them."""
        return [
            ("http://nxdomain.invalid/2025/03/14/unresolvable-story.html", ("error:dns",)),
            (
                f"http://127.0.0.1:{self.closed_port}/2025/03/14/refused-story.html",
                ("error:connection_refused",),
            ),
            (f"http://localhost:{self.port}/neighbour/2025/03/14/neighbour-story.html", ()),
        ]

    def expected(self, group: str) -> dict[str, int]:
        """How many of each kind a crawl of the whole site must count in `group` ("error",
        "dropped", "out_of_scope", "warning")."""
        outcomes = [o for case in self.cases.values() for o in case.expect]
        outcomes += [
            o for _, expect in self.front_page_links() + self.extra_targets() for o in expect
        ]
        outcomes.append("warning:empty_sitemap")  # /sitemap-garbage.xml, a target
        counts = Counter(o.split(":", 1)[1] for o in outcomes if o.startswith(group + ":"))
        return dict(counts)

    def polite_index(self) -> bytes:
        """An index page linking POLITE_PAGES slow articles, for politeness tests."""
        links = "".join(
            f"<li><a href='/polite/2025/03/14/polite-story-{n}.html'>Story {n}</a></li>"
            for n in range(POLITE_PAGES)
        )
        return (
            "<!doctype html><html><head><title>Slow section</title>"
            "<meta property='og:type' content='website'></head>"
            f"<body><ul>{links}</ul></body></html>"
        ).encode()

    def sources_toml(self) -> str:
        """A sources file that crawls every case in one run: the feed, the front page, a broken
        sitemap, a host that does not resolve, a port nobody listens on, and a second source on
        `localhost` that the first one's links must not reach."""
        dns, refused, neighbour = (url for url, _ in self.extra_targets())
        return f"""\
[[sources]]
name = "hostile"
allowed_domains = ["127.0.0.1", "nxdomain.invalid"]
feeds = ["{self.url}/feed.xml"]
start_urls = ["{self.url}/"]
sitemaps = ["{self.url}/sitemap-garbage.xml"]
urls = ["{dns}", "{refused}"]

[[sources]]
name = "neighbour"
allowed_domains = ["localhost"]
urls = ["{neighbour}"]
"""


async def _read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = raw.decode("latin-1").split("\r\n")
    method, path, _ = (lines[0].split(" ") + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return HttpRequest(method, path, headers)


def _refusing_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock
