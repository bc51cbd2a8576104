"""SMSC (smsc.ru) as the third SMS gateway: send.php with fmt=3 JSON answers and cost=3,
its error codes (final ones fail with the Russian reason, 4 and 9 and 5xx retry), the status
callback verified by the channel's secret, credentials encrypted, chosen per tenant."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from sqlalchemy import select

from hub.notify.models import NotifyChannel, OutboxMessage
from hub.notify.outbox import enqueue
from hub.notify import registry
from hub.notify.channels import Smsc, smsc_state
from hub.notify.delivery import deliver, deliver_due

from .conftest import DAY

SEND = "https://smsc.ru/sys/send.php"
CREDS = {"login": "shop", "password": "p4ss"}


def _sale(session, tid, c, key="sale-1"):
    m = enqueue(session, tenant_id=tid, customer_id=c.id, topic="sale", dedupe_key=key,
                context={"bonuses_kopecks": 5000, "spent_kopecks": 0, "balance_kopecks": 12000})
    session.commit()
    return m


def test_smsc_sends_with_fmt3_and_records_the_cost(session, tid, customer, channel):
    channel("smsc", credentials=CREDS, sender="Kofeinya")
    m = _sale(session, tid, customer())
    assert (m.channel, m.provider) == ("sms", "smsc")
    with responses.RequestsMock() as rsps:
        # SMSC's answer with fmt=3 and cost=3: id, number of SMS, cost and the new balance
        rsps.post(SEND, json={"id": 34, "cnt": 1, "cost": "2.9", "balance": "1234.56"})
        assert deliver(session, m.id) == "sent"
        sent = parse_qs(rsps.calls[0].request.body)
    assert sent["login"] == ["shop"] and sent["psw"] == ["p4ss"] and sent["phones"] == ["79161234567"]
    assert sent["fmt"] == ["3"] and sent["cost"] == ["3"] and sent["charset"] == ["utf-8"]
    assert sent["sender"] == ["Kofeinya"] and sent["mes"] == [m.text]
    assert (m.status, m.provider_message_id, m.cost, m.reason) == ("sent", "34", 290, None)


@pytest.mark.parametrize("code, reason, kind", [
    (3, "Недостаточно средств у провайдера (SMSC, код 3)", "no_funds"),
    (7, "Неверный номер (SMSC, код 7)", "bad_number"),
    (2, "Провайдер не принял учётные данные (неверный логин или пароль) (SMSC, код 2)", "auth"),
    (8, "Сообщение на этот номер не может быть доставлено (SMSC, код 8)", "undeliverable"),
])
def test_smsc_refusals_fail_with_the_russian_reason(session, tid, customer, channel, code, reason, kind):
    channel("smsc", credentials=CREDS)
    m = _sale(session, tid, customer())
    with responses.RequestsMock() as rsps:
        rsps.post(SEND, json={"error": "some english text", "error_code": code})
        assert deliver(session, m.id) == "failed"
    assert (m.reason, m.reason_code, m.next_attempt_at) == (reason, kind, None)


def test_smsc_server_errors_and_busy_answers_retry(session, tid, customer, channel):
    channel("smsc", credentials=CREDS)
    m = _sale(session, tid, customer())
    with responses.RequestsMock() as rsps:
        rsps.post(SEND, status=503)
        assert deliver(session, m.id) == "queued"
    assert (m.reason, m.reason_code) == ("Провайдер недоступен (HTTP 503)", "unavailable")
    with responses.RequestsMock() as rsps:             # 9: the same request within a minute
        rsps.post(SEND, json={"error": "duplicate request, wait a minute", "error_code": 9})
        assert deliver_due(session, DAY + timedelta(minutes=1)) == 1
    assert m.status == "queued" and m.reason_code == "rate_limited" and "SMSC, код 9" in m.reason
    assert m.next_attempt_at >= DAY + timedelta(minutes=3)
    with responses.RequestsMock() as rsps:
        rsps.post(SEND, json={"id": 35, "cnt": 2, "cost": "5.8", "balance": "10"})
        assert deliver_due(session, DAY + timedelta(hours=1)) == 1
    assert (m.status, m.provider_message_id, m.cost, m.attempts) == ("sent", "35", 580, 3)


def test_smsc_status_codes_and_lookup():
    assert [smsc_state(c) for c in (-3, -1, 0, 1, 2, 3, 20, 22, 25, "x")] == \
        [None, "sent", "sent", "delivered", "delivered", "failed", "failed", "failed", "failed", None]
    ch = Smsc({}, CREDS)
    assert ch.status("34") is None                      # SMSC needs the phone with the id
    with responses.RequestsMock() as rsps:
        rsps.get("https://smsc.ru/sys/status.php", json={"status": 1, "last_date": "28.06.2026 19:05:41",
                                                         "last_timestamp": 1782662741})
        assert ch.status("34", phone="+79161234567") == "delivered"
        q = parse_qs(rsps.calls[0].request.url.split("?", 1)[1])
    assert q["id"] == ["34"] and q["phone"] == ["79161234567"] and q["fmt"] == ["3"]


def test_smsc_status_callback_needs_the_secret(client, session, tid, customer, channel):
    row = channel("smsc", credentials=CREDS)
    cid = customer().id
    m = enqueue(session, tenant_id=tid, customer_id=cid, topic="sale", dedupe_key="k", context={})
    m.status, m.provider_message_id = "sent", "34"
    session.commit()
    mid = m.id
    url = f"/notify/sms/{row.webhook_id}/status"
    form = {"id": "34", "phone": "79161234567", "status": "1", "time": "28.06.2026 19:05:41", "err": "0"}
    assert client.post(url + "?secret=wrong", data=form).status_code == 401
    assert client.post(url, data=form).status_code == 401
    assert session.get(OutboxMessage, mid, populate_existing=True).status == "sent"
    r = client.post(url + f"?secret={row.plain_secret}", data=form)
    assert r.status_code == 200 and r.get_data(as_text=True) == "OK"
    msg = session.get(OutboxMessage, mid, populate_existing=True)
    assert msg.status == "delivered" and msg.delivered_at == DAY
    # an undelivered status of another message: failed, with the Russian reason
    m2 = enqueue(session, tenant_id=tid, customer_id=cid, topic="sale", dedupe_key="k2", context={})
    m2.status, m2.provider_message_id = "sent", "35"
    session.commit()
    mid2 = m2.id
    client.post(url + f"?secret={row.plain_secret}", data={**form, "id": "35", "status": "20", "err": "1"})
    msg2 = session.get(OutboxMessage, mid2, populate_existing=True)
    assert (msg2.status, msg2.reason, msg2.reason_code) == ("failed", "Оператор не доставил сообщение", "undelivered")


def test_smsc_per_tenant_with_encrypted_credentials(api, session):
    r = api.put("/api/v1/notify/channels/sms", json={"provider": "smsc", "credentials": {"login": "shop"}})
    assert r.status_code == 422 and r.json["error"]["code"] == "credentials_missing"
    assert "password" in r.json["error"]["message"]
    r = api.put("/api/v1/notify/channels/sms", json={"provider": "smsc", "credentials": CREDS,
                                                      "settings": {"sender": "SHOP"}})
    assert r.status_code == 200, r.json
    assert r.json["provider"] == "smsc" and r.json["credentials_set"] == ["login", "password"]
    assert "p4ss" not in str(r.json)
    row = session.scalars(select(NotifyChannel).where(NotifyChannel.webhook_id == r.json["webhook_id"])).one()
    assert "p4ss" not in row.credentials and registry.decrypt(row.credentials)["password"] == "p4ss"
    # switching the tenant's SMS back to SMS.ru replaces the gateway
    r = api.put("/api/v1/notify/channels/sms", json={"provider": "smsru", "credentials": {"api_id": "K"}})
    assert r.json["provider"] == "smsru" and r.json["credentials_set"] == ["api_id"]


def test_smsc_send_answer_balance_is_kept_on_the_channel(session, tid, customer, channel):
    """The balance SMSC returns with a send is what the owner's checklist shows (issue 25.1)."""
    from hub.notify.models import NotifyChannel
    ch = channel("smsc", credentials=CREDS)
    m = _sale(session, tid, customer())
    with responses.RequestsMock() as rsps:
        rsps.post(SEND, json={"id": 36, "cnt": 1, "cost": "2.9", "balance": "1234.56"})
        assert deliver(session, m.id) == "sent"
    assert session.get(NotifyChannel, ch.id, populate_existing=True).settings["balance"] == 123456
