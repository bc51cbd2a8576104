"""Finding, locking and reading bonus accounts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from hub.ledger.models import Account, Hold, Lot, LotDraw
from hub.orm import UTCDateTime


def lock_account(session: Session, tenant_id: str, customer_id: str) -> Account:
    """The customer's account, locked for this transaction (created on first use).

    SELECT … FOR UPDATE on PostgreSQL; on SQLite the write transaction already holds
    the database lock (BEGIN IMMEDIATE), which serialises writers the same way.
    """
    stmt = (select(Account).where(Account.tenant_id == tenant_id,
                                  Account.customer_id == customer_id)
            .with_for_update().execution_options(populate_existing=True))
    account = session.scalars(stmt).first()
    if account is None:
        account = Account(tenant_id=tenant_id, customer_id=customer_id, balance=0)
        session.add(account)
        session.flush()
    return account


@dataclass(frozen=True)
class AccountView:
    balance: int        # the customer's bonuses at the moment asked: available + pending + held
    available: int      # spendable at the moment asked
    pending: int        # accrued, waiting for activation
    debt: int           # taken back by returns after being spent (shown as positive)
    held: int = 0       # reserved by open receipts at tills
    burnt: int = 0      # burnt by the moment asked, its expiry not written yet (not in balance)


def _view_statement():
    """Lots and holds of one account summed in one statement, built once: the figures are
    read on every quote, so the statement is not rebuilt per call."""
    at = bindparam("at", type_=UTCDateTime())
    account_id = (select(Account.id)
                  .where(Account.tenant_id == bindparam("tenant_id"),
                         Account.customer_id == bindparam("customer_id"))
                  .scalar_subquery())
    # A lot past its expiry moment is burnt whether or not the sweep wrote its expiry.
    alive = or_(Lot.expires_at.is_(None), Lot.expires_at > at)
    active = and_(Lot.active_from <= at, alive)

    def total(expr):
        return func.coalesce(func.sum(expr), 0)

    def holds(lapsed: bool):
        # What active holds took from lots still alive at `at`: a part of a burnt lot is not
        # the customer's any more (its release burns it at once).
        window = Hold.expires_at <= at if lapsed else Hold.expires_at > at
        drawn = aliased(Lot)
        return (select(total(-LotDraw.amount)).select_from(Hold)
                .join(LotDraw, LotDraw.posting_id == Hold.posting_id)
                .join(drawn, drawn.id == LotDraw.lot_id)
                .where(Hold.account_id == account_id, Hold.status == "active", window,
                       or_(drawn.expires_at.is_(None), drawn.expires_at > at))
                .scalar_subquery())

    return (select(total(case((and_(active, Lot.remaining > 0), Lot.remaining), else_=0)),
                   total(case((and_(Lot.active_from > at, alive, Lot.remaining > 0), Lot.remaining),
                              else_=0)),
                   total(case((Lot.remaining < 0, Lot.remaining), else_=0)),
                   total(case((and_(Lot.remaining > 0, Lot.expires_at <= at), Lot.remaining), else_=0)),
                   holds(lapsed=False), holds(lapsed=True))
            .where(Lot.account_id == account_id, Lot.remaining != 0))


_VIEW = _view_statement()


def account_view(session: Session, tenant_id: str, customer_id: str, moment: datetime) -> AccountView:
    """Balance figures at `moment`, from the lots and holds (one query).

    The same with or without an expiry sweep before `moment`: burnt lots count as burnt."""
    row = session.execute(_VIEW, {"tenant_id": tenant_id, "customer_id": customer_id,
                                  "at": moment}).one()
    positive_active, pending, debt, burnt, held, lapsed = (int(v) for v in row)
    # A lapsed hold is free again even before the sweep writes its release.
    available = positive_active + debt + lapsed
    return AccountView(balance=available + pending + held, available=available,
                       pending=pending, debt=-debt, held=held, burnt=burnt)
