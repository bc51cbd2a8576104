"""Modifiers: rules by group, time of day, weekday, payment, store, cashier and level."""
from __future__ import annotations

from datetime import datetime, time

import pytest

from hub.engine import calculate

from tests.engine.helpers import (
    UTC, Effect, account, level, msk, pct, per_amount, percent, pos, program, progressive,
    receipt, rub, rule,
)

# "с 9 до 12 начисляем в 2 раза больше бонусов"
HAPPY = rule("happy hours", time_from=time(9), time_to=time(12),
             then=Effect(accrual_multiplier=pct(2)))


def earned(prog, *positions, acc=None, **kw) -> int:
    return calculate(prog, receipt(*positions, **kw), acc or account()).bonus_earned


# --- time of day --------------------------------------------------------------------------------

@pytest.mark.parametrize("hh, mm, expected", [
    (8, 59, 50), (9, 0, 100), (10, 30, 100), (11, 59, 100), (12, 0, 50), (23, 0, 50),
])
def test_double_bonuses_9_to_12(hh, mm, expected):
    prog = program(level(accrual=percent(5)), rules=(HAPPY,))
    assert earned(prog, pos("1", 1000), moment=msk(2025, 3, 3, hh, mm)) == rub(expected)


def test_time_window_is_in_the_tenants_zone():
    prog = program(level(accrual=percent(5)), rules=(HAPPY,))
    # 06:30 UTC is 09:30 in Moscow; 09:30 UTC is 12:30 in Moscow
    assert earned(prog, pos("1", 1000), moment=datetime(2025, 3, 3, 6, 30, tzinfo=UTC)) == rub(100)
    assert earned(prog, pos("1", 1000), moment=datetime(2025, 3, 3, 9, 30, tzinfo=UTC)) == rub(50)
    vl = program(level(accrual=percent(5)), rules=(HAPPY,), timezone="Asia/Vladivostok")
    # 00:30 UTC is 10:30 in Vladivostok
    assert earned(vl, pos("1", 1000), moment=datetime(2025, 3, 3, 0, 30, tzinfo=UTC)) == rub(100)


def test_double_bonuses_with_progressive_scheme():
    prog = program(level(accrual=progressive((0, 3), (1000, 10))), rules=(HAPPY,))
    assert earned(prog, pos("1", 500), moment=msk(2025, 3, 3, 10)) == rub(30)
    assert earned(prog, pos("1", 1000), moment=msk(2025, 3, 3, 10)) == rub(200)


def test_double_bonuses_with_per_amount_scheme_doubles_the_bonuses():
    prog = program(level(accrual=per_amount(1000, 50)), rules=(HAPPY,))
    assert earned(prog, pos("1", 2999), moment=msk(2025, 3, 3, 13)) == rub(100)
    # twice the 100 bonuses, not 50 per full 1000 of a doubled 5998
    assert earned(prog, pos("1", 2999), moment=msk(2025, 3, 3, 10)) == rub(200)
    assert earned(prog, pos("1", 999), moment=msk(2025, 3, 3, 10)) == 0


def test_per_amount_with_a_multiplier_on_one_group():
    prog = program(level(accrual=per_amount(1000, 50)),
                   rules=(rule("coffee x2", groups=["coffee"],
                               then=Effect(accrual_multiplier=pct(2))),))
    # 3000 roubles -> 150 bonuses; the coffee half of them doubled -> 75 x 2 + 75
    q = calculate(prog, receipt(pos("c", 1500, ["coffee"]), pos("t", 1500, ["tea"])), account())
    assert q.bonus_earned == rub(225)
    assert [p.bonus_earned for p in q.positions] == [rub(150), rub(75)]


@pytest.mark.parametrize("hh, mm, inside", [
    (21, 59, False), (22, 0, True), (23, 30, True), (0, 0, True), (1, 59, True), (2, 0, False),
    (12, 0, False),
])
def test_window_wrapping_midnight(hh, mm, inside):
    night = rule("night", time_from=time(22), time_to=time(2), then=Effect(accrual_percent=pct(1)))
    prog = program(level(accrual=percent(5)), rules=(night,))
    expected = 10 if inside else 50
    assert earned(prog, pos("1", 1000), moment=msk(2025, 3, 3, hh, mm)) == rub(expected)


def test_open_ended_windows():
    after_20 = rule("evening", time_from=time(20), then=Effect(no_accrual=True))
    before_8 = rule("morning", time_to=time(8), then=Effect(no_accrual=True))
    prog = program(level(accrual=percent(5)), rules=(after_20, before_8))
    assert earned(prog, pos("1", 100), moment=msk(2025, 3, 3, 19, 59)) == rub(5)
    assert earned(prog, pos("1", 100), moment=msk(2025, 3, 3, 20, 0)) == 0
    assert earned(prog, pos("1", 100), moment=msk(2025, 3, 3, 7, 59)) == 0
    assert earned(prog, pos("1", 100), moment=msk(2025, 3, 3, 8, 0)) == rub(5)


# --- groups ---------------------------------------------------------------------------------------

# "за услуги можно начислять 10% бонусов, а на сопутствующие товары только 3%. И при этом, за
#  услуги можно расплатиться бонусами до 50%, а на сопутствующие товары – бонусы [не списываются]"
SALON = program(
    level(accrual=percent(3), max_spend=0),
    rules=(rule("services", groups=["services"],
                then=Effect(accrual_percent=pct(10), max_spend_percent=pct(50))),),
)


def test_10_percent_on_services_3_on_goods():
    q = calculate(SALON, receipt(pos("s", 1000, ["services"]), pos("g", 500, ["goods"])), account())
    assert [p.bonus_earned for p in q.positions] == [rub(100), rub(15)]
    assert q.bonus_earned == rub(115)


def test_services_payable_up_to_half_goods_not_at_all():
    q = calculate(SALON, receipt(pos("s", 1000, ["services"]), pos("g", 500, ["goods"]),
                                 spend_max=True), account(available=10000))
    assert q.max_spendable == rub(500)
    assert [p.bonus_spent for p in q.positions] == [rub(500), 0]
    # the services' 500 paid with bonuses earn nothing
    assert [p.bonus_earned for p in q.positions] == [rub(50), rub(15)]
    assert q.amount_to_pay == rub(1000)


def test_the_same_through_exclude_groups():
    prog = program(level(accrual=percent(10), max_spend=50),
                   rules=(rule("goods", exclude_groups=["services"],
                               then=Effect(accrual_percent=pct(3), no_spend=True)),))
    q = calculate(prog, receipt(pos("s", 1000, ["services"]), pos("g", 500, ["goods"]),
                                spend_max=True), account(available=10000))
    assert [p.bonus_spent for p in q.positions] == [rub(500), 0]
    assert [p.bonus_earned for p in q.positions] == [rub(50), rub(15)]


def test_a_position_in_several_groups_matches_any():
    prog = program(level(accrual=percent(3)),
                   rules=(rule("promo", groups=["promo"], then=Effect(accrual_percent=pct(20))),))
    q = calculate(prog, receipt(pos("1", 100, ["coffee", "promo"]), pos("2", 100, ["coffee"]),
                                pos("3", 100)), account())
    assert [p.bonus_earned for p in q.positions] == [rub(20), rub(3), rub(3)]


# --- goods the till already discounted ------------------------------------------------------------

def test_discounted_goods_earn_by_default():
    prog = program(level(accrual=percent(10), max_spend=50))
    q = calculate(prog, receipt(pos("1", 900, till_discount=100), pos("2", 1000)), account())
    assert [p.bonus_earned for p in q.positions] == [rub(90), rub(100)]


def test_no_accrual_on_discounted_goods():
    prog = program(level(accrual=percent(10), max_spend=50), accrue_on_discounted=False)
    q = calculate(prog, receipt(pos("1", 900, till_discount=100), pos("2", 1000)), account())
    assert [p.bonus_earned for p in q.positions] == [0, rub(100)]
    # they can still be paid with bonuses
    q = calculate(prog, receipt(pos("1", 900, till_discount=100), spend_max=True),
                  account(available=1000))
    assert q.bonus_spent == rub(450)


def test_no_spending_on_discounted_goods():
    prog = program(level(accrual=percent(10), max_spend=50), spend_on_discounted=False)
    q = calculate(prog, receipt(pos("1", 900, till_discount=100), pos("2", 1000), spend_max=True),
                  account(available=5000))
    assert q.max_spendable == rub(500)
    assert [p.bonus_spent for p in q.positions] == [0, rub(500)]
    assert [p.bonus_earned for p in q.positions] == [rub(90), rub(50)]


# --- weekday, payment, store, cashier, level -------------------------------------------------------

def test_rule_by_weekday():
    weekend = rule("weekend", weekdays=[6, 7], then=Effect(accrual_multiplier=pct(2)))
    prog = program(level(accrual=percent(5)), rules=(weekend,))
    assert earned(prog, pos("1", 1000), moment=msk(2025, 3, 3)) == rub(50)    # Monday
    assert earned(prog, pos("1", 1000), moment=msk(2025, 3, 8)) == rub(100)   # Saturday
    assert earned(prog, pos("1", 1000), moment=msk(2025, 3, 9)) == rub(100)   # Sunday
    # Sunday 21:30 UTC is already Monday 00:30 in Moscow: the local weekday decides.
    assert earned(prog, pos("1", 1000),
                  moment=datetime(2025, 3, 9, 21, 30, tzinfo=UTC)) == rub(50)


def test_rule_by_weekday_and_time_together():
    happy_friday = rule("fri 18-20", weekdays=[5], time_from=time(18), time_to=time(20),
                        then=Effect(accrual_percent=pct(15)))
    prog = program(level(accrual=percent(5)), rules=(happy_friday,))
    assert earned(prog, pos("1", 100), moment=msk(2025, 3, 7, 19)) == rub(15)   # Friday 19:00
    assert earned(prog, pos("1", 100), moment=msk(2025, 3, 7, 21)) == rub(5)
    assert earned(prog, pos("1", 100), moment=msk(2025, 3, 6, 19)) == rub(5)    # Thursday


def test_rule_by_payment_method():
    cash = rule("cash", payment_methods=["cash"], then=Effect(accrual_percent=pct(7)))
    prog = program(level(accrual=percent(5)), rules=(cash,))
    assert earned(prog, pos("1", 100), payment_method="cash") == rub(7)
    assert earned(prog, pos("1", 100), payment_method="card") == rub(5)
    assert earned(prog, pos("1", 100), payment_method=None) == rub(5)


def test_rule_by_store_forbids_spending():
    outlet = rule("outlet", stores=["outlet"], then=Effect(no_spend=True))
    prog = program(level(accrual=percent(5), max_spend=30), rules=(outlet,))
    acc = account(available=1000)
    assert calculate(prog, receipt(pos("1", 1000), store="outlet"), acc).max_spendable == 0
    assert calculate(prog, receipt(pos("1", 1000), store="shop-1"), acc).max_spendable == rub(300)
    assert calculate(prog, receipt(pos("1", 1000)), acc).max_spendable == rub(300)


def test_rule_by_cashier():
    trainee = rule("trainee", cashiers=["c-7"], then=Effect(no_accrual=True))
    prog = program(level(accrual=percent(5)), rules=(trainee,))
    assert earned(prog, pos("1", 100), cashier="c-7") == 0
    assert earned(prog, pos("1", 100), cashier="c-8") == rub(5)


def test_rule_by_level():
    gold_services = rule("gold services", levels=["gold"], groups=["services"],
                         then=Effect(accrual_percent=pct(15), max_spend_percent=pct(100)))
    prog = program(level("base", "Стандарт", 0, accrual=percent(3), max_spend=20),
                   level("gold", "Золотая", 10000, accrual=percent(5), max_spend=20),
                   rules=(gold_services,))
    r = receipt(pos("s", 100, ["services"]), spend_max=True)
    base = calculate(prog, r, account(available=1000))
    gold = calculate(prog, r, account(available=1000, total_purchases=10000))
    assert (base.max_spendable, base.bonus_earned) == (rub(20), rub("2.40"))
    assert (gold.max_spendable, gold.bonus_earned) == (rub(100), 0)
    r = receipt(pos("s", 100, ["services"]))
    assert calculate(prog, r, account(total_purchases=10000)).bonus_earned == rub(15)


def test_level_discount_rule_by_store():
    prog = program(level(discount=percent(10)), type="discount",
                   rules=(rule("no discount at the kiosk", stores=["kiosk"],
                               then=Effect(no_discount=True)),))
    assert calculate(prog, receipt(pos("1", 100), store="kiosk"), account()).level_discount == 0
    assert calculate(prog, receipt(pos("1", 100), store="shop"), account()).level_discount == rub(10)


# --- several rules ------------------------------------------------------------------------------------

def test_rules_apply_in_order_later_percent_wins_multipliers_multiply():
    rules = (
        rule("services", groups=["services"], then=Effect(accrual_percent=pct(10))),
        rule("vip services", groups=["services"], cashiers=["vip"], then=Effect(accrual_percent=pct(12))),
        HAPPY,
        rule("card", payment_methods=["card"], then=Effect(accrual_multiplier=pct("1.5"))),
    )
    prog = program(level(accrual=percent(3)), rules=rules)
    r = dict(moment=msk(2025, 3, 3, 10), payment_method="card")
    assert earned(prog, pos("1", 100, ["services"]), **r) == rub(30)            # 10 x 2 x 1.5
    assert earned(prog, pos("1", 100, ["services"]), cashier="vip", **r) == rub(36)
    assert earned(prog, pos("1", 100, ["goods"]), **r) == rub(9)                # 3 x 2 x 1.5


def test_later_spend_limit_replaces_earlier_and_flags_stick():
    rules = (
        rule("half", then=Effect(max_spend_percent=pct(50))),
        rule("sale", groups=["sale"], then=Effect(max_spend_percent=pct(10))),
        rule("alcohol", groups=["alcohol"], then=Effect(no_spend=True)),
        rule("alcohol allowed?", groups=["alcohol"], then=Effect(max_spend_percent=pct(100))),
    )
    prog = program(level(accrual=percent(3), max_spend=20), rules=rules)
    q = calculate(prog, receipt(pos("1", 100), pos("2", 100, ["sale"]), pos("3", 100, ["alcohol"]),
                                spend_max=True), account(available=1000))
    assert [p.bonus_spent for p in q.positions] == [rub(50), rub(10), 0]


def test_rule_without_conditions_applies_to_everything():
    prog = program(level(accrual=percent(3)),
                   rules=(rule("always", then=Effect(accrual_multiplier=pct(3))),))
    assert earned(prog, pos("1", 100), pos("2", 200)) == rub(27)


def test_moment_in_another_zone_gives_the_same_quote():
    prog = program(level(accrual=percent(5), max_spend=30), rules=(HAPPY,))
    local = msk(2025, 3, 3, 10)
    r1 = receipt(pos("1", 1000), moment=local, spend_max=True)
    r2 = receipt(pos("1", 1000), moment=local.astimezone(UTC), spend_max=True)
    assert calculate(prog, r1, account(available=100)) == calculate(prog, r2, account(available=100))
