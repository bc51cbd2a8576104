"""Webhooks and callbacks: secrets (401, nothing written), the bots' dialogue, SMS statuses,
the "СТОП" reply and the unsubscribe link."""
from __future__ import annotations

import json

import responses
from sqlalchemy import func, select

from hub.customers.models import Customer
from hub.notify.models import ChatLink, OutboxMessage
from hub.notify.outbox import enqueue
from hub.notify.outbox import unsubscribe_token

from .conftest import DAY


def _tg(client, row, update, secret=None):
    return client.post(f"/notify/telegram/{row.webhook_id}", json=update,
                       headers={"X-Telegram-Bot-Api-Secret-Token": secret or row.plain_secret})


def _msg(chat_id=555, user_id=555, **fields):
    return {"update_id": 1, "message": {"message_id": 1, "from": {"id": user_id},
                                        "chat": {"id": chat_id, "type": "private"}, **fields}}


def test_telegram_webhook_needs_its_secret(client, session, tid, channel, customer):
    row = channel("telegram")
    customer()
    contact = _msg(contact={"phone_number": "79161234567", "user_id": 555})
    assert _tg(client, row, contact, secret="wrong").status_code == 401
    assert client.post(f"/notify/telegram/{row.webhook_id}", json=contact).status_code == 401
    assert client.post("/notify/telegram/nope", json=contact,
                       headers={"X-Telegram-Bot-Api-Secret-Token": row.plain_secret}).status_code == 401
    assert session.scalar(select(func.count()).select_from(ChatLink).where(ChatLink.tenant_id == tid)) == 0


def test_telegram_start_contact_balance_and_stop(client, session, tid, channel, customer):
    row = channel("telegram")
    cid = customer(consents={"messengers": True}, card_number="1000200030").id
    r = _tg(client, row, _msg(text="/start"))
    assert r.status_code == 200 and r.json["method"] == "sendMessage" and r.json["chat_id"] == 555
    assert r.json["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    # someone else's contact is refused
    r = _tg(client, row, _msg(contact={"phone_number": "+79161234567", "user_id": 999}))
    assert "свой собственный номер" in r.json["text"]
    assert session.scalar(select(func.count()).select_from(ChatLink).where(ChatLink.tenant_id == tid)) == 0
    r = _tg(client, row, _msg(contact={"phone_number": "+79161234567", "user_id": 555}))
    assert r.json["text"].startswith("Карта привязана! Ваш баланс: 0 бонусов.")
    link = session.scalar(select(ChatLink).where(ChatLink.tenant_id == tid))
    assert (link.customer_id, link.chat_id, link.phone) == (cid, "555", "+79161234567")
    assert "1000200030" in _tg(client, row, _msg(text="Карта")).json["text"]
    assert _tg(client, row, _msg(text="Сгорание")).json["text"] == "Сгорающих бонусов нет."
    assert _tg(client, row, _msg(text="Баланс")).json["text"] == "Ваш баланс: 0 бонусов."
    # the next message goes to the bot, not SMS
    m = enqueue(session, tenant_id=tid, customer_id=cid, topic="sale", dedupe_key="s",
                context={"bonuses": 1, "spent": 0, "balance": 1})
    assert (m.channel, m.recipient) == ("telegram", "555")
    r = _tg(client, row, _msg(text="СТОП"))
    assert "отписались" in r.json["text"]
    session.expire_all()
    assert session.get(Customer, cid).consents["messengers"]["given"] is False
    ad = enqueue(session, tenant_id=tid, customer_id=cid, topic="winback", dedupe_key="w",
                 context={})
    assert ad.status == "suppressed"


def test_unknown_phone_is_not_linked(client, session, tid, channel):
    row = channel("telegram")
    r = _tg(client, row, _msg(contact={"phone_number": "+79161112233", "user_id": 555}))
    assert "не найден" in r.json["text"]
    assert session.scalar(select(ChatLink).where(ChatLink.tenant_id == tid)).customer_id is None


def test_max_bot(client, session, tid, channel, customer):
    row = channel("max")
    cid = customer().id
    url = f"/notify/max/{row.webhook_id}"
    contact = {"update_type": "message_created", "timestamp": 1, "message": {
        "sender": {"user_id": 4242}, "recipient": {"chat_id": 1, "chat_type": "dialog"},
        "body": {"mid": "m1", "text": "", "attachments": [{"type": "contact", "payload": {
            "vcf_info": "BEGIN:VCARD\r\nVERSION:3.0\r\nTEL;TYPE=cell:79161234567\r\nEND:VCARD",
            "max_info": {"user_id": 4242}}}]}}}
    assert client.post(url, json=contact, headers={"X-Max-Bot-Api-Secret": "bad"}).status_code == 401
    with responses.RequestsMock() as rsps:
        rsps.post("https://platform-api.max.ru/messages", json={"message": {"body": {"mid": "x"}}})
        r = client.post(url, json=contact, headers={"X-Max-Bot-Api-Secret": row.plain_secret})
        assert r.status_code == 200
        call = rsps.calls[0].request
    assert call.headers["Authorization"] == "MAXTOKEN" and "user_id=4242" in call.url
    assert json.loads(call.body)["text"].startswith("Карта привязана!")
    assert session.scalar(select(ChatLink).where(ChatLink.tenant_id == tid)).customer_id == cid
    m = enqueue(session, tenant_id=tid, customer_id=cid, topic="sale", dedupe_key="s", context={})
    assert (m.channel, m.recipient) == ("max", "4242")
    with responses.RequestsMock() as rsps:
        rsps.post("https://platform-api.max.ru/messages", json={"message": {"body": {"mid": "mid.77"}}})
        from hub.notify.delivery import deliver
        session.commit()
        assert deliver(session, m.id) == "sent"
    assert m.provider_message_id == "mid.77"


def _sent_sms(session, tid, c, provider_id, key="k"):
    m = enqueue(session, tenant_id=tid, customer_id=c.id, topic="sale", dedupe_key=key, context={})
    m.status, m.provider_message_id = "sent", provider_id
    session.commit()
    return m.id


def _get(session, mid):
    return session.get(OutboxMessage, mid, populate_existing=True)


def test_sms_ru_status_callback(client, session, tid, channel, customer):
    row = channel("smsru")
    c = customer()
    m = _sent_sms(session, tid, c, "000-1")
    url = f"/notify/sms/{row.webhook_id}/status"
    data = {"data[0]": "sms_status\n000-1\n103", "data[1]": "sms_status\nunknown\n103"}
    assert client.post(url + "?secret=bad", data=data).status_code == 401
    assert _get(session, m).status == "sent"
    r = client.post(url + f"?secret={row.plain_secret}", data=data)
    assert r.status_code == 200 and r.get_data(as_text=True) == "100"
    msg = _get(session, m)
    assert msg.status == "delivered" and msg.delivered_at == DAY


def test_sms_aero_status_callback(client, session, tid, channel, customer):
    row = channel("smsaero")
    c = customer()
    m = _sent_sms(session, tid, c, "9")
    r = client.post(f"/notify/sms/{row.webhook_id}/status?secret={row.plain_secret}",
                    json={"id": 9, "status": 2, "extendStatus": "undelivered", "cost": "5.49"})
    assert r.status_code == 200
    msg = _get(session, m)
    assert msg.status == "failed" and msg.cost == 549


def test_sms_stop_reply_and_unsubscribe_link(client, session, tid, channel, customer):
    row = channel("smsru")
    c = customer(consents={"sms": True, "email": True})
    cid = c.id
    token = unsubscribe_token(tid, cid)
    url = f"/notify/sms/{row.webhook_id}/inbound"
    assert client.post(url, json={"phone": "79161234567", "text": "СТОП"}).status_code == 401
    r = client.post(url + f"?secret={row.plain_secret}", json={"phone": "79161234567", "text": "стоп"})
    assert r.json == {"unsubscribed": True}
    session.expire_all()
    assert session.get(Customer, cid).consents["sms"]["source"] == "sms_stop"
    assert session.get(Customer, cid).consents["email"]["given"] is True
    link = f"/notify/u/{tid}/{token}"
    assert client.get(link).status_code == 200                      # a GET only asks
    session.expire_all()
    assert session.get(Customer, cid).consents["email"]["given"] is True
    assert client.post(f"/notify/u/{tid}/{cid}.forged").status_code == 404
    assert client.post(link).status_code == 200
    session.expire_all()
    consents = session.get(Customer, cid).consents
    assert consents["email"] == {"given": False, "at": DAY.isoformat(), "source": "unsubscribe_link"}
    assert consents["messengers"]["given"] is False
    assert enqueue(session, tenant_id=tid, customer_id=cid, topic="winback", dedupe_key="w",
                   context={}).status == "suppressed"
    assert session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.tenant_id == tid)) == 1


def test_bot_tells_the_nearest_expiry(client, session, tid, channel, customer):
    from decimal import Decimal

    from hub import engine
    from hub.programs.operations import DEFAULT_SETTINGS, put_program
    from hub.receipts.operations import SaleRequest, commit_sale
    row = channel("telegram")
    put_program(session, tid, {**DEFAULT_SETTINGS, "bonus_lifetime_days": 5})
    cid = customer().id
    commit_sale(session, tid, "test", SaleRequest(
        external_id="E1", moment=DAY, customer={"id": cid},
        positions=(engine.Position(id="1", amount=50000, quantity=Decimal(1), price=50000),)), {})
    session.commit()
    _tg(client, row, _msg(contact={"phone_number": "+79161234567", "user_id": 555}))
    text = _tg(client, row, _msg(text="/expiry")).json["text"]
    assert text == "25 бонусов сгорят после 07.03.2026: потратьте их до конца этого дня."


def test_webhook_registration_rotates_the_secret(api, client, session):
    with responses.RequestsMock() as rsps:
        r = api.put("/api/v1/notify/channels/telegram", json={"provider": "telegram",
                                                              "credentials": {"token": "1:T"}})
        webhook_id, first = r.json["webhook_id"], r.json["webhook_secret"]
        rsps.post("https://api.telegram.org/bot1:T/setWebhook", json={"ok": True, "result": True})
        r = api.post("/api/v1/notify/channels/telegram/webhook")
        assert r.status_code == 200 and r.json["url"].endswith(f"/notify/telegram/{webhook_id}")
        sent = json.loads(rsps.calls[0].request.body)
    assert sent["url"] == r.json["url"] and sent["secret_token"] != first
    hook = f"/notify/telegram/{webhook_id}"
    start = _msg(text="/start")
    assert client.post(hook, json=start, headers={"X-Telegram-Bot-Api-Secret-Token": first}).status_code == 401
    assert client.post(hook, json=start, headers={
        "X-Telegram-Bot-Api-Secret-Token": sent["secret_token"]}).status_code == 200


def test_the_sweep_is_registered(session, tid, channel, customer):
    from hub.sweeps import _sweeps
    channel("smsru")
    m = enqueue(session, tenant_id=tid, customer_id=customer().id, topic="sale", dedupe_key="x",
                context={})
    session.commit()
    with responses.RequestsMock() as rsps:
        rsps.post("https://sms.ru/sms/send", json={"status": "OK", "sms": {
            "79161234567": {"status": "OK", "sms_id": "1"}}})
        assert _sweeps["notify"](session, DAY) >= 1
    assert session.get(OutboxMessage, m.id, populate_existing=True).status == "sent"
