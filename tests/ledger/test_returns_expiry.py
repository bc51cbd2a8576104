"""Returns and expiry: one rule, whatever the moment the expiry sweep runs (issue 13), and
spending checked against what the ledger holds when the hub processes the receipt.

Each case runs with and without a sweep before the operation under test (`swept`), on both
databases, and must give the same balances and lots either way.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from hub.engine.expiry import end_of_validity
from hub.errors import Invalid
from hub.ledger import (
    account_view, accrue, check_ledger, expire_due, lock_account, place_hold, release_expired,
)
from hub.ledger.models import Lot, Posting
from hub.sweeps import run_due
from hub.customers.bonuses import adjust_bonuses
from hub.customers.operations import register_customer
from hub.receipts.operations import calculate_receipt, commit_sale, return_sale
from tests.ledger.helpers import (
    SOURCE, T0, draws_of, lots_of, make_tenant, posting_sums, program_settings, return_of, sale,
)

MSK = timezone(timedelta(hours=3))
TZ = "Europe/Moscow"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def _world(session, grace: int | None = None, **settings):
    """A tenant (5%, bonuses live 30 days, active at once, payable up to 100%) and a customer."""
    s = program_settings(**{"activation_delay_days": 0, "base_spend": "100", "lifetime": 30,
                            "silver_threshold": 10**12, **settings})
    if grace is not None:
        s["restored_bonus_grace_days"] = grace
    tid = make_tenant(session, s)
    c = register_customer(session, tid, {"phone": "+79160001313"}, source=SOURCE, moment=T0)
    return SimpleNamespace(tid=tid, cid=c.id)


def _gift(session, w, amount: int, valid_days: int, moment: datetime) -> dict:
    answer, _ = adjust_bonuses(session, w.tid, w.cid, amount=amount, kind="gift", reason=None,
                               valid_days=valid_days, moment=moment, idempotency_key=None,
                               source=SOURCE, body={})
    return answer


def _debit(session, w, amount: int, moment: datetime) -> dict:
    answer, _ = adjust_bonuses(session, w.tid, w.cid, amount=-amount, kind="manual", reason=None,
                               valid_days=None, moment=moment, idempotency_key=None,
                               source=SOURCE, body={})
    return answer


def _lot(session, posting_id: str) -> Lot:
    return session.scalars(select(Lot).where(Lot.posting_id == posting_id)
                           .execution_options(populate_existing=True)).one()


def _sale_lot(session, answer: dict) -> Lot:
    pid = session.scalar(select(Posting.id).where(Posting.receipt_id == answer["id"],
                                                  Posting.kind == "accrual"))
    return _lot(session, pid)


def _available(session, w, moment: datetime) -> int:
    return account_view(session, w.tid, w.cid, moment).available


def _sweep(session, w, at: datetime, swept: bool) -> None:
    if swept:
        run_due(session, at, w.tid)


# -- the story of the issue -------------------------------------------------------------------

@pytest.mark.parametrize("swept", [False, True], ids=["run A: no sweep", "run B: swept"])
def test_the_story_both_runs_give_100(session, clock, swept):
    tid = make_tenant(session, program_settings(activation_delay_days=0, lifetime=30,
                                                base_percent="5", silver_threshold=10**12))
    c = register_customer(session, tid, {"phone": "+79160001300"}, source=SOURCE,
                          moment=datetime(2020, 3, 1, tzinfo=MSK))
    w = SimpleNamespace(tid=tid, cid=c.id)
    march_1 = clock.set(datetime(2020, 3, 1, 12, tzinfo=MSK))
    answer, _ = commit_sale(session, tid, SOURCE, *sale("S", march_1, [(100_000, 1)],
                                                        customer_id=c.id))
    assert answer["totals"]["bonus_earned"] == 5_000                # 50 bonuses, 30 days
    _gift(session, w, 10_000, 40, clock.set(datetime(2020, 3, 20, 12, tzinfo=MSK)))
    if swept:
        at = clock.set(datetime(2020, 4, 2, tzinfo=MSK))
        assert run_due(session, at, tid)["expired_lots"] == 1
    r, _ = return_sale(session, tid, SOURCE, "S",
                       *return_of("RS", clock.set(datetime(2020, 4, 5, 12, tzinfo=MSK))))
    assert r["bonus_earned_reversed"] == 5_000                     # the sale's share ...
    assert r["customer"]["balance"] == 10_000                       # ... burnt: nothing taken
    assert _available(session, w, datetime(2020, 4, 5, 12, tzinfo=MSK)) == 10_000
    run_due(session, datetime(2020, 4, 5, 12, tzinfo=MSK), tid)
    sums = posting_sums(session, tid, c.id)
    assert sums == {"accrual": 5_000, "gift": 10_000, "expiry": -5_000}
    assert sorted(lot.remaining for lot in lots_of(session, tid, c.id)) == [0, 10_000]
    assert check_ledger(session, tid) == []


# -- sweep independence of every reading -------------------------------------------------------

@pytest.mark.parametrize("swept", [False, True])
def test_views_and_spending_treat_burnt_lots_as_burnt(session, clock, swept):
    w = _world(session)
    _gift(session, w, 1_000, 5, T0)
    _gift(session, w, 300, 50, T0)
    _sweep(session, w, clock.set(day(20)), swept)
    view = account_view(session, w.tid, w.cid, day(20))
    assert (view.balance, view.available, view.pending, view.debt) == (300, 300, 0, 0)
    assert view.burnt == (0 if swept else 1_000)
    with pytest.raises(Invalid) as info:
        _debit(session, w, 301, day(20))
    assert info.value.code == "insufficient_bonuses"
    assert _debit(session, w, 300, day(20))["balance"] == {"available": 0, "pending": 0}
    assert check_ledger(session, w.tid) == []


# -- taking back what a sale earned --------------------------------------------------------------

@pytest.mark.parametrize("swept", [False, True])
def test_burnt_bonuses_of_the_sales_lot_are_not_taken_back_the_spent_part_is(session, clock,
                                                                             swept):
    w = _world(session)
    # 2 x 500 roubles, 5%: 50 bonuses (5,000 kopecks) in the sale's lot, burning on day 31.
    s, _ = commit_sale(session, w.tid, SOURCE, *sale("S", T0, [(50_000, 2)], customer_id=w.cid))
    own = _sale_lot(session, s)
    assert own.amount == 5_000
    _debit(session, w, 3_000, clock.set(day(5)))                    # 30 of them spent
    gift = _lot(session, _gift(session, w, 20_000, 90, day(6))["id"])
    _sweep(session, w, clock.set(day(35)), swept)                    # 20 burnt, swept or not

    # Half returned: 25 to take back, all of it out of the 20 burnt ... and 5 more.
    r1, _ = return_sale(session, w.tid, SOURCE, "S", *return_of("R1", clock.set(day(40)), {"1": 1}))
    assert r1["bonus_earned_reversed"] == 2_500
    # The burnt 20 are written off; the other 5 were spent: taken from the balance (the gift).
    session.refresh(gift)
    assert gift.remaining == 20_000 - 500
    # The other half: 25 more, all of it spent bonuses: from the gift again.
    r2, _ = return_sale(session, w.tid, SOURCE, "S", *return_of("R2", clock.set(day(41))))
    assert r2["bonus_earned_reversed"] == 2_500
    session.refresh(gift)
    assert gift.remaining == 20_000 - 3_000                          # exactly what was spent
    assert _available(session, w, day(41)) == 17_000
    run_due(session, day(41), w.tid)
    assert posting_sums(session, w.tid, w.cid) == {
        "accrual": 5_000, "manual_debit": -3_000, "gift": 20_000, "expiry": -2_000,
        "reversal": -3_000}
    reversal = session.scalars(select(Posting).where(Posting.receipt_id == s["id"],
                                                     Posting.kind == "reversal")
                               .order_by(Posting.moment)).first()
    assert reversal.meta.get("burnt") == 2_000
    assert check_ledger(session, w.tid) == []


@pytest.mark.parametrize("swept", [False, True])
def test_a_live_own_lot_goes_first_and_other_burnt_lots_are_never_drawn(session, clock, swept):
    w = _world(session, lifetime=100)
    s, _ = commit_sale(session, w.tid, SOURCE, *sale("S", T0, [(100_000, 1)], customer_id=w.cid))
    own = _sale_lot(session, s)                                       # 50, burns on day 101
    _debit(session, w, 1_000, clock.set(day(1)))                     # 10 of them spent
    old = _lot(session, _gift(session, w, 2_000, 1, day(2))["id"])    # burns on day 4, unspent
    live = _lot(session, _gift(session, w, 1_500, 60, day(2))["id"])
    _sweep(session, w, clock.set(day(10)), swept)
    r, _ = return_sale(session, w.tid, SOURCE, "S", *return_of("R", day(10)))
    assert r["bonus_earned_reversed"] == 5_000
    # 40 from the own lot, the spent 10 from the live gift; the burnt gift is never drawn.
    for lot in (own, old, live):
        session.refresh(lot)
    assert (own.remaining, live.remaining) == (0, 500)
    assert old.remaining == (0 if swept else 2_000)                   # the sweep's to write
    view = account_view(session, w.tid, w.cid, day(10))
    assert (view.available, view.debt) == (500, 0)
    run_due(session, day(10), w.tid)
    assert posting_sums(session, w.tid, w.cid)["expiry"] == -2_000
    assert check_ledger(session, w.tid) == []


@pytest.mark.parametrize("swept", [False, True])
def test_what_the_balance_cannot_cover_becomes_debt(session, clock, swept):
    w = _world(session)
    commit_sale(session, w.tid, SOURCE, *sale("S", T0, [(100_000, 1)], customer_id=w.cid))
    _debit(session, w, 5_000, clock.set(day(1)))                     # the sale's 50, all spent
    _gift(session, w, 1_000, 3, day(1))                              # burns on day 5, unspent
    _sweep(session, w, clock.set(day(10)), swept)
    r, _ = return_sale(session, w.tid, SOURCE, "S", *return_of("R", day(10)))
    assert (r["customer"]["balance"], r["customer"]["debt"]) == (-5_000, 5_000)
    # The debt is paid by the next accrual.
    a, _ = commit_sale(session, w.tid, SOURCE, *sale("N", clock.set(day(11)), [(200_000, 1)],
                                                     customer_id=w.cid))
    assert a["totals"]["bonus_earned"] == 10_000
    assert _available(session, w, day(11)) == 5_000
    run_due(session, day(11), w.tid)
    assert posting_sums(session, w.tid, w.cid)["expiry"] == -1_000
    assert check_ledger(session, w.tid) == []


# -- restoring what a sale spent ----------------------------------------------------------------

def _spending_sale(session, w, clock):
    """Three gifts (burning on days 11, 21, 41) and a sale on day 1 spending 70 of them:
    30 + 30 + 10, soonest-expiring first."""
    gifts = [_lot(session, _gift(session, w, 3_000, n, T0)["id"]) for n in (10, 20, 40)]
    s, _ = commit_sale(session, w.tid, SOURCE, *sale("S", clock.set(day(1)), [(1_000, 7)],
                                                     customer_id=w.cid, spend=7_000))
    assert s["totals"]["bonus_spent"] == 7_000
    spent = session.scalars(select(Posting).where(Posting.receipt_id == s["id"],
                                                  Posting.kind == "spend")).one()
    assert draws_of(session, spent.id) == {gifts[0].id: -3_000, gifts[1].id: -3_000,
                                           gifts[2].id: -1_000}
    return gifts, s


@pytest.mark.parametrize("swept", [False, True])
def test_a_partial_restore_goes_to_the_latest_expiring_lots_and_keeps_their_expiry(
        session, clock, swept):
    w = _world(session, base_percent="0", silver_percent="0")
    gifts, _ = _spending_sale(session, w, clock)
    _sweep(session, w, clock.set(day(15)), swept)                    # the first gift burnt
    r, _ = return_sale(session, w.tid, SOURCE, "S", *return_of("R1", day(15), {"1": 4}))
    assert r["bonus_spent_restored"] == 4_000
    for lot in gifts:
        session.refresh(lot)
    # 10 to the day-41 gift, 30 to the day-21 gift; the burnt one gets nothing yet.
    assert [g.remaining for g in gifts] == [0, 3_000, 3_000]
    assert [g.expires_at for g in gifts] == [end_of_validity(T0, n, TZ) for n in (10, 20, 40)]
    restore = session.scalars(select(Posting).where(Posting.return_id == r["id"],
                                                    Posting.kind == "restore")).one()
    assert draws_of(session, restore.id) == {gifts[2].id: 1_000, gifts[1].id: 3_000}
    assert not session.scalars(select(Posting).where(Posting.tenant_id == w.tid,
                                                     Posting.kind == "expiry",
                                                     Posting.moment > day(11))).all()
    assert _available(session, w, day(15)) == 6_000
    # The rest of the return: the burnt gift's 30 are restored and burn at once.
    r2, _ = return_sale(session, w.tid, SOURCE, "S", *return_of("R2", clock.set(day(16))))
    assert r2["bonus_spent_restored"] == 3_000
    restore2 = session.scalars(select(Posting).where(Posting.return_id == r2["id"],
                                                     Posting.kind == "restore")).one()
    assert draws_of(session, restore2.id) == {gifts[0].id: 3_000}
    burnt = [p for p in session.scalars(select(Posting).where(Posting.tenant_id == w.tid,
                                                              Posting.kind == "expiry"))
             if p.meta.get("after") == restore2.id]
    assert [(p.amount, p.moment) for p in burnt] == [(-3_000, day(16))]
    assert _available(session, w, day(16)) == 6_000
    assert check_ledger(session, w.tid) == []


@pytest.mark.parametrize("swept", [False, True])
def test_a_part_restored_to_a_burnt_lot_burns_at_once_in_sight(session, clock, swept):
    w = _world(session, base_percent="0", silver_percent="0")
    gifts, s = _spending_sale(session, w, clock)
    _sweep(session, w, clock.set(day(15)), swept)
    r, _ = return_sale(session, w.tid, SOURCE, "S", *return_of("R", day(15)))
    assert r["bonus_spent_restored"] == 7_000
    restore = session.scalars(select(Posting).where(Posting.return_id == r["id"],
                                                    Posting.kind == "restore")).one()
    assert restore.amount == 7_000
    assert draws_of(session, restore.id) == {gifts[2].id: 1_000, gifts[1].id: 3_000,
                                             gifts[0].id: 3_000}
    at_once = session.scalars(select(Posting).where(Posting.kind == "expiry",
                                                    Posting.tenant_id == w.tid)
                              .order_by(Posting.created_at)).all()
    at_once = [p for p in at_once if p.meta.get("after") == restore.id]
    assert [(p.amount, p.moment, p.meta["lot_id"]) for p in at_once] == [(-3_000, day(15), gifts[0].id)]
    for lot in gifts:
        session.refresh(lot)
    assert [g.remaining for g in gifts] == [0, 3_000, 3_000]
    assert _available(session, w, day(15)) == 6_000
    run_due(session, day(15), w.tid)
    assert posting_sums(session, w.tid, w.cid) == {"gift": 9_000, "spend": -7_000,
                                                   "restore": 7_000, "expiry": -3_000}
    assert check_ledger(session, w.tid) == []


@pytest.mark.parametrize("swept", [False, True])
def test_a_grace_period_gives_restored_parts_of_burnt_lots_a_new_life(session, clock, swept):
    w = _world(session, base_percent="0", silver_percent="0", grace=7)
    gifts, s = _spending_sale(session, w, clock)
    _sweep(session, w, clock.set(day(25)), swept)                    # two gifts burnt
    r, _ = return_sale(session, w.tid, SOURCE, "S", *return_of("R1", day(25), {"1": 5}))
    assert r["bonus_spent_restored"] == 5_000
    restore = session.scalars(select(Posting).where(Posting.return_id == r["id"],
                                                    Posting.kind == "restore")).one()
    # 10 to the live gift keep its date; 30 + 10 of the burnt ones live 7 days from the return.
    assert restore.meta["grace"] == {gifts[1].id: 3_000, gifts[0].id: 1_000}
    assert draws_of(session, restore.id) == {gifts[2].id: 1_000}
    grace = _lot(session, restore.id)
    assert (grace.kind, grace.amount, grace.remaining) == ("restore", 4_000, 4_000)
    assert (grace.active_from, grace.expires_at) == (day(25), end_of_validity(day(25), 7, TZ))
    assert _available(session, w, day(25)) == 3_000 + 4_000
    # The rest of the return: the room left is 20 in the first gift only.
    r2, _ = return_sale(session, w.tid, SOURCE, "S", *return_of("R2", clock.set(day(26))))
    assert r2["bonus_spent_restored"] == 2_000
    restore2 = session.scalars(select(Posting).where(Posting.return_id == r2["id"],
                                                     Posting.kind == "restore")).one()
    assert restore2.meta["grace"] == {gifts[0].id: 2_000}
    assert _available(session, w, day(26)) == 3_000 + 4_000 + 2_000
    assert _available(session, w, day(40)) == 3_000                  # the grace lots burnt
    run_due(session, clock.set(day(40)), w.tid)
    assert posting_sums(session, w.tid, w.cid)["expiry"] == -6_000
    assert check_ledger(session, w.tid) == []


# -- one return that restores and takes back -----------------------------------------------------

@pytest.mark.parametrize("swept", [False, True])
def test_restore_first_then_take_back(session, clock, swept):
    w = _world(session)
    gift = _lot(session, _gift(session, w, 5_000, 60, T0)["id"])
    # Spends the 50 of the gift, earns 5% of the 50 paid in money: 2.50.
    s, _ = commit_sale(session, w.tid, SOURCE, *sale("S", clock.set(day(1)), [(10_000, 1)],
                                                     customer_id=w.cid, spend=5_000))
    assert (s["totals"]["bonus_spent"], s["totals"]["bonus_earned"]) == (5_000, 250)
    _debit(session, w, 250, clock.set(day(2)))                       # the 2.50 spent
    _sweep(session, w, clock.set(day(3)), swept)
    r, _ = return_sale(session, w.tid, SOURCE, "S", *return_of("R", day(3)))
    assert (r["bonus_spent_restored"], r["bonus_earned_reversed"]) == (5_000, 250)
    # The 50 go back to the gift first, then the spent 2.50 are taken from it: no debt.
    session.refresh(gift)
    assert gift.remaining == 4_750
    assert not [lot for lot in lots_of(session, w.tid, w.cid) if lot.kind == "debt"]
    assert (r["customer"]["balance"], r["customer"]["debt"]) == (4_750, 0)
    assert check_ledger(session, w.tid) == []


# -- spending is checked against what the ledger holds when the hub processes it -----------------

def test_a_till_a_little_behind_can_spend_what_recalc_allowed(session, clock):
    w = _world(session, activation_delay_days=1)
    s, _ = commit_sale(session, w.tid, SOURCE, *sale("S", T0, [(100_000, 1)], customer_id=w.cid))
    active_from = datetime.fromisoformat(s["bonus_earned_active_from"])
    now = clock.set(active_from + timedelta(minutes=1))
    probe, _ = sale("N", now, [(10_000, 1)], customer_id=w.cid, spend_max=True)
    assert calculate_receipt(session, w.tid, probe)["totals"]["bonus_spent"] == 5_000
    # The till's clock runs two minutes behind: its receipt is dated before the activation.
    req, body = sale("N", now - timedelta(minutes=2), [(10_000, 1)], customer_id=w.cid,
                     spend=5_000)
    answer, created = commit_sale(session, w.tid, SOURCE, req, body)
    assert created and answer["totals"]["bonus_spent"] == 5_000
    assert check_ledger(session, w.tid) == []


def test_a_document_dated_before_a_recent_credit_can_spend_it(session, clock):
    w = _world(session)
    _gift(session, w, 2_000, 30, clock.set(day(3)))
    # An offline till sends a receipt of day 2 on day 4; the gift is in the ledger by then.
    req, body = sale("OFF", day(2), [(10_000, 1)], customer_id=w.cid, spend=2_000)
    clock.set(day(4))
    answer, created = commit_sale(session, w.tid, SOURCE, req, body)
    assert created and answer["totals"]["bonus_spent"] == 2_000
    assert check_ledger(session, w.tid) == []


@pytest.mark.parametrize("swept", [False, True])
def test_a_late_document_cannot_spend_what_burnt_before_it_arrived(session, clock, swept):
    w = _world(session)
    _gift(session, w, 2_000, 5, T0)                                  # burns on day 6
    _sweep(session, w, clock.set(day(7)), swept)
    req, body = sale("LATE", day(5), [(10_000, 1)], customer_id=w.cid, spend=2_000)
    with pytest.raises(Invalid) as info:
        commit_sale(session, w.tid, SOURCE, req, body)
    assert info.value.code == "spend_not_allowed"
    # The receipt's own moment still dates the sale and its accrual.
    answer, _ = commit_sale(session, w.tid, SOURCE, *sale("LATE2", day(5), [(10_000, 1)],
                                                          customer_id=w.cid))
    assert _sale_lot(session, answer).expires_at == end_of_validity(day(5), 30, TZ)


# -- since-last-purchase and holds ----------------------------------------------------------------

@pytest.mark.parametrize("swept", [False, True])
def test_a_late_purchase_revives_a_lot_alive_at_its_moment(session, clock, swept):
    """Issue 17 reversed the earlier rule: the receipt's moment dates its effects, so a lot
    alive at a late purchase's moment moves with it even if it burnt (and was swept) before
    the receipt arrived; a swept expiry is given back by a positive expiry posting."""
    w = _world(session, expiry_mode="since_last_purchase", silver_lifetime=None)
    a, _ = commit_sale(session, w.tid, SOURCE, *sale("A", T0, [(100_000, 1)], customer_id=w.cid))
    burn = _sale_lot(session, a).expires_at
    late = burn + timedelta(days=2)
    _sweep(session, w, clock.set(late), swept)
    # A receipt dated a day before the burn arrives two days after it.
    commit_sale(session, w.tid, SOURCE, *sale("B", burn - timedelta(days=1), [(10_000, 1)],
                                              customer_id=w.cid))
    assert _sale_lot(session, a).expires_at == end_of_validity(burn - timedelta(days=1), 30, TZ)
    assert _available(session, w, late) == 5_500                     # A's 50 again, B's own 5
    run_due(session, late, w.tid)
    assert posting_sums(session, w.tid, w.cid).get("expiry", 0) == 0
    assert check_ledger(session, w.tid) == []


@pytest.mark.parametrize("swept", [False, True])
def test_a_lapsed_hold_gives_back_a_burnt_part_and_burns_it_at_once(session, clock, swept):
    w = _world(session)
    account = lock_account(session, w.tid, w.cid)
    posting = accrue(session, account, 1_000, T0, active_from=T0, expires_at=day(1))
    hold_at = clock.set(day(1) - timedelta(minutes=5))
    place_hold(session, account, 600, hold_at, expires_at=hold_at + timedelta(minutes=15),
               source="till", reference="H")
    session.commit()
    lot = _lot(session, posting.id)
    # While the hold is open the lot burns: neither its 400 nor the held 600 count any more.
    assert account_view(session, w.tid, w.cid, day(1)).available == 0
    assert account_view(session, w.tid, w.cid, day(2)).available == 0
    assert account_view(session, w.tid, w.cid, day(2)).balance == 0
    # A sweep runs after the burn, while the hold is still open (or does not).
    _sweep(session, w, clock.set(day(1) + timedelta(minutes=1)), swept)
    clock.set(day(2))
    release_expired(session, account, day(2))
    session.flush()
    release = session.scalars(select(Posting).where(Posting.tenant_id == w.tid,
                                                    Posting.kind == "hold_release")).one()
    burnt_at_once = [p for p in session.scalars(select(Posting).where(
        Posting.tenant_id == w.tid, Posting.kind == "expiry")) if p.meta.get("after") == release.id]
    assert [p.amount for p in burnt_at_once] == [-600]
    expire_due(session, w.tid, day(2))
    session.flush()
    session.refresh(lot)
    assert lot.remaining == 0
    assert account_view(session, w.tid, w.cid, day(2)).available == 0
    sums = posting_sums(session, w.tid, w.cid)
    assert sums == {"accrual": 1_000, "hold": -600, "hold_release": 600, "expiry": -1_000}
    assert check_ledger(session, w.tid) == []
