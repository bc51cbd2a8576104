"""Two terminals quoting the same bonuses at once (PostgreSQL, real threads, committing
sessions): only one of them holds them."""
from __future__ import annotations

import copy
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.ledger import account_view, check_ledger
from hub.connections.models import Connection
from hub.moments import utcnow
from hub.customers.bonuses import adjust_bonuses
from hub.customers.operations import register_customer
from hub.programs.operations import put_program
from hub.tenants.operations import create_tenant
from tests.evotor.conftest import APP_TOKEN, PROGRAM


@pytest.fixture
def pg_app(app, pg_engine):
    """The app's scoped session on the run's PostgreSQL database with real commits."""
    previous = db.engine
    db.session.remove()
    db.engine = pg_engine
    db.session.configure(bind=pg_engine, join_transaction_mode="conditional_savepoint")
    try:
        yield app
    finally:
        db.session.remove()
        db.engine = previous
        db.session.configure(bind=previous)


def test_two_terminals_cannot_hold_the_same_bonuses(pg_app, pg_sessions):
    user_id = f"01-{uuid.uuid4().int % 10 ** 15:015d}"
    phone = f"+7916{uuid.uuid4().int % 10 ** 7:07d}"
    s = pg_sessions()
    try:
        tenant, key = create_tenant(s, f"evotor-concurrency-{uuid.uuid4().hex}")
        s.commit()
        put_program(s, tenant.id, copy.deepcopy(PROGRAM))
        s.commit()
        now = utcnow()
        customer = register_customer(s, tenant.id, {"phone": phone}, source="test", moment=now)
        adjust_bonuses(s, tenant.id, customer.id, amount=10000, kind="manual", reason="старт", valid_days=None,
                       moment=now - timedelta(hours=1), idempotency_key=None, source="test", body={})
        tenant_id, customer_id = tenant.id, customer.id
    finally:
        s.close()
    client = pg_app.test_client()
    r = client.post("/evotor/api/v1/user/verify", json={"userId": user_id, "password": key},
                    headers={"Authorization": f"Bearer {APP_TOKEN}"})
    assert r.status_code == 200, r.get_data(as_text=True)
    token = r.get_json()["token"]

    n = 6
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def quote(i: int) -> None:
        http = pg_app.test_client()
        barrier.wait()
        resp = http.post("/evotor/app/v1/receipts/quote", json={
            "receipt_uuid": f"C-{i}", "customer": {"id": customer_id}, "spend_bonuses": 100,
            "positions": [{"uuid": "p", "price": 1000, "quantity": 1}]},
            headers={"Authorization": f"Bearer {token}", "X-Evotor-User-Id": user_id,
                     "X-Evotor-Device-UUID": f"device-{i}"})
        results[i] = (resp.status_code, resp.get_json())

    threads = [threading.Thread(target=quote, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert all(status == 200 for status, _ in results), results
    discounts = sorted(body["discount"] for _, body in results)
    assert discounts == [0] * (n - 1) + [100], discounts
    s = pg_sessions()
    try:
        view = account_view(s, tenant_id, customer_id, utcnow())
        assert view.held == 10000 and view.available == 0
        assert check_ledger(s, tenant_id) == []
        assert s.scalar(select(Connection.tenant_id).where(Connection.external_account == user_id)) == tenant_id
    finally:
        s.close()
