"""calculate() and compute_return() over random programs, receipts and balances."""
from __future__ import annotations

import dataclasses
from datetime import datetime, time
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from hub.engine import (
    AccountState, Condition, Effect, Level, Position, Program, Quote, Receipt, ReturnLine, Rule,
    Scheme, SpendNotAllowed, Step, calculate, compute_return,
)
from hub.engine.rules import position_terms

# Modest budgets: the whole of tests/engine runs in seconds on two shared cores.
MAIN = settings(max_examples=150, deadline=None, database=None)
PROPS = settings(max_examples=60, deadline=None, database=None)

ZONES = ["Europe/Moscow", "Asia/Vladivostok", "Europe/Kaliningrad", "Asia/Yekaterinburg", "UTC",
         "Europe/Berlin", "America/Santiago"]   # the last two change clocks (at midnight in Santiago)
GROUPS = ["services", "goods", "coffee", "alcohol"]
STORES = ["shop-1", "shop-2"]
CASHIERS = ["c-1", "c-7"]
METHODS = ["cash", "card", "mixed"]

kopecks = st.integers(min_value=0, max_value=5_000_000)           # up to 50,000 roubles
percents = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
multipliers = st.decimals(min_value=0, max_value=10, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def schemes(draw, *, discount: bool = False):
    kinds = ["percent", "progressive"] if discount else ["percent", "per_amount", "progressive"]
    kind = draw(st.sampled_from(kinds))
    if kind == "percent":
        return Scheme("percent", percent=draw(percents))
    if kind == "per_amount":
        return Scheme("per_amount", every=draw(st.integers(1, 500_000)),
                      bonuses=draw(st.integers(1, 100_000)))
    froms = sorted(draw(st.sets(st.integers(1, 3_000_000), max_size=3)))
    return Scheme("progressive", steps=tuple(Step(f, draw(percents)) for f in [0, *froms]))


@st.composite
def levels(draw):
    n = draw(st.integers(1, 3))
    thresholds = [0, *sorted(draw(st.sets(st.integers(1, 5_000_000), min_size=n - 1,
                                          max_size=n - 1)))]
    return tuple(
        Level(code=f"l{i}", name=f"Уровень {i}", threshold=t,
              accrual=draw(st.none() | schemes()),
              discount=draw(st.none() | schemes(discount=True)),
              max_spend_percent=draw(percents),
              bonus_lifetime_days=draw(st.none() | st.integers(31, 3650)))
        for i, t in enumerate(thresholds))


def subset(items):
    return st.lists(st.sampled_from(items), max_size=2, unique=True).map(tuple)


times = st.none() | st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))


@st.composite
def rules(draw, codes):
    t_from, t_to = draw(times), draw(times)
    if t_from is not None and t_from == t_to:
        t_to = None
    when = Condition(groups=draw(subset(GROUPS)), exclude_groups=draw(subset(GROUPS)),
                     weekdays=draw(subset(list(range(1, 8)))), time_from=t_from, time_to=t_to,
                     payment_methods=draw(subset(METHODS)), stores=draw(subset(STORES)),
                     cashiers=draw(subset(CASHIERS)), levels=draw(subset(codes)))
    then = Effect(accrual_percent=draw(st.none() | percents),
                  accrual_multiplier=draw(st.none() | multipliers),
                  no_accrual=draw(st.booleans()),
                  max_spend_percent=draw(st.none() | percents),
                  no_spend=draw(st.booleans()), no_discount=draw(st.booleans()))
    return Rule(name="r", when=when, then=then)


@st.composite
def programs(draw):
    lv = draw(levels())
    mode = draw(st.sampled_from(["since_accrual", "since_last_purchase", "fixed_dates"]))
    dates = ()
    if mode == "fixed_dates":
        dates = tuple(draw(st.lists(st.sampled_from([(12, 31), (6, 30), (2, 29), (3, 1), (1, 1)]),
                                    min_size=1, max_size=3, unique=True)))
    return Program(
        type=draw(st.sampled_from(["bonus", "discount", "bonus_discount"])),
        timezone=draw(st.sampled_from(ZONES)), levels=lv,
        bonus_lifetime_days=draw(st.none() | st.integers(31, 3650)),
        expiry_mode=mode, expiry_dates=dates,
        activation_delay_days=draw(st.integers(0, 30)),
        rounding=draw(st.sampled_from(["kopeck", "rouble_down"])),
        rules=tuple(draw(st.lists(rules([lvl.code for lvl in lv]), max_size=4))),
        accrue_on_discounted=draw(st.booleans()), accrue_on_bonus_payment=draw(st.booleans()),
        spend_on_discounted=draw(st.booleans()))


@st.composite
def positions(draw, i):
    amount = draw(kopecks | st.integers(0, 300))
    return Position(id=str(i), amount=amount, groups=draw(subset(GROUPS)),
                    till_discount=draw(st.sampled_from([0, 0, 1, 5000])))


moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
                       timezones=st.sampled_from([ZoneInfo("UTC"), ZoneInfo("Europe/Moscow"),
                                                  ZoneInfo("Asia/Vladivostok")]))


@st.composite
def receipts(draw):
    n = draw(st.integers(0, 6))
    spend = draw(st.sampled_from(["none", "max", "amount"]))
    return Receipt(
        positions=tuple(draw(positions(i)) for i in range(n)), moment=draw(moments),
        store=draw(st.none() | st.sampled_from(STORES)),
        cashier=draw(st.none() | st.sampled_from(CASHIERS)),
        payment_method=draw(st.none() | st.sampled_from(METHODS)),
        spend=draw(kopecks | st.integers(0, 1000)) if spend == "amount" else None,
        spend_max=spend == "max")


accounts = st.builds(AccountState, available=st.integers(-1_000_000, 10_000_000),
                     pending=st.integers(0, 1_000_000), total_purchases=st.integers(0, 10_000_000),
                     purchase_count=st.integers(0, 100))

MONEY_FIELDS = ("amount", "level_discount", "bonus_spent", "max_spendable", "bonus_earned",
                "spend_requested", "balance", "balance_after", "discount", "amount_to_pay")
POSITION_MONEY = ("amount", "level_discount", "bonus_spent", "bonus_earned", "discount",
                  "amount_to_pay")


def floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


@MAIN
@given(programs(), receipts(), accounts)
def test_quote_invariants(program, receipt, account):
    q = calculate(program, receipt, account)
    ps = q.positions

    # money is integer kopecks everywhere
    for name in MONEY_FIELDS:
        assert type(getattr(q, name)) is int, name
    for p in ps:
        for name in POSITION_MONEY:
            assert type(getattr(p, name)) is int, name

    # per-position figures add up to the totals
    assert [p.id for p in ps] == [p.id for p in receipt.positions]
    assert [p.amount for p in ps] == [p.amount for p in receipt.positions]
    assert sum(p.amount for p in ps) == q.amount == receipt.amount
    assert sum(p.level_discount for p in ps) == q.level_discount
    assert sum(p.bonus_spent for p in ps) == q.bonus_spent
    assert sum(p.bonus_earned for p in ps) == q.bonus_earned
    assert sum(p.discount for p in ps) == q.discount
    assert sum(p.amount_to_pay for p in ps) == q.amount_to_pay
    assert q.amount_to_pay + q.discount == q.amount
    assert q.discount == q.level_discount + q.bonus_spent

    # nobody pays below zero, nothing is negative
    for p in ps:
        assert p.level_discount >= 0 and p.bonus_spent >= 0 and p.bonus_earned >= 0
        assert 0 <= p.amount_to_pay <= p.amount
        assert p.amount_to_pay + p.discount == p.amount

    # spending stays within the balance, the program's limit and the request
    assert 0 <= q.max_spendable <= max(0, account.available)
    assert 0 <= q.bonus_spent <= min(max(0, account.available), q.max_spendable)
    requested = q.max_spendable if receipt.spend_max else (receipt.spend or 0)
    assert q.spend_requested == requested
    assert q.bonus_spent == min(requested, q.max_spendable)
    assert q.spend_limited == (requested > q.bonus_spent)

    # per-position limits of the program and its rules
    level = program.level_for(account.total_purchases)
    assert q.level == level
    for p, pos in zip(ps, receipt.positions):
        t = position_terms(program, level, receipt, pos)
        cap = 0 if (t.no_spend or not program.earns_bonuses) else \
            floor((pos.amount - p.level_discount) * t.max_spend_percent / 100)
        assert p.bonus_spent <= cap
        if t.no_accrual:
            assert p.bonus_earned == 0
        if t.no_discount:
            assert p.level_discount == 0

    # the program's type
    if not program.earns_bonuses:
        assert q.bonus_spent == q.bonus_earned == q.max_spendable == 0
    if not program.gives_discount:
        assert q.level_discount == 0

    # rounding
    if program.rounding == "rouble_down":
        assert q.level_discount % 100 == 0
        assert q.max_spendable % 100 == 0
        assert q.bonus_earned % 100 == 0

    # the balance after and the accrual window
    earned_now = 0 if q.earned_pending else q.bonus_earned
    assert q.balance == account.available
    assert q.balance_after == account.available - q.bonus_spent + earned_now
    if q.bonus_earned:
        assert q.earned_active_from is not None and q.earned_active_from >= receipt.moment
        assert q.earned_pending == (program.activation_delay_days > 0)
        if q.earned_expires_at is not None:
            assert q.earned_expires_at > receipt.moment
    else:
        assert q.earned_active_from is None and not q.earned_pending

    # levels
    if q.next_level is None:
        assert q.to_next_level_after is None
    else:
        assert q.next_level.threshold > level.threshold
        assert q.to_next_level_after == max(
            0, q.next_level.threshold - account.total_purchases - q.amount_to_pay)

    # messages are Russian and carry the figures
    assert f"Уровень карты: {level.name}" in q.receipt_message
    assert q.cashier_message.startswith(f"Уровень «{level.name}».")


@PROPS
@given(programs(), receipts(), accounts)
def test_deterministic_and_independent_of_the_moments_zone(program, receipt, account):
    q = calculate(program, receipt, account)
    assert calculate(program, receipt, account) == q
    copy = dataclasses.replace(receipt, positions=tuple(dataclasses.replace(p) for p in receipt.positions))
    assert calculate(program, copy, account) == q
    utc = dataclasses.replace(receipt, moment=receipt.moment.astimezone(ZoneInfo("UTC")))
    assert calculate(program, utc, account) == q


@PROPS
@given(programs(), receipts(), accounts)
def test_strict_is_the_same_quote_or_spend_not_allowed(program, receipt, account):
    q = calculate(program, receipt, account)
    if q.spend_requested <= q.max_spendable:
        assert calculate(program, receipt, account, strict=True) == q
    else:
        with pytest.raises(SpendNotAllowed) as exc:
            calculate(program, receipt, account, strict=True)
        assert (exc.value.requested, exc.value.allowed) == (q.spend_requested, q.max_spendable)


@PROPS
@given(programs(), receipts(), accounts, st.integers(0, 10_000_000))
def test_more_balance_never_spends_less(program, receipt, account, extra):
    receipt = dataclasses.replace(receipt, spend=None, spend_max=True)
    poorer = calculate(program, receipt, account)
    richer = calculate(program, receipt, dataclasses.replace(account, available=account.available + extra))
    assert richer.max_spendable >= poorer.max_spendable
    assert richer.bonus_spent >= poorer.bonus_spent
    # spending is the only thing the balance changes
    assert richer.level_discount == poorer.level_discount
    if not program.accrue_on_bonus_payment and richer.bonus_spent == poorer.bonus_spent:
        assert richer.bonus_earned == poorer.bonus_earned


@PROPS
@given(programs(), receipts(), accounts)
def test_spend_equal_to_the_maximum_is_spend_max(program, receipt, account):
    by_max = calculate(program, dataclasses.replace(receipt, spend=None, spend_max=True), account)
    by_amount = calculate(program, dataclasses.replace(receipt, spend=by_max.max_spendable,
                                                       spend_max=False), account)
    assert dataclasses.replace(by_amount, spend_requested=0) == \
        dataclasses.replace(by_max, spend_requested=0)


# --- returns ------------------------------------------------------------------------------------

@st.composite
def sale_and_returns(draw):
    q: Quote = calculate(draw(programs()), draw(receipts()), draw(accounts))
    lines = []
    for p in q.positions:
        qty = Decimal(draw(st.integers(1, 5000))) / draw(st.sampled_from([1, 1000]))
        lines.append(ReturnLine(p.id, qty, p.amount, p.amount_to_pay, p.bonus_spent, p.bonus_earned))
    # each line returned in 1..3 random pieces, interleaved
    steps = []
    for line in lines:
        cuts = sorted(draw(st.sets(st.integers(1, 999), max_size=2)))
        marks = [line.quantity * c / 1000 for c in cuts] + [line.quantity]
        prev = Decimal(0)
        for m in marks:
            m = m.quantize(Decimal("0.001"), rounding=ROUND_FLOOR) if m != line.quantity else m
            if m > prev:
                steps.append((line.id, m - prev))
                prev = m
    steps = draw(st.permutations(steps))
    return q, lines, steps


@PROPS
@given(sale_and_returns())
def test_returns_in_pieces_give_back_exactly_the_sale(case):
    q, lines, steps = case
    before: dict[str, Decimal] = {}
    totals = dict(amount=0, amount_returned=0, bonus_spent_restored=0, bonus_earned_reversed=0)
    for pid, qty in steps:
        rq = compute_return(lines, before, {pid: qty})
        for key in totals:
            value = getattr(rq, key)
            assert type(value) is int and value >= 0
            totals[key] += value
        before[pid] = before.get(pid, Decimal(0)) + qty
    assert totals == dict(amount=q.amount, amount_returned=q.amount_to_pay,
                          bonus_spent_restored=q.bonus_spent, bonus_earned_reversed=q.bonus_earned)
    # and nothing is left to return
    assert compute_return(lines, before, None).quantities == {}


@PROPS
@given(sale_and_returns())
def test_a_partial_return_takes_back_in_proportion(case):
    q, lines, _ = case
    for line in lines:
        half = (line.quantity / 2).quantize(Decimal("0.001"), rounding=ROUND_FLOOR)
        if half <= 0:
            continue
        rq = compute_return(lines, {}, {line.id: half})
        for got, whole in ((rq.bonus_earned_reversed, line.bonus_earned),
                           (rq.bonus_spent_restored, line.bonus_spent),
                           (rq.amount_returned, line.amount_to_pay)):
            exact = Decimal(whole) * half / line.quantity
            assert exact - 1 < got <= exact
