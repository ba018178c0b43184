"""A real redis-server for the shared-store tests (bench/redis_server.py: a temporary folder, a
free loopback port, deploy/redis.conf, stopped by its process id). Skipped where Debian's
redis-server is missing, except under CI=true, where .ci/run installs it: a missing server
must not pass as a skip there."""

import os

import pytest

from bench import redis_server


def _need_redis() -> None:
    if not redis_server.available():
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing under CI=true (.ci/run installs it)")
        pytest.skip("Debian's redis-server is not installed (apt-get install redis-server)")


@pytest.fixture
def redis():
    """A fresh redis-server (the shipped config); the test may stop, pause or restart it."""
    _need_redis()
    server = redis_server.RedisServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def tiny_redis():
    """A redis-server with 3 MB of memory (≈ 2 MB for values): eviction happens."""
    _need_redis()
    server = redis_server.RedisServer(maxmemory="3mb").start()
    try:
        yield server
    finally:
        server.close()
