"""Finding, locking and reading bonus accounts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from hub.models import Account, Hold, Lot


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


def account_view(session: Session, tenant_id: str, customer_id: str, moment: datetime) -> AccountView:
    """Balance figures at `moment`, from the lots (one query)."""
    active = and_(Lot.active_from <= moment, or_(Lot.expires_at.is_(None), Lot.expires_at > moment))
    row = session.execute(
        select(
            func.coalesce(func.sum(case((and_(active, Lot.remaining > 0), Lot.remaining), else_=0)), 0),
            func.coalesce(func.sum(case((and_(Lot.active_from > moment, Lot.remaining > 0),
                                         Lot.remaining), else_=0)), 0),
            func.coalesce(func.sum(case((Lot.remaining < 0, Lot.remaining), else_=0)), 0),
            func.coalesce(func.sum(Lot.remaining), 0),
        ).join(Account, Account.id == Lot.account_id)
        .where(Account.tenant_id == tenant_id, Account.customer_id == customer_id,
               Lot.remaining != 0)
    ).one()
    positive_active, pending, debt, total = (int(v) for v in row)
    held, lapsed = (int(v) for v in session.execute(
        select(func.coalesce(func.sum(case((Hold.expires_at > moment, Hold.amount), else_=0)), 0),
               func.coalesce(func.sum(case((Hold.expires_at <= moment, Hold.amount), else_=0)), 0))
        .join(Account, Account.id == Hold.account_id)
        .where(Account.tenant_id == tenant_id, Account.customer_id == customer_id,
               Hold.status == "active")).one())
    # A lapsed hold is free again even before the sweep writes its release.
    return AccountView(balance=total + held + lapsed, available=positive_active + debt + lapsed,
                       pending=pending, debt=-debt, held=held)
