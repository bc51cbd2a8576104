"""Everything due by a moment: bonus expiry, plus the sweeps other packages register
(inbox retries from connectors, later birthdays and win-back chains)."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.ledger import expire_due, expire_holds
from hub.models import Tenant

Sweep = Callable[[Session, datetime], int]
_sweeps: dict[str, Sweep] = {}


def register_sweep(name: str, fn: Sweep) -> None:
    """Add periodic work that runs across tenants (adapters live outside hub/)."""
    _sweeps[name] = fn


def run_due(session: Session, at: datetime, tenant_id: str | None = None) -> dict:
    """Run each tenant's due work in its own transaction; returns counts per task."""
    tenants = [tenant_id] if tenant_id else list(session.scalars(select(Tenant.id)))
    session.rollback()
    expired = released = 0
    for tid in tenants:
        try:
            released += expire_holds(session, tid, at)
            expired += expire_due(session, tid, at)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    result = {"tenants": len(tenants), "expired_lots": expired, "holds_released": released}
    if tenant_id is None:
        for name, fn in _sweeps.items():
            result[name] = fn(session, at)
    return result
