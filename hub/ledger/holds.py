"""Holds: bonuses a till's quote reserves until the receipt is closed or cleared."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.ledger.accounts import lock_account
from hub.ledger.postings import _give_back, _lots, _post, spend
from hub.ledger.models import Account, Hold, Lot, LotDraw


def place_hold(session: Session, account: Account, amount: int, moment: datetime, *,
               expires_at: datetime, source: str, reference: str) -> Hold:
    """Reserve `amount` at `moment`, the moment the hub processes the quote (raises
    InsufficientBonuses like a spend)."""
    posting = spend(session, account, amount, moment, kind="hold", now=moment,
                    meta={"reference": reference})
    hold = Hold(tenant_id=account.tenant_id, account_id=account.id, source=source,
                reference=reference, amount=amount, status="active", posting=posting,
                expires_at=expires_at)
    session.add(hold)
    return hold


def release_hold(session: Session, account: Account, hold: Hold, moment: datetime,
                 status: str = "released") -> None:
    """Give the held bonuses back to exactly the lots they came from (at `moment`: now, or
    when the hold lapsed). A part whose lot has burnt by then burns at once, like a restored
    part of a return, so the result is the same whether or not a sweep ran before."""
    if hold.status != "active":
        return
    session.flush()
    drawn: dict[str, int] = defaultdict(int)
    for draw in session.scalars(select(LotDraw).where(LotDraw.posting_id == hold.posting_id)):
        drawn[draw.lot_id] -= draw.amount
    posting = _post(session, account, "hold_release", hold.amount, moment,
                    meta={"reference": hold.reference, "hold_id": hold.id})
    _give_back(session, account, posting,
               [(lot, drawn[lot.id]) for lot in _lots(session, account, Lot.id.in_(list(drawn)))],
               moment)
    hold.status = status
    hold.closed_at = moment


def active_holds(session: Session, account: Account, *, source: str | None = None,
                 reference: str | None = None) -> list[Hold]:
    stmt = select(Hold).where(Hold.account_id == account.id, Hold.status == "active")
    if source is not None:
        stmt = stmt.where(Hold.source == source)
    if reference is not None:
        stmt = stmt.where(Hold.reference == reference)
    return list(session.scalars(stmt.order_by(Hold.created_at)))


def release_expired(session: Session, account: Account, moment: datetime) -> int:
    """Holds whose time ran out give their bonuses back (called under the account lock)."""
    count = 0
    for hold in active_holds(session, account):
        if hold.expires_at <= moment:
            release_hold(session, account, hold, hold.expires_at, status="expired")
            count += 1
    return count


def expire_holds(session: Session, tenant_id: str, at: datetime) -> int:
    """The sweep: release every hold of the tenant that expired by `at`."""
    rows = session.execute(select(Hold.account_id, Account.customer_id)
                           .join(Account, Account.id == Hold.account_id)
                           .where(Hold.tenant_id == tenant_id, Hold.status == "active",
                                  Hold.expires_at <= at).distinct()).all()
    count = 0
    for _, customer_id in sorted(rows, key=lambda r: r[1]):
        account = lock_account(session, tenant_id, customer_id)
        count += release_expired(session, account, at)
    return count
