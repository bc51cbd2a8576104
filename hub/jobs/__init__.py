"""Background work: rq on Redis when REDIS_URL is set, otherwise inline in the caller.

Jobs are plain functions in hub.jobs.tasks taking JSON-friendly arguments, so the same
call works in both modes and from any process.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from hub.config import Config

QUEUE_NAME = "kopilka"


class InlineQueue:
    """The embedded default: run the job at once, in this process."""

    def enqueue(self, func: Callable, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    def enqueue_in(self, delay: timedelta, func: Callable, *args: Any, **kwargs: Any) -> None:
        # Without a worker nothing waits in the background; periodic work is then started
        # by `kopilka automation run` (cron) instead.
        return None


def get_queue(config: Config | None = None):  # noqa: ANN201
    config = config or Config()
    if not config.REDIS_URL:
        return InlineQueue()
    from redis import Redis
    from rq import Queue
    return Queue(QUEUE_NAME, connection=Redis.from_url(config.REDIS_URL))
