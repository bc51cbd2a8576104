"""The `kopilka` command against a real database file and the run's PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from click.testing import CliRunner
from sqlalchemy import update

from hub import engine
from hub.cli import main
from hub.extensions import db
from hub.models import Account
from hub.services.customers import register_customer
from hub.services.receipts import SaleRequest, commit_sale
from hub.services.tenants import tenant_for_key


def _run(env, *args):
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result


def test_tenant_and_keys_on_a_fresh_sqlite_file(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}"}
    assert _run(env, "db", "upgrade").exit_code == 0
    out = _run(env, "tenant", "create", "--name", "Кофейня", "--json")
    assert out.exit_code == 0, out.output
    created = json.loads(out.output)
    assert created["api_key"].startswith("kp_")
    assert tenant_for_key(db.session, created["api_key"]) == created["tenant_id"]
    key2 = _run(env, "apikey", "create", "--tenant", created["tenant_id"]).output.strip()
    assert tenant_for_key(db.session, key2) == created["tenant_id"]
    missing = CliRunner().invoke(main, ["apikey", "create", "--tenant", "nope"], env=env)
    assert missing.exit_code != 0 and "не найдена" in missing.output
    db.session.remove()


def test_check_ledger_and_automation_on_postgres(pg_engine, pg_sessions):
    url = pg_engine.url.render_as_string(hide_password=False)
    env = {"DATABASE_URL": url}
    session = pg_sessions()
    from hub.services.tenants import create_tenant
    from hub.services.programs import put_program, DEFAULT_SETTINGS
    t, _ = create_tenant(session, "CLI")
    session.commit()
    put_program(session, t.id, {**DEFAULT_SETTINGS, "bonus_lifetime_days": 10})
    moment = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    c = register_customer(session, t.id, {"phone": "+79160000001"}, source="test", moment=moment)
    commit_sale(session, t.id, "test", SaleRequest(
        external_id="S1", moment=moment, customer={"id": c.id},
        positions=(engine.Position(id="1", amount=100000, quantity=Decimal(1), price=100000),)), {"n": 1})
    session.close()

    ok = _run(env, "check-ledger")
    assert ok.exit_code == 0, ok.output

    later = (moment + timedelta(days=30)).isoformat()
    ran = _run(env, "automation", "run", "--at", later, "--tenant", t.id)
    assert ran.exit_code == 0 and json.loads(ran.output)["expired_lots"] == 1
    again = _run(env, "automation", "run", "--at", later, "--tenant", t.id)
    assert json.loads(again.output)["expired_lots"] == 0

    session = pg_sessions()
    session.execute(update(Account).where(Account.customer_id == c.id).values(balance=Account.balance + 1))
    session.commit()
    session.close()
    bad = CliRunner().invoke(main, ["check-ledger"], env=env)
    assert bad.exit_code == 1 and c.id in bad.output
    session = pg_sessions()
    session.execute(update(Account).where(Account.customer_id == c.id).values(balance=Account.balance - 1))
    session.commit()
    session.close()
    db.session.remove()
