"""Background work: rq on Redis when REDIS_URL is set, otherwise inline in the caller.

Jobs are plain functions in hub.jobs.tasks taking JSON-friendly arguments, so the same
call works in both modes and from any process.

One Redis client per process (per URL), with short timeouts and no retries: a web request
that hands work to Redis never waits more than REDIS_TIMEOUT on a Redis that hangs or is
down — the work stays in the database (inbox, outbox) and a sweep picks it up later.
"""
from __future__ import annotations

import os
import threading
from datetime import timedelta
from typing import Any, Callable

from hub.config import Config

QUEUE_NAME = "kopilka"
REDIS_TIMEOUT = 0.3          # seconds, for connecting and for every command

_clients: dict[tuple[int, str], Any] = {}
_lock = threading.Lock()


class InlineQueue:
    """The embedded default: run the job at once, in this process."""

    def enqueue(self, func: Callable, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    def enqueue_in(self, delay: timedelta, func: Callable, *args: Any, **kwargs: Any) -> None:
        # Without a worker nothing waits in the background; periodic work is then started
        # by `kopilka automation run` (cron) instead.
        return None


def redis_client(url: str):
    """The process's Redis client for `url` (created once per process: a forked worker
    gets its own), failing fast: REDIS_TIMEOUT to connect and per command, no retries."""
    from redis import Redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    key = (os.getpid(), url)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = Redis.from_url(url, socket_timeout=REDIS_TIMEOUT,
                                    socket_connect_timeout=REDIS_TIMEOUT,
                                    retry=Retry(NoBackoff(), 0), retry_on_timeout=False)
            _clients[key] = client
        return client


def get_queue(config: Config | None = None):
    config = config or Config()
    if not config.REDIS_URL:
        return InlineQueue()
    from rq import Queue
    return Queue(QUEUE_NAME, connection=redis_client(config.REDIS_URL))


def worker_queue(config: Config | None = None):
    """The queue for an rq worker: a client of its own, since the worker lengthens its
    socket timeout for blocking dequeues (BLPOP) and must not lengthen the shared one."""
    from redis import Redis
    from rq import Queue
    config = config or Config()
    return Queue(QUEUE_NAME, connection=Redis.from_url(config.REDIS_URL))
