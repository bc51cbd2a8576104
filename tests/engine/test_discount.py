"""Discount and bonus+discount programs: fixed and progressive level discounts."""
from __future__ import annotations

import pytest

from hub.engine import SpendNotAllowed, calculate

from tests.engine.helpers import (
    Effect, account, level, pct, percent, pos, program, progressive, receipt, rub, rule,
)

FIXED = program(level(discount=percent(5)), type="discount")
# "при сумме покупки до 1000 рублей скидка 5%, от 1000 рублей – 10%"
PROGRESSIVE = program(level(discount=progressive((0, 5), (1000, 10))), type="discount")


def test_fixed_percent_discount():
    q = calculate(FIXED, receipt(pos("1", 1000)), account())
    assert q.level_discount == rub(50)
    assert q.discount == rub(50)
    assert q.amount_to_pay == rub(950)
    p = q.positions[0]
    assert (p.level_discount, p.discount, p.amount_to_pay) == (rub(50), rub(50), rub(950))


def test_discount_program_neither_earns_nor_spends_bonuses():
    q = calculate(FIXED, receipt(pos("1", 1000), spend_max=True), account(available=500))
    assert (q.bonus_earned, q.bonus_spent, q.max_spendable) == (0, 0, 0)
    assert q.balance_after == rub(500)
    with pytest.raises(SpendNotAllowed):
        calculate(FIXED, receipt(pos("1", 1000), spend=rub(10)), account(available=500),
                  strict=True)


@pytest.mark.parametrize("amount, discount", [
    ("999.99", "49.99"), ("1000", "100"), ("2500", "250"), ("100", "5"),
])
def test_progressive_discount_5_below_1000_10_from_1000(amount, discount):
    q = calculate(PROGRESSIVE, receipt(pos("1", amount)), account())
    assert q.level_discount == rub(discount)
    assert q.amount_to_pay == rub(amount) - rub(discount)


def test_discount_is_spread_over_positions_in_proportion_exactly():
    q = calculate(PROGRESSIVE, receipt(pos("1", 700), pos("2", 300)), account())
    assert [p.level_discount for p in q.positions] == [rub(70), rub(30)]
    q = calculate(FIXED, receipt(pos("1", "333.33"), pos("2", "333.33"), pos("3", "333.33")),
                  account())
    assert q.level_discount == rub("49.99")                  # floor(49.9995)
    assert sum(p.level_discount for p in q.positions) == q.level_discount
    assert all(p.amount_to_pay >= 0 for p in q.positions)


def test_discount_by_level():
    prog = program(level("base", "Стандарт", 0, discount=None),
                   level("silver", "Серебряная", 3000, discount=percent(5)),
                   level("gold", "Золотая", 10000, discount=percent(10)), type="discount")
    for total, expected in ((0, 0), (2999, 0), (3000, 50), (10000, 100)):
        assert calculate(prog, receipt(pos("1", 1000)),
                         account(total_purchases=total)).level_discount == rub(expected)


def test_bonus_program_ignores_a_level_discount():
    prog = program(level(accrual=percent(5), discount=percent(10), max_spend=50))
    q = calculate(prog, receipt(pos("1", 1000)), account())
    assert q.level_discount == 0
    assert q.bonus_earned == rub(50)


def test_no_discount_rule_excludes_a_group():
    # Tobacco cannot be discounted (a common Russian restriction).
    prog = program(level(discount=percent(10)), type="discount",
                   rules=(rule("tobacco", groups=["tobacco"], then=Effect(no_discount=True)),))
    q = calculate(prog, receipt(pos("1", 1000, ["food"]), pos("2", 500, ["tobacco"])), account())
    assert [p.level_discount for p in q.positions] == [rub(100), 0]


def test_rouble_down_discount():
    prog = program(level(discount=percent(7)), type="discount", rounding="rouble_down")
    q = calculate(prog, receipt(pos("1", "1234.56")), account())
    assert q.level_discount == rub(86)             # 86.4192 -> 86


# --- bonus + discount -------------------------------------------------------------------------

BONUS_DISCOUNT = program(
    level("base", "Стандарт", 0, accrual=percent(3), discount=None, max_spend=20),
    level("gold", "Золотая", 10000, accrual=percent(5), discount=percent(5), max_spend=50),
    type="bonus_discount",
)


def test_bonus_discount_base_level_has_bonuses_only():
    q = calculate(BONUS_DISCOUNT, receipt(pos("1", 1000), spend_max=True), account(available=1000))
    assert q.level_discount == 0
    assert q.bonus_spent == rub(200)
    assert q.bonus_earned == rub(24)               # 3 % of the 800 paid in money
    assert q.amount_to_pay == rub(800)


def test_bonus_discount_gold_level_discount_then_bonuses():
    q = calculate(BONUS_DISCOUNT, receipt(pos("1", 1000), spend_max=True),
                  account(available=1000, total_purchases=10000))
    assert q.level_discount == rub(50)
    assert q.max_spendable == rub(475)             # 50 % of what is left after the discount
    assert q.bonus_spent == rub(475)
    assert q.discount == rub(525)                  # level discount + bonuses spent
    assert q.amount_to_pay == rub(475)
    assert q.bonus_earned == rub("23.75")          # 5 % of 475
    p = q.positions[0]
    assert (p.level_discount, p.bonus_spent, p.discount, p.amount_to_pay) == (
        rub(50), rub(475), rub(525), rub(475))


def test_bonus_discount_without_spending():
    q = calculate(BONUS_DISCOUNT, receipt(pos("1", 1000)), account(total_purchases=10000))
    assert q.level_discount == rub(50)
    assert q.bonus_earned == rub("47.50")           # 5 % of 950


def test_discount_and_accrual_rule_percent_together():
    prog = program(level(accrual=percent(3), discount=percent(5)), type="bonus_discount",
                   rules=(rule("services", groups=["services"],
                               then=Effect(accrual_percent=pct(10))),))
    q = calculate(prog, receipt(pos("s", 1000, ["services"]), pos("g", 1000, ["goods"])),
                  account())
    assert [p.level_discount for p in q.positions] == [rub(50), rub(50)]
    assert [p.bonus_earned for p in q.positions] == [rub(95), rub("28.50")]
