"""Mailings: cost estimated before sending, consent honoured, queued once per customer."""
from __future__ import annotations

from hub.automation.mailings import create_mailing, send_mailing
from hub.ledger import account_view
from tests.automation.conftest import msk


def test_mailing_to_a_segment_with_consent_and_cost(world):
    s, t = world.session, world.t
    sms = world.customer(msk(2026, 1, 1), gender="female", consents={"sms": True})
    bot = world.customer(msk(2026, 1, 1), gender="female", consents={"messengers": True, "sms": True})
    world.customer(msk(2026, 1, 1), gender="female")                          # no consent
    world.customer(msk(2026, 1, 1), gender="male", consents={"sms": True})    # not in the segment
    text = "Весенняя распродажа: скидки до 30% на всё! Ждём вас в магазине до воскресенья включительно."
    at = msk(2026, 3, 1, 12)
    mailing, est = create_mailing(s, t, {"name": "Весна", "audience": {"gender": "female"}, "text": text,
                                         "gift": {"amount": 10000, "valid_days": 7}}, at)
    assert est["audience"] == 3 and est["recipients"] == 2 and est["without_consent"] == 1
    assert est["sms_parts"] == 2 and est["estimated_cost"] == 1 * 2 * 250    # one SMS-only customer
    assert mailing.estimated_cost == 500 and mailing.status == "draft"
    first = send_mailing(s, t, mailing.id, at)
    again = send_mailing(s, t, mailing.id, at)
    assert first["queued"] == 2 and again["queued"] == 0
    msgs = world.messages()
    assert {m.customer_id for m in msgs} == {sms.id, bot.id}
    assert all(m.advertising and m.context["text"] == text for m in msgs)
    assert account_view(s, t, bot.id, at).available == 10000


def test_a_scheduled_mailing_goes_with_the_sweep(world):
    from datetime import timedelta
    c = world.customer(msk(2026, 1, 1), consents={"sms": True})
    at = msk(2026, 3, 1, 12)
    mailing, _ = create_mailing(world.session, world.t, {"text": "Привет!", "scheduled_at": at + timedelta(hours=2)}, at)
    assert mailing.status == "scheduled"
    assert world.run(at + timedelta(hours=1))["mailing"] == 0
    assert world.run(at + timedelta(hours=2))["mailing"] == 1
    world.run(at + timedelta(hours=3))
    assert [m.customer_id for m in world.messages()] == [c.id]
