"""Messages caused by a sale itself (hub.notify.events.on_sale, called by receipts._commit):
the "sale" message, first purchase, level change, review request; idempotent replays, a
messaging failure that must not fail the sale, consent."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from hub import clock
from hub.customers.models import Customer
from hub.receipts.models import Receipt
from hub.notify.models import OutboxMessage
from hub.notify import rules

from tests.api.helpers import receipt

PROGRAM = {
    "type": "bonus", "timezone": "Europe/Moscow", "bonus_lifetime_days": 365, "activation_delay_days": 0,
    "levels": [
        {"code": "base", "name": "Стандарт", "threshold": 0,
         "accrual": {"scheme": "percent", "percent": 3}, "discount": None, "max_spend_percent": 20},
        {"code": "gold", "name": "Золотая", "threshold": 10000,
         "accrual": {"scheme": "percent", "percent": 5}, "discount": None, "max_spend_percent": 50},
    ],
}
PHONE = "+79161234567"


@pytest.fixture(autouse=True)
def _no_delivery(monkeypatch):
    """Queued messages stay queued: no inline delivery after the response."""
    from hub.notify import delivery
    monkeypatch.setattr(delivery, "dispatch", lambda ids: "test")


@pytest.fixture
def shop(api, session, tenant):
    assert api.put("/api/v1/program", json=PROGRAM).status_code == 200
    assert api.put("/api/v1/notify/channels/sms", json={
        "provider": "smsru", "credentials": {"api_id": "K"}}).status_code == 200
    return tenant["id"]


def _customer(api, phone=PHONE, consents=None) -> str:
    r = api.post("/api/v1/customers", json={"phone": phone, "consents": consents or {}})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _settings(session, tid, **values):
    rules.put_settings(session, tid, values)
    session.commit()


def _messages(session, tid, topic=None) -> list[OutboxMessage]:
    session.expire_all()
    stmt = select(OutboxMessage).where(OutboxMessage.tenant_id == tid)
    if topic:
        stmt = stmt.where(OutboxMessage.topic == topic)
    return list(session.scalars(stmt.order_by(OutboxMessage.created_at, OutboxMessage.id)))


def _sale(api, external_id, price=500, customer=PHONE):
    r = api.post("/api/v1/receipts", json=receipt(external_id, (price, 1), customer={"phone": customer}))
    assert r.status_code in (200, 201), r.json
    return r


def test_a_sale_queues_one_sale_message_and_a_replay_nothing(api, session, shop):
    _customer(api)
    r = _sale(api, "R-1")
    assert r.status_code == 201
    msgs = _messages(session, shop)
    assert [m.topic for m in msgs] == ["sale"]
    m = msgs[0]
    assert m.dedupe_key == f"sale:{r.json['id']}" and m.status == "queued" and not m.advertising
    assert (m.channel, m.recipient) == ("sms", PHONE)
    assert m.text.startswith("Начислено 15 бонусов, списано 0. Баланс: 15.")
    again = _sale(api, "R-1")
    assert again.status_code == 200 and again.json == r.json
    assert len(_messages(session, shop)) == 1
    # Another sale: its own message; an anonymous sale: none.
    _sale(api, "R-2")
    assert api.post("/api/v1/receipts", json=receipt("R-3", (500, 1))).status_code == 201
    assert [m.topic for m in _messages(session, shop)] == ["sale", "sale"]
    assert sorted(m.text.split(" Тестовый")[0] for m in _messages(session, shop)) == [
        "Начислено 15 бонусов, списано 0. Баланс: 15.", "Начислено 15 бонусов, списано 0. Баланс: 30."]


def test_a_level_crossing_sale_queues_level_change(api, session, shop):
    _customer(api)
    _sale(api, "R-1", price=9000)
    assert [m.topic for m in _messages(session, shop)] == ["sale"]
    r = _sale(api, "R-2", price=1500)          # 9000 + 1500 >= 10000: gold
    assert r.json["customer"]["level"]["code"] == "base"
    level = _messages(session, shop, "level_change")
    assert len(level) == 1 and level[0].dedupe_key == f"level_change:{r.json['id']}"
    assert "«Золотая»" in level[0].text and level[0].status == "queued"
    _sale(api, "R-3", price=500)               # gold already: no second level change
    assert len(_messages(session, shop, "level_change")) == 1
    assert len(_messages(session, shop, "sale")) == 3


def test_first_purchase_message(api, session, shop):
    _settings(session, shop, first_purchase_message=True)
    _customer(api)
    r = _sale(api, "R-1")
    msgs = _messages(session, shop)
    # The greeting carries the bonuses and the balance: it replaces the "sale" message.
    assert [m.topic for m in msgs] == ["first_purchase"]
    assert msgs[0].dedupe_key == f"first_purchase:{r.json['id']}"
    assert "первую покупку" in msgs[0].text and "Начислено 15 бонусов, баланс 15" in msgs[0].text
    _sale(api, "R-2")
    assert sorted(m.topic for m in _messages(session, shop)) == ["first_purchase", "sale"]


def test_first_purchase_off_by_default_and_left_to_an_automation_gift(api, session, shop):
    from hub.automation import settings as automation
    _customer(api)
    _sale(api, "R-1")
    assert [m.topic for m in _messages(session, shop)] == ["sale"]
    # With the greeting on but a first-purchase gift rule of the automation, the automation's
    # "gift" message (auto:<event id>) is the one that congratulates: the sale sends "sale".
    _settings(session, shop, first_purchase_message=True)
    automation.save(session, shop, {"gifts": [{"event": "first_purchase", "amount": 10000,
                                                "valid_days": 30}]}, clock.utcnow())
    _customer(api, "+79161234568")
    _sale(api, "R-2", customer="+79161234568")
    assert [m.topic for m in _messages(session, shop)] == ["sale", "sale"]


def test_review_request_only_when_switched_on(api, session, shop):
    _customer(api, consents={"sms": True})
    _sale(api, "R-1")
    assert _messages(session, shop, "review_request") == []
    _settings(session, shop, review_requests=True)
    r = _sale(api, "R-2")
    reviews = _messages(session, shop, "review_request")
    assert len(reviews) == 1
    m = reviews[0]
    link = f"http://127.0.0.1:8000/my/{shop}/review/{r.json['id']}"
    assert m.dedupe_key == f"review:{r.json['id']}" and m.status == "queued" and m.advertising
    assert m.text.endswith(link) and m.context["link"] == link


def test_review_link_follows_the_public_url(api, session, shop, monkeypatch):
    monkeypatch.setenv("KOPILKA_PUBLIC_URL", "https://bonus.example.ru/")
    _settings(session, shop, review_requests=True)
    _customer(api, consents={"sms": True})
    r = _sale(api, "R-1")
    m = _messages(session, shop, "review_request")[0]
    assert m.text.endswith(f"https://bonus.example.ru/my/{shop}/review/{r.json['id']}")


def test_a_messaging_failure_never_fails_the_sale(api, session, shop, monkeypatch, caplog):
    from hub.notify import events

    def broken(*args, **kwargs):
        raise RuntimeError("template store down")
    monkeypatch.setattr(events, "enqueue", broken)
    cid = _customer(api)
    r = api.post("/api/v1/receipts", json=receipt("R-1", (500, 1), customer={"phone": PHONE}))
    assert r.status_code == 201, r.json
    assert "not queued" in caplog.text
    assert _messages(session, shop) == []
    assert session.scalar(select(Receipt).where(Receipt.id == r.json["id"])) is not None
    assert api.get(f"/api/v1/customers/{cid}").json["balance"]["available"] == 15


def test_a_failure_after_a_written_message_rolls_back_only_the_messages(api, session, shop, monkeypatch):
    """The "sale" row is written, then the level change fails: the savepoint takes both back,
    the sale, its receipt and the customer's new level stay."""
    from hub.notify import events
    real = events.enqueue

    def half_broken(session, **kw):
        if kw["topic"] == "level_change":
            raise RuntimeError("boom")
        return real(session, **kw)
    monkeypatch.setattr(events, "enqueue", half_broken)
    cid = _customer(api)
    r = _sale(api, "R-1", price=12000)
    assert r.status_code == 201
    assert _messages(session, shop) == []
    assert api.get(f"/api/v1/customers/{cid}").json["balance"]["available"] == 360
    assert session.get(Customer, cid).level_code == "gold"
    assert session.get(Receipt, r.json["id"]) is not None


def test_service_messages_need_no_consent_advertising_does(api, session, shop):
    _settings(session, shop, review_requests=True)
    _customer(api, consents={})
    r = _sale(api, "R-1", price=12000)
    by_topic = {m.topic: m for m in _messages(session, shop)}
    assert set(by_topic) == {"sale", "level_change", "review_request"}
    assert by_topic["sale"].status == by_topic["level_change"].status == "queued"
    review = by_topic["review_request"]
    assert review.status == "suppressed" and review.reason == "Нет согласия на рекламу в этом канале (SMS)"
    assert review.dedupe_key == f"review:{r.json['id']}"


def test_a_till_adapter_commit_gets_the_same_message(api, session, shop):
    """Evotor, МойСклад and 1С commit through commit_sale: the hook is in the core."""
    from decimal import Decimal

    from hub import engine
    from hub.receipts.operations import SaleRequest, commit_sale
    _customer(api)
    req = SaleRequest(external_id="evo-1", moment=clock.utcnow(), customer={"phone": PHONE},
                      positions=(engine.Position(id="1", amount=50000, quantity=Decimal(1), price=50000),))
    answer, created = commit_sale(session, shop, "evotor", req, {"uuid": "evo-1"})
    assert created
    again, created = commit_sale(session, shop, "evotor", req, {"uuid": "evo-1"})
    assert not created and again == answer
    msgs = _messages(session, shop)
    assert [(m.topic, m.dedupe_key) for m in msgs] == [("sale", f"sale:{answer['id']}")]
