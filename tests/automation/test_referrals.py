"""Referrals: codes, a newcomer by phone, card or code, the newcomer's gift, multi-level
rewards of the invitee's first or every purchase, and returns taking rewards back."""
from __future__ import annotations

import pytest

from hub.automation.referrals import attach, referral_code
from hub.errors import Conflict, Invalid, NotFound
from hub.ledger import account_view, check_ledger
from tests.automation.conftest import msk

REFERRAL = {"enabled": True, "newcomer_gift": {"amount": 20000, "valid_days": 14},
            "mode": "first", "levels": [{"percent": "10"}, {"percent": "5"}, {"amount": 5000}]}


def _balance(world, c, at):
    return account_view(world.session, world.t, c.id, at).available


def test_newcomer_gift_and_three_level_rewards_then_a_return_takes_them_back(world):
    s, t = world.session, world.t
    world.settings(msk(2026, 1, 1), {"referral": REFERRAL})
    top = world.customer(msk(2026, 1, 2), card_number="C-1")
    mid = world.customer(msk(2026, 1, 2))
    low = world.customer(msk(2026, 1, 2))
    new = world.customer(msk(2026, 1, 3, 10))
    code = referral_code(s, t, low.id)
    assert referral_code(s, t, low.id) == code and len(code) == 8
    attach(s, t, mid.id, {"card": "C-1"}, msk(2026, 1, 2, 11))
    attach(s, t, low.id, {"phone": mid.phone}, msk(2026, 1, 2, 12))
    answer = attach(s, t, new.id, {"code": code.lower()}, msk(2026, 1, 3, 11))
    assert answer["via"] == "code" and answer["inviter_id"] == low.id
    assert _balance(world, new, msk(2026, 1, 3, 12)) == 20000          # the newcomer's gift
    assert len(world.events("referral_registration")) == 4 - 1         # mid, low, new
    with pytest.raises(Conflict):
        attach(s, t, new.id, {"phone": top.phone}, msk(2026, 1, 3, 12))

    sale = world.sale(new, msk(2026, 1, 5, 12), rub=2000, ref="FIRST")
    world.sale(new, msk(2026, 1, 6, 12), rub=2000)                     # not the first: no reward
    at = msk(2026, 1, 6, 13)
    world.run(at)
    world.run(at)
    rewards = {e.customer_id: e.amount for e in world.events("referral_reward")}
    paid = sale["totals"]["amount_to_pay"]
    assert rewards == {low.id: paid // 10, mid.id: paid // 20, top.id: 5000}
    assert len(world.messages("referral_bonus")) == 3
    before = _balance(world, low, at)

    world.refund("FIRST", msk(2026, 1, 7, 12), quantity="1")
    world.run(msk(2026, 1, 7, 13))
    world.run(msk(2026, 1, 7, 13))
    back = {e.customer_id: e.amount for e in world.events("referral_reversal")}
    assert back == rewards
    assert _balance(world, low, msk(2026, 1, 7, 14)) == before - paid // 10
    assert check_ledger(s, t) == []


def test_every_purchase_within_the_period_and_partial_returns_add_up(world):
    s, t = world.session, world.t
    world.settings(msk(2026, 1, 1), {"referral": {**REFERRAL, "newcomer_gift": None, "mode": "every",
                                                  "levels": [{"percent": "3"}], "period_days": 30}})
    inviter = world.customer(msk(2026, 1, 2))
    new = world.customer(msk(2026, 1, 3))
    attach(s, t, new.id, {"phone": inviter.phone}, msk(2026, 1, 3, 11))
    from decimal import Decimal
    from connectors.receipts import make_position
    from hub.clock import frozen
    from hub.receipts.operations import SaleRequest, commit_sale
    req = SaleRequest(external_id="THREE", moment=msk(2026, 1, 4, 12), customer={"id": new.id},
                      positions=(make_position(id="1", price=33333, quantity=Decimal(3)),))
    with frozen(msk(2026, 1, 4, 12)):
        commit_sale(s, t, "api", req, {"x": 1})
    world.run(msk(2026, 1, 4, 13))
    world.sale(new, msk(2026, 1, 20, 12), rub=1000)
    world.run(msk(2026, 1, 20, 13))
    world.sale(new, msk(2026, 2, 10, 12), rub=1000)                     # after 30 days: nothing
    world.run(msk(2026, 2, 10, 13))
    assert sorted(e.amount for e in world.events("referral_reward")) == [2999, 3000]
    for k in range(3):
        world.refund("THREE", msk(2026, 2, 11, 12 + k), quantity="1")
        world.run(msk(2026, 2, 11, 12 + k, 30))
    back = [e.amount for e in world.events("referral_reversal")]
    assert sum(back) == 2999 and len(back) == 3
    assert check_ledger(s, t) == []


def test_bad_referrals_are_refused(world):
    s, t = world.session, world.t
    a = world.customer(msk(2026, 1, 2))
    b = world.customer(msk(2026, 1, 2))
    with pytest.raises(Invalid):                                       # program off
        attach(s, t, b.id, {"phone": a.phone}, msk(2026, 1, 3))
    world.settings(msk(2026, 1, 1), {"referral": REFERRAL})
    with pytest.raises(Invalid):
        attach(s, t, a.id, {"phone": a.phone}, msk(2026, 1, 3))
    with pytest.raises(NotFound):
        attach(s, t, a.id, {"code": "NOPE"}, msk(2026, 1, 3))
    attach(s, t, b.id, {"phone": a.phone}, msk(2026, 1, 3))
    with pytest.raises(Invalid):                                       # a cycle
        attach(s, t, a.id, {"phone": b.phone}, msk(2026, 1, 3))
    c = world.customer(msk(2026, 1, 2))
    world.sale(c, msk(2026, 1, 3, 12))
    with pytest.raises(Invalid):                                       # not a newcomer
        attach(s, t, c.id, {"phone": a.phone}, msk(2026, 1, 4))
