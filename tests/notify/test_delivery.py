"""Delivery: providers' answers, retries and backoff, consent and quiet hours at send time,
messenger → SMS fallback, timeouts answered by a status lookup, rate limits."""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses

from hub import clock
from hub.notify.models import ChatLink
from hub.notify.outbox import enqueue
from hub.notify import rules
from hub.notify.delivery import Limiter, deliver, deliver_due
from hub.customers.operations import update_customer

from .conftest import AERO, DAY, NIGHT, SMSRU, TG, smsru_ok


def _sale(session, tid, c, key="sale-1", **kw):
    m = enqueue(session, tenant_id=tid, customer_id=c.id, topic=kw.pop("topic", "sale"),
                context={"bonuses_kopecks": 5000, "spent_kopecks": 0, "balance_kopecks": 12000},
                dedupe_key=key, **kw)
    session.commit()
    return m


def test_sms_ru_sends_and_records_cost(session, tid, customer, channel):
    channel("smsru", sender="Kofeinya")
    m = _sale(session, tid, customer())
    with responses.RequestsMock() as rsps:
        smsru_ok(rsps, sms_id="202603-1", cost="2.50")
        assert deliver(session, m.id) == "sent"
        sent = parse_qs(rsps.calls[0].request.body)
    assert sent["api_id"] == ["KEY"] and sent["to"] == ["79161234567"] and sent["from"] == ["Kofeinya"]
    assert sent["msg"][0].startswith("Начислено 50 бонусов")
    assert (m.status, m.provider, m.provider_message_id, m.cost, m.attempts) == ("sent", "smsru", "202603-1", 250, 1)
    assert deliver(session, m.id) == "skipped"                  # never sent twice


def test_provider_5xx_then_recovering(session, tid, customer, channel):
    channel("smsru")
    m = _sale(session, tid, customer())
    with responses.RequestsMock() as rsps:
        rsps.post(f"{SMSRU}/sms/send", status=503)
        assert deliver(session, m.id) == "queued"
    assert m.reason == "Провайдер недоступен (HTTP 503)" and m.reason_code == "unavailable" and m.attempts == 1
    assert m.next_attempt_at == DAY + timedelta(seconds=30)
    with responses.RequestsMock() as rsps:                       # not due yet: no call at all
        assert deliver_due(session, DAY + timedelta(seconds=10)) == 0
    with responses.RequestsMock() as rsps:
        rsps.post(f"{SMSRU}/sms/send", status=502)
        assert deliver_due(session, DAY + timedelta(seconds=31)) == 1
    assert m.status == "queued" and m.next_attempt_at == DAY + timedelta(seconds=31 + 120)
    with responses.RequestsMock() as rsps:
        smsru_ok(rsps)
        assert deliver_due(session, DAY + timedelta(minutes=5)) == 1
    assert m.status == "sent" and m.attempts == 3 and m.reason is None and m.reason_code is None
    assert m.cost == m.expected_cost == 250                      # SMS.ru gave no price: the estimate


@pytest.mark.parametrize("body, reason, code", [
    ({"status": "ERROR", "status_code": 201, "status_text": "x"},
     "Недостаточно средств у провайдера (SMS.ru, код 201)", "no_funds"),
    ({"status": "OK", "status_code": 100, "sms": {"79161234567": {"status": "ERROR", "status_code": 202}}},
     "Неверный номер (SMS.ru, код 202)", "bad_number"),
    ({"status": "OK", "status_code": 100, "sms": {"79161234567": {"status": "ERROR", "status_code": 207}}},
     "На этот номер нельзя отправлять сообщения (SMS.ru, код 207)", "bad_number"),
])
def test_provider_refusal_fails_with_the_reason(session, tid, customer, channel, body, reason, code):
    channel("smsru")
    m = _sale(session, tid, customer())
    with responses.RequestsMock() as rsps:
        rsps.post(f"{SMSRU}/sms/send", json=body)
        assert deliver(session, m.id) == "failed"
    assert m.reason == reason and m.reason_code == code and m.next_attempt_at is None


def test_consent_withdrawn_between_queueing_and_sending(session, tid, customer, channel):
    channel("smsru")
    c = customer(consents={"sms": True})
    m = _sale(session, tid, c, topic="winback", key="wb-1")
    assert m.status == "queued"
    update_customer(session, tid, c.id, {"consents": {"sms": False}}, source="cabinet", moment=DAY)
    with responses.RequestsMock() as rsps:
        assert deliver_due(session, DAY) == 1
        assert len(rsps.calls) == 0
    assert m.status == "suppressed" and m.reason_code == "consent_withdrawn"
    assert m.reason == "Клиент отозвал согласие на рекламу в этом канале (SMS)"


def test_quiet_hours_at_send_time(session, tid, customer, channel):
    channel("smsru")
    c = customer(consents={"sms": True})
    m = _sale(session, tid, c, topic="winback", key="wb-2")
    with responses.RequestsMock() as rsps, clock.frozen(NIGHT):
        assert deliver(session, m.id) == "queued"
        assert len(rsps.calls) == 0
    morning = DAY.replace(hour=6) + timedelta(days=1)
    assert m.next_attempt_at == morning and m.attempts == 0
    assert m.reason == "Тихие часы: отправка в 09:00 по местному времени" and m.reason_code == "quiet_hours"
    with responses.RequestsMock() as rsps:
        smsru_ok(rsps)
        assert deliver_due(session, morning) == 1
    assert m.status == "sent"


def test_blocked_bot_falls_back_to_sms(session, tid, customer, channel):
    channel("smsru")
    channel("telegram")
    c = customer()
    session.add(ChatLink(tenant_id=tid, channel="telegram", chat_id="555", customer_id=c.id,
                         phone=c.phone, active=True))
    session.commit()
    m = _sale(session, tid, c)
    assert m.channel == "telegram"
    with responses.RequestsMock() as rsps:
        rsps.post(f"{TG}/bot123:ABC/sendMessage", status=403,
                  json={"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
        assert deliver(session, m.id) == "queued"
        assert json.loads(rsps.calls[0].request.body) == {"chat_id": "555", "text": m.text}
    assert m.channel == "sms" and m.recipient == "+79161234567" and m.reason_code == "fallback"
    assert m.reason == "Отправим по SMS: Клиент заблокировал бота (Telegram 403)"
    assert m.expected_cost == 250
    link = session.query(ChatLink).filter_by(chat_id="555").one()
    assert link.active is False
    with responses.RequestsMock() as rsps:
        smsru_ok(rsps)
        assert deliver(session, m.id) == "sent"
    assert _sale(session, tid, c, key="next").channel == "sms"     # the dead chat is skipped


def test_telegram_429_waits_as_told(session, tid, customer, channel):
    channel("telegram")
    c = customer()
    session.add(ChatLink(tenant_id=tid, channel="telegram", chat_id="7", customer_id=c.id, active=True))
    session.commit()
    m = _sale(session, tid, c)
    with responses.RequestsMock() as rsps:
        rsps.post(f"{TG}/bot123:ABC/sendMessage", status=429,
                  json={"ok": False, "error_code": 429, "parameters": {"retry_after": 90}})
        assert deliver(session, m.id) == "queued"
    assert m.next_attempt_at == DAY + timedelta(seconds=90)
    with responses.RequestsMock() as rsps:
        rsps.post(f"{TG}/bot123:ABC/sendMessage", json={"ok": True, "result": {"message_id": 42}})
        assert deliver_due(session, DAY + timedelta(seconds=90)) == 1
    assert (m.status, m.provider_message_id, m.cost) == ("sent", "42", 0)


def test_timeout_asks_sms_aero_before_sending_again(session, tid, customer, channel):
    channel("smsaero", sender="SHOP")
    m = _sale(session, tid, customer())
    with responses.RequestsMock() as rsps:
        rsps.post(f"{AERO}/sms/send", body=requests.exceptions.ReadTimeout("slow"))
        assert deliver(session, m.id) == "queued"
    assert m.reason == "Провайдер не ответил вовремя (gate.smsaero.ru)" and m.reason_code == "timeout"
    with responses.RequestsMock() as rsps:     # it did arrive: found by number and text, not resent
        rsps.post(f"{AERO}/sms/list", json={"success": True, "data": {
            "0": {"id": 777, "number": "79161234567", "text": m.text, "status": 0, "cost": 4.99},
            "links": {}}})
        assert deliver_due(session, DAY + timedelta(minutes=1)) == 1
        assert [c.request.url for c in rsps.calls] == [f"{AERO}/sms/list"]
    assert (m.status, m.provider_message_id, m.cost) == ("sent", "777", 499)


def test_sms_aero_send_callback_and_auth(session, tid, customer, channel):
    row = channel("smsaero", sender="SHOP")
    m = _sale(session, tid, customer())
    with responses.RequestsMock() as rsps:
        rsps.post(f"{AERO}/sms/send", json={"success": True, "data": {"id": 9, "status": 0, "cost": "5.49"}})
        assert deliver(session, m.id) == "sent"
        req = rsps.calls[0].request
    body = json.loads(req.body)
    assert body["number"] == "79161234567" and body["sign"] == "SHOP" and body["text"] == m.text
    assert body["callbackUrl"].endswith(f"/notify/sms/{row.webhook_id}/status?secret={row.plain_secret}")
    assert req.headers["Authorization"].startswith("Basic ")
    assert m.cost == 549


def test_sms_aero_no_credits_fails(session, tid, customer, channel):
    channel("smsaero")
    m = _sale(session, tid, customer())
    with responses.RequestsMock() as rsps:
        rsps.post(f"{AERO}/sms/send", json={"success": False, "result": "no credits"})
        assert deliver(session, m.id) == "failed"
    assert m.reason == "Недостаточно средств у провайдера (SMS Aero)" and m.reason_code == "no_funds"


def test_attempts_run_out(session, tid, customer, channel):
    channel("smsru")
    rules.put_settings(session, tid, {"max_attempts": 2})
    session.commit()
    m = _sale(session, tid, customer())
    with responses.RequestsMock() as rsps:
        rsps.post(f"{SMSRU}/sms/send", body=requests.exceptions.ConnectionError("down"))
        assert deliver(session, m.id) == "queued"
        assert deliver_due(session, DAY + timedelta(hours=1)) == 1
    assert m.status == "failed" and m.reason_code == "attempts_exhausted"
    assert m.reason == "Попытки исчерпаны (2): Провайдер недоступен (ошибка соединения: ConnectionError)"


def test_a_sending_lease_expires(session, tid, customer, channel):
    """A worker that died mid-send leaves "sending": the sweep takes it again later."""
    channel("smsru")
    m = _sale(session, tid, customer())
    m.status, m.next_attempt_at = "sending", DAY + timedelta(minutes=2)
    session.commit()
    with responses.RequestsMock():
        assert deliver_due(session, DAY + timedelta(minutes=1)) == 0
    with responses.RequestsMock() as rsps:
        smsru_ok(rsps)
        assert deliver_due(session, DAY + timedelta(minutes=3)) == 1
    assert m.status == "sent"


def test_limiter_spacing_per_bot_and_per_chat():
    lim = Limiter()
    waits = [lim.reserve("bot", 1 / 30) for _ in range(31)]
    assert waits[0] == 0 and 0.95 < waits[30] <= 1.0 + 1e-6
    assert lim.reserve("chat-1", 1.0) == 0 and 0.9 < lim.reserve("chat-1", 1.0) <= 1.0
    assert lim.reserve("chat-2", 1.0) == 0


def test_telegram_timeout_never_puts_the_bot_token_in_the_reason(session, tid, customer, channel, caplog):
    """Telegram's URL carries the bot token (/bot<token>/sendMessage): a timeout's reason is
    stored on the message, shown by GET /api/v1/notify/messages and logged — never the token."""
    channel("telegram")
    c = customer()
    session.add(ChatLink(tenant_id=tid, channel="telegram", chat_id="7", customer_id=c.id, active=True))
    session.commit()
    m = _sale(session, tid, c)
    with responses.RequestsMock() as rsps:
        rsps.post(f"{TG}/bot123:ABC/sendMessage", body=requests.exceptions.ReadTimeout("slow"))
        deliver(session, m.id)
    assert m.reason_code == "timeout" and m.reason.startswith("Провайдер не ответил вовремя")
    assert "123:ABC" not in m.reason
    assert "123:ABC" not in caplog.text


def test_the_balance_in_a_send_answer_is_kept_on_the_channel(session, tid, customer, channel):
    """SMS.ru answers a send with the account's balance: kept on the channel for the owner's
    setup checklist, with no call of a balance method (issue 25.1)."""
    from hub.notify.models import NotifyChannel
    ch = channel("smsru")
    m = _sale(session, tid, customer())
    with responses.RequestsMock() as rsps:
        smsru_ok(rsps)
        assert deliver(session, m.id) == "sent"
        assert len(rsps.calls) == 1
    row = session.get(NotifyChannel, ch.id, populate_existing=True)
    assert row.settings["balance"] == 10050 and row.settings["balance_at"].startswith("2026-03-02")
    channel("smsru", sender="Kofeinya")                  # settings saved again: the balance stays
    assert session.get(NotifyChannel, ch.id, populate_existing=True).settings["balance"] == 10050
    channel("smsaero")                                   # another provider's account: not its balance
    assert "balance" not in session.get(NotifyChannel, ch.id, populate_existing=True).settings
