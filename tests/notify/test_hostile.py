"""Hostile input on the messaging webhooks: wrong types, huge numbers, NaN/Infinity, deep JSON,
invalid UTF-8 — never a 500, nothing written."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub.notify.models import ChatLink, OutboxMessage

DEEP = b"[" * 5000 + b"]" * 5000

HOSTILE_JSON = [
    b"{\"message\": \"text\"}", b"{\"message\": []}", b"{\"message\": {\"chat\": 5}}",
    b"{\"message\": {\"chat\": {\"id\": 1}, \"contact\": \"x\"}}",
    b"{\"message\": {\"chat\": {\"id\": 1}, \"from\": 3, \"contact\": {\"user_id\": 1}}}",
    b"{\"message\": {\"chat\": {\"id\": 1, \"type\": \"private\"}, \"text\": 5}}",
    b"{\"message\": {\"chat\": {\"id\": 1e400}, \"text\": \"/start\"}}",
    b"{\"message\": {\"chat\": {\"id\": [1]}, \"text\": \"/start\"}}",
    b"{\"message\": {\"chat\": {\"id\": {\"a\": 1}}, \"text\": \"/start\"}}",
    b"{\"message\": {\"chat\": {\"id\": NaN}, \"text\": {\"a\": 1}}}",
    b"{\"update_type\": \"bot_started\", \"user\": \"x\"}",
    b"{\"update_type\": \"bot_started\", \"user\": {\"user_id\": [1, 2]}}",
    b"{\"update_type\": \"message_created\", \"message\": \"x\"}",
    b"{\"update_type\": \"message_created\", \"message\": {\"sender\": 1, \"body\": 2}}",
    b"{\"update_type\": \"message_created\", \"message\": {\"sender\": {\"user_id\": 7}, \"body\": {\"attachments\": 5}}}",
    b"{\"update_type\": \"message_created\", \"message\": {\"sender\": {\"user_id\": 7}, \"body\": {\"text\": [1], \"attachments\": [{\"type\": \"contact\", \"payload\": \"x\"}]}}}",
    b"{\"update_type\": \"message_created\", \"message\": {\"sender\": {\"user_id\": 7}, \"body\": {\"attachments\": [{\"type\": \"contact\", \"payload\": {\"vcf_info\": 5, \"max_info\": 3}}]}}}",
    b"{\"update_type\": [1]}",
    b"{\"id\": 9, \"status\": Infinity, \"cost\": \"1e30\"}",
    b"{\"id\": 9, \"status\": 1e400, \"cost\": 1e400}",
    b"{\"id\": 9, \"status\": 99, \"cost\": \"1e20\"}",
    b"{\"id\": {\"a\": 1}, \"status\": 1}",
    b"{\"data\": [{\"id\": 9, \"status\": NaN, \"cost\": NaN}]}",
    b"{\"text\": 5, \"phone\": \"+79161234567\"}",
    b"{\"text\": \"\\u0421\\u0422\\u041e\\u041f\", \"phone\": {\"a\": 1}}",
    b"{\"text\": [\"x\"], \"phone\": [1]}",
    b"{\"message\": {\"chat\": {\"id\": \"\\u0000\"}, \"text\": \"/start\"}}",
    b"{\"update_type\": \"bot_started\", \"user\": {\"user_id\": \"1\\u0000\"}}",
    b"{\"id\": \"9\\u0000\", \"status\": 1}",
    b"\xff\xfe\xfa", DEEP, b"[]", b"null", b"5",
]


def _post(client, url, body, headers):
    return client.post(url, data=body, headers={"Content-Type": "application/json", **headers})


@pytest.mark.parametrize("provider", ["telegram", "max", "smsaero", "smsru"])
def test_webhooks_never_500_on_hostile_json(client, session, tid, channel, customer, provider):
    row = channel(provider)
    c = customer()
    from hub.notify.outbox import enqueue
    m = enqueue(session, tenant_id=tid, customer_id=c.id, topic="sale", dedupe_key="k", context={})
    m.status, m.provider_message_id = "sent", "9"
    session.commit()
    message_id = m.id
    if provider == "telegram":
        urls = [(f"/notify/telegram/{row.webhook_id}", {"X-Telegram-Bot-Api-Secret-Token": row.plain_secret})]
    elif provider == "max":
        urls = [(f"/notify/max/{row.webhook_id}", {"X-Max-Bot-Api-Secret": row.plain_secret})]
    else:
        urls = [(f"/notify/sms/{row.webhook_id}/{kind}?secret={row.plain_secret}", {})
                for kind in ("status", "inbound")]
    for url, headers in urls:
        for body in HOSTILE_JSON:
            r = _post(client, url, body, headers)
            assert r.status_code < 500, (url, body[:80], r.status_code, r.get_data(as_text=True)[:300])
    msg = session.get(OutboxMessage, message_id, populate_existing=True)
    assert msg.status == "sent" and msg.cost is None
    assert session.scalar(select(func.count()).select_from(ChatLink).where(ChatLink.tenant_id == tid)) == 0


def test_sms_ru_form_status_hostile(client, session, tid, channel):
    row = channel("smsru")
    url = f"/notify/sms/{row.webhook_id}/status?secret={row.plain_secret}"
    for data in ({"data[0]": "sms_status\n1\n" + "9" * 5000}, {"data[0]": "sms_status\n\n"},
                 {"data[0]": "x"}, {"data": ""}):
        assert client.post(url, data=data).status_code < 500
    r = client.post(url, data=b"data%5B0%5D=%FF%FE", content_type="application/x-www-form-urlencoded")
    assert r.status_code < 500


def test_unsubscribe_link_hostile(client, session, tid):
    for path in (f"/notify/u/{tid}/x", f"/notify/u/{tid}/" + "a" * 5000, "/notify/u/x/y.z",
                 f"/notify/u/{tid}/%FF%FE", f"/notify/u/{tid}/a.b.c"):
        for method in ("GET", "POST"):
            assert client.open(path, method=method).status_code == 404
