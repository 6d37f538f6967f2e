"""A small, fast static HTTP/1.1 server for the crawl benchmark: pre-rendered responses held in
memory, keep-alive, one asyncio loop in a background thread.

The stdlib's ThreadingHTTPServer speaks HTTP/1.0 by default (a new connection per request) and
parses headers with the email package; at a few hundred pages a second it takes a good part of
a core from the crawl it is serving. This one parses only the request line and costs tens of
microseconds of CPU per response, which it measures (`cpu_seconds`) so the benchmark can say so.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from types import TracebackType

NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
MAX_HEADER_BYTES = 64 * 1024


def response_bytes(body: bytes, content_type: str) -> bytes:
    """A complete 200 response with keep-alive."""
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: keep-alive\r\n\r\n"
    )
    return head.encode("ascii") + body


class StaticServer:
    """Serves `responses` (path -> full HTTP response bytes) on 127.0.0.1 until closed.

    Use as a context manager; `port` is known once it has started. `requests` counts answers.
    """

    def __init__(self, port: int = 0) -> None:
        self.responses: Mapping[str, bytes] = {}
        self.requests = 0
        self.cpu_seconds = 0.0
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._run, name="bench-http", daemon=True)
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> StaticServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        started = time.thread_time()
        try:
            asyncio.run(self._serve())
        finally:
            self.cpu_seconds = time.thread_time() - started

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self._port, backlog=256
        )
        self._ready.set()
        async with self._server:
            await self._stop.wait()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                if len(head) > MAX_HEADER_BYTES:
                    return
                parts = head.split(b" ", 2)
                path = parts[1].decode("latin-1") if len(parts) > 2 else ""
                writer.write(self.responses.get(path.split("?", 1)[0], NOT_FOUND))
                self.requests += 1
                if b"\r\nconnection: close" in head.lower():
                    await writer.drain()
                    return
                await writer.drain()
        except ConnectionError:
            return
        finally:
            writer.close()
