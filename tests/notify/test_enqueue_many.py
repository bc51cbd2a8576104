"""enqueue_many: a batch of outbox rows in one set-based INSERT … ON CONFLICT DO NOTHING, with
the same routing, consent, quiet hours and dedupe as enqueue."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hub import clock
from hub.notify.models import ChatLink, OutboxMessage
from hub.notify import catalog
from hub.notify.outbox import enqueue
from hub.notify.outbox import PENDING_KEY, enqueue_many

from .conftest import DAY, NIGHT

CTX = {"bonuses_kopecks": 5000, "spent_kopecks": 0, "balance_kopecks": 12000}


def _rows(session, tid):
    return {m.dedupe_key: m for m in session.scalars(
        select(OutboxMessage).where(OutboxMessage.tenant_id == tid).execution_options(populate_existing=True))}


def test_batch_routes_like_enqueue_and_dedupes(session, tid, customer, channel):
    channel("smsru")
    channel("telegram")
    a = customer("+79161234567")
    b = customer("+79161234568", consents={"sms": True})
    c = customer("+79161234569")
    session.add(ChatLink(tenant_id=tid, channel="telegram", chat_id="777", customer_id=a.id, active=True))
    session.commit()
    single = enqueue(session, tenant_id=tid, customer_id=b.id, topic="sale", context=CTX, dedupe_key="single")
    session.commit()
    items = [
        {"customer_id": a.id, "topic": "sale", "context": CTX, "dedupe_key": "a"},
        {"customer_id": b.id, "topic": "sale", "context": CTX, "dedupe_key": "b"},
        {"customer_id": b.id, "topic": "sale", "context": CTX, "dedupe_key": "b"},        # twice in the batch
        {"customer_id": c.id, "topic": "winback", "context": {}, "dedupe_key": "c", "advertising": True},
        {"customer_id": b.id, "topic": "sale", "context": CTX, "dedupe_key": "single"},   # queued before
    ]
    assert enqueue_many(session, tid, items) == 3
    pending = list(session.info.get(PENDING_KEY) or [])
    session.commit()
    rows = _rows(session, tid)
    assert set(rows) == {"single", "a", "b", "c"}
    assert (rows["a"].channel, rows["a"].recipient, rows["a"].expected_cost) == ("telegram", "777", 0)
    assert (rows["b"].channel, rows["b"].recipient, rows["b"].expected_cost) == ("sms", "+79161234568", 250)
    assert rows["b"].text == single.text and rows["b"].parts == single.parts
    assert rows["c"].status == "suppressed" and rows["c"].reason_code == "no_consent"
    assert rows["c"].reason == "Нет согласия на рекламу в этих каналах (Telegram, SMS)"
    assert sorted(pending) == sorted([rows["a"].id, rows["b"].id])          # delivered after the commit
    assert enqueue_many(session, tid, items) == 0                               # nothing twice
    session.commit()
    assert len(_rows(session, tid)) == 4


def test_batch_quiet_hours_and_topics_switched_off(session, tid, customer, channel):
    channel("smsru")
    c = customer(consents={"sms": True})
    catalog.put_template(session, tid, "expiry_warning", enabled=False)
    session.commit()
    with clock.frozen(NIGHT):
        n = enqueue_many(session, tid, [
            {"customer_id": c.id, "topic": "winback", "context": {}, "dedupe_key": "w"},
            {"customer_id": c.id, "topic": "expiry_warning", "context": CTX, "dedupe_key": "e"},
        ])
        session.commit()
    assert n == 1
    rows = _rows(session, tid)
    assert set(rows) == {"w"}
    morning = DAY.replace(hour=6) + timedelta(days=1)
    assert rows["w"].status == "queued" and rows["w"].next_attempt_at == morning
    assert rows["w"].reason == "Тихие часы: отправка в 09:00 по местному времени"


def test_empty_batch_and_other_tenants_customers(session, tid, customer, channel):
    import pytest
    from hub.tenants.operations import create_tenant
    assert enqueue_many(session, tid, []) == 0
    other, _ = create_tenant(session, "Чужой")
    session.commit()
    c = customer()
    with pytest.raises(ValueError):
        enqueue_many(session, other.id, [{"customer_id": c.id, "topic": "sale", "context": CTX,
                                          "dedupe_key": "x"}])
    session.rollback()
