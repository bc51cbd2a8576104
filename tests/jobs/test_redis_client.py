"""One Redis client per process, failing fast (≤ 300 ms) when Redis hangs."""
from __future__ import annotations

import time

import pytest
from redis.exceptions import ConnectionError as RedisDown, TimeoutError as RedisTimeout

from hub.config import Config
from hub.jobs import REDIS_TIMEOUT, get_queue, redis_client, worker_queue
from tests.connectors.hung_redis import hung_redis


def test_one_client_per_process_with_short_timeouts():
    url = "redis://127.0.0.1:1/3"
    a, b = get_queue(Config(REDIS_URL=url)), get_queue(Config(REDIS_URL=url))
    assert a.connection is b.connection is redis_client(url)
    kwargs = a.connection.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] <= 0.3 and kwargs["socket_connect_timeout"] <= 0.3
    assert REDIS_TIMEOUT <= 0.3
    # An rq worker lengthens its own client's timeout for blocking dequeues, not the shared one.
    assert worker_queue(Config(REDIS_URL=url)).connection is not a.connection


def test_enqueue_on_a_hung_redis_fails_within_the_timeout():
    with hung_redis(lifetime=10) as url:
        queue = get_queue(Config(REDIS_URL=url))
        started = time.monotonic()
        with pytest.raises((RedisTimeout, RedisDown)):
            queue.enqueue(print, "never")
        elapsed = time.monotonic() - started
    assert elapsed < 0.8, f"{elapsed:.2f} s: one short try, no retries"
