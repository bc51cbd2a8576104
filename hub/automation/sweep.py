"""The automation sweep: everything due for every tenant up to a moment.

Order per tenant: gift triggers, win-back chains, referral rewards and their reversals,
expiry warnings, activation notices and due mailings claim their occurrences; then the
claimed rows are carried out (ledger + outbox) in batches; then the recency segments are
recomputed. Each tenant runs in its own transactions; one tenant's failure is reported and
does not stop the others.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.automation import chains, mailings, referrals, segments, triggers
from hub.automation.grants import process
from hub.automation.settings import load
from hub.tenants.models import Tenant
from hub.programs.operations import get_program

log = logging.getLogger(__name__)


def run_tenant(session: Session, tenant_id: str, at: datetime,
               progress: Callable[[str], None] | None = None) -> dict:
    say = progress or (lambda _msg: None)
    program = get_program(session, tenant_id)
    settings = load(session, tenant_id)
    counts: dict[str, int] = {}

    def add(name: str, n: int) -> None:
        counts[name] = counts.get(name, 0) + n
        session.commit()
        say(f"  {name}: {n}")

    for rule in settings.get("gifts", []):
        if rule.get("enabled"):
            add(rule["event"], triggers.GIFT_TRIGGERS[rule["event"]](session, tenant_id, program, rule, at))
    add("winback", chains.run_chains(session, tenant_id, program, at))
    add("referral_reward", referrals.rewards(session, tenant_id, at))
    add("referral_reversal", referrals.reversals(session, tenant_id, at))
    if settings["expiry_warning"].get("enabled"):
        add("expiry_warning", triggers.expiry_warnings(session, tenant_id, program,
                                                        settings["expiry_warning"], at))
    if settings["activation"].get("enabled"):
        add("activation", triggers.activations(session, tenant_id, program, settings["activation"], at))
    add("mailing", mailings.due_mailings(session, tenant_id, at))
    say("  выполнение: начисления и сообщения")
    counts["done"] = process(session, tenant_id, program, at, progress)
    say("  сегменты")
    counts["segments_written"] = segments.recompute(session, tenant_id, program.timezone, at, progress)
    return counts


def run(session: Session, at: datetime, tenant_ids: list[str] | None = None,
        progress: Callable[[str], None] | None = None) -> dict:
    """Registered as the `automation` sweep of `kopilka automation run`."""
    session.rollback()
    tenants = tenant_ids or list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
    total: dict[str, int] = {}
    errors = []
    for tid in tenants:
        session.info.pop("programs", None)
        try:
            for key, n in run_tenant(session, tid, at, progress).items():
                total[key] = total.get(key, 0) + n
        except Exception as exc:  # one tenant's failure must not stop the others
            session.rollback()
            log.exception("automation failed for tenant %s", tid)
            errors.append({"tenant_id": tid, "error": str(exc)[:200]})
    if errors:
        total["errors"] = len(errors)
    return total
