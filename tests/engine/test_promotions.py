"""Promotions in the engine: every mechanic with the seeds' examples, conditions, combination."""
from __future__ import annotations

import dataclasses
import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from hub.engine import (
    AccountState, Condition, Effect, Position, PromoConditions, PromoContext, Promotion, Receipt,
    Rule, calculate,
)
from tests.engine.helpers import MONDAY_NOON, account, level, msk, pct, percent, program, receipt, rub


def item(pid: str, roubles, qty=1, groups=("coffee",), product=None) -> Position:
    q = Decimal(str(qty))
    return Position(id=pid, amount=int(rub(roubles) * q), quantity=q, price=rub(roubles),
                    product=product, groups=tuple(groups))


def promo(pid: str, reward: str, name: str | None = None, **kw) -> Promotion:
    when = kw.pop("when", {})
    when = {k: tuple(v) if isinstance(v, list) else v for k, v in when.items()}
    return Promotion(id=pid, name=name or pid, reward=reward, when=PromoConditions(**when), **kw)


def ctx(*promos: Promotion, **kw) -> PromoContext:
    kw.setdefault("known_customer", True)
    return PromoContext(promotions=promos, **kw)


BONUS = program(level(accrual=percent(5), max_spend=30))
DISCOUNT5 = program(level(discount=percent(5)), type="discount")
TWO_PLUS_ONE = promo("p21", "free_items", "2+1", buy=2, free=1, when={"groups": ["coffee"]})
ONE_PLUS_ONE = promo("p11", "free_items", "Акция 1+1", buy=1, free=1, when={"groups": ["coffee"]})


def line(q, pid):
    return next(p for p in q.positions if p.id == pid)


# --- N+M ---------------------------------------------------------------------------------

def test_two_plus_one_the_cheapest_is_free():
    r = receipt(item("1", 250), item("2", 300), item("3", 200))
    q = calculate(BONUS, r, account(), promo=ctx(TWO_PLUS_ONE))
    assert line(q, "3").promo_discount == rub(200)
    assert line(q, "3").amount_to_pay == 0
    assert line(q, "1").promo_discount == line(q, "2").promo_discount == 0
    assert q.promo_discount == rub(200) and q.amount_to_pay == rub(550)
    assert [(p.id, p.name, p.discount) for p in q.promotions] == [("p21", "2+1", rub(200))]
    assert [(lp.id, lp.name, lp.discount) for lp in line(q, "3").promotions] == [("p21", "2+1", rub(200))]
    assert "Акция «2+1»: скидка 200,00 ₽." in q.cashier_message
    assert "Акция «2+1»: скидка 200,00 ₽" in q.receipt_message
    # No bonuses accrue on the free item (nothing paid for it).
    assert line(q, "3").bonus_earned == 0
    assert q.bonus_earned == rub(550) * 5 // 100


def test_two_plus_one_on_one_line_of_three_units():
    q = calculate(BONUS, receipt(item("1", 100, qty=3)), account(), promo=ctx(TWO_PLUS_ONE))
    assert q.positions[0].promo_discount == rub(100)


def test_two_plus_one_one_step_away():
    q = calculate(BONUS, receipt(item("1", 250), item("2", 300)), account(), promo=ctx(TWO_PLUS_ONE))
    assert q.promo_discount == 0 and q.promotions == ()
    assert q.hints == ("«2+1»: ещё 1 товар — и третий в подарок.",)
    assert "ещё 1 товар — и третий в подарок" in q.cashier_message
    # Five units: one set free, and the hint for the next one.
    q = calculate(BONUS, receipt(item("1", 100, qty=5)), account(), promo=ctx(TWO_PLUS_ONE))
    assert q.promo_discount == rub(100)
    assert q.hints == ("«2+1»: ещё 1 товар — и третий в подарок.",)


def test_two_plus_one_only_on_its_group():
    r = receipt(item("1", 250), item("2", 900, groups=("tea",)), item("3", 50, groups=("bakery",)))
    q = calculate(BONUS, r, account(), promo=ctx(TWO_PLUS_ONE))
    assert q.promo_discount == 0


def test_one_plus_one():
    r = receipt(item("a", 300), item("b", 200), item("c", 150), item("d", 100))
    q = calculate(BONUS, r, account(), promo=ctx(ONE_PLUS_ONE))
    # Sets from the most expensive: (300, 200) -> 200 free, (150, 100) -> 100 free.
    assert {p.id: p.promo_discount for p in q.positions} == {"a": 0, "b": rub(200), "c": 0, "d": rub(100)}
    q = calculate(BONUS, receipt(item("a", 300)), account(), promo=ctx(ONE_PLUS_ONE))
    assert q.hints == ("«Акция 1+1»: ещё 1 товар — и второй в подарок.",)


def test_n_plus_m_on_a_product():
    p = promo("x", "free_items", "3+2 на эспрессо", buy=3, free=2, when={"products": ["espresso"]})
    r = receipt(item("1", 120, qty=5, product="espresso"), item("2", 500, product="cake"))
    q = calculate(BONUS, r, account(), promo=ctx(p))
    assert line(q, "1").promo_discount == rub(240) and line(q, "2").promo_discount == 0


def test_weighed_goods_count_whole_units_only():
    q = calculate(BONUS, receipt(item("1", 100, qty="2.5")), account(), promo=ctx(TWO_PLUS_ONE))
    assert q.promo_discount == 0


# --- percent and fixed discounts for a period ---------------------------------------------

def test_seasonal_percent_discount_in_its_period():
    sale = promo("s", "percent_off", "Весенняя распродажа", percent=pct(20),
                 when={"groups": ["coffee"], "starts_at": msk(2025, 3, 1, 0, 0),
                       "ends_at": msk(2025, 3, 10, 0, 0)})
    r = receipt(item("1", 333), item("2", 100, groups=("tea",)))
    q = calculate(BONUS, r, account(), promo=ctx(sale))
    assert line(q, "1").promo_discount == 6660 and line(q, "2").promo_discount == 0
    late = dataclasses.replace(r, moment=msk(2025, 3, 10, 0, 0))
    assert calculate(BONUS, late, account(), promo=ctx(sale)).promo_discount == 0
    early = dataclasses.replace(r, moment=msk(2025, 2, 28, 23, 59))
    assert calculate(BONUS, early, account(), promo=ctx(sale)).promo_discount == 0


def test_fixed_discount_is_spread_exactly_by_amount():
    p = promo("f", "amount_off", "Минус 100", amount=rub(100))
    r = receipt(item("1", 100), item("2", 200), item("3", "0.01"))
    q = calculate(BONUS, r, account(), promo=ctx(p))
    assert q.promo_discount == rub(100)
    assert sum(x.promo_discount for x in q.positions) == rub(100)
    assert all(x.promo_discount <= x.amount for x in q.positions)
    # More than the receipt: at most the receipt.
    q = calculate(BONUS, receipt(item("1", 50)), account(), promo=ctx(p))
    assert q.promo_discount == rub(50) and q.amount_to_pay == 0


# --- happy hours --------------------------------------------------------------------------

HAPPY = promo("hh", "bonus_multiplier", "Счастливые часы", multiplier=pct(2),
              when={"weekdays": [1, 2, 3, 4, 5], "time_from": time(9), "time_to": time(12)})


def test_happy_hours_double_bonuses_on_weekday_mornings():
    morning = receipt(item("1", 1000), moment=msk(2025, 3, 3, 10, 0))     # Monday 10:00
    q = calculate(BONUS, morning, account(), promo=ctx(HAPPY))
    assert q.bonus_earned == rub(100)
    assert [(p.id, p.bonus) for p in q.promotions] == [("hh", rub(50))]
    assert q.positions[0].promotions[0].bonus == rub(50)
    noon = dataclasses.replace(morning, moment=msk(2025, 3, 3, 12, 0))
    assert calculate(BONUS, noon, account(), promo=ctx(HAPPY)).bonus_earned == rub(50)
    saturday = dataclasses.replace(morning, moment=msk(2025, 3, 8, 10, 0))
    assert calculate(BONUS, saturday, account(), promo=ctx(HAPPY)).bonus_earned == rub(50)


def test_happy_hours_as_a_discount_wrapping_midnight_in_local_time():
    night = promo("n", "percent_off", "Ночные часы", percent=pct(10),
                  when={"time_from": time(22), "time_to": time(2)})
    utc = datetime(2025, 3, 3, 20, 30, tzinfo=msk(2025, 1, 1).tzinfo).astimezone(
        msk(2025, 1, 1).tzinfo)
    q = calculate(BONUS, receipt(item("1", 1000), moment=utc + timedelta(hours=3)), account(),
                  promo=ctx(night))   # 23:30 Moscow
    assert q.promo_discount == rub(100)
    q = calculate(BONUS, receipt(item("1", 1000), moment=msk(2025, 3, 3, 2, 0)), account(),
                  promo=ctx(night))
    assert q.promo_discount == 0


# --- first purchase ---------------------------------------------------------------------

FIRST15 = promo("first", "percent_off", "15% на первую покупку", percent=pct(15),
                when={"first_purchase": True})


def test_fifteen_percent_off_the_first_purchase():
    r = receipt(item("1", 1000))
    assert calculate(BONUS, r, AccountState(), promo=ctx(FIRST15)).promo_discount == rub(150)
    returning = AccountState(purchase_count=1, total_purchases=rub(1000))
    assert calculate(BONUS, r, returning, promo=ctx(FIRST15)).promo_discount == 0
    anonymous = PromoContext(promotions=(FIRST15,))
    assert calculate(BONUS, r, AccountState(), promo=anonymous).promo_discount == 0


def test_first_purchase_pays_a_bigger_share_with_bonuses():
    share = promo("sh", "spend_share", "Списание 15% на первую покупку", percent=pct(15),
                  when={"first_purchase": True})
    prog = program(level(accrual=percent(5), max_spend=0))
    r = receipt(item("1", 1000), spend_max=True)
    q = calculate(prog, r, account(available=500), promo=ctx(share))
    assert q.bonus_spent == rub(150) and q.max_spendable == rub(150)
    assert [p.id for p in q.promotions] == ["sh"]
    q = calculate(prog, r, AccountState(available=rub(500), purchase_count=2), promo=ctx(share))
    assert q.bonus_spent == 0


# --- birthday ---------------------------------------------------------------------------

BIRTHDAY = promo("bd", "percent_off", "Скидка на день рождения", percent=pct(10),
                 when={"birthday_days": 3})


@pytest.mark.parametrize("birth, moment, applies", [
    (date(1990, 3, 5), msk(2025, 3, 3), True),        # two days ahead
    (date(1990, 3, 7), msk(2025, 3, 3), False),       # four days ahead
    (date(1990, 2, 28), msk(2025, 3, 3), True),       # three days ago
    (date(1990, 12, 31), msk(2025, 1, 2), True),      # across the new year
    (date(1992, 2, 29), msk(2025, 3, 2), True),       # leap-day birthday in a common year
    (None, msk(2025, 3, 3), False),
])
def test_birthday_window(birth, moment, applies):
    q = calculate(BONUS, receipt(item("1", 1000), moment=moment), account(),
                  promo=ctx(BIRTHDAY, birth_date=birth))
    assert q.promo_discount == (rub(100) if applies else 0)


# --- bonuses for a group or above an amount ------------------------------------------------

def test_extra_bonuses_above_a_receipt_amount_and_the_hint_below():
    p = promo("x", "bonus_extra", "Чек от 3000", amount=rub(100), when={"min_amount": rub(3000)})
    q = calculate(BONUS, receipt(item("1", 2000), item("2", 1000)), account(), promo=ctx(p))
    assert q.bonus_earned == rub(150) + rub(100)
    assert sum(lp.bonus for x in q.positions for lp in x.promotions) == rub(100)
    q = calculate(BONUS, receipt(item("1", 2500)), account(), promo=ctx(p))
    assert q.bonus_earned == rub(125)
    assert q.hints == ("«Чек от 3000»: ещё на 500,00 ₽ — и +100,00 бонусов.",)


def test_bonus_multiplier_on_a_group():
    p = promo("g", "bonus_multiplier", "Тройные на чай", multiplier=pct(3), when={"groups": ["tea"]})
    r = receipt(item("1", 1000), item("2", 1000, groups=("tea",)))
    q = calculate(BONUS, r, account(), promo=ctx(p))
    assert line(q, "1").bonus_earned == rub(50) and line(q, "2").bonus_earned == rub(150)


def test_bonus_promotions_give_nothing_in_a_discount_program():
    p = promo("x", "bonus_extra", "Бонусы", amount=rub(100))
    q = calculate(DISCOUNT5, receipt(item("1", 1000)), account(), promo=ctx(p))
    assert q.bonus_earned == 0 and q.promotions == ()


# --- personal offers, levels, stores, limits, codes -----------------------------------------

def test_personal_offer_to_a_segment():
    p = promo("v", "percent_off", "Для спящих", percent=pct(25), when={"segments": ["sleeping"]})
    r = receipt(item("1", 1000))
    assert calculate(BONUS, r, account(), promo=ctx(p, segments=frozenset({"sleeping"}))).promo_discount == rub(250)
    assert calculate(BONUS, r, account(), promo=ctx(p, segments=frozenset({"vip"}))).promo_discount == 0


def test_levels_stores_and_per_customer_limit():
    p = promo("l", "percent_off", "VIP в центре", percent=pct(10),
              when={"levels": ["base"], "stores": ["center"], "per_customer_limit": 2})
    r = receipt(item("1", 1000), store="center")
    assert calculate(BONUS, r, account(), promo=ctx(p, uses={"l": 1})).promo_discount == rub(100)
    assert calculate(BONUS, r, account(), promo=ctx(p, uses={"l": 2})).promo_discount == 0
    assert calculate(BONUS, dataclasses.replace(r, store="mall"), account(),
                     promo=ctx(p)).promo_discount == 0
    other = dataclasses.replace(p, when=dataclasses.replace(p.when, levels=("gold",)))
    assert calculate(BONUS, r, account(), promo=ctx(other)).promo_discount == 0


def test_coupon_promotion_needs_its_code():
    p = promo("c", "amount_off", "Купон 300", amount=rub(300), when={"requires_code": True})
    r = receipt(item("1", 1000))
    assert calculate(BONUS, r, account(), promo=ctx(p)).promo_discount == 0
    assert calculate(BONUS, r, account(), promo=ctx(p, unlocked=frozenset({"c"}))).promo_discount == rub(300)


def test_min_quantity():
    p = promo("q", "percent_off", "От 3 штук", percent=pct(10), when={"min_quantity": Decimal(3)})
    assert calculate(BONUS, receipt(item("1", 100, qty=3)), account(), promo=ctx(p)).promo_discount == rub(30)
    q = calculate(BONUS, receipt(item("1", 100, qty=2)), account(), promo=ctx(p))
    assert q.promo_discount == 0 and q.hints == ("«От 3 штук»: ещё 1 товар — и скидка 10%.",)


# --- combination --------------------------------------------------------------------------

def test_exclusive_on_top_applies_alone():
    excl = promo("e", "percent_off", "Только она", percent=pct(30), exclusive=True, priority=10)
    other = promo("o", "percent_off", "Другая", percent=pct(10))
    q = calculate(BONUS, receipt(item("1", 1000)), account(), promo=ctx(other, excl))
    assert [p.id for p in q.promotions] == ["e"] and q.promo_discount == rub(300)


def test_exclusive_lower_down_is_skipped():
    excl = promo("e", "percent_off", "Только она", percent=pct(30), exclusive=True, priority=1)
    other = promo("o", "percent_off", "Другая", percent=pct(10), priority=5)
    q = calculate(BONUS, receipt(item("1", 1000)), account(), promo=ctx(excl, other))
    assert [p.id for p in q.promotions] == ["o"] and q.promo_discount == rub(100)


def test_best_of_takes_the_largest_discount_per_line_then_stack_on_the_rest():
    a = promo("a", "percent_off", "10%", percent=pct(10), combine="best")
    b = promo("b", "percent_off", "20% на кофе", percent=pct(20), combine="best", when={"groups": ["coffee"]})
    s = promo("s", "amount_off", "Минус 10", amount=rub(10), combine="stack")
    r = receipt(item("1", 1000), item("2", 1000, groups=("tea",)))
    q = calculate(BONUS, r, account(), promo=ctx(a, b, s))
    one, two = line(q, "1"), line(q, "2")
    assert {lp.id for lp in one.promotions} == {"b", "s"} and {lp.id for lp in two.promotions} == {"a", "s"}
    assert one.promo_discount + two.promo_discount == rub(200) + rub(100) + rub(10)
    assert [p.id for p in q.promotions] == ["a", "b", "s"]


def test_stacked_percents_apply_to_what_is_left():
    a = promo("a", "percent_off", "50%", percent=pct(50), priority=2)
    b = promo("b", "percent_off", "50% ещё", percent=pct(50), priority=1)
    q = calculate(BONUS, receipt(item("1", 1000)), account(), promo=ctx(a, b))
    assert q.promo_discount == rub(750)
    c = promo("c", "percent_off", "Ещё 100%", percent=pct(100))
    q = calculate(BONUS, receipt(item("1", 1000)), account(), promo=ctx(a, b, c))
    assert q.promo_discount == rub(1000) and q.amount_to_pay == 0


def test_group_cap_limits_promotions_and_level_discount_together():
    prog = program(level(discount=percent(10)), type="discount",
                   rules=(Rule("Табак", Condition(groups=("tobacco",)),
                               Effect(max_discount_percent=pct(0))),
                          Rule("Алкоголь", Condition(groups=("alcohol",)),
                               Effect(max_discount_percent=pct(15))),))
    p = promo("p", "percent_off", "Всё -10%", percent=pct(10))
    r = receipt(item("t", 300, groups=("tobacco",)), item("a", 1000, groups=("alcohol",)), item("c", 1000))
    q = calculate(prog, r, account(), promo=ctx(p))
    assert line(q, "t").promo_discount == 0 and line(q, "t").level_discount == 0
    assert line(q, "a").promo_discount == rub(100) and line(q, "a").level_discount == rub(50)
    assert line(q, "c").promo_discount == rub(100) and line(q, "c").level_discount == rub(90)
    # The cap works without promotions too.
    q = calculate(prog, r, account())
    assert line(q, "t").level_discount == 0 and line(q, "a").level_discount == rub(100)


def test_level_discount_after_promotions_and_opt_outs():
    p = promo("p", "percent_off", "20%", percent=pct(20))
    q = calculate(DISCOUNT5, receipt(item("1", 1000)), account(), promo=ctx(p))
    assert q.promo_discount == rub(200) and q.level_discount == rub(40)
    alone = dataclasses.replace(p, level_discount=False)
    q = calculate(DISCOUNT5, receipt(item("1", 1000), item("2", 1000, groups=("tea",))), account(),
                  promo=ctx(dataclasses.replace(alone, when=PromoConditions(groups=("coffee",)))))
    assert line(q, "1").level_discount == 0 and line(q, "2").level_discount == rub(50)


def test_no_bonus_spending_on_promoted_lines_when_it_says_so():
    p = promo("p", "percent_off", "20%", percent=pct(20), bonus_spend=False, when={"groups": ["coffee"]})
    r = receipt(item("1", 1000), item("2", 1000, groups=("tea",)), spend_max=True)
    q = calculate(BONUS, r, account(available=5000), promo=ctx(p))
    assert line(q, "1").bonus_spent == 0 and line(q, "2").bonus_spent == rub(300)


def test_bonus_spending_on_what_promotions_left():
    p = promo("p", "percent_off", "50%", percent=pct(50))
    q = calculate(BONUS, receipt(item("1", 1000), spend_max=True), account(available=5000), promo=ctx(p))
    assert q.promo_discount == rub(500) and q.bonus_spent == rub(150)
    assert q.positions[0].discount == rub(650)


def test_order_of_promotions_given_does_not_matter():
    ps = [TWO_PLUS_ONE, HAPPY, FIRST15, promo("a", "amount_off", "Минус 33,33", amount=3333),
          promo("b", "percent_off", "Лучшая", percent=pct(12), combine="best")]
    r = receipt(item("1", 250), item("2", 300), item("3", 200), moment=msk(2025, 3, 3, 10))
    first = calculate(BONUS, r, account(), promo=ctx(*ps))
    for seed in range(5):
        random.Random(seed).shuffle(ps)
        assert calculate(BONUS, r, account(), promo=ctx(*ps)) == first


def test_no_promotions_is_the_old_quote():
    r = receipt(item("1", 1000), spend_max=True)
    assert calculate(BONUS, r, account(available=100), promo=ctx()) == calculate(BONUS, r, account(available=100))


# --- properties ---------------------------------------------------------------------------

GROUPS = ["coffee", "tea", "tobacco"]
PROPS = settings(max_examples=80, deadline=None, database=None)


@st.composite
def promotions(draw):
    out = []
    for k in range(draw(st.integers(0, 6))):
        reward = draw(st.sampled_from(["percent_off", "amount_off", "free_items", "bonus_multiplier",
                                       "bonus_extra", "spend_share", "gift_product"]))
        when = PromoConditions(
            groups=tuple(draw(st.lists(st.sampled_from(GROUPS), max_size=2, unique=True))),
            min_amount=draw(st.sampled_from([0, 0, rub(500), rub(3000)])),
            first_purchase=draw(st.booleans()),
            weekdays=draw(st.sampled_from([(), (1,), (6, 7)])))
        out.append(Promotion(
            id=f"p{k}", name=f"Акция {k}", reward=reward, when=when,
            percent=draw(st.decimals(0, 100, places=2)), amount=draw(st.integers(0, 200_000)),
            multiplier=draw(st.decimals(0, 5, places=1)), buy=draw(st.integers(0, 3)),
            free=draw(st.integers(0, 2)), priority=draw(st.integers(0, 3)),
            exclusive=draw(st.booleans()), combine=draw(st.sampled_from(["stack", "best"])),
            level_discount=draw(st.booleans()), bonus_spend=draw(st.booleans()),
            gift_product=draw(st.sampled_from(["", "0", "1", "gift"])),
            gift_price=draw(st.sampled_from([0, 0, 100, 50_000])),
            gift_quantity=draw(st.integers(1, 3))))
    return tuple(out)


@st.composite
def receipts(draw):
    n = draw(st.integers(1, 5))
    positions = []
    for i in range(n):
        qty = draw(st.sampled_from([Decimal(1), Decimal(2), Decimal(3), Decimal("0.5")]))
        price = draw(st.integers(0, 300_000))
        positions.append(Position(id=str(i), amount=int(price * qty), quantity=qty, price=price,
                                  groups=(draw(st.sampled_from(GROUPS)),),
                                  product=draw(st.sampled_from([None, "gift"]))))
    moment = MONDAY_NOON + timedelta(days=draw(st.integers(0, 6)))
    spend = draw(st.none() | st.integers(0, 500_000))
    return Receipt(positions=tuple(positions), moment=moment, spend=spend,
                   spend_max=draw(st.booleans()))


CAPPED = program(level(accrual=percent(5), discount=percent(7), max_spend=40), type="bonus_discount",
                 rules=(Rule("Табак", Condition(groups=("tobacco",)), Effect(max_discount_percent=pct(5))),))


@PROPS
@given(promotions(), receipts(), st.integers(0, 1_000_000), st.integers(0, 2))
def test_any_promotions_any_receipt(promos, r, available, purchases):
    state = AccountState(available=available, purchase_count=purchases)
    context = PromoContext(promotions=promos, known_customer=True)
    q = calculate(CAPPED, r, state, promo=context)
    for p, pos in zip(q.positions, r.positions):
        assert 0 <= p.promo_discount <= p.amount
        assert p.promo_discount + p.level_discount <= p.amount
        if "tobacco" in pos.groups:
            assert p.promo_discount + p.level_discount <= p.amount * 5 // 100
        assert p.discount <= p.amount and p.amount_to_pay >= 0
        assert p.bonus_earned >= 0
        assert sum(lp.discount for lp in p.promotions) == p.promo_discount
    assert q.promo_discount == sum(p.promo_discount for p in q.positions)
    assert q.level_discount == sum(p.level_discount for p in q.positions)
    assert q.bonus_spent == sum(p.bonus_spent for p in q.positions)
    assert q.bonus_earned == sum(p.bonus_earned for p in q.positions)
    assert q.amount_to_pay == sum(p.amount_to_pay for p in q.positions)
    assert sum(p.discount for p in q.promotions) == q.promo_discount
    # Quote = commit: the strict calculation of what the quote allowed is the same quote.
    committed = calculate(CAPPED, dataclasses.replace(r, spend=q.bonus_spent, spend_max=False),
                          state, promo=context, strict=True)
    assert committed.positions == q.positions
    assert committed.discount == q.discount and committed.bonus_earned == q.bonus_earned
    # Deterministic whatever order the promotions come in.
    shuffled = dataclasses.replace(context, promotions=tuple(reversed(promos)))
    assert calculate(CAPPED, r, state, promo=shuffled) == q


# --- gift certificates on a receipt -----------------------------------------------------------

def test_a_certificate_sold_earns_nothing_gets_no_discount_and_is_not_a_purchase():
    prog = program(level(accrual=percent(5), discount=percent(10), max_spend=50),
                   level("gold", "Золотая", 1500, accrual=percent(7)), type="bonus_discount")
    cert = Position(id="gc", amount=rub(1000), price=rub(1000), certificate=True, groups=("coffee",))
    r = receipt(item("1", 1000), cert, spend_max=True)
    q = calculate(prog, r, account(available=5000), promo=ctx(promo("p", "percent_off", "Всё -20%",
                                                                    percent=pct(20))))
    gc = line(q, "gc")
    assert (gc.promo_discount, gc.level_discount, gc.bonus_spent, gc.bonus_earned) == (0, 0, 0, 0)
    assert gc.amount_to_pay == rub(1000)
    assert line(q, "1").promo_discount == rub(200)
    assert q.certificates_sold == rub(1000)
    assert q.purchase_amount == q.amount_to_pay - rub(1000)
    # The level is reached by purchases only: 1000 - 200 - 80 - spent is below 1500.
    assert q.to_next_level_after == rub(1500) - q.purchase_amount
    only = calculate(prog, receipt(cert), account(), promo=ctx(promo("p", "percent_off", "x", percent=pct(20))))
    assert only.discount == 0 and only.bonus_earned == 0 and only.purchase_amount == 0
