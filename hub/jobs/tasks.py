"""Job functions (importable by rq workers)."""
from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timedelta

from hub.clock import utcnow

from hub.config import Config
from hub.extensions import db
from hub.sweeps import run_due
from hub.jobs import get_queue

AUTOMATION_EVERY = timedelta(minutes=15)
log = logging.getLogger(__name__)


def run_automation(at: str | None = None, tenant_id: str | None = None,
                   reschedule: bool = False) -> dict:
    """Everything due up to `at` (ISO 8601; default now). With `reschedule`, the job
    enqueues its next run, which makes a worker a scheduler of periodic sweeps. It runs in a
    process the CLI started (`kopilka worker`, `kopilka automation schedule`), whose start
    registered the sweeps (hub.adapters.wire)."""
    config = Config()
    db.configure(config.DATABASE_URL)
    moment = datetime.fromisoformat(at) if at else utcnow()
    try:
        result = run_due(db.session, moment, tenant_id)
    finally:
        db.session.remove()
    if reschedule:
        get_queue(config).enqueue_in(AUTOMATION_EVERY, run_automation, reschedule=True)
    return result


def run_periodically(stop: threading.Event, every: timedelta = AUTOMATION_EVERY,
                     parent: int | None = None) -> None:
    """The embedded default's scheduler (`kopilka automation schedule`): without Redis there is
    no rq worker to reschedule `run_automation`, so this runs it at once (what came due while
    the hub was off) and then every 15 minutes, until `stop` is set or — given `parent`, the
    `kopilka serve` that started it — that process is gone. A failed run is logged and the next
    one comes as usual."""
    while True:
        try:
            run_automation()
        except Exception:  # a scheduler has nobody to raise to
            log.exception("periodic automation run failed")
        deadline = time.monotonic() + every.total_seconds()
        while (left := deadline - time.monotonic()) > 0:
            if stop.wait(min(left, 5.0)):
                return
            if parent is not None and os.getppid() != parent:
                return
