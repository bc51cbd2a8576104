"""Activation delay and the three expiry modes, in the tenant's time zone."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.engine import accrual_window, calculate, expiry_from, local_day_start
from hub.engine.expiry import next_fixed_date

from tests.engine.helpers import (
    MSK, UTC, account, day, level, msk, percent, pos, program, receipt, rub,
)

VLAT = ZoneInfo("Asia/Vladivostok")
BASE = level(accrual=percent(5), max_spend=30)


def test_local_day_start_is_midnight_in_the_zone():
    start = local_day_start(date(2025, 3, 4), "Europe/Moscow")
    assert start == datetime(2025, 3, 3, 21, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(hours=3)


# --- activation delay ---------------------------------------------------------------------------

@pytest.mark.parametrize("moment, active_from", [
    (day(2025, 3, 3), day(2025, 3, 4)),
    (msk(2025, 3, 3, 12, 0), day(2025, 3, 4)),
    (msk(2025, 3, 3, 23, 59), day(2025, 3, 4)),
    # 20:30 UTC is 23:30 in Moscow: still the 3rd there
    (datetime(2025, 3, 3, 20, 30, tzinfo=UTC), day(2025, 3, 4)),
    # 21:30 UTC is 00:30 on the 4th in Moscow: spendable from the 5th
    (datetime(2025, 3, 3, 21, 30, tzinfo=UTC), day(2025, 3, 5)),
    (msk(2025, 12, 31, 18), day(2026, 1, 1)),
    (msk(2024, 2, 28, 18), day(2024, 2, 29)),
])
def test_activation_next_day_in_moscow(moment, active_from):
    prog = program(BASE, activation_delay_days=1)
    got, _ = accrual_window(prog, BASE, moment)
    assert got == active_from


def test_activation_next_day_in_vladivostok():
    prog = program(BASE, activation_delay_days=1, timezone="Asia/Vladivostok")
    # 15:00 UTC on the 3rd is 01:00 on the 4th in Vladivostok (UTC+10)
    got, _ = accrual_window(prog, BASE, datetime(2025, 3, 3, 15, 0, tzinfo=UTC))
    assert got == datetime(2025, 3, 5, 0, 0, tzinfo=VLAT)
    assert got == datetime(2025, 3, 4, 14, 0, tzinfo=UTC)


def test_activation_delay_of_several_days():
    prog = program(BASE, activation_delay_days=3)
    got, _ = accrual_window(prog, BASE, msk(2025, 3, 3, 12))
    assert got == day(2025, 3, 6)


def test_no_delay_means_active_at_the_moment():
    prog = program(BASE, activation_delay_days=0)
    moment = msk(2025, 3, 3, 12, 34)
    assert accrual_window(prog, BASE, moment)[0] == moment


def test_quote_with_activation_next_day():
    prog = program(BASE, activation_delay_days=1)
    q = calculate(prog, receipt(pos("1", 1000), moment=msk(2025, 3, 3, 18)), account(available=200))
    assert q.bonus_earned == rub(50)
    assert q.earned_pending
    assert q.earned_active_from == day(2025, 3, 4)
    assert q.balance_after == rub(200)                 # the 50 are not spendable yet
    assert "станут доступны с 04.03.2025" in q.cashier_message


def test_quote_without_delay_counts_earned_in_the_balance():
    prog = program(BASE, activation_delay_days=0)
    q = calculate(prog, receipt(pos("1", 1000)), account(available=200))
    assert not q.earned_pending
    assert q.balance_after == rub(250)


def test_nothing_earned_has_no_window():
    prog = program(level(accrual=None), activation_delay_days=1)
    q = calculate(prog, receipt(pos("1", 1000)), account())
    assert q.earned_active_from is None and q.earned_expires_at is None
    assert not q.earned_pending


# --- since accrual --------------------------------------------------------------------------------

def test_since_accrual_valid_through_the_local_date_n_days_later():
    prog = program(BASE, bonus_lifetime_days=365, expiry_mode="since_accrual")
    assert expiry_from(prog, BASE, msk(2025, 3, 3, 12)) == day(2026, 3, 4)
    assert expiry_from(prog, BASE, msk(2025, 3, 3, 23, 59)) == day(2026, 3, 4)
    # 22:00 UTC on the 3rd is the 4th in Moscow
    assert expiry_from(prog, BASE, datetime(2025, 3, 3, 22, tzinfo=UTC)) == day(2026, 3, 5)


def test_since_accrual_short_lifetime():
    prog = program(BASE, bonus_lifetime_days=7)
    assert expiry_from(prog, BASE, msk(2025, 12, 28, 9)) == day(2026, 1, 5)


def test_quote_carries_the_window():
    prog = program(BASE, bonus_lifetime_days=30, activation_delay_days=1)
    q = calculate(prog, receipt(pos("1", 1000), moment=msk(2025, 3, 3, 18)), account())
    assert (q.earned_active_from, q.earned_expires_at) == (day(2025, 3, 4), day(2025, 4, 3))
    assert q.earned_active_from < q.earned_expires_at


def test_no_lifetime_means_no_expiry():
    prog = program(BASE, bonus_lifetime_days=None)
    assert expiry_from(prog, BASE, day(2025, 3, 3)) is None
    assert accrual_window(prog, BASE, day(2025, 3, 3))[1] is None


# --- since the last purchase: 120 / 180 days by level ----------------------------------------------

# "На первом уровне — 120 дней. На втором уровне — 180 дней. Срок рассчитывается со дня
#  последней покупки." "Бонусы активируются на следующий день."
L1 = level("l1", "Первый", 0, accrual=percent(3), max_spend=30, lifetime=120)
L2 = level("l2", "Второй", 10000, accrual=percent(5), max_spend=30, lifetime=180)
CASE_1 = program(L1, L2, bonus_lifetime_days=365, expiry_mode="since_last_purchase",
                 activation_delay_days=1)


def test_lifetime_120_days_at_the_first_level():
    # 3 March + 120 days = 1 July: valid through it, burns as 2 July begins
    assert expiry_from(CASE_1, L1, msk(2025, 3, 3, 12)) == day(2025, 7, 2)


def test_lifetime_180_days_at_the_second_level():
    # 3 March + 180 days = 30 August
    assert expiry_from(CASE_1, L2, msk(2025, 3, 3, 12)) == day(2025, 8, 31)


def test_a_later_purchase_moves_the_date():
    first = expiry_from(CASE_1, L1, msk(2025, 3, 3, 12))
    later = expiry_from(CASE_1, L1, msk(2025, 5, 1, 12))
    assert later == day(2025, 8, 30) and later > first


def test_level_lifetime_overrides_the_programs_and_falls_back_to_it():
    no_override = level("l3", "Третий", 20000, accrual=percent(7))
    prog = program(L1, L2, no_override, bonus_lifetime_days=365, expiry_mode="since_last_purchase")
    assert prog.lifetime_days(L1) == 120
    assert prog.lifetime_days(L2) == 180
    assert prog.lifetime_days(no_override) == 365


def test_case_1_quote_uses_the_customers_level():
    r = receipt(pos("1", 1000), moment=msk(2025, 3, 3, 12))
    q1 = calculate(CASE_1, r, account(total_purchases=0))
    q2 = calculate(CASE_1, r, account(total_purchases=10000))
    assert (q1.bonus_earned, q1.earned_expires_at) == (rub(30), day(2025, 7, 2))
    assert (q2.bonus_earned, q2.earned_expires_at) == (rub(50), day(2025, 8, 31))
    assert q1.earned_active_from == q2.earned_active_from == day(2025, 3, 4)
    # The receipt that reaches the second level earns at the first level's percent, but since
    # the last purchase left the card at the second level, every live lot (this one
    # included) burns by the second level's lifetime: 180 days, as the ledger redates them.
    q = calculate(CASE_1, receipt(pos("1", 2000), moment=msk(2025, 3, 3, 12)),
                  account(total_purchases=9000))
    assert (q.level.code, q.bonus_earned, q.earned_expires_at) == ("l1", rub(60), day(2025, 8, 31))
    # An offline receipt older than the latest purchase counts from that purchase.
    q = calculate(CASE_1, r, account(total_purchases=0, last_purchase_at=msk(2025, 3, 10, 12)))
    assert q.earned_expires_at == day(2025, 7, 9)


# --- fixed dates --------------------------------------------------------------------------------------

FIXED = program(BASE, expiry_mode="fixed_dates", expiry_dates=((12, 31), (6, 30)),
                bonus_lifetime_days=None)


@pytest.mark.parametrize("moment, burns", [
    (msk(2025, 3, 3, 12), day(2025, 6, 30)),
    (msk(2025, 6, 29, 23, 59), day(2025, 6, 30)),
    (day(2025, 6, 30), day(2025, 12, 31)),      # on the burn day itself: the next one
    (day(2025, 7, 15), day(2025, 12, 31)),
    (msk(2025, 12, 31, 10), day(2026, 6, 30)),
    (datetime(2025, 12, 30, 21, 30, tzinfo=UTC), day(2026, 6, 30)),   # 00:30 on 31 Dec in Moscow
])
def test_fixed_dates(moment, burns):
    assert expiry_from(FIXED, BASE, moment) == burns


def test_fixed_dates_ignore_the_lifetime():
    prog = program(BASE, expiry_mode="fixed_dates", expiry_dates=((1, 1),), bonus_lifetime_days=30)
    assert expiry_from(prog, BASE, day(2025, 3, 3)) == day(2026, 1, 1)


def test_fixed_date_inside_the_activation_delay_moves_to_the_next():
    prog = program(BASE, expiry_mode="fixed_dates", expiry_dates=((12, 31),),
                   activation_delay_days=1, bonus_lifetime_days=None)
    active_from, expires_at = accrual_window(prog, BASE, msk(2025, 12, 30, 23))
    assert active_from == day(2025, 12, 31)
    assert expires_at == day(2026, 12, 31)              # not at the very moment they activate
    active_from, expires_at = accrual_window(prog, BASE, msk(2025, 12, 29, 12))
    assert (active_from, expires_at) == (day(2025, 12, 30), day(2025, 12, 31))


@pytest.mark.parametrize("moment, burns", [
    (day(2024, 1, 10), day(2024, 2, 29)),
    (day(2024, 3, 1), day(2028, 2, 29)),
    (day(2025, 3, 1), day(2028, 2, 29)),
    (day(2096, 3, 1), day(2104, 2, 29)),               # 2100 is not a leap year
])
def test_fixed_date_29_february_alone(moment, burns):
    assert next_fixed_date(moment, ((2, 29),), "Europe/Moscow") == burns


def test_fixed_dates_unordered_in_settings():
    dates = ((12, 31), (3, 31), (9, 30), (6, 30))
    assert next_fixed_date(day(2025, 7, 1), dates, "Europe/Moscow") == day(2025, 9, 30)
    assert next_fixed_date(day(2025, 1, 1), dates, "Europe/Moscow") == day(2025, 3, 31)


def test_fixed_dates_in_another_zone():
    prog = program(BASE, expiry_mode="fixed_dates", expiry_dates=((6, 30),),
                   timezone="Asia/Vladivostok", bonus_lifetime_days=None)
    got = expiry_from(prog, BASE, datetime(2025, 3, 3, tzinfo=UTC))
    assert got == datetime(2025, 6, 30, tzinfo=VLAT)
    assert got == datetime(2025, 6, 29, 14, 0, tzinfo=UTC)


def test_windows_are_aware_in_the_tenants_zone():
    prog = program(BASE, activation_delay_days=1, bonus_lifetime_days=10)
    a, e = accrual_window(prog, BASE, datetime(2025, 3, 3, 9, tzinfo=UTC))
    assert a.tzinfo is not None and e.tzinfo is not None
    assert a.astimezone(MSK).time() == e.astimezone(MSK).time() == datetime.min.time()


def test_a_pending_accrual_pays_a_debt_at_once():
    """The ledger pays a debt from a new lot before it activates, so balance_after counts
    what is paid even while the rest waits for the activation delay."""
    delayed = program(BASE, activation_delay_days=1)
    r = receipt(pos("1", 200), moment=msk(2025, 3, 3, 12))
    q = calculate(delayed, r, account(available=-50, debt=50))
    assert (q.bonus_earned, q.earned_pending, q.balance_after) == (rub(10), True, rub(-40))
    q = calculate(delayed, receipt(pos("1", 2000), moment=msk(2025, 3, 3, 12)), account(available=-50, debt=50))
    assert (q.bonus_earned, q.balance_after) == (rub(100), rub(0))
