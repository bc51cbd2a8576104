"""Redis down during a sale: the sale succeeds and the message goes later; with Redis up the
message is delivered by an rq worker."""
from __future__ import annotations

import logging
import uuid

import pytest
import responses
from redis import Redis
from sqlalchemy import select

from hub.extensions import db
from hub.notify.models import OutboxMessage
from hub.notify import registry
from hub.notify.delivery import deliver_due
from hub.notify.events import on_sale

from .conftest import DAY, smsru_ok

@pytest.fixture
def sale_messages(monkeypatch):
    """The one-line hook the lead adds to hub.receipts.operations._commit."""
    from hub.receipts import operations as receipts
    original = receipts._commit

    def _commit(session, tenant_id, *args, **kwargs):
        payload = original(session, tenant_id, *args, **kwargs)
        on_sale(session, tenant_id, payload)
        return payload
    monkeypatch.setattr(receipts, "_commit", _commit)


def test_redis_down_during_a_sale(api, session, tenant, monkeypatch, caplog, sale_messages):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")           # nothing listens there
    assert api.put("/api/v1/notify/channels/sms", json={
        "provider": "smsru", "credentials": {"api_id": "K"}}).status_code == 200
    assert api.post("/api/v1/customers", json={"phone": "+79161234567"}).status_code == 201
    with caplog.at_level(logging.WARNING, logger="kopilka.notify"), responses.RequestsMock() as rsps:
        r = api.post("/api/v1/receipts", json={
            "external_id": "R-1", "customer": {"phone": "+79161234567"},
            "positions": [{"id": "1", "name": "Капучино", "price": 250, "quantity": 2}]})
        assert len(rsps.calls) == 0                       # nobody called a gateway during the sale
        assert "Redis unavailable" not in caplog.text     # Redis is not asked before the answer...
        r.close()                                         # ...but once it has been sent
    assert r.status_code == 201, r.json
    assert "Redis unavailable" in caplog.text
    msg = session.scalar(select(OutboxMessage).where(OutboxMessage.tenant_id == tenant["id"]))
    assert msg.status == "queued" and msg.topic == "sale" and msg.dedupe_key == f"sale:{r.json['id']}"
    earned = r.json["totals"]["bonus_earned"] if "totals" in r.json else None
    assert msg.text.startswith("Начислено ") and (earned is None or str(earned).rstrip("0").rstrip(".") in msg.text)
    # Redis back (or the cron sweep): the message goes
    monkeypatch.delenv("REDIS_URL")
    with responses.RequestsMock() as rsps:
        smsru_ok(rsps)
        assert deliver_due(session, DAY) == 1
    msg = session.get(OutboxMessage, msg.id, populate_existing=True)
    assert msg.status == "sent"


def test_without_redis_a_request_delivers_after_its_response(api, session, tenant, sale_messages):
    api.put("/api/v1/notify/channels/sms", json={"provider": "smsru", "credentials": {"api_id": "K"}})
    api.post("/api/v1/customers", json={"phone": "+79161234567"})
    with responses.RequestsMock() as rsps:
        smsru_ok(rsps)
        r = api.post("/api/v1/receipts", json={
            "external_id": "R-2", "customer": {"phone": "+79161234567"},
            "positions": [{"id": "1", "name": "Капучино", "price": 250, "quantity": 2}]})
        assert r.status_code == 201
        assert len(rsps.calls) == 0                       # not before the answer...
        r.close()                                         # ...but once it has been sent
        assert len(rsps.calls) == 1
    msg = session.scalar(select(OutboxMessage).where(OutboxMessage.tenant_id == tenant["id"]))
    assert session.get(OutboxMessage, msg.id, populate_existing=True).status == "sent"


def test_rq_worker_delivers(redis_url, pg_engine, pg_sessions, monkeypatch):
    from rq import Queue, SimpleWorker

    from hub.jobs import QUEUE_NAME
    from hub.tenants.operations import create_tenant
    monkeypatch.setenv("DATABASE_URL", pg_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("REDIS_URL", redis_url)
    from cryptography.fernet import Fernet
    monkeypatch.setenv("KOPILKA_ENCRYPTION_KEY", Fernet.generate_key().decode())
    queue = Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))
    queue.empty()
    s = pg_sessions()
    t, _ = create_tenant(s, f"rq-{uuid.uuid4().hex[:6]}")
    registry.configure(s, t.id, "smsru", credentials={"api_id": "K"})
    s.commit()
    from hub.notify.outbox import send_code
    m = send_code(s, t.id, "+79161234567", "432100", "registration")   # the one way a code is queued
    mid = m.id
    s.commit()                                            # after the commit: a job in Redis
    s.close()
    assert queue.count == 1
    with responses.RequestsMock() as rsps:
        smsru_ok(rsps, sms_id="rq-1")
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        assert len(rsps.calls) == 1
        assert "432100" in rsps.calls[0].request.body     # the provider gets the code, the row keeps it masked
    check = pg_sessions()
    row = check.get(OutboxMessage, mid)
    assert (row.status, row.provider_message_id) == ("sent", "rq-1")
    check.close()
    db.session.remove()
