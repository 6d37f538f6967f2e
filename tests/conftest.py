"""Shared fixtures: fixture sites on 127.0.0.1 and running the real CLI."""

from __future__ import annotations

import functools
import os
import socket
import sqlite3
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from newsarchive.demo_site import serve_demo_site

# A real redis-server per test that asks for `redis_url` (distributed crawls).
pytest_plugins = ["tests.redis_server"]

ROOT = Path(__file__).resolve().parent.parent

# A crawl of our own fixture site on 127.0.0.1 needs no politeness, and its few pages need one
# extraction worker: each worker costs half a second of CPU to start, and two tests run at once.
ONE_WORKER = ["-s", "NEWSARCHIVE_EXTRACTION_WORKERS=1"]
FAST = [
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    *ONE_WORKER,
]  # fmt: skip


def query(db_path: Path | str, sql: str, params: tuple | list = ()) -> list[dict]:
    """Rows of a query on an archive file, as dicts."""
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql, params)]
    finally:
        conn.close()


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def refused_port() -> int:
    """A 127.0.0.1 port that refuses connections: bound and never listening for the test, so no
    other process (a parallel test worker's server) can take it meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def run_cli(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run `newsarchive ARGS` in a child process (Twisted's reactor runs once per process)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "newsarchive", *args],
        cwd=kwargs.pop("cwd", ROOT),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kwargs,
    )


@pytest.fixture
def demo_server():
    """The bundled demo news site, fresh for each test, on a free port."""
    with serve_demo_site(port=0) as server:
        yield server


@pytest.fixture
def demo_sources(demo_server, tmp_path) -> Path:
    """A sources file for the demo site."""
    path = tmp_path / "sources.toml"
    path.write_text(demo_server.sources_toml(), encoding="utf-8")
    return path


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def static_server(tmp_path):
    """Serve a folder of files on 127.0.0.1; yields (folder, base URL)."""
    folder = tmp_path / "site"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
