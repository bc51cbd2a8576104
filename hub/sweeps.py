"""Everything due by a moment: bonus expiry, plus the sweeps other packages register
(inbox retries from connectors, certificate expiry, messages, birthdays and win-back chains).

A sweep is `fn(session, at) -> int | dict`. One that can work for a single tenant says so by
taking a `tenant_id` keyword (or `tenant_ids`, a list): `kopilka automation run --tenant T`
runs it for T only. A sweep without a tenant filter cannot be narrowed to one tenant, so a
run for one tenant skips it and names it under "skipped" in the result.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.ledger import expire_due, expire_holds
from hub.tenants.models import Tenant
from hub.extensions import unit_of_work

Sweep = Callable[..., Any]


@dataclass(frozen=True)
class _Registered:
    fn: Sweep
    tenant_keyword: str | None      # "tenant_id" | "tenant_ids" | None (cannot filter)
    last: bool = False              # runs after every other sweep (see register_sweep)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


_sweeps: dict[str, _Registered] = {}


def _tenant_keyword(fn: Sweep) -> str | None:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):       # pragma: no cover - builtins
        return None
    for name in ("tenant_id", "tenant_ids"):
        if name in params:
            return name
    return None


def register_sweep(name: str, fn: Sweep, *, last: bool = False) -> None:
    """Add periodic work that runs across tenants (adapters live outside hub/). A `last`
    sweep runs after all the others whatever the import order: message delivery, so that one
    run sends what the run's own sweeps queued (a win-back SMS, a warning) instead of leaving
    it for the next run — a day later under a daily cron."""
    _sweeps[name] = _Registered(fn, _tenant_keyword(fn), last)


def run_sweep(name: str, session: Session, at: datetime, tenant_id: str | None = None) -> Any:
    """One registered sweep, for every tenant or (when it can filter) for `tenant_id` only."""
    reg = _sweeps[name]
    if tenant_id is None:
        return reg.fn(session, at)
    if reg.tenant_keyword == "tenant_ids":
        return reg.fn(session, at, tenant_ids=[tenant_id])
    return reg.fn(session, at, tenant_id=tenant_id)


def run_due(session: Session, at: datetime, tenant_id: str | None = None) -> dict:
    """Run each tenant's due work in its own transaction; returns counts per task."""
    tenants = [tenant_id] if tenant_id else list(session.scalars(select(Tenant.id)))
    session.rollback()
    expired = released = 0
    for tid in tenants:
        with unit_of_work(session):
            released += expire_holds(session, tid, at)
            expired += expire_due(session, tid, at)
    result: dict = {"tenants": len(tenants), "expired_lots": expired, "holds_released": released}
    skipped = []
    for name, reg in sorted(_sweeps.items(), key=lambda item: item[1].last):   # stable: else as registered
        if tenant_id is not None and reg.tenant_keyword is None:
            skipped.append(name)
            continue
        result[name] = run_sweep(name, session, at, tenant_id)
    if skipped:
        result["skipped"] = skipped
    return result
