"""Returns: earned bonuses taken back in proportion, spent bonuses restored, money back."""
from __future__ import annotations

from decimal import Decimal

import pytest

from hub.engine import ReturnLine, ReturnTooLarge, calculate, compute_return

from tests.engine.helpers import account, level, percent, pos, program, receipt, rub

D = Decimal


def line(pid="1", qty="2", amount=1000, to_pay=900, spent=100, earned="27"):
    return ReturnLine(id=pid, quantity=D(qty), amount=rub(amount), amount_to_pay=rub(to_pay),
                      bonus_spent=rub(spent), bonus_earned=rub(earned))


def test_half_returned_takes_back_half():
    rq = compute_return([line()], {}, {"1": D(1)})
    assert rq.quantities == {"1": D(1)}
    assert (rq.amount, rq.amount_returned) == (rub(500), rub(450))
    assert (rq.bonus_spent_restored, rq.bonus_earned_reversed) == (rub(50), rub("13.50"))


def test_returning_in_steps_gives_back_exactly_what_the_sale_recorded():
    ln = line(qty="3", amount="1000", to_pay="900.01", spent="99.99", earned="27.01")
    first = compute_return([ln], {}, {"1": D(1)})
    second = compute_return([ln], {"1": D(1)}, {"1": D(1)})
    third = compute_return([ln], {"1": D(2)}, {"1": D(1)})
    steps = (first, second, third)
    assert sum(s.amount for s in steps) == ln.amount
    assert sum(s.amount_returned for s in steps) == ln.amount_to_pay
    assert sum(s.bonus_spent_restored for s in steps) == ln.bonus_spent
    assert sum(s.bonus_earned_reversed for s in steps) == ln.bonus_earned
    # cumulative floors of 2701 kopecks in thirds: 900, 1800, 2701
    assert [s.bonus_earned_reversed for s in steps] == [900, 900, 901]


def test_no_positions_means_everything_left():
    lines = [line("1"), line("2", qty="1", amount=300, to_pay=300, spent=0, earned=9)]
    rq = compute_return(lines, {"1": D(1)}, None)
    assert rq.quantities == {"1": D(1), "2": D(1)}
    assert rq.bonus_earned_reversed == rub("13.50") + rub(9)
    assert rq.amount_returned == rub(450) + rub(300)
    nothing_left = compute_return(lines, {"1": D(2), "2": D(1)}, None)
    assert nothing_left.quantities == {} and nothing_left.amount == 0


def test_weighed_goods():
    ln = line(qty="1.5", amount="300", to_pay="300", spent=0, earned="9")
    rq = compute_return([ln], {}, {"1": D("0.5")})
    assert (rq.amount, rq.bonus_earned_reversed) == (rub(100), rub(3))


@pytest.mark.parametrize("before, asked", [({}, "3"), ({"1": D(1)}, "2"), ({"1": D(2)}, "0.001")])
def test_returning_more_than_was_sold(before, asked):
    with pytest.raises(ReturnTooLarge) as exc:
        compute_return([line()], before, {"1": D(asked)})
    assert exc.value.position_id == "1"
    assert exc.value.sold == D(2)


def test_return_of_a_calculated_sale():
    prog = program(level(accrual=percent(10), max_spend=50))
    q = calculate(prog, receipt(pos("1", 600), pos("2", 400), spend=rub(100)), account(available=500))
    lines = [ReturnLine(p.id, D(1), p.amount, p.amount_to_pay, p.bonus_spent, p.bonus_earned)
             for p in q.positions]
    part = compute_return(lines, {}, {"2": D(1)})
    assert (part.amount, part.amount_returned) == (rub(400), rub(360))
    assert (part.bonus_spent_restored, part.bonus_earned_reversed) == (rub(40), rub(36))
    rest = compute_return(lines, {"2": D(1)}, None)
    assert part.bonus_earned_reversed + rest.bonus_earned_reversed == q.bonus_earned
    assert part.bonus_spent_restored + rest.bonus_spent_restored == q.bonus_spent
    assert part.amount_returned + rest.amount_returned == q.amount_to_pay
