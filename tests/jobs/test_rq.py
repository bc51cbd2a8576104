"""Jobs through a real Redis and an rq worker, and inline without Redis."""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from hub import engine
from hub.adapters import wire
from hub.config import Config
from hub.extensions import db
from hub.jobs import InlineQueue, get_queue
from hub.jobs.tasks import run_automation
from hub.ledger import account_view
from hub.customers.operations import register_customer
from hub.programs.operations import DEFAULT_SETTINGS, put_program
from hub.receipts.operations import SaleRequest, commit_sale
from hub.tenants.operations import create_tenant

@pytest.fixture(autouse=True)
def _wired():
    """The sweeps registered, as `kopilka worker` and `kopilka serve` register them before a run
    (hub/cli/main.py): without it these tests passed only after another test had built an app."""
    wire()


def _customer_with_expiring_bonuses(session):
    t, _ = create_tenant(session, f"jobs-{uuid.uuid4().hex[:6]}")
    session.commit()
    put_program(session, t.id, {**DEFAULT_SETTINGS, "bonus_lifetime_days": 5})
    moment = datetime(2026, 2, 1, 9, tzinfo=timezone.utc)
    c = register_customer(session, t.id, {"phone": "+79160000002"}, source="test", moment=moment)
    commit_sale(session, t.id, "test", SaleRequest(
        external_id="J1", moment=moment, customer={"id": c.id},
        positions=(engine.Position(id="1", amount=50000, quantity=Decimal(1), price=50000),)), {})
    return t.id, c.id, moment


def test_inline_queue_without_redis():
    assert isinstance(get_queue(Config(REDIS_URL=None)), InlineQueue)
    assert InlineQueue().enqueue(lambda a, b: a + b, 2, 3) == 5


def test_automation_job_runs_on_an_rq_worker(redis_url, pg_engine, pg_sessions, monkeypatch):
    from rq import Queue, SimpleWorker
    monkeypatch.setenv("DATABASE_URL", pg_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("REDIS_URL", redis_url)
    wire()                  # what the `kopilka worker` process does at its start
    session = pg_sessions()
    tenant_id, customer_id, moment = _customer_with_expiring_bonuses(session)
    session.close()

    queue = get_queue()
    assert isinstance(queue, Queue)
    queue.empty()
    at = (moment + timedelta(days=10)).isoformat()
    job = queue.enqueue(run_automation, at, tenant_id)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    job.refresh()
    assert job.is_finished, job.latest_result()
    result = job.return_value()
    assert {k: result[k] for k in ("tenants", "expired_lots", "holds_released")} == \
        {"tenants": 1, "expired_lots": 1, "holds_released": 0}
    # for one tenant every registered sweep runs too (each filters by tenant), none is skipped
    assert "automation" in result and "notify" in result and not result.get("skipped")

    check = pg_sessions()
    view = account_view(check, tenant_id, customer_id, moment + timedelta(days=10))
    assert view.balance == 0 and view.available == 0
    check.close()
    db.session.remove()


def test_the_embedded_scheduler_runs_what_is_due_and_stops(pg_engine, pg_sessions, monkeypatch):
    """Without Redis `kopilka serve` runs hub.jobs.tasks.run_periodically in a thread: a run at
    once (what came due while the hub was off), then one every 15 minutes until it is stopped;
    a failing run does not end it."""
    import threading

    from hub import clock
    from hub.jobs import tasks
    from hub.exports.models import Export
    monkeypatch.setenv("DATABASE_URL", pg_engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("REDIS_URL", raising=False)
    session = pg_sessions()
    tenant_id, customer_id, moment = _customer_with_expiring_bonuses(session)
    # an export the web process was building in a thread when it was restarted
    session.add(Export(tenant_id=tenant_id, kind="clients", params={}, status="running", rows_done=10,
                       user_email="owner@test", created_at=moment))
    session.commit()
    session.close()

    stop, runs, real = threading.Event(), [], tasks.run_automation

    def counted(*args, **kwargs):
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("the database went away for a moment")
        if len(runs) == 2:
            stop.set()
        return real(*args, **kwargs)
    monkeypatch.setattr(tasks, "run_automation", counted)
    with clock.frozen(moment + timedelta(days=10), all_threads=True):
        tasks.run_periodically(stop, every=timedelta(milliseconds=10))
    assert len(runs) == 2

    check = pg_sessions()
    view = account_view(check, tenant_id, customer_id, moment + timedelta(days=10))
    assert view.balance == 0 and view.available == 0
    export = check.query(Export).filter_by(tenant_id=tenant_id).one()
    assert export.status == "failed" and "Запустите её снова" in export.error
    check.close()


def test_the_schedule_command_ends_with_the_server_that_started_it(pg_engine, monkeypatch):
    """`kopilka automation schedule --parent PID` runs what is due at once and ends when PID is
    no longer its parent (the server it was started by is gone), without waiting 15 minutes."""
    import time

    from click.testing import CliRunner

    from hub.cli.main import main
    monkeypatch.setenv("DATABASE_URL", pg_engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("REDIS_URL", raising=False)
    runs = []
    monkeypatch.setattr("hub.jobs.tasks.run_automation", lambda: runs.append(1))
    started = time.monotonic()
    result = CliRunner().invoke(main, ["automation", "schedule", "--parent", str(os.getppid() + 999_999)])
    assert result.exit_code == 0, result.output
    assert runs == [1] and time.monotonic() - started < 30
