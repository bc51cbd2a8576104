"""Win-back chains (seed 001: 66 days -> 100 bonuses for 7 days, then 180 bonuses) and the
margin arithmetic; seed 003's 30/60/90+ VIP steps."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from hub.automation.chains import average_check, propose_gift, save_chain
from hub.engine.expiry import local_day_start
from hub.errors import Invalid
from hub.ledger import account_view
from tests.automation.conftest import msk


def test_seed001_arithmetic_900_x_40pct_x_50pct_is_180():
    assert propose_gift(90000, 40, 50) == 18000
    assert propose_gift(90000, Decimal("40"), Decimal("50")) == 18000
    assert propose_gift(99999, 33, 33) == 10800     # 108.89 bonuses: whole bonuses, rounded down
    assert propose_gift(0, 40, 50) == 0
    with pytest.raises(ValueError):
        propose_gift(90000, 140, 50)


def test_seed001_chain_for_one_purchase_customers(world):
    s = world.session
    with_one = world.customer(msk(2026, 1, 1))
    regular = world.customer(msk(2026, 1, 1))
    world.sale(with_one, msk(2026, 1, 10, 12), rub=900)
    world.sale(regular, msk(2026, 1, 10, 12), rub=900)
    world.sale(regular, msk(2026, 1, 10, 13), rub=900)
    assert average_check(s, world.t, msk(2026, 2, 1)) == 90000
    gift = propose_gift(average_check(s, world.t, msk(2026, 2, 1)), 40, 50)
    chain = save_chain(s, world.t, {"name": "1 покупка", "audience": {"purchase_count_min": 1, "purchase_count_max": 1},
                                    "steps": [{"days": 66, "amount": 10000, "valid_days": 7},
                                              {"days": 120, "amount": gift, "valid_days": 7}]}, msk(2026, 1, 1))
    assert world.run(msk(2026, 3, 16, 23, 59))["winback"] == 0        # day 65
    at = msk(2026, 3, 17, 9)                                          # day 66
    assert world.run(at)["winback"] == 1
    world.run(at)
    [ev] = world.events("winback")
    assert (ev.customer_id, ev.amount, ev.rule_id) == (with_one.id, 10000, chain.id)
    assert ev.expires_at == local_day_start(date(2026, 3, 25), "Europe/Moscow")   # "до 24.03"
    [msg] = world.messages("winback")
    assert msg.advertising and msg.context["date"] == "24.03.2026" and msg.context["bonuses_kopecks"] == 10000
    assert account_view(s, world.t, with_one.id, at).available == 10000 + 4500   # the gift + 5% of 900 from the sale
    world.run(msk(2026, 5, 10, 9))                                    # day 120: the second touch
    assert [e.amount for e in world.events("winback")] == [10000, 18000]
    assert len(world.messages("winback")) == 2


def test_a_purchase_stops_the_chain_and_the_next_lapse_starts_it_again(world):
    c = world.customer(msk(2026, 1, 1))
    world.sale(c, msk(2026, 1, 10, 12))
    save_chain(world.session, world.t, {"steps": [{"days": 30, "amount": 20000, "valid_days": 7},
                                                  {"days": 60, "amount": 0}]}, msk(2026, 1, 1))
    world.run(msk(2026, 2, 9, 10))                                    # day 30
    assert len(world.events("winback")) == 1
    world.sale(c, msk(2026, 2, 20, 12))                               # came back
    world.run(msk(2026, 3, 11, 10))                                   # would be day 60 of the old lapse
    assert len(world.events("winback")) == 1
    world.run(msk(2026, 3, 22, 10))                                   # day 30 of the new lapse
    evs = world.events("winback")
    assert [e.occurrence.split(":", 1)[1] for e in evs] == ["0:2026-01-10", "0:2026-02-20"]
    world.run(msk(2026, 4, 21, 10))                                   # day 60: a reminder, no gift
    last = world.events("winback")[-1]
    assert last.amount == 0 and last.posting_id is None and last.status == "done"
    assert len(world.messages("winback")) == 3


def test_seed003_vip_step_and_customers_who_never_bought(world):
    from hub.programs.operations import DEFAULT_SETTINGS, put_program
    levels = [DEFAULT_SETTINGS["levels"][0],
              {**DEFAULT_SETTINGS["levels"][0], "code": "vip", "name": "VIP", "threshold": 500000}]
    put_program(world.session, world.t, {**DEFAULT_SETTINGS, "levels": levels})
    vip = world.customer(msk(2026, 1, 1))
    world.sale(vip, msk(2026, 1, 5, 12), rub=6000)
    never = world.customer(msk(2026, 1, 5, 15))
    save_chain(world.session, world.t, {"name": "VIP 90+", "audience": {"levels": ["vip"]},
                                        "steps": [{"days": 90, "amount": 50000, "valid_days": 14}]}, msk(2026, 1, 1))
    save_chain(world.session, world.t, {"name": "Без покупок", "audience": {"purchase_count_max": 0},
                                        "steps": [{"days": 30, "amount": 20000, "valid_days": 7}]}, msk(2026, 1, 1))
    world.run(msk(2026, 2, 4, 10))
    world.run(msk(2026, 4, 5, 10))
    got = {(e.customer_id, e.amount) for e in world.events("winback")}
    assert got == {(never.id, 20000), (vip.id, 50000)}


def test_chain_steps_are_checked():
    from hub.automation.chains import check_steps
    with pytest.raises(Invalid):
        check_steps([{"days": 60, "amount": 100}, {"days": 30, "amount": 100, "valid_days": 7}])
    with pytest.raises(Invalid):
        check_steps([{"days": 60, "amount": 100}])                   # a gift needs its validity
    assert check_steps([{"days": 66, "amount": 10000, "valid_days": 7}])[0]["days"] == 66
    _ = timedelta
