"""Email over SMTP against a local server."""
from __future__ import annotations

import email
from email import policy

import pytest

from hub.notify.outbox import enqueue
from hub.notify.delivery import deliver

from .smtp_server import SmtpServer


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


def _mail(session, tid, c, key="g1"):
    m = enqueue(session, tenant_id=tid, customer_id=c.id, topic="gift", advertising=True,
                context={"bonuses_kopecks": 30000, "date": "31.03.2026"}, dedupe_key=key)
    session.commit()
    return m


def test_email_goes_out_with_subject_and_unsubscribe_link(session, tid, customer, channel, smtp):
    channel("smtp", host="127.0.0.1", port=smtp.port, **{"from": "shop@example.ru", "from_name": "Кофейня"})
    c = customer(consents={"email": True}, email="anna@example.ru", first_name="Анна")
    m = _mail(session, tid, c)
    assert m.channel == "email"
    assert deliver(session, m.id) == "sent"
    assert m.provider_message_id and m.cost == 0
    assert len(smtp.messages) == 1 and smtp.messages[0]["rcpts"] == ["anna@example.ru"]
    parsed = email.message_from_string(smtp.messages[0]["data"], policy=policy.default)
    assert parsed["Subject"] == "Подарочные бонусы"
    body = parsed.get_content()
    assert body.startswith("Анна, вам подарок: 300 бонусов до 31.03.2026.")
    assert "Отписаться от рассылки: http" in body


def test_smtp_refusals(session, tid, customer, channel, smtp):
    channel("smtp", host="127.0.0.1", port=smtp.port)
    smtp.reject.add("gone@example.ru")
    smtp.busy.add("busy@example.ru")
    gone = customer("+79161234567", consents={"email": True}, email="gone@example.ru")
    busy = customer("+79161234568", consents={"email": True}, email="busy@example.ru")
    m1, m2 = _mail(session, tid, gone, "a"), _mail(session, tid, busy, "b")
    assert deliver(session, m1.id) == "failed" and m1.reason == "Почтовый сервер отклонил адрес (SMTP 550)"
    assert m1.reason_code == "bad_address"
    assert deliver(session, m2.id) == "queued" and "451" in m2.reason and m2.reason.startswith("Почтовый сервер")


def test_smtp_down_is_retried(session, tid, customer, channel):
    with SmtpServer() as dead:
        port = dead.port
    channel("smtp", host="127.0.0.1", port=port)
    m = _mail(session, tid, customer(consents={"email": True}, email="a@example.ru"))
    assert deliver(session, m.id) == "queued" and m.reason.startswith("Почтовый сервер недоступен")
