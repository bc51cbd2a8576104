"""The automation's messages are written in batches (enqueue_many) with the outbox's rules:
consent, quiet hours, the Russian reason of what is not sent, one message per occurrence."""
from __future__ import annotations

from datetime import date

from hub.notify import registry
from tests.automation.conftest import msk

BIRTHDAY = {"event": "birthday", "amount": 50000, "valid_days": 15, "days_before": 7}


def test_birthday_messages_in_a_batch_with_russian_reasons(world):
    s = world.session
    registry.configure(s, world.t, "smsru", credentials={"api_id": "K"})
    s.commit()
    world.settings(msk(2026, 11, 1), {"gifts": [BIRTHDAY]})
    agreed = world.customer(msk(2026, 1, 5), first_name="Анна", birth_date=date(1990, 12, 15),
                            consents={"sms": True})
    silent = world.customer(msk(2026, 1, 5), first_name="Олег", birth_date=date(1991, 12, 15))
    night = world.customer(msk(2026, 1, 5), first_name="Ира", birth_date=date(1992, 12, 15),
                           consents={"sms": True})
    assert night.id != agreed.id

    # 23:30 in Moscow: advertising waits for the morning
    assert world.run(msk(2026, 12, 8, 23, 30))["birthday"] == 3
    msgs = {m.customer_id: m for m in world.messages("birthday")}
    assert len(msgs) == 3
    ok = msgs[agreed.id]
    assert ok.status == "queued" and ok.channel == "sms" and "Анна" in ok.text
    assert ok.reason == "Тихие часы: отправка в 09:00 по местному времени" and ok.reason_code == "quiet_hours"
    assert ok.next_attempt_at == msk(2026, 12, 9, 9)
    no = msgs[silent.id]
    assert no.status == "suppressed" and no.reason_code == "no_consent"
    assert no.reason == "Нет согласия на рекламу в этом канале (SMS)"
    world.run(msk(2026, 12, 8, 23, 30))                                   # again: nothing new
    assert len(world.messages("birthday")) == 3
