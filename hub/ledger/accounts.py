"""Finding, locking and reading bonus accounts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from hub.models import Account, Hold, Lot
from hub.models.base import UTCDateTime


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
    balance: int        # the customer's bonuses: available + pending + held (+ burnt, not yet swept)
    available: int      # spendable at the moment asked
    pending: int        # accrued, waiting for activation
    debt: int           # taken back by returns after being spent (shown as positive)
    held: int = 0       # reserved by open receipts at tills


def _view_statement():
    """Lots and holds of one account summed in one statement, built once: the figures are
    read on every quote, so the statement is not rebuilt per call."""
    at = bindparam("at", type_=UTCDateTime())
    account_id = (select(Account.id)
                  .where(Account.tenant_id == bindparam("tenant_id"),
                         Account.customer_id == bindparam("customer_id"))
                  .scalar_subquery())
    active = and_(Lot.active_from <= at, or_(Lot.expires_at.is_(None), Lot.expires_at > at))

    def total(expr):  # noqa: ANN001, ANN202
        return func.coalesce(func.sum(expr), 0)

    def holds(lapsed: bool):  # noqa: ANN202
        window = Hold.expires_at <= at if lapsed else Hold.expires_at > at
        return (select(total(Hold.amount))
                .where(Hold.account_id == account_id, Hold.status == "active", window)
                .scalar_subquery())

    return (select(total(case((and_(active, Lot.remaining > 0), Lot.remaining), else_=0)),
                   total(case((and_(Lot.active_from > at, Lot.remaining > 0), Lot.remaining), else_=0)),
                   total(case((Lot.remaining < 0, Lot.remaining), else_=0)),
                   total(Lot.remaining),
                   holds(lapsed=False), holds(lapsed=True))
            .where(Lot.account_id == account_id, Lot.remaining != 0))


_VIEW = _view_statement()


def account_view(session: Session, tenant_id: str, customer_id: str, moment: datetime) -> AccountView:
    """Balance figures at `moment`, from the lots and holds (one query)."""
    row = session.execute(_VIEW, {"tenant_id": tenant_id, "customer_id": customer_id,
                                  "at": moment}).one()
    positive_active, pending, debt, total, held, lapsed = (int(v) for v in row)
    # A lapsed hold is free again even before the sweep writes its release.
    return AccountView(balance=total + held + lapsed, available=positive_active + debt + lapsed,
                       pending=pending, debt=-debt, held=held)
