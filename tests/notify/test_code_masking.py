"""One-time codes (issue 17, item 11): stored masked, sent in clear, never late, and the truth
when there is no SMS channel; the demo console channel; the providers' typed `api_base`."""
from __future__ import annotations

import logging
from datetime import timedelta

import responses

from hub import clock
from hub.notify.models import OutboxMessage
from hub.notify.outbox import code_problem, send_code
from hub.notify.delivery import deliver
from hub.notify.outbox import CODE_MASK, CODE_SECRET, NO_CODE_CHANNEL
from tests.notify.conftest import smsru_ok


def test_without_an_sms_channel_the_code_is_not_sent_and_says_so(session, tid):
    msg = send_code(session, tid, "+79161230000", "482913", "register")
    assert (msg.status, msg.reason, msg.reason_code) == ("suppressed", NO_CODE_CHANNEL, "no_sms_channel")
    assert code_problem(msg) == "SMS-канал не настроен: код не отправлен"
    assert CODE_SECRET not in msg.context and "482913" not in msg.text + str(msg.context) + msg.dedupe_key
    session.commit()
    # Not sent is no reason to wait: a second try at once is allowed (and says the same).
    assert code_problem(send_code(session, tid, "+79161230000", "111222", "register")) == NO_CODE_CHANNEL


def test_the_provider_gets_the_code_the_outbox_keeps_it_masked(session, tid, channel):
    channel("smsru")
    msg = send_code(session, tid, "+79161234567", "482913", "register")
    session.commit()
    assert code_problem(msg) is None
    assert msg.text == f"Код подтверждения: {CODE_MASK}. Никому его не сообщайте."
    assert "482913" not in msg.text + str(msg.context) + msg.dedupe_key
    with responses.RequestsMock() as rsps:
        smsru_ok(rsps)
        assert deliver(session, msg.id) == "sent"
        assert "482913" in rsps.calls[0].request.body
    row = session.get(OutboxMessage, msg.id, populate_existing=True)
    assert "482913" not in row.text + str(row.context) + row.dedupe_key


def test_a_code_is_never_sent_after_its_life(session, tid, channel):
    channel("smsru")
    msg = send_code(session, tid, "+79161234567", "482913", "register", ttl=timedelta(minutes=10))
    session.commit()
    with clock.frozen(clock.utcnow() + timedelta(minutes=10, seconds=1)), responses.RequestsMock():
        assert deliver(session, msg.id) == "failed"        # no HTTP call: RequestsMock would refuse it
    row = session.get(OutboxMessage, msg.id, populate_existing=True)
    assert row.reason_code == "code_expired"


def test_the_demo_console_channel_prints_the_code(session, tid, channel, caplog):
    from hub.notify import registry
    registry.configure(session, tid, "console")
    session.commit()
    msg = send_code(session, tid, "+79161234567", "482913", "my_login")
    session.commit()
    with caplog.at_level(logging.WARNING, logger="kopilka.sms"):
        assert deliver(session, msg.id) == "sent"
    assert "+79161234567" in caplog.text and "Код подтверждения: 482913." in caplog.text


def test_api_base_is_a_typed_documented_setting(api, session, tenant):
    for bad in ("ftp://tg.local", "api.telegram.org", 42, "https://tg.local/?x=1"):
        r = api.put("/api/v1/notify/channels/telegram", json={"provider": "telegram", "credentials": {"token": "1:A"},
                                                              "settings": {"api_base": bad}})
        assert r.status_code == 422 and r.json["error"]["code"] == "bad_api_base", (bad, r.json)
    r = api.put("/api/v1/notify/channels/sms", json={"provider": "smsru", "credentials": {"api_id": "K"},
                                                      "settings": {"api_base": "http://127.0.0.1:8081/gw/"}})
    assert r.status_code == 200 and r.json["settings"]["api_base"] == "http://127.0.0.1:8081/gw"
    msg = send_code(session, tenant["id"], "+79161234567", "482913", "register")
    session.commit()
    with responses.RequestsMock() as rsps:
        # The gateway, not https://sms.ru: RequestsMock refuses any call not registered here.
        rsps.post("http://127.0.0.1:8081/gw/sms/send", json={"status": "OK", "status_code": 100, "sms": {
            "79161234567": {"status": "OK", "status_code": 100, "sms_id": "gw-1"}}})
        assert deliver(session, msg.id) == "sent"
    doc = api.get("/api/v1/openapi.json").json
    assert "api_base" in str(doc["components"]["schemas"])
