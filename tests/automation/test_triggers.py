"""Gift triggers with the seeds' numbers, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, timedelta

from hub.engine.expiry import local_day_start
from hub.ledger import account_view, check_ledger
from hub.ledger.models import Lot
from tests.automation.conftest import MSK, msk

BIRTHDAY_500 = {"event": "birthday", "amount": 50000, "valid_days": 15, "days_before": 7}


def test_birthday_seed003_500_bonuses_7_days_before_valid_15_days(world):
    s = world.session
    world.settings(msk(2026, 11, 1), {"gifts": [BIRTHDAY_500]})
    anna = world.customer(msk(2026, 1, 5), first_name="Анна", birth_date=date(1990, 12, 15))
    world.customer(msk(2026, 1, 5), birth_date=date(1990, 12, 16))      # a day later: not yet
    world.customer(msk(2026, 1, 5))                                     # no birth date

    assert world.run(msk(2026, 12, 7, 10)).get("birthday") == 0
    at = msk(2026, 12, 8, 10)
    assert world.run(at)["birthday"] == 1
    [ev] = world.events("birthday")
    assert (ev.customer_id, ev.amount, ev.status, ev.occurrence.endswith(":2026")) == (anna.id, 50000, "done", True)
    lot = s.get(Lot, s.scalar(Lot.__table__.select().with_only_columns(Lot.id)
                              .where(Lot.posting_id == ev.posting_id)))
    assert lot.kind == "gift" and lot.amount == 50000
    # valid 15 days: spendable through 23 December, burns as 24 December begins (Moscow)
    assert lot.expires_at == local_day_start(date(2026, 12, 24), "Europe/Moscow")
    assert account_view(s, world.t, anna.id, at).available == 50000
    [msg] = world.messages("birthday")
    assert msg.customer_id == anna.id and msg.advertising
    assert msg.context["bonuses_kopecks"] == 50000 and msg.context["date"] == "23.12.2026"

    # Twice at the same moment, and again days later: nothing granted or sent twice.
    world.run(at)
    world.run(msk(2026, 12, 12, 9))
    assert len(world.events("birthday")) == 2          # the 16 Dec birthday came due on 9 Dec
    assert world.gift_postings() == 2 and len(world.messages("birthday")) == 2
    assert check_ledger(s, world.t) == []


def test_birthday_only_after_the_rule_was_switched_on_and_per_level(world):
    world.customer(msk(2026, 1, 5), birth_date=date(1980, 3, 10))
    world.settings(msk(2026, 3, 10, 12), {"gifts": [{**BIRTHDAY_500, "days_before": 0, "levels": ["base"]}]})
    # switched on the birthday itself: still that day's occurrence
    assert world.run(msk(2026, 3, 10, 13))["birthday"] == 1
    world.settings(msk(2026, 3, 11), {"gifts": [{**BIRTHDAY_500, "id": "other", "levels": ["base"]}]})
    world.run(msk(2026, 3, 12))                         # a new rule: its window starts now
    assert len(world.events("birthday")) == 1


def test_relative_birthday_seed003_300_bonuses_for_8_days(world):
    world.settings(msk(2026, 1, 1), {"gifts": [
        {"event": "relative_birthday", "amount": 30000, "valid_days": 8, "days_before": 0}]})
    c = world.customer(msk(2026, 1, 2), relatives=[{"name": "Маша", "relation": "дочь", "birth_date": "2015-02-03"},
                                                   {"name": "Петя", "relation": "сын", "birth_date": "2018-02-04"}])
    world.run(msk(2026, 2, 3, 10))
    world.run(msk(2026, 2, 3, 10))
    [ev] = world.events("relative_birthday")
    assert ev.customer_id == c.id and ev.amount == 30000 and ev.context["relative"] == "Маша"
    [msg] = world.messages("relative_birthday")
    assert msg.context["relative"] == "Маша" and msg.context["date"] == "11.02.2026"
    world.run(msk(2026, 2, 4, 10))
    assert [e.context["relative"] for e in world.events("relative_birthday")] == ["Маша", "Петя"]


def test_registration_gift_only_for_the_bot_seed003_100_for_7_days(world):
    world.settings(msk(2026, 5, 1), {"gifts": [
        {"event": "registration", "amount": 10000, "valid_days": 7, "sources": ["telegram"]}]})
    old = world.customer(msk(2026, 4, 1), source="telegram")            # before the rule
    bot = world.customer(msk(2026, 5, 2, 12), source="telegram")
    world.customer(msk(2026, 5, 2, 12), source="api")
    at = msk(2026, 5, 2, 12, 15)
    world.run(at)
    world.run(at)
    [ev] = world.events("registration")
    assert ev.customer_id == bot.id and ev.customer_id != old.id
    assert account_view(world.session, world.t, bot.id, at).available == 10000
    assert ev.expires_at == local_day_start(date(2026, 5, 10), "Europe/Moscow")


def test_first_purchase_gift_with_activation_delay_and_its_notice(world):
    world.settings(msk(2026, 5, 1), {"gifts": [
        {"event": "first_purchase", "amount": 20000, "valid_days": 30, "delay_days": 1}],
        "activation": {"enabled": True}})
    c = world.customer(msk(2026, 5, 1, 10))
    world.sale(c, msk(2026, 5, 3, 12))
    world.sale(c, msk(2026, 5, 3, 13))
    at = msk(2026, 5, 3, 14)
    world.run(at)
    world.run(at)
    [ev] = world.events("first_purchase")
    assert ev.amount == 20000 and ev.active_from == msk(2026, 5, 4)
    view = account_view(world.session, world.t, c.id, at)
    assert view.pending == 20000
    assert world.run(msk(2026, 5, 4, 9)).get("activation") == 1
    world.run(msk(2026, 5, 4, 10))
    [note] = world.messages("activation")
    assert note.context["bonuses_kopecks"] == 20000


def test_expiry_warning_7_days_before_with_amount_and_date(world):
    from hub.customers.bonuses import adjust_bonuses
    world.settings(msk(2026, 6, 1), {"expiry_warning": {"enabled": True, "days_before": 7}})
    c = world.customer(msk(2026, 6, 1))
    adjust_bonuses(world.session, world.t, c.id, amount=35000, kind="gift", reason="тест", valid_days=20,
                   moment=msk(2026, 6, 2, 12), idempotency_key=None, source="test", body={})
    # valid through 22 June, burns as 23 June begins; 7 days before = 16 June
    assert world.run(msk(2026, 6, 15, 12)).get("expiry_warning") == 0
    assert world.run(msk(2026, 6, 16, 0, 30))["expiry_warning"] == 1
    world.run(msk(2026, 6, 16, 12))
    world.run(msk(2026, 6, 17, 12))
    [msg] = world.messages("expiry_warning")
    assert msg.context["bonuses_kopecks"] == 35000 and msg.context["date"] == "22.06.2026"
    assert not msg.advertising


def test_a_tenant_in_another_time_zone_counts_its_own_days(world):
    from hub.programs.operations import DEFAULT_SETTINGS, put_program
    put_program(world.session, world.t, {**DEFAULT_SETTINGS, "timezone": "Asia/Novosibirsk"})
    world.settings(msk(2026, 1, 1), {"gifts": [{**BIRTHDAY_500, "days_before": 0}]})
    world.customer(msk(2026, 1, 2), birth_date=date(1991, 7, 1))
    # 30 June 22:00 in Moscow is already 1 July 02:00 in Novosibirsk
    assert world.run(msk(2026, 6, 30, 22))["birthday"] == 1
    assert world.events("birthday")[0].expires_at.astimezone(MSK).hour == 20   # Novosibirsk midnight
    assert timedelta(0) < world.events("birthday")[0].expires_at - msk(2026, 7, 16) < timedelta(days=1)


def test_a_blocked_client_gets_no_birthday_gift_nor_its_message(world):
    from hub.customers.operations import set_blocked
    world.settings(msk(2026, 11, 1), {"gifts": [BIRTHDAY_500]})
    anna = world.customer(msk(2026, 1, 5), first_name="Анна", birth_date=date(1990, 12, 15))
    set_blocked(world.session, world.t, anna.id, True, reason="мошенничество", moment=msk(2026, 11, 2))
    world.session.commit()
    assert world.run(msk(2026, 12, 8, 10))["birthday"] == 1        # claimed once ...
    [ev] = world.events("birthday")
    assert ev.status == "skipped" and ev.posting_id is None         # ... and skipped
    assert world.gift_postings() == 0 and world.messages("birthday") == []
    world.run(msk(2026, 12, 8, 10))
    assert world.gift_postings() == 0 and world.messages("birthday") == []
