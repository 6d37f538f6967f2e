"""A real redis-server on a free 127.0.0.1 port for each test that asks for `redis_url`."""

from __future__ import annotations

import pytest

from crawler.distributed.local_redis import LocalRedis, redis_server_binary


@pytest.fixture
def redis_url():
    """The URL of a fresh, empty redis-server of this test's own (skips without the binary)."""
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with LocalRedis(binary) as server:
        yield server.url


@pytest.fixture
def redis_client(redis_url):
    """A client of the test's redis-server."""
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()
