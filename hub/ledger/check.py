"""The ledger audit behind `kopilka check-ledger`."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import Account, Lot, Posting


@dataclass(frozen=True)
class Discrepancy:
    tenant_id: str
    account_id: str
    customer_id: str
    cached: int
    postings: int
    lots: int


def check_ledger(session: Session, tenant_id: str | None = None) -> list[Discrepancy]:
    """Every account whose cached balance, postings sum and lots' remainders disagree."""
    postings = (select(Posting.account_id, func.sum(Posting.amount).label("s"))
                .group_by(Posting.account_id).subquery())
    lots = (select(Lot.account_id, func.sum(Lot.remaining).label("s"))
            .group_by(Lot.account_id).subquery())
    stmt = (select(Account.tenant_id, Account.id, Account.customer_id, Account.balance,
                   func.coalesce(postings.c.s, 0), func.coalesce(lots.c.s, 0))
            .outerjoin(postings, postings.c.account_id == Account.id)
            .outerjoin(lots, lots.c.account_id == Account.id))
    if tenant_id:
        stmt = stmt.where(Account.tenant_id == tenant_id)
    out = []
    for tid, aid, cid, cached, p_sum, l_sum in session.execute(stmt):
        if not (int(cached) == int(p_sum) == int(l_sum)):
            out.append(Discrepancy(tid, aid, cid, int(cached), int(p_sum), int(l_sum)))
    return out
