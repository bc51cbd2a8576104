"""Job functions (importable by rq workers)."""
from __future__ import annotations

from datetime import datetime, timedelta

from hub.clock import utcnow

from hub.config import Config
from hub.extensions import db

AUTOMATION_EVERY = timedelta(minutes=15)


def run_automation(at: str | None = None, tenant_id: str | None = None,
                   reschedule: bool = False) -> dict:
    """Everything due up to `at` (ISO 8601; default now). With `reschedule`, the job
    enqueues its next run, which makes a worker a scheduler of periodic sweeps."""
    from hub.jobs import get_queue
    from hub.adapters import load_adapters
    from hub.services.automation import run_due
    load_adapters()
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
