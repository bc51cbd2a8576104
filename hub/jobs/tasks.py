"""Job functions (importable by rq workers)."""
from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Callable

from hub.clock import utcnow

from hub.config import Config
from hub.extensions import db
from hub.sweeps import run_due
from hub.jobs import get_queue, redis_client
from hub.jobs.schedule import KEY_PREFIX, run_scheduler
from hub.logs import install as install_log_ids, request_id

AUTOMATION_EVERY = timedelta(minutes=15)
POLL_EVERY = 2.0             # seconds between the scheduler's polls (queued exports)
log = logging.getLogger(__name__)


def run_automation(at: str | None = None, tenant_id: str | None = None,
                   reschedule: bool = False) -> dict:
    """Everything due up to `at` (ISO 8601; default now). It runs in a process the CLI
    started (`kopilka worker`, `kopilka automation schedule`), whose start registered the
    sweeps (hub.adapters.wire). `reschedule` is accepted and ignored: jobs an older release
    queued with it still run, but no job starts a chain of its own any more — one elected
    scheduler enqueues every run (schedule_with_redis), however many workers there are."""
    config = Config()
    db.configure(config.DATABASE_URL)
    moment = datetime.fromisoformat(at) if at else utcnow()
    install_log_ids()
    token = request_id.set(f"automation-{uuid.uuid4().hex[:12]}")   # one id on the run's log lines
    try:
        result = run_due(db.session, moment, tenant_id)
    finally:
        db.session.remove()
        request_id.reset(token)
    return result


def schedule_with_redis(config: Config, stop: threading.Event, *,
                        every: timedelta = AUTOMATION_EVERY, prefix: str = KEY_PREFIX) -> None:
    """The fleet's scheduler with Redis: stand for election (hub.jobs.schedule) and, while
    elected, enqueue run_automation every `every` for whichever worker takes it. Every
    `kopilka worker` runs this in a thread; `kopilka automation schedule` in its main one."""
    queue = get_queue(config)
    run_scheduler(redis_client(config.REDIS_URL), stop, lambda: queue.enqueue(run_automation),
                  every=every.total_seconds(), prefix=prefix)


def run_periodically(stop: threading.Event, every: timedelta = AUTOMATION_EVERY,
                     parent: int | None = None, poll: Callable[[], object] | None = None,
                     poll_every: float = POLL_EVERY) -> None:
    """The embedded default's scheduler (`kopilka automation schedule`): without Redis there is
    no rq worker to reschedule `run_automation`, so this runs it at once (what came due while
    the hub was off) and then every 15 minutes, until `stop` is set or — given `parent`, the
    `kopilka serve` that started it — that process is gone. In between it calls `poll` every
    `poll_every` seconds: work a person waits for (a large export), done here in this process
    instead of a thread of a web worker. A failed run or poll is logged and the next one comes
    as usual."""
    while True:
        try:
            run_automation()
        except Exception:  # a scheduler has nobody to raise to
            log.exception("periodic automation run failed")
        deadline = time.monotonic() + every.total_seconds()
        while (left := deadline - time.monotonic()) > 0:
            if stop.wait(min(left, poll_every)):
                return
            if parent is not None and os.getppid() != parent:
                return
            if poll is not None:
                try:
                    poll()
                except Exception:  # the next poll comes as usual
                    log.exception("scheduler poll failed")
