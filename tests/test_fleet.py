"""Several hosts sharing one database: every periodic sweep runs once per tenant across the
fleet (hub.sweeps: an advisory lock per sweep and tenant), whoever starts it."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import text

from hub import engine
from hub import sweeps
from hub.customers.operations import register_customer
from hub.db import code_heads
from hub.extensions import Database, make_engine
from hub.jobs.tasks import run_automation
from hub.ledger import account_view
from hub.programs.operations import DEFAULT_SETTINGS, put_program
from hub.receipts.operations import SaleRequest, commit_sale
from hub.sweeps import run_due
from hub.tenants.operations import create_tenant
from tests.conftest import admin_engine

MOMENT = datetime(2026, 2, 1, 9, tzinfo=timezone.utc)


def _tenant_with_expiring_bonuses(session) -> tuple[str, str]:
    t, _ = create_tenant(session, f"fleet-{uuid.uuid4().hex[:6]}")
    session.commit()
    put_program(session, t.id, {**DEFAULT_SETTINGS, "bonus_lifetime_days": 5})
    c = register_customer(session, t.id, {"phone": "+79160000003"}, source="test", moment=MOMENT)
    commit_sale(session, t.id, "test", SaleRequest(
        external_id="F1", moment=MOMENT, customer={"id": c.id},
        positions=(engine.Position(id="1", amount=50000, quantity=Decimal(1), price=50000),)), {})
    return t.id, c.id


def test_two_hosts_running_the_same_sweeps_at_once_do_each_tenants_work_once(pg_sessions, monkeypatch):
    """Two runs start together on separate connections (two hosts): each (sweep, tenant) runs in
    exactly one of them, the other names it under held_elsewhere; bonuses expire once."""
    setup = pg_sessions()
    tenants = dict(_tenant_with_expiring_bonuses(setup) for _ in range(3))
    setup.close()
    calls: Counter = Counter()
    lock, done, met, first = threading.Lock(), set(), threading.Barrier(2), threading.local()

    def slow(session, at, tenant_id=None):
        # Like a real sweep it does only what is not done yet; reading that and doing it is
        # the race the claim closes. The two runs meet at their first tenant of this test,
        # so they overlap whatever the other tenants in the database cost them before.
        if tenant_id not in tenants:
            return 0
        if not getattr(first, "met", False):
            first.met = True
            met.wait(20)
        if tenant_id in done:
            return 0
        time.sleep(0.3)
        with lock:
            calls[tenant_id] += 1
            done.add(tenant_id)
        return 1
    monkeypatch.setattr(sweeps, "_sweeps", {})
    sweeps.register_sweep("slow", slow)

    start, results = threading.Barrier(2), []

    def host():
        session = pg_sessions()
        try:
            start.wait()
            results.append(run_due(session, MOMENT + timedelta(days=10)))
        finally:
            session.close()
    threads = [threading.Thread(target=host) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 2
    assert all(calls[tid] == 1 for tid in tenants), calls
    held = [tid for r in results for tid in r.get("held_elsewhere", {}).get("slow", [])]
    assert set(held) & set(tenants), results       # the run that met a held tenant said so
    assert sum(r["slow"] for r in results) == len(tenants)

    check = pg_sessions()
    for tid, cid in tenants.items():
        view = account_view(check, tid, cid, MOMENT + timedelta(days=10))
        assert view.balance == 0, (tid, view)          # expired, and once: never negative
    check.close()


def test_a_host_that_dies_holding_a_sweep_frees_it(pg_engine, pg_sessions, monkeypatch, caplog):
    """While another host holds (sweep, tenant) a run skips it and says so; when that host's
    connection dies mid-sweep, its lock goes with it and the next run does the work."""
    setup = pg_sessions()
    tid, cid = _tenant_with_expiring_bonuses(setup)
    setup.close()
    monkeypatch.setattr(sweeps, "_sweeps", {})
    other = pg_engine.connect()
    other.begin()
    other.execute(text("SELECT pg_advisory_xact_lock(hashtext(:ns), hashtext(:key))"),
                  {"ns": sweeps.CLAIM_NAMESPACE, "key": f"ledger_expiry/{tid}"})
    pid = other.execute(text("SELECT pg_backend_pid()")).scalar()

    session = pg_sessions()
    at = MOMENT + timedelta(days=10)
    first = run_due(session, at, tid)
    assert first["held_elsewhere"] == {"ledger_expiry": [tid]} and first["expired_lots"] == 0
    # the job a worker runs says the same, in a log line carrying the run's id
    monkeypatch.setenv("DATABASE_URL", pg_engine.url.render_as_string(hide_password=False))
    caplog.clear()          # only the job's own lines (an earlier test may have set INFO logging)
    with caplog.at_level(logging.INFO, logger="hub.sweeps"):
        assert run_automation(at.isoformat(), tid)["held_elsewhere"] == {"ledger_expiry": [tid]}
    held_lines = [r for r in caplog.records if "held by another process" in r.getMessage()]
    assert held_lines and held_lines[0].request_id.startswith("automation-")

    with pg_engine.connect() as admin:                 # the host is gone: its backend ends
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.invalidate()
    second = run_due(session, at, tid)
    assert "held_elsewhere" not in second and second["expired_lots"] == 1
    assert account_view(session, tid, cid, at).balance == 0
    session.close()


def test_hosts_started_together_migrate_one_after_the_other(pg_engine):
    """Two hosts (processes) starting at once against a new database: one migrates, the other
    waits for it and finds the schema at head (without the lock, one failed on a table the
    other had just created)."""
    name = f"kopilka_fleet_{uuid.uuid4().hex[:8]}"
    with admin_engine().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_engine.url.set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    try:
        hosts = [subprocess.Popen([sys.executable, "-c", MIGRATE, url], env=env,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        failures = [err[-600:] for proc in hosts if (err := proc.communicate(timeout=120)[1]) and proc.returncode]
        assert failures == []
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == code_heads()[0]
        engine.dispose()
    finally:
        with admin_engine().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


MIGRATE = """
import sys
from hub.db import upgrade
from hub.extensions import Database, make_engine
upgrade(make_engine(sys.argv[1]))
"""


def test_a_job_reconfiguring_the_database_keeps_its_engine():
    """run_automation calls db.configure(DATABASE_URL) at every run: with a password (which
    the engine's URL hides) or `pooler=` (which it drops) that used to make a new engine and
    pool each time."""
    for url in ("postgresql+psycopg://kopilka:secret@127.0.0.1:1/kopilka",
                "postgresql+psycopg://kopilka@127.0.0.1:1/kopilka?pooler=pgbouncer"):
        database = Database()
        database.configure(url)
        first = database.engine
        database.configure(url)
        assert database.engine is first
        assert "pooler" not in first.url.query
        first.dispose()
