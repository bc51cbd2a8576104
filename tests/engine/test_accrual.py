"""Accrual schemes, levels and rounding, with the seeds' own figures."""
from __future__ import annotations

import pytest

from hub.engine import calculate

from tests.engine.helpers import (
    account, level, msk, per_amount, percent, pos, program, progressive, receipt, rub,
)

# "при покупке до 1000 рублей копится 3% бонусами, а свыше 1000 рублей – 10%"
PROGRESSIVE = program(level(accrual=progressive((0, 3), (1000, 10))))
# "с каждой 1000 рублей в чеке начисляется 50 бонусов"
PER_AMOUNT = program(level(accrual=per_amount(1000, 50), max_spend=50))
# "при достижении клиентом общей суммы покупок 10000 рублей, уровень его карты меняется с 3% на 5%"
LEVELS = program(
    level("base", "Стандарт", 0, accrual=percent(3)),
    level("gold", "Золотая", 10000, accrual=percent(5)),
)


def earned(prog, *positions, acc=None, **kw) -> int:
    return calculate(prog, receipt(*positions, **kw), acc or account()).bonus_earned


# --- fixed percent -------------------------------------------------------------------------

def test_fixed_percent_floors_to_the_kopeck():
    prog = program(level(accrual=percent(5)))
    assert earned(prog, pos("1", "250.50")) == rub("12.52")      # 12.525 -> 12.52
    assert earned(prog, pos("1", 1000)) == rub(50)


def test_fixed_percent_fractional_percent():
    prog = program(level(accrual=percent("2.5")))
    assert earned(prog, pos("1", 1000)) == rub(25)


def test_no_accrual_scheme_earns_nothing():
    prog = program(level(accrual=None, max_spend=50))
    assert earned(prog, pos("1", 1000)) == 0


def test_empty_and_zero_receipts_earn_nothing():
    prog = program(level(accrual=percent(5)))
    q = calculate(prog, receipt(), account())
    assert (q.amount, q.bonus_earned, q.positions) == (0, 0, ())
    assert earned(prog, pos("1", 0)) == 0


# --- progressive: the step for the receipt amount applies to the whole receipt -----------

@pytest.mark.parametrize("amount, expected", [
    ("0.01", "0"),
    ("100", "3"),
    ("999.99", "29.99"),        # 29.9997 floored
    ("1000", "100"),            # 10 % of everything, not 3 % of 1000 + 10 % of 0
    ("1500", "150"),            # not 30 + 50
    ("12345.67", "1234.56"),
])
def test_progressive_3_below_1000_10_from_1000(amount, expected):
    assert earned(PROGRESSIVE, pos("1", amount)) == rub(expected)


def test_progressive_step_is_chosen_by_the_whole_receipt_not_the_position():
    q = calculate(PROGRESSIVE, receipt(pos("1", 600), pos("2", 500)), account())
    assert [p.bonus_earned for p in q.positions] == [rub(60), rub(50)]
    assert q.bonus_earned == rub(110)


def test_progressive_with_three_steps():
    prog = program(level(accrual=progressive((0, 1), (500, 2), (2000, 4))))
    assert earned(prog, pos("1", 499)) == rub("4.99")
    assert earned(prog, pos("1", 500)) == rub(10)
    assert earned(prog, pos("1", 1999)) == rub("39.98")
    assert earned(prog, pos("1", 2000)) == rub(80)


# --- per_amount: Y bonuses for every full X roubles ------------------------------------------

@pytest.mark.parametrize("amount, expected", [
    ("999.99", 0), ("1000", 50), ("1999.99", 50), ("2999", 100), ("3000", 150), ("10000", 500),
])
def test_per_amount_50_per_full_1000(amount, expected):
    assert earned(PER_AMOUNT, pos("1", amount)) == rub(expected)


def test_per_amount_counts_the_whole_receipt_and_spreads_by_amount():
    # 1500 + 1500: three full thousands in the receipt (per position it would be only two).
    q = calculate(PER_AMOUNT, receipt(pos("1", 1500), pos("2", 1500)), account())
    assert q.bonus_earned == rub(150)
    assert [p.bonus_earned for p in q.positions] == [rub(75), rub(75)]


def test_per_amount_part_paid_with_bonuses_does_not_count():
    # 3000 with 1 rouble paid by bonuses: 2999 roubles earn -> two full thousands.
    q = calculate(PER_AMOUNT, receipt(pos("1", 3000), spend=rub(1)), account(available=100))
    assert q.bonus_spent == rub(1)
    assert q.bonus_earned == rub(100)


def test_per_amount_with_percent_rule_on_other_positions():
    from tests.engine.helpers import Effect, pct, rule
    prog = program(level(accrual=per_amount(1000, 50)),
                   rules=(rule("services", groups=["services"],
                               then=Effect(accrual_percent=pct(10))),))
    # goods 2500 -> 2 x 50; services 300 -> 10 % = 30; services do not count toward thousands
    q = calculate(prog, receipt(pos("g", 2500, ["goods"]), pos("s", 300, ["services"])), account())
    assert [p.bonus_earned for p in q.positions] == [rub(100), rub(30)]


# --- levels: 3 % -> 5 % at 10,000 of total purchases ------------------------------------------

@pytest.mark.parametrize("total, level_code, expected", [
    (0, "base", 30), ("9999.99", "base", 30), (10000, "gold", 50), (50000, "gold", 50),
])
def test_level_by_total_purchases(total, level_code, expected):
    q = calculate(LEVELS, receipt(pos("1", 1000)), account(total_purchases=total))
    assert q.level.code == level_code
    assert q.bonus_earned == rub(expected)


def test_receipt_crossing_the_threshold_is_computed_at_the_old_level():
    q = calculate(LEVELS, receipt(pos("1", 2000)), account(total_purchases=9000))
    assert q.level.code == "base"
    assert q.bonus_earned == rub(60)              # 3 %, not 5 %
    assert q.next_level.code == "gold"
    assert q.to_next_level_after == 0             # the next receipt is at gold
    nxt = calculate(LEVELS, receipt(pos("1", 2000)), account(total_purchases=9000 + 2000))
    assert (nxt.level.code, nxt.bonus_earned) == ("gold", rub(100))


def test_to_next_level_counts_what_the_customer_pays():
    prog = program(level("base", "Стандарт", 0, accrual=percent(3), max_spend=50),
                   level("gold", "Золотая", 10000, accrual=percent(5), max_spend=50))
    q = calculate(prog, receipt(pos("1", 1000), spend=rub(100)),
                  account(available=500, total_purchases=5000))
    assert q.amount_to_pay == rub(900)
    assert q.to_next_level_after == rub(10000 - 5000 - 900)


def test_top_level_has_no_next_level():
    q = calculate(LEVELS, receipt(pos("1", 100)), account(total_purchases=20000))
    assert q.next_level is None and q.to_next_level_after is None


def test_three_levels_of_the_seed_case_2():
    # 2nd level at 3 000 ₽, 3rd at 6 000 ₽
    prog = program(level("l1", "Первый", 0, accrual=percent(3)),
                   level("l2", "Второй", 3000, accrual=percent(5)),
                   level("l3", "Третий", 6000, accrual=percent(7)))
    for total, code, bonus in ((2999, "l1", 3), (3000, "l2", 5), (5999, "l2", 5), (6000, "l3", 7)):
        q = calculate(prog, receipt(pos("1", 100)), account(total_purchases=total))
        assert (q.level.code, q.bonus_earned) == (code, rub(bonus))


# --- spreading and rounding -------------------------------------------------------------------

def test_earned_parts_add_up_exactly():
    prog = program(level(accrual=percent(3)))
    q = calculate(prog, receipt(pos("1", "333.33"), pos("2", "333.33"), pos("3", "333.33")),
                  account())
    assert q.bonus_earned == rub("29.99")          # floor(29.9997)
    assert sum(p.bonus_earned for p in q.positions) == q.bonus_earned
    # each gets its floored share (999.99 -> 999); the rounding kopecks go to the largest
    # position that can take them (the first of equals)
    assert [p.bonus_earned for p in q.positions] == [1001, 999, 999]


def test_rouble_down_rounds_earned_bonuses_down_to_whole_roubles():
    prog = program(level(accrual=progressive((0, 3), (1000, 10))), rounding="rouble_down")
    assert earned(prog, pos("1", "999.99")) == rub(29)
    assert earned(prog, pos("1", "1234.56")) == rub(123)
    assert earned(prog, pos("1", "33")) == 0          # 0.99 -> 0


def test_rouble_down_parts_still_add_up():
    prog = program(level(accrual=percent(7)), rounding="rouble_down")
    q = calculate(prog, receipt(pos("1", "123.45"), pos("2", "678.90"), pos("3", "55.55")),
                  account())
    assert q.bonus_earned == rub(60)                  # 60.0305 -> 60
    assert sum(p.bonus_earned for p in q.positions) == q.bonus_earned


def test_kopeck_rounding_keeps_kopecks():
    prog = program(level(accrual=percent(7)))
    assert earned(prog, pos("1", "123.45")) == rub("8.64")    # 8.6415


def test_offline_receipt_uses_its_own_moment_for_the_level_not_a_clock():
    # Same receipt at two different moments, same account: same accrual.
    a = earned(LEVELS, pos("1", 1000), moment=msk(2020, 1, 1))
    b = earned(LEVELS, pos("1", 1000), moment=msk(2030, 1, 1))
    assert a == b == rub(30)


def test_a_rule_on_products_applies_to_those_lines_and_to_its_groups():
    """Issue 25.2: a rule names product groups and products from the catalog; a line matches
    by either."""
    from dataclasses import replace

    from tests.engine.helpers import Effect, pct, rule
    prog = program(level(accrual=percent(5)),
                   rules=(rule("latte", groups=["desserts"], products=["latte"],
                               then=Effect(accrual_multiplier=pct(2))),))
    latte = replace(pos("1", 100, ["coffee"]), product="latte")
    espresso = replace(pos("2", 100, ["coffee"]), product="espresso")
    cake = replace(pos("3", 100, ["desserts"]), product="cake")
    q = calculate(prog, receipt(latte, espresso, cake), account())
    assert [p.bonus_earned for p in q.positions] == [rub(10), rub(5), rub(10)]
