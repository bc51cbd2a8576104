"""enqueue: dedupe, channel choice, consent, quiet hours, templates; send_code limits."""
from __future__ import annotations

from datetime import timedelta

import pytest

from hub import clock
from hub.errors import Invalid
from hub.notify.models import ChatLink
from hub.notify import catalog, rules
from hub.notify.outbox import enqueue, send_code

from .conftest import DAY, NIGHT


def _enq(session, tid, c, topic="sale", key="k1", **kw):
    ctx = kw.pop("context", {"bonuses_kopecks": 5000, "spent_kopecks": 0, "balance_kopecks": 12000})
    return enqueue(session, tenant_id=tid, customer_id=c.id if c else None, topic=topic,
                   context=ctx, dedupe_key=key, **kw)


def test_same_event_never_twice(session, tid, customer, channel):
    channel("smsru")
    c = customer()
    first = _enq(session, tid, c)
    again = _enq(session, tid, c)
    session.commit()
    assert again.id == first.id
    assert first.status == "queued" and first.channel == "sms" and first.recipient == "+79161234567"
    assert first.text.startswith("Начислено 50 бонусов, списано 0. Баланс: 120. Кофейня ")
    assert first.parts == 1 and first.expected_cost == 250


def test_cheapest_channel_first_and_sms_fallback(session, tid, customer, channel):
    channel("smsru")
    channel("telegram")
    c = customer()
    assert _enq(session, tid, c, key="a").channel == "sms"        # no chat linked yet
    session.add(ChatLink(tenant_id=tid, channel="telegram", chat_id="555", customer_id=c.id,
                         phone=c.phone, active=True))
    session.flush()
    m = _enq(session, tid, c, key="b")
    assert (m.channel, m.recipient, m.expected_cost) == ("telegram", "555", 0)
    rules.put_settings(session, tid, {"sms_fallback": False})
    other = customer("+79161234568")
    m = _enq(session, tid, other, key="c")
    assert m.status == "suppressed" and m.reason_code == "no_channel"
    assert m.reason == "Нет канала для отправки: клиент не подключил бота, нет телефона или email"


def test_advertising_needs_consent_for_the_channel(session, tid, customer, channel):
    channel("smsru")
    no = customer("+79161234567", {"sms": False})
    yes = customer("+79161234568", {"sms": True})
    m = _enq(session, tid, no, topic="winback", key="w1")
    assert m.status == "suppressed" and m.reason == "Нет согласия на рекламу в этом канале (SMS)" and m.advertising
    assert m.reason_code == "no_consent"
    # birthdays are advertising whatever the caller says
    m = _enq(session, tid, no, topic="birthday", key="b1", advertising=False)
    assert m.status == "suppressed" and m.advertising
    m = _enq(session, tid, yes, topic="winback", key="w2")
    assert m.status == "queued" and m.channel == "sms"
    # service messages need no advertising consent
    assert _enq(session, tid, no, key="s1").status == "queued"


def test_email_only_when_opted_in(session, tid, customer, channel):
    channel("smtp", host="127.0.0.1", port=2525)
    channel("smsru")
    c = customer(consents={"email": True}, email="anna@example.ru")
    m = _enq(session, tid, c, topic="gift", key="g", context={"bonuses_kopecks": 30000, "date": "31.03.2026"},
             advertising=True)
    assert m.channel == "email" and m.recipient == "anna@example.ru"
    assert "Отписаться от рассылки: http" in m.text and "/notify/u/" in m.text
    plain = customer("+79161234569", email="x@example.ru")
    assert _enq(session, tid, plain, key="p").channel == "sms"


def test_quiet_hours_hold_advertising_until_morning(session, tid, customer, channel):
    channel("smsru")
    c = customer(consents={"sms": True})
    with clock.frozen(NIGHT):
        ad = _enq(session, tid, c, topic="winback", key="night-ad")
        service = _enq(session, tid, c, key="night-sale")
    assert ad.status == "queued" and ad.next_attempt_at == DAY.replace(hour=6) + timedelta(days=1)
    assert service.next_attempt_at == NIGHT
    rules.put_settings(session, tid, {"quiet_hours": {"start": "23:00", "end": "08:00"}})
    with clock.frozen(NIGHT - timedelta(hours=1)):       # 22:30 local: allowed now
        assert _enq(session, tid, c, topic="winback", key="late").next_attempt_at == NIGHT - timedelta(hours=1)


def test_tenant_templates_override_and_switch_off(session, tid, customer, channel):
    channel("smsru")
    c = customer(first_name="Анна")
    catalog.put_template(session, tid, "sale", text="{name}, +{bonuses} Б. Итого {balance}.")
    assert _enq(session, tid, c, key="x").text == "Анна, +50 Б. Итого 120."
    catalog.put_template(session, tid, "sale", enabled=False)
    assert _enq(session, tid, c, key="y") is None
    with pytest.raises(Invalid) as err:
        catalog.put_template(session, tid, "sale", text="{nmae}")
    assert err.value.code == "unknown_placeholder"
    long = catalog.preview(session, tid, "gift", text="я" * 71)
    assert long["sms"] == {"encoding": "ucs2", "length": 71, "parts": 2, "expected_cost": 500}


def test_send_code_limits_per_phone(session, tid, channel):
    channel("smsru")
    m = send_code(session, tid, "8 916 123-45-67", "123456", "registration")
    assert m.channel == "sms" and m.recipient == "+79161234567" and "123456" not in m.text \
        and not m.dedupe_key.endswith("123456") and m.context["code"] == "******"
    with pytest.raises(Invalid) as err:
        send_code(session, tid, "+79161234567", "654321", "registration")
    assert err.value.code == "code_rate_limited"
    for i in range(4):
        clock.advance(timedelta(seconds=61))
        send_code(session, tid, "+79161234567", f"00000{i}", "registration")
    clock.advance(timedelta(seconds=61))
    with pytest.raises(Invalid):
        send_code(session, tid, "+79161234567", "111111", "registration")   # 6th within the hour
    clock.advance(timedelta(hours=1))
    assert send_code(session, tid, "+79161234567", "222222", "registration") is not None
