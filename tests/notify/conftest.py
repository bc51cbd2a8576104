"""Messaging tests: a tenant, customers and channels on both databases, a pinned daytime clock."""
from __future__ import annotations

import uuid
from types import SimpleNamespace
from datetime import datetime, timezone

import pytest

from hub import clock
from hub.notify import registry

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)          # 12:00 in Moscow
NIGHT = datetime(2026, 3, 2, 20, 30, tzinfo=timezone.utc)      # 23:30 in Moscow
SMSRU = "https://sms.ru"
AERO = "https://gate.smsaero.ru/v2"
TG = "https://api.telegram.org"


@pytest.fixture(autouse=True)
def _daytime(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    with clock.frozen(DAY):
        yield


@pytest.fixture
def tid(session):
    from hub.tenants.operations import create_tenant
    t, _ = create_tenant(session, f"Кофейня {uuid.uuid4().hex[:6]}")
    session.commit()
    return t.id


@pytest.fixture
def customer(session, tid):
    def make(phone="+79161234567", consents=None, **fields):
        from hub.customers.operations import register_customer
        c = register_customer(session, tid, {"phone": phone, "consents": consents or {}, **fields},
                              source="test", moment=clock.utcnow())
        session.commit()
        return c
    return make


@pytest.fixture
def channel(session, tid):
    def make(provider, credentials=None, **settings):
        creds = credentials or {"smsru": {"api_id": "KEY"}, "smsaero": {"email": "a@b.ru", "api_key": "K"},
                                "telegram": {"token": "123:ABC"}, "max": {"token": "MAXTOKEN"},
                                "smtp": {}}[provider]
        row, secret = registry.configure(session, tid, provider, settings=settings, credentials=creds)
        session.commit()
        return SimpleNamespace(id=row.id, webhook_id=row.webhook_id, plain_secret=secret,
                               provider=provider)
    return make


def smsru_ok(rsps, phone="79161234567", sms_id="000-1", cost=None):
    item = {"status": "OK", "status_code": 100, "sms_id": sms_id}
    if cost is not None:
        item["cost"] = cost
    rsps.post(f"{SMSRU}/sms/send", json={"status": "OK", "status_code": 100,
                                          "sms": {phone: item}, "balance": 100.5})
