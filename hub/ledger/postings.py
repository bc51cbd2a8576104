"""Postings: every change of a balance, with the lots it creates or draws from.

Callers hold the account's lock (lock_account) for the whole transaction. Each function
writes one posting, moves lot remainders to match, and keeps the cached balance equal to
the sum of postings, which equals the sum of lot remainders.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.ledger.accounts import lock_account
from hub.models import Account, Lot, LotDraw, Posting
from hub.models.base import new_id


class InsufficientBonuses(Exception):
    def __init__(self, requested: int, available: int):
        super().__init__(f"requested {requested}, available {available}")
        self.requested = requested
        self.available = available


def _post(session: Session, account: Account, kind: str, amount: int, moment: datetime,
          **fields) -> Posting:
    posting = Posting(id=new_id(), tenant_id=account.tenant_id, account_id=account.id,
                      kind=kind, amount=amount, moment=moment, **fields)
    session.add(posting)
    account.balance += amount
    return posting


def _draw(session: Session, posting: Posting, lot: Lot, amount: int) -> None:
    lot.remaining += amount
    session.add(LotDraw(tenant_id=lot.tenant_id, posting=posting, lot=lot, amount=amount))


def _lots(session: Session, account: Account, *conditions) -> list[Lot]:
    return list(session.scalars(
        select(Lot).where(Lot.account_id == account.id, *conditions)
        .order_by(Lot.expires_at.is_(None), Lot.expires_at, Lot.active_from, Lot.created_at, Lot.id)))


def _spendable(session: Session, account: Account, moment: datetime) -> tuple[list[Lot], int]:
    # Every debt counts, whenever it arose: a back-dated spend must not take what a later
    # return already owes (account_view counts it the same way).
    lots = _lots(session, account, Lot.remaining != 0)
    live = [lot for lot in lots if lot.remaining > 0 and lot.active_from <= moment
            and (lot.expires_at is None or lot.expires_at > moment)]
    debt = sum(lot.remaining for lot in lots if lot.remaining < 0)
    return live, sum(lot.remaining for lot in live) + debt


def accrue(session: Session, account: Account, amount: int, moment: datetime, *,
           active_from: datetime, expires_at: datetime | None, kind: str = "accrual",
           lot_kind: str = "purchase", follows_purchases: bool = False, **fields) -> Posting:
    """Credit bonuses as a new lot; an outstanding debt is paid from it first."""
    if amount <= 0:
        raise ValueError("an accrual must be positive")
    posting = _post(session, account, kind, amount, moment, **fields)
    left = amount
    for debt in _lots(session, account, Lot.remaining < 0):
        pay = min(left, -debt.remaining)
        _draw(session, posting, debt, pay)
        left -= pay
        if not left:
            break
    session.add(Lot(tenant_id=account.tenant_id, account_id=account.id, posting=posting,
                    kind=lot_kind, amount=amount, remaining=left, active_from=active_from,
                    expires_at=expires_at, follows_purchases=follows_purchases))
    return posting


def spend(session: Session, account: Account, amount: int, moment: datetime, *,
          kind: str = "spend", **fields) -> Posting:
    """Debit active bonuses, soonest-expiring lots first, remembering the lots drawn."""
    if amount <= 0:
        raise ValueError("a debit must be positive")
    lots, available = _spendable(session, account, moment)
    if amount > available:
        raise InsufficientBonuses(amount, max(available, 0))
    posting = _post(session, account, kind, -amount, moment, **fields)
    left = amount
    for lot in lots:
        take = min(left, lot.remaining)
        _draw(session, posting, lot, -take)
        left -= take
        if not left:
            break
    return posting


def debit(session: Session, account: Account, amount: int, moment: datetime, **fields) -> Posting:
    return spend(session, account, amount, moment, kind="manual_debit", **fields)


def restore(session: Session, account: Account, amount: int, moment: datetime, *,
            receipt_id: str, **fields) -> Posting | None:
    """Give spent bonuses back to the very lots the receipt's spending drew from."""
    if amount <= 0:
        return None
    spent_postings = select(Posting.id).where(Posting.account_id == account.id,
                                              Posting.receipt_id == receipt_id,
                                              Posting.kind.in_(("spend", "restore")))
    room: dict[str, int] = defaultdict(int)
    for draw in session.scalars(select(LotDraw).where(LotDraw.posting_id.in_(spent_postings))):
        room[draw.lot_id] -= draw.amount      # drawn (negative) adds room; restored takes it
    lots = [lot for lot in _lots(session, account, Lot.id.in_(list(room))) if room[lot.id] > 0]
    posting = _post(session, account, "restore", amount, moment, receipt_id=receipt_id, **fields)
    left = amount
    for lot in reversed(lots):                # latest-expiring first: the customer's favour
        give = min(left, room[lot.id])
        _draw(session, posting, lot, give)
        left -= give
        if not left:
            break
    if left:
        raise ValueError(f"receipt {receipt_id} spent less than {amount} to restore")
    return posting


def reverse_accrual(session: Session, account: Account, amount: int, moment: datetime, *,
                    receipt_id: str, **fields) -> Posting | None:
    """Take back bonuses a returned purchase earned.

    From the receipt's own accrual lot first, then from the other lots; what the customer
    has already spent becomes a debt lot (negative), paid by later accruals.
    """
    if amount <= 0:
        return None
    posting = _post(session, account, "reversal", -amount, moment, receipt_id=receipt_id, **fields)
    own = select(Posting.id).where(Posting.account_id == account.id,
                                   Posting.receipt_id == receipt_id, Posting.kind == "accrual")
    own_lots = _lots(session, account, Lot.posting_id.in_(own), Lot.remaining > 0)
    other = [lot for lot in _lots(session, account, Lot.remaining > 0) if lot not in own_lots]
    left = amount
    for lot in own_lots + other:
        take = min(left, lot.remaining)
        _draw(session, posting, lot, -take)
        left -= take
        if not left:
            break
    if left:
        session.add(Lot(tenant_id=account.tenant_id, account_id=account.id, posting=posting,
                        kind="debt", amount=-left, remaining=-left, active_from=moment,
                        expires_at=None))
    return posting


def redate_lots(session: Session, account: Account, moment: datetime,
                expires_at: datetime | None) -> None:
    """Since-last-purchase expiry: a purchase moves the burn date of every live lot."""
    for lot in _lots(session, account, Lot.follows_purchases.is_(True), Lot.remaining > 0):
        if lot.expires_at is None or lot.expires_at > moment:
            lot.expires_at = expires_at


def expire_due(session: Session, tenant_id: str, at: datetime) -> int:
    """Write an expiry posting for every lot that burnt by `at`; returns how many."""
    due = session.execute(
        select(Lot.id, Account.customer_id).join(Account, Account.id == Lot.account_id)
        .where(Lot.tenant_id == tenant_id, Lot.remaining > 0, Lot.expires_at <= at)
    ).all()
    by_customer: dict[str, list[str]] = defaultdict(list)
    for lot_id, customer_id in due:
        by_customer[customer_id].append(lot_id)
    count = 0
    for customer_id in sorted(by_customer):
        account = lock_account(session, tenant_id, customer_id)
        for lot in _lots(session, account, Lot.id.in_(by_customer[customer_id]),
                         Lot.remaining > 0, Lot.expires_at <= at):
            posting = _post(session, account, "expiry", -lot.remaining, lot.expires_at,
                            meta={"lot_id": lot.id})
            _draw(session, posting, lot, -lot.remaining)
            count += 1
    return count
