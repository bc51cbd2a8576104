"""The hub through PgBouncer in transaction mode (Debian's `pgbouncer`): psycopg must not
prepare statements (`?pooler=pgbouncer` in DATABASE_URL), and the sweeps' advisory locks are
transaction-level, so both work when every transaction may get another server connection."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from hub import engine as calc
from hub import sweeps
from hub.adapters import wire
from hub.customers.operations import register_customer
from hub.extensions import make_engine
from hub.ledger import account_view
from hub.programs.operations import DEFAULT_SETTINGS, put_program
from hub.receipts.operations import SaleRequest, commit_sale
from hub.sweeps import run_due
from hub.tenants.operations import create_tenant

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None)
MOMENT = datetime(2026, 2, 1, 9, tzinfo=timezone.utc)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bouncer(pg_engine, tmp_path):
    """A PgBouncer of this test in front of the run's PostgreSQL: transaction mode, at most
    five server connections, so consecutive transactions of one client move between them (a
    run of the sweeps holds two at once: its session's and its claims')."""
    if PGBOUNCER is None:
        if os.environ.get("CI"):
            raise RuntimeError("pgbouncer is not installed (.ci/run installs it)")
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    port, pg = _free_port(), pg_engine.url
    folder = tmp_path / "pgbouncer"
    folder.mkdir()
    ini = folder / "pgbouncer.ini"
    ini.write_text(f"""[databases]
* = host={pg.host or '127.0.0.1'} port={pg.port or 5432} user={pg.username or 'postgres'}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = 5
max_client_conn = 50
ignore_startup_parameters = extra_float_digits,options
""")
    command = [PGBOUNCER, str(ini)]
    if os.geteuid() == 0:                     # it refuses to run as root
        command = [PGBOUNCER, "-u", "postgres", str(ini)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if proc.poll() is not None:
            pytest.fail(f"pgbouncer did not start: {proc.stdout.read()}")
        time.sleep(0.05)
    user = pg.username or "postgres"
    yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/{pg.database}?pooler=pgbouncer"
    proc.terminate()
    proc.wait(10)


def test_sales_and_sweeps_through_pgbouncer_in_transaction_mode(bouncer):
    wire()                  # every sweep of a worker's run, through the pooler
    eng = make_engine(bouncer)
    Session = sessionmaker(bind=eng, expire_on_commit=False)
    try:
        session = Session()
        with eng.connect() as conn:            # really through the pooler
            assert conn.execute(text("SHOW port")).scalar() != bouncer.rsplit(":", 1)[1].split("/")[0]
        t, _ = create_tenant(session, f"bouncer-{uuid.uuid4().hex[:6]}")
        session.commit()
        put_program(session, t.id, {**DEFAULT_SETTINGS, "bonus_lifetime_days": 5})
        c = register_customer(session, t.id, {"phone": "+79160000004"}, source="test", moment=MOMENT)
        session.close()

        def till(n: int, errors: list) -> None:
            s = Session()
            try:
                for i in range(8):          # past psycopg's prepare threshold (5) on every query
                    commit_sale(s, t.id, "test", SaleRequest(
                        external_id=f"B{n}-{i}", moment=MOMENT, customer={"id": c.id},
                        positions=(calc.Position(id="1", amount=10000, quantity=Decimal(1), price=10000),)), {})
            except Exception as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
            finally:
                s.close()
        errors: list = []
        tills = [threading.Thread(target=till, args=(n, errors)) for n in range(3)]
        for th in tills:
            th.start()
        for th in tills:
            th.join(120)
        assert errors == []

        session = Session()
        view = account_view(session, t.id, c.id, MOMENT)
        assert view.balance > 0
        result = run_due(session, MOMENT + timedelta(days=10), t.id)
        assert result["expired_lots"] == 24 and "held_elsewhere" not in result
        assert account_view(session, t.id, c.id, MOMENT + timedelta(days=10)).balance == 0
        # a claim taken through the pooler holds against another client of the pooler
        session.rollback()
        with sweeps.claim(session, "ledger_expiry", t.id) as mine:
            other = Session()
            assert mine and run_due(other, MOMENT + timedelta(days=11), t.id)["held_elsewhere"] == \
                {"ledger_expiry": [t.id]}
            other.close()
        session.close()
    finally:
        eng.dispose()
