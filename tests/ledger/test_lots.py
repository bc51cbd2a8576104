"""hub.ledger, lot by lot: spending order, draws, pending and burnt lots, expiry postings,
restores, reversals and debt, since-last-purchase redating, gift validity."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from hub.engine.expiry import end_of_validity
from hub.errors import Invalid
from hub.ledger import (
    InsufficientBonuses, account_view, accrue, check_ledger, debit, expire_due, lock_account,
    redate_lots, restore, reverse_accrual, spend,
)
from hub.ledger.models import Account, Lot, LotDraw, Posting
from hub.sweeps import run_due
from hub.customers.bonuses import adjust_bonuses
from hub.customers.operations import register_customer
from hub.receipts.operations import commit_sale, return_sale
from tests.ledger.helpers import (
    SOURCE, T0, draws_of, lots_of, make_tenant, posting_sums, program_settings, return_of, sale,
    snapshot,
)

TZ = "Europe/Moscow"


def day(n: float):
    return T0 + timedelta(days=n)


@pytest.fixture
def acct(session):
    """A tenant (default program), one customer and their locked account."""
    tid = make_tenant(session)
    customer = register_customer(session, tid, {"phone": "+79160000001"}, source=SOURCE, moment=T0)
    account = lock_account(session, tid, customer.id)
    return SimpleNamespace(tid=tid, cid=customer.id, account=account)


def _lot(session, posting: Posting) -> Lot:
    return session.scalars(select(Lot).where(Lot.posting_id == posting.id)
                           .execution_options(populate_existing=True)).one()


def _credit(session, a, amount: int, *, expires: float | None, active: float = 0,
            receipt_id: str | None = None, lot_kind: str = "purchase") -> Lot:
    posting = accrue(session, a.account, amount, day(active), active_from=day(active),
                     expires_at=None if expires is None else day(expires), receipt_id=receipt_id,
                     lot_kind=lot_kind)
    session.flush()
    return _lot(session, posting)


def _remaining(session, *lots: Lot) -> list[int]:
    for lot in lots:
        session.refresh(lot)
    return [lot.remaining for lot in lots]


def _view(session, a, n: float):
    return account_view(session, a.tid, a.cid, day(n))


# -- spending ----------------------------------------------------------------------------

def test_spend_takes_soonest_expiring_active_lots_first_and_records_draws(session, acct):
    forever = _credit(session, acct, 1000, expires=None)
    late = _credit(session, acct, 1000, expires=100)
    soon = _credit(session, acct, 500, expires=10)
    mid = _credit(session, acct, 700, expires=50)

    first = spend(session, acct.account, 1500, day(1), receipt_id="r1")
    session.flush()
    assert first.kind == "spend" and first.amount == -1500
    assert draws_of(session, first.id) == {soon.id: -500, mid.id: -700, late.id: -300}
    assert session.scalar(select(func.count()).select_from(LotDraw)
                          .where(LotDraw.posting_id == first.id)) == 3
    assert _remaining(session, soon, mid, late, forever) == [0, 0, 700, 1000]

    second = spend(session, acct.account, 1200, day(2), receipt_id="r2")
    session.flush()
    # Lots that never burn go last.
    assert draws_of(session, second.id) == {late.id: -700, forever.id: -500}
    assert _remaining(session, soon, mid, late, forever) == [0, 0, 0, 500]
    assert acct.account.balance == 500
    assert check_ledger(session, acct.tid) == []


def test_spend_more_than_available_raises_and_writes_nothing(session, acct):
    _credit(session, acct, 300, expires=None)
    before = snapshot(session, acct.tid)
    with pytest.raises(InsufficientBonuses) as info:
        spend(session, acct.account, 301, day(1))
    assert (info.value.requested, info.value.available) == (301, 300)
    session.flush()
    assert snapshot(session, acct.tid) == before


def test_pending_lots_are_not_spendable(session, acct, clock):
    pending = _credit(session, acct, 1000, expires=60, active=2)
    view = _view(session, acct, 1)
    assert (view.balance, view.available, view.pending) == (1000, 0, 1000)
    clock.set(day(1))
    with pytest.raises(InsufficientBonuses) as info:
        spend(session, acct.account, 1, day(1))
    assert info.value.available == 0

    live = _credit(session, acct, 200, expires=90)
    clock.set(day(1.5))
    with pytest.raises(InsufficientBonuses):
        spend(session, acct.account, 201, day(1.5))
    # Only the active lot is drawn, even though the pending one burns sooner.
    p = spend(session, acct.account, 200, day(1.5))
    session.flush()
    assert draws_of(session, p.id) == {live.id: -200}
    assert _remaining(session, pending) == [1000]

    # From the moment it activates, it is spendable.
    view = _view(session, acct, 2)
    assert (view.available, view.pending) == (1000, 0)
    clock.set(day(2))
    p = spend(session, acct.account, 1000, day(2))
    session.flush()
    assert draws_of(session, p.id) == {pending.id: -1000}
    assert check_ledger(session, acct.tid) == []


def test_pending_bonuses_of_a_sale_cannot_be_spent_the_same_day(session, clock):
    tid = make_tenant(session, program_settings(activation_delay_days=1, base_spend="100"))
    c = register_customer(session, tid, {"phone": "+79160000002"}, source=SOURCE, moment=T0)
    answer, _ = commit_sale(session, tid, SOURCE, *sale("A", T0, [(100_000, 1)], customer_id=c.id))
    assert answer["totals"]["bonus_earned"] == 5000
    req, body = sale("B", clock.set(T0 + timedelta(hours=1)), [(10_000, 1)], customer_id=c.id,
                     spend=1)
    before = snapshot(session, tid)
    with pytest.raises(Invalid) as info:
        commit_sale(session, tid, SOURCE, req, body)
    assert info.value.code == "spend_not_allowed"
    assert snapshot(session, tid) == before
    # The next local day (Moscow) they are active.
    req, body = sale("C", clock.set(day(1)), [(10_000, 1)], customer_id=c.id, spend=5000)
    answer, created = commit_sale(session, tid, SOURCE, req, body)
    assert created and answer["totals"]["bonus_spent"] == 5000


def test_expired_but_unswept_lots_are_not_spendable(session, acct, clock):
    burnt = _credit(session, acct, 1000, expires=10)
    live = _credit(session, acct, 300, expires=None)
    view = _view(session, acct, 10)          # exactly at the burn moment: burnt
    assert (view.balance, view.available, view.pending, view.burnt) == (300, 300, 0, 1000)
    clock.set(day(10))
    with pytest.raises(InsufficientBonuses) as info:
        spend(session, acct.account, 301, day(10))
    assert info.value.available == 300
    p = spend(session, acct.account, 300, day(10))
    session.flush()
    assert draws_of(session, p.id) == {live.id: -300}
    assert _remaining(session, burnt) == [1000]     # still there until the sweep posts expiry
    clock.set(day(11))
    with pytest.raises(InsufficientBonuses):
        debit(session, acct.account, 1, day(11))
    assert check_ledger(session, acct.tid) == []


# -- expiry --------------------------------------------------------------------------------

def test_expire_due_posts_one_expiry_per_lot_at_its_burn_moment_and_is_idempotent(session, acct):
    a = _credit(session, acct, 1000, expires=10)
    b = _credit(session, acct, 500, expires=20)
    c = _credit(session, acct, 700, expires=40)
    d = _credit(session, acct, 900, expires=None)
    spend(session, acct.account, 400, day(1))            # from a
    other = register_customer(session, acct.tid, {"phone": "+79160000009"}, source=SOURCE,
                              moment=T0)
    other_account = lock_account(session, acct.tid, other.id)
    accrue(session, other_account, 250, T0, active_from=T0, expires_at=day(15))
    session.flush()

    assert expire_due(session, acct.tid, day(30)) == 3    # a, b and the other customer's lot
    session.flush()
    expiries = session.scalars(select(Posting).where(Posting.tenant_id == acct.tid,
                                                     Posting.kind == "expiry")).all()
    by_lot = {p.meta["lot_id"]: p for p in expiries}
    assert set(by_lot) >= {a.id, b.id}
    assert (by_lot[a.id].amount, by_lot[a.id].moment) == (-600, day(10))
    assert (by_lot[b.id].amount, by_lot[b.id].moment) == (-500, day(20))
    for lot_id, p in by_lot.items():
        assert draws_of(session, p.id) == {lot_id: p.amount}
    assert _remaining(session, a, b, c, d) == [0, 0, 700, 900]
    assert acct.account.balance == 1600
    assert posting_sums(session, acct.tid, other.id) == {"accrual": 250, "expiry": -250}

    # Again at the same moment, or a little later: nothing new.
    before = snapshot(session, acct.tid)
    assert expire_due(session, acct.tid, day(30)) == 0
    assert expire_due(session, acct.tid, day(39)) == 0
    session.flush()
    assert snapshot(session, acct.tid) == before
    session.commit()

    # The job: idempotent too, and picks up the next lot when its time comes.
    assert run_due(session, day(30), acct.tid)["expired_lots"] == 0
    assert run_due(session, day(45), acct.tid)["expired_lots"] == 1
    assert run_due(session, day(45), acct.tid)["expired_lots"] == 0
    c_expiry = session.scalars(select(Posting).where(Posting.tenant_id == acct.tid,
                                                     Posting.kind == "expiry",
                                                     Posting.amount == -700)).one()
    assert c_expiry.moment == day(40)
    assert account_view(session, acct.tid, acct.cid, day(45)).balance == 900
    assert check_ledger(session, acct.tid) == []


def test_expiry_skips_debt_lots_and_spent_lots(session, acct):
    spent = _credit(session, acct, 100, expires=5)
    spend(session, acct.account, 100, day(1))
    reverse_accrual(session, acct.account, 40, day(2), receipt_id="gone")   # debt -40
    session.flush()
    assert expire_due(session, acct.tid, day(100)) == 0
    assert _remaining(session, spent) == [0]
    view = _view(session, acct, 100)
    assert (view.balance, view.available, view.debt) == (-40, -40, 40)
    assert check_ledger(session, acct.tid) == []


# -- returns: restore and reversal -----------------------------------------------------------

def test_restore_gives_back_to_exactly_the_lots_drawn(session, acct):
    x = _credit(session, acct, 300, expires=10)
    y = _credit(session, acct, 300, expires=20)
    z = _credit(session, acct, 300, expires=30)
    s1 = spend(session, acct.account, 500, day(1), receipt_id="r1")      # x 300, y 200
    s2 = spend(session, acct.account, 100, day(1), receipt_id="r2")      # y 100
    session.flush()
    assert draws_of(session, s1.id) == {x.id: -300, y.id: -200}
    assert draws_of(session, s2.id) == {y.id: -100}

    # Latest-expiring drawn lot first, never a lot the receipt did not draw.
    r = restore(session, acct.account, 250, day(2), receipt_id="r1")
    session.flush()
    assert r.kind == "restore" and r.amount == 250
    assert draws_of(session, r.id) == {y.id: 200, x.id: 50}
    assert _remaining(session, x, y, z) == [50, 200, 300]

    r = restore(session, acct.account, 250, day(3), receipt_id="r1")
    session.flush()
    assert draws_of(session, r.id) == {x.id: 250}
    assert _remaining(session, x, y, z) == [300, 200, 300]

    # The receipt has nothing more to give back.
    with pytest.raises(ValueError):
        with session.begin_nested():
            restore(session, acct.account, 1, day(3), receipt_id="r1")
    assert restore(session, acct.account, 0, day(3), receipt_id="r1") is None
    assert check_ledger(session, acct.tid) == []
    assert acct.account.balance == 800


def test_return_restores_spent_bonuses_to_the_sales_lots(session):
    tid = make_tenant(session, program_settings(activation_delay_days=0, base_spend="100",
                                                lifetime=None))
    c = register_customer(session, tid, {"phone": "+79160000003"}, source=SOURCE, moment=T0)
    g1, _ = adjust_bonuses(session, tid, c.id, amount=3000, kind="gift", reason=None, valid_days=10,
                           moment=T0, idempotency_key=None, source=SOURCE, body={})
    g2, _ = adjust_bonuses(session, tid, c.id, amount=3000, kind="gift", reason=None, valid_days=20,
                           moment=T0, idempotency_key=None, source=SOURCE, body={})
    g3, _ = adjust_bonuses(session, tid, c.id, amount=3000, kind="gift", reason=None, valid_days=30,
                           moment=T0, idempotency_key=None, source=SOURCE, body={})
    lot = {g["id"]: session.scalars(select(Lot).where(Lot.posting_id == g["id"])).one().id
           for g in (g1, g2, g3)}
    answer, _ = commit_sale(session, tid, SOURCE,
                            *sale("S", day(1), [(2000, 2), (1000, 1)], customer_id=c.id, spend=4000))
    assert answer["totals"]["bonus_spent"] == 4000
    spent = session.scalars(select(Posting).where(Posting.receipt_id == answer["id"],
                                                  Posting.kind == "spend")).one()
    assert draws_of(session, spent.id) == {lot[g1["id"]]: -3000, lot[g2["id"]]: -1000}

    r, _ = return_sale(session, tid, SOURCE, "S", *return_of("RS1", day(2), {"1": 1}))
    restored = session.scalars(select(Posting).where(Posting.return_id == r["id"],
                                                     Posting.kind == "restore")).one()
    assert restored.amount == r["bonus_spent_restored"] > 0
    drawn = draws_of(session, restored.id)
    assert set(drawn) <= {lot[g1["id"]], lot[g2["id"]]} and sum(drawn.values()) == restored.amount

    r2, _ = return_sale(session, tid, SOURCE, "S", *return_of("RS2", day(3)))
    assert r["bonus_spent_restored"] + r2["bonus_spent_restored"] == 4000
    amounts = {lid: amt for lid, amt in session.execute(
        select(Lot.id, Lot.remaining).where(Lot.id.in_(lot.values())))}
    assert amounts == {v: 3000 for v in lot.values()}
    assert check_ledger(session, tid) == []


def test_reverse_accrual_takes_the_receipts_own_lot_first_then_others_then_debt(session, acct):
    soon = _credit(session, acct, 100, expires=5)
    own = _credit(session, acct, 600, expires=60, receipt_id="r1")
    later = _credit(session, acct, 50, expires=90)
    spend(session, acct.account, 400, day(1), receipt_id="r9")          # soon 100, own 300
    session.flush()
    assert _remaining(session, soon, own, later) == [0, 300, 50]

    # Own lot first, though another lot burns sooner.
    soon2 = _credit(session, acct, 80, expires=3)
    first = reverse_accrual(session, acct.account, 200, day(2), receipt_id="r1")
    session.flush()
    assert first.kind == "reversal" and first.amount == -200
    assert draws_of(session, first.id) == {own.id: -200}
    assert _remaining(session, soon2, own, later) == [80, 100, 50]

    # Then the other lots, soonest-expiring first; what is missing becomes a debt lot.
    second = reverse_accrual(session, acct.account, 400, day(2), receipt_id="r1")
    session.flush()
    assert draws_of(session, second.id) == {own.id: -100, soon2.id: -80, later.id: -50}
    debt = session.scalars(select(Lot).where(Lot.posting_id == second.id)).one()
    assert (debt.kind, debt.amount, debt.remaining, debt.expires_at) == ("debt", -170, -170, None)
    assert debt.active_from == day(2)
    view = _view(session, acct, 3)
    assert (view.balance, view.available, view.debt) == (-170, -170, 170)
    with pytest.raises(InsufficientBonuses):
        spend(session, acct.account, 1, day(3))
    assert reverse_accrual(session, acct.account, 0, day(3), receipt_id="r1") is None
    assert check_ledger(session, acct.tid) == []


def test_the_next_accrual_pays_the_debt_first(session, acct):
    _credit(session, acct, 100, expires=None)
    spend(session, acct.account, 100, day(1))
    reverse_accrual(session, acct.account, 250, day(2), receipt_id="r1")
    session.flush()
    (debt,) = [lot for lot in lots_of(session, acct.tid, acct.cid) if lot.kind == "debt"]
    assert debt.remaining == -250

    small = accrue(session, acct.account, 100, day(3), active_from=day(3), expires_at=day(60))
    session.flush()
    small_lot = _lot(session, small)
    assert draws_of(session, small.id) == {debt.id: 100}
    assert (small_lot.amount, small_lot.remaining) == (100, 0)
    assert _remaining(session, debt) == [-150]
    assert _view(session, acct, 3).debt == 150

    # A pending accrual pays it too; what is left of it stays pending.
    big = accrue(session, acct.account, 400, day(4), active_from=day(5), expires_at=day(60))
    session.flush()
    big_lot = _lot(session, big)
    assert draws_of(session, big.id) == {debt.id: 150}
    assert (big_lot.amount, big_lot.remaining) == (400, 250)
    assert _remaining(session, debt) == [0]
    view = _view(session, acct, 4)
    assert (view.balance, view.available, view.pending, view.debt) == (250, 0, 250, 0)
    assert posting_sums(session, acct.tid, acct.cid) == {
        "accrual": 600, "spend": -100, "reversal": -250}
    assert check_ledger(session, acct.tid) == []


def test_a_sale_after_a_return_into_debt_pays_the_debt(session):
    tid = make_tenant(session, program_settings(activation_delay_days=0, base_spend="100"))
    c = register_customer(session, tid, {"phone": "+79160000004"}, source=SOURCE, moment=T0)
    commit_sale(session, tid, SOURCE, *sale("A", T0, [(100_000, 1)], customer_id=c.id))  # +5000
    commit_sale(session, tid, SOURCE, *sale("B", day(1), [(5000, 1)], customer_id=c.id,
                                            spend=5000))
    r, _ = return_sale(session, tid, SOURCE, "A", *return_of("RA", day(2)))
    assert r["bonus_earned_reversed"] == 5000
    assert (r["customer"]["balance"], r["customer"]["debt"]) == (-5000, 5000)
    answer, _ = commit_sale(session, tid, SOURCE, *sale("C", day(3), [(200_000, 1)],
                                                        customer_id=c.id))
    assert answer["totals"]["bonus_earned"] == 10000
    view = account_view(session, tid, c.id, day(3))
    assert (view.balance, view.available, view.debt) == (5000, 5000, 0)
    assert answer["customer"]["balance_after"] == view.available
    assert check_ledger(session, tid) == []


# -- since the last purchase, and gifts ---------------------------------------------------

@pytest.fixture
def slp(session):
    """A since-last-purchase program: 30 days after the last purchase, no activation delay."""
    tid = make_tenant(session, program_settings(expiry_mode="since_last_purchase", lifetime=30,
                                                silver_lifetime=None, activation_delay_days=0,
                                                base_spend="100", silver_threshold=10**12))
    c = register_customer(session, tid, {"phone": "+79160000005"}, source=SOURCE, moment=T0)
    return SimpleNamespace(tid=tid, cid=c.id)


def _lot_of(session, posting_id: str) -> Lot:
    return session.scalars(select(Lot).where(Lot.posting_id == posting_id)
                           .execution_options(populate_existing=True)).one()


def _sale_lot(session, tid: str, answer: dict) -> Lot:
    posting = session.scalars(select(Posting).where(Posting.receipt_id == answer["id"],
                                                    Posting.kind == "accrual")).one()
    return _lot_of(session, posting.id)


def test_since_last_purchase_redating_moves_the_expiry_of_live_lots(session, slp):
    a, _ = commit_sale(session, slp.tid, SOURCE, *sale("A", T0, [(100_000, 1)], customer_id=slp.cid))
    lot_a = _sale_lot(session, slp.tid, a)
    assert lot_a.follows_purchases
    assert lot_a.expires_at == end_of_validity(T0, 30, TZ)
    gift, _ = adjust_bonuses(session, slp.tid, slp.cid, amount=700, kind="gift", reason=None,
                             valid_days=10, moment=T0, idempotency_key=None, source=SOURCE, body={})
    manual, _ = adjust_bonuses(session, slp.tid, slp.cid, amount=300, kind="manual", reason=None,
                               valid_days=None, moment=T0, idempotency_key=None, source=SOURCE,
                               body={})
    fixed, _ = adjust_bonuses(session, slp.tid, slp.cid, amount=200, kind="manual", reason=None,
                              valid_days=90, moment=T0, idempotency_key=None, source=SOURCE, body={})
    lot_manual = _lot_of(session, manual["id"])
    assert lot_manual.follows_purchases and lot_manual.expires_at == end_of_validity(T0, 30, TZ)
    assert not _lot_of(session, gift["id"]).follows_purchases
    assert not _lot_of(session, fixed["id"]).follows_purchases

    b, _ = commit_sale(session, slp.tid, SOURCE, *sale("B", day(20), [(10_000, 1)], customer_id=slp.cid))
    moved = end_of_validity(day(20), 30, TZ)
    assert _lot_of(session, lot_a.posting_id).expires_at == moved
    assert _lot_of(session, manual["id"]).expires_at == moved
    assert _sale_lot(session, slp.tid, b).expires_at == moved
    # Gifts and credits with their own validity keep it.
    assert _lot_of(session, gift["id"]).expires_at == end_of_validity(T0, 10, TZ)
    assert _lot_of(session, fixed["id"]).expires_at == end_of_validity(T0, 90, TZ)
    assert b["bonus_earned_expires_at"] is not None

    # A purchase after everything burnt does not revive the burnt lots.
    commit_sale(session, slp.tid, SOURCE, *sale("C", day(200), [(10_000, 1)], customer_id=slp.cid))
    assert _lot_of(session, lot_a.posting_id).expires_at == moved
    result = run_due(session, day(200), slp.tid)
    assert result["expired_lots"] == 5          # a, manual, b, gift, fixed (not c)
    expiry_moments = sorted(session.scalars(select(Posting.moment).where(
        Posting.tenant_id == slp.tid, Posting.kind == "expiry")))
    assert expiry_moments == sorted([moved, moved, moved, end_of_validity(T0, 10, TZ),
                                     end_of_validity(T0, 90, TZ)])
    assert check_ledger(session, slp.tid) == []


def test_redate_lots_moves_only_live_lots_that_follow_purchases(session, acct, clock):
    def credit(expires: int, follows: bool = True) -> Posting:
        return accrue(session, acct.account, 100, T0, active_from=T0, expires_at=day(expires),
                      follows_purchases=follows)

    follows, own, burnt, empty = credit(30), credit(30, follows=False), credit(5), credit(8)
    session.flush()
    p = debit(session, acct.account, 100, clock.set(day(6)))   # `burnt` is out of reach: `empty`
    session.flush()
    assert draws_of(session, p.id) == {_lot(session, empty).id: -100}

    redate_lots(session, acct.account, clock.set(day(10)), day(70))
    session.flush()
    assert _lot(session, follows).expires_at == day(70)
    assert _lot(session, own).expires_at == day(30)      # does not follow purchases
    assert _lot(session, burnt).expires_at == day(5)     # burnt before the purchase
    assert _lot(session, empty).expires_at == day(8)     # nothing left in it
    redate_lots(session, acct.account, clock.set(day(11)), None)    # no lifetime: never burns
    session.flush()
    assert _lot(session, follows).expires_at is None


def test_gift_lots_keep_their_own_validity(session, clock):
    tid = make_tenant(session, program_settings(lifetime=365, activation_delay_days=1,
                                                base_spend="100"))
    c = register_customer(session, tid, {"phone": "+79160000006"}, source=SOURCE, moment=T0)
    commit_sale(session, tid, SOURCE, *sale("A", T0, [(100_000, 1)], customer_id=c.id))
    g, _ = adjust_bonuses(session, tid, c.id, amount=1000, kind="gift", reason="birthday",
                          valid_days=5, moment=T0, idempotency_key=None, source=SOURCE, body={})
    gift_lot = _lot_of(session, g["id"])
    # Active at once (no activation delay for gifts), valid through the 5th local day.
    assert (gift_lot.kind, gift_lot.active_from) == ("gift", T0)
    assert gift_lot.expires_at == end_of_validity(T0, 5, TZ)
    assert not gift_lot.follows_purchases
    assert g["balance"] == {"available": 1000, "pending": 5000}

    # Spending the next day takes the gift first (it burns sooner than the purchase lot).
    s, _ = commit_sale(session, tid, SOURCE, *sale("B", clock.set(day(1)), [(1500, 1)], customer_id=c.id,
                                                   spend=1500))
    spent = session.scalars(select(Posting).where(Posting.receipt_id == s["id"],
                                                  Posting.kind == "spend")).one()
    drawn = draws_of(session, spent.id)
    assert drawn[gift_lot.id] == -1000 and sum(drawn.values()) == -1500

    g2, _ = adjust_bonuses(session, tid, c.id, amount=400, kind="gift", reason=None, valid_days=3,
                           moment=day(2), idempotency_key=None, source=SOURCE, body={})
    gift2 = _lot_of(session, g2["id"])
    commit_sale(session, tid, SOURCE, *sale("C", day(3), [(1000, 1)], customer_id=c.id))
    assert _lot_of(session, g2["id"]).expires_at == end_of_validity(day(2), 3, TZ)
    assert run_due(session, day(10), tid)["expired_lots"] == 1
    expiry = session.scalars(select(Posting).where(Posting.tenant_id == tid,
                                                   Posting.kind == "expiry")).one()
    assert (expiry.amount, expiry.moment, expiry.meta["lot_id"]) == (-400, gift2.expires_at, gift2.id)

    # A gift needs a validity; refused without writing anything.
    before = snapshot(session, tid)
    with pytest.raises(Invalid) as info:
        adjust_bonuses(session, tid, c.id, amount=100, kind="gift", reason=None, valid_days=None,
                       moment=day(10), idempotency_key=None, source=SOURCE, body={})
    assert info.value.code == "valid_days_required"
    assert snapshot(session, tid) == before
    assert check_ledger(session, tid) == []


# -- the figures and the audit --------------------------------------------------------------

def test_account_view_splits_available_pending_and_debt(session, acct, clock):
    _credit(session, acct, 1000, expires=30)
    _credit(session, acct, 500, expires=60, active=5)
    _credit(session, acct, 200, expires=2)
    view = _view(session, acct, 3)
    assert (view.balance, view.available, view.pending, view.debt, view.burnt) == \
        (1500, 1000, 500, 0, 200)
    clock.set(day(3))
    spend(session, acct.account, 1000, day(3))
    # The pending 500, then a debt of 1300: the 200 burnt on day 2 are not taken (swept or not).
    reverse_accrual(session, acct.account, 1800, day(3), receipt_id="x")
    view = _view(session, acct, 3)
    assert (view.balance, view.available, view.pending, view.debt, view.burnt) == \
        (-1300, -1300, 0, 1300, 200)
    assert view.available >= -view.debt


def test_check_ledger_reports_an_account_whose_figures_disagree(session, acct):
    _credit(session, acct, 1000, expires=None)
    session.flush()
    assert check_ledger(session, acct.tid) == []
    session.execute(update(Account).where(Account.id == acct.account.id)
                    .values(balance=Account.balance + 1))
    (bad,) = check_ledger(session, acct.tid)
    assert (bad.customer_id, bad.cached, bad.postings, bad.lots) == (acct.cid, 1001, 1000, 1000)
    session.execute(update(Account).where(Account.id == acct.account.id).values(balance=1000))
    session.execute(update(Lot).where(Lot.account_id == acct.account.id).values(remaining=999))
    (bad,) = check_ledger(session, acct.tid)
    assert (bad.cached, bad.postings, bad.lots) == (1000, 1000, 999)


# -- bugs these tests found (fixed) ------------------------------------------------------------

def test_a_backdated_spend_still_counts_a_later_debt(session, acct, clock):
    lot = _credit(session, acct, 5000, expires=None, active=1)
    spend(session, acct.account, 5000, clock.set(day(2)), receipt_id="b")
    reverse_accrual(session, acct.account, 5000, clock.set(day(3)), receipt_id="a")   # debt -5000
    restore(session, acct.account, 5000, clock.set(day(4)), receipt_id="b")           # the lot is back
    session.flush()
    assert _remaining(session, lot) == [5000]
    assert _view(session, acct, 2.5).available == 0
    with pytest.raises(InsufficientBonuses):
        debit(session, acct.account, 5000, day(2.5))   # a manual debit dated before the return


def test_an_offline_older_receipt_does_not_move_burn_dates_earlier(session, slp):
    a, _ = commit_sale(session, slp.tid, SOURCE, *sale("A", day(10), [(100_000, 1)], customer_id=slp.cid))
    assert _sale_lot(session, slp.tid, a).expires_at == end_of_validity(day(10), 30, TZ)
    # The till was offline: a receipt from day 2 arrives after the one from day 10.
    commit_sale(session, slp.tid, SOURCE, *sale("B", day(2), [(10_000, 1)], customer_id=slp.cid))
    assert _sale_lot(session, slp.tid, a).expires_at == end_of_validity(day(10), 30, TZ)
