"""Spending bonuses: limits, explicit and maximum requests, strict mode, what earns."""
from __future__ import annotations

import pytest

from hub.engine import SpendNotAllowed, calculate

from tests.engine.helpers import (
    Effect, account, level, percent, pos, program, receipt, rub, rule,
)

P20 = program(level(accrual=percent(10), max_spend=20))


def test_max_spendable_is_the_share_of_the_receipt():
    q = calculate(P20, receipt(pos("1", 1000)), account(available=500))
    assert q.max_spendable == rub(200)
    assert q.bonus_spent == 0                       # nothing asked, nothing spent


def test_max_spendable_is_limited_by_the_balance():
    q = calculate(P20, receipt(pos("1", 1000)), account(available=150))
    assert q.max_spendable == rub(150)


def test_debt_allows_no_spending():
    q = calculate(P20, receipt(pos("1", 1000), spend_max=True), account(available=-50))
    assert q.max_spendable == 0 and q.bonus_spent == 0
    assert q.balance_after == rub(-50) + rub(100)


def test_zero_max_spend_percent_forbids_spending():
    q = calculate(program(level(accrual=percent(5), max_spend=0)),
                  receipt(pos("1", 1000), spend_max=True), account(available=500))
    assert (q.max_spendable, q.bonus_spent) == (0, 0)


def test_full_payment_with_bonuses_when_allowed():
    q = calculate(program(level(accrual=percent(5), max_spend=100)),
                  receipt(pos("1", 1000), spend_max=True), account(available=5000))
    assert q.bonus_spent == rub(1000)
    assert q.amount_to_pay == 0
    assert q.bonus_earned == 0                      # nothing paid in money
    assert q.positions[0].amount_to_pay == 0


def test_spend_max():
    q = calculate(P20, receipt(pos("1", 1000), spend_max=True), account(available=500))
    assert q.bonus_spent == q.max_spendable == rub(200)
    assert q.amount_to_pay == rub(800)
    assert q.bonus_earned == rub(80)                # 10 % of what is paid in money
    assert q.balance_after == rub(500 - 200 + 80)


def test_explicit_spend_within_the_limit():
    q = calculate(P20, receipt(pos("1", 1000), spend=rub("123.45")), account(available=500))
    assert q.bonus_spent == rub("123.45")
    assert q.spend_requested == rub("123.45")
    assert not q.spend_limited
    assert q.amount_to_pay == rub("876.55")


def test_explicit_spend_above_the_limit_is_cut_down():
    q = calculate(P20, receipt(pos("1", 1000), spend=rub(300)), account(available=500))
    assert q.bonus_spent == rub(200)
    assert q.spend_requested == rub(300)
    assert q.spend_limited


def test_explicit_spend_above_the_balance_is_cut_down():
    q = calculate(P20, receipt(pos("1", 1000), spend=rub(150)), account(available=100))
    assert q.bonus_spent == rub(100)


def test_strict_raises_spend_not_allowed_with_the_figures():
    with pytest.raises(SpendNotAllowed) as exc:
        calculate(P20, receipt(pos("1", 1000), spend=rub(300)), account(available=500), strict=True)
    assert (exc.value.requested, exc.value.allowed) == (rub(300), rub(200))


def test_strict_raises_when_the_balance_is_short():
    with pytest.raises(SpendNotAllowed) as exc:
        calculate(P20, receipt(pos("1", 1000), spend=rub(150)), account(available=100), strict=True)
    assert (exc.value.requested, exc.value.allowed) == (rub(150), rub(100))


def test_strict_within_the_limit_is_the_same_quote():
    r = receipt(pos("1", 1000), spend=rub(200))
    assert calculate(P20, r, account(available=500), strict=True) == \
        calculate(P20, r, account(available=500))
    r = receipt(pos("1", 1000), spend_max=True)
    assert calculate(P20, r, account(available=500), strict=True).bonus_spent == rub(200)


def test_no_spend_request_means_zero():
    q = calculate(P20, receipt(pos("1", 1000), spend=None), account(available=500))
    assert q.bonus_spent == 0 and q.spend_requested == 0 and not q.spend_limited


def test_spend_is_spread_in_proportion_and_within_caps():
    prog = program(level(accrual=percent(5), max_spend=50))
    q = calculate(prog, receipt(pos("1", 600), pos("2", 400), spend=rub(100)), account(available=500))
    assert [p.bonus_spent for p in q.positions] == [rub(60), rub(40)]
    q = calculate(prog, receipt(pos("1", 600), pos("2", 400), spend_max=True), account(available=5000))
    assert [p.bonus_spent for p in q.positions] == [rub(300), rub(200)]


def test_spend_goes_where_allowed_when_a_position_is_capped():
    prog = program(level(accrual=percent(5), max_spend=20),
                   rules=(rule("alcohol", groups=["alcohol"], then=Effect(no_spend=True)),))
    q = calculate(prog, receipt(pos("1", 800, ["food"]), pos("2", 200, ["alcohol"]),
                                spend=rub(160)), account(available=1000))
    assert q.max_spendable == rub(160)
    assert [p.bonus_spent for p in q.positions] == [rub(160), 0]


def test_max_spend_percent_floors_each_position_cap():
    prog = program(level(accrual=percent(5), max_spend=20))
    q = calculate(prog, receipt(pos("1", "0.04"), pos("2", "0.04"), pos("3", "0.04")),
                  account(available=100))
    assert q.max_spendable == 0                      # 20 % of 4 kopecks is 0.8 -> 0 each


def test_rouble_down_max_spendable():
    prog = program(level(accrual=percent(5), max_spend=20), rounding="rouble_down")
    q = calculate(prog, receipt(pos("1", "1234.56"), spend_max=True), account(available=1000))
    assert q.max_spendable == rub(246)               # 246.91 -> 246
    assert q.bonus_spent == rub(246)
    q = calculate(prog, receipt(pos("1", 1000), spend_max=True), account(available="99.99"))
    assert q.max_spendable == rub(99)


# --- what the bonus-paid part earns -----------------------------------------------------------

def test_part_paid_with_bonuses_earns_nothing_by_default():
    prog = program(level(accrual=percent(10), max_spend=50))
    q = calculate(prog, receipt(pos("1", 1000), spend=rub(100)), account(available=500))
    assert q.bonus_earned == rub(90)


def test_accrue_on_bonus_payment_switch():
    prog = program(level(accrual=percent(10), max_spend=50), accrue_on_bonus_payment=True)
    q = calculate(prog, receipt(pos("1", 1000), spend=rub(100)), account(available=500))
    assert q.bonus_earned == rub(100)


def test_earned_after_spend_per_position():
    prog = program(level(accrual=percent(10), max_spend=50))
    q = calculate(prog, receipt(pos("1", 600), pos("2", 400), spend=rub(100)), account(available=500))
    assert [p.bonus_earned for p in q.positions] == [rub(54), rub(36)]


def test_balance_after_with_immediate_activation():
    q = calculate(P20, receipt(pos("1", 1000), spend=rub(100)), account(available=500))
    assert q.balance == rub(500)
    assert q.balance_after == rub(500 - 100 + 90)
    assert not q.earned_pending
