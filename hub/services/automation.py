"""Everything due by a moment: for now, bonus expiry (later: birthdays, win-back chains)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.ledger import expire_due
from hub.models import Tenant


def run_due(session: Session, at: datetime, tenant_id: str | None = None) -> dict:
    """Run each tenant's due work in its own transaction; returns counts per task."""
    tenants = [tenant_id] if tenant_id else list(session.scalars(select(Tenant.id)))
    session.rollback()
    expired = 0
    for tid in tenants:
        try:
            expired += expire_due(session, tid, at)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return {"tenants": len(tenants), "expired_lots": expired}
