"""Everything due by a moment: bonus expiry, plus the sweeps other packages register
(inbox retries from connectors, certificate expiry, messages, birthdays and win-back chains).

A sweep is `fn(session, at) -> int | dict`. One that can work for a single tenant says so by
taking a `tenant_id` keyword (or `tenant_ids`, a list): `kopilka automation run --tenant T`
runs it for T only. A sweep without a tenant filter cannot be narrowed to one tenant, so a
run for one tenant skips it and names it under "skipped" in the result.

Once across a fleet: several hosts (the scheduler, cron's `kopilka automation run`, a worker)
may start a run at the same moment. On PostgreSQL each sweep runs tenant by tenant, and each
(sweep, tenant) first takes a transaction-level advisory lock on a connection of its own
(pg_try_advisory_xact_lock, which PgBouncer's transaction mode keeps): a run that finds it held
skips that pair and names it under "held_elsewhere" — the holder is doing that work now. The
lock goes with the holder's transaction, so a host that dies mid-sweep frees it at once, and
what it did is whole: each sweep commits per tenant (or finer), never across tenants. SQLite
has a single process writing, and its BEGIN IMMEDIATE serialises writers anyway: no claim.
"""
from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from hub.ledger import expire_due, expire_holds
from hub.tenants.models import Tenant
from hub.extensions import unit_of_work

Sweep = Callable[..., Any]
log = logging.getLogger(__name__)


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


CLAIM_NAMESPACE = "kopilka.sweep"
EVERY_TENANT = "*"          # the claim of a sweep that cannot be narrowed to one tenant


@contextmanager
def claim(session: Session, name: str, tenant_id: str,
          connection: Connection | None = None) -> Iterator[bool]:
    """Whether this process may run sweep `name` for `tenant_id` now (True on SQLite). On
    PostgreSQL the answer is a transaction-level advisory lock taken on a second connection
    (`connection`, which a run reuses for all its claims, or one from the pool) and held
    until the block ends: the sweep's own commits (per tenant, per message) do not release
    it, and a process that dies releases it with its connection."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        yield True
        return
    with ExitStack() as stack:
        conn = connection or stack.enter_context(getattr(bind, "engine", bind).connect())
        with conn.begin():
            got = conn.execute(text("SELECT pg_try_advisory_xact_lock(hashtext(:ns), hashtext(:key))"),
                               {"ns": CLAIM_NAMESPACE, "key": f"{name}/{tenant_id}"}).scalar()
            yield bool(got)
            # leaving the block ends the transaction, and with it the lock


def _lock_connection(session: Session, stack: ExitStack) -> Connection | None:
    """One connection for all the claims of a run (not a pool checkout and ping per claim)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    return stack.enter_context(getattr(bind, "engine", bind).connect())


def _add(total: Any, part: Any) -> Any:
    """Sum one tenant's result into the run's: counts add up, dicts of counts key by key."""
    if total is None:
        return part
    if isinstance(total, dict) and isinstance(part, dict):
        merged = dict(total)
        for key, value in part.items():
            merged[key] = _add(merged.get(key), value)
        return merged
    if isinstance(total, int) and isinstance(part, int):
        return total + part
    return part


def _held(held: dict[str, list[str]], name: str, tenant_id: str) -> None:
    log.info("sweep %s for tenant %s: held by another process, skipped", name, tenant_id)
    held.setdefault(name, []).append(tenant_id)


def _run_claimed(name: str, session: Session, at: datetime, tenants: list[str],
                 held: dict[str, list[str]], locks: Connection | None) -> Any:
    """Sweep `name` tenant by tenant (once, for every tenant, if it cannot filter), each
    under its claim; what another process holds is recorded in `held` and skipped."""
    reg = _sweeps[name]
    targets = tenants if reg.tenant_keyword is not None else [EVERY_TENANT]
    total: Any = None
    for tid in targets:
        with claim(session, name, tid, locks) as mine:
            if not mine:
                _held(held, name, tid)
                continue
            part = run_sweep(name, session, at, None if tid == EVERY_TENANT else tid)
        total = _add(total, part)
    return 0 if total is None else total


def run_due(session: Session, at: datetime, tenant_id: str | None = None) -> dict:
    """Run each tenant's due work in its own transaction; returns counts per task."""
    tenants = [tenant_id] if tenant_id else list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
    session.rollback()
    expired = released = 0
    held: dict[str, list[str]] = {}
    with ExitStack() as stack:
        locks = _lock_connection(session, stack)
        for tid in tenants:
            with claim(session, "ledger_expiry", tid, locks) as mine:
                if not mine:
                    _held(held, "ledger_expiry", tid)
                    continue
                with unit_of_work(session):
                    released += expire_holds(session, tid, at)
                    expired += expire_due(session, tid, at)
        result: dict = {"tenants": len(tenants), "expired_lots": expired, "holds_released": released}
        skipped = []
        for name, reg in sorted(_sweeps.items(), key=lambda item: item[1].last):   # stable: else as registered
            if tenant_id is not None and reg.tenant_keyword is None:
                skipped.append(name)
                continue
            result[name] = _run_claimed(name, session, at, tenants, held, locks)
    if skipped:
        result["skipped"] = skipped
    if held:
        result["held_elsewhere"] = held
    return result
