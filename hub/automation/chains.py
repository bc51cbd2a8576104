"""Win-back chains: "N days without a purchase -> gift valid K days -> message", per audience.

A step fires on the local day a customer of the chain's audience reaches N days since their
last purchase (since registration when they never bought). The occurrence is
chain : step : local date of that last purchase, so a purchase stops the chain — the next
lapse starts it again from the first step. Only crossings after the chain was switched on
count (and at most CATCH_UP back).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from hub.automation.grants import claim, window_start
from hub.automation.segments import check_audience, conditions
from hub.engine.expiry import local_date, local_day_start
from hub.engine.program import Program
from hub.errors import Invalid, NotFound
from hub.extensions import unit_of_work
from hub.staff.operations import Actor, record
from hub.customers.models import Customer
from hub.receipts.models import Receipt
from hub.automation.models import MechanicEvent, WinbackChain


def propose_gift(average_check: int, margin_percent: Decimal | str | int,
                 share_percent: Decimal | str | int) -> int:
    """Seed 001's arithmetic: the most a win-back may give without a loss on the sale —
    average check x margin x the share of the margin the owner will spend, in kopecks,
    rounded down to a whole bonus (900 x 40% x 50% = 180 bonuses)."""
    margin, share = Decimal(str(margin_percent)), Decimal(str(share_percent))
    if average_check < 0 or not (0 <= margin <= 100) or not (0 <= share <= 100):
        raise ValueError("check >= 0, percents 0..100")
    kopecks = Decimal(average_check) * margin / 100 * share / 100
    return int((kopecks / 100).to_integral_value(rounding=ROUND_DOWN)) * 100


def average_check(session: Session, tenant_id: str, at: datetime, days: int = 365) -> int:
    """The tenant's average paid receipt over the last `days` (kopecks; 0 without sales)."""
    total, count = session.execute(
        select(func.coalesce(func.sum(Receipt.amount_to_pay), 0), func.count())
        .where(Receipt.tenant_id == tenant_id, Receipt.moment >= at - timedelta(days=days),
               Receipt.moment <= at)).one()
    return int(total) // int(count) if count else 0


def check_steps(steps: list) -> list[dict]:
    if not isinstance(steps, list) or not steps or len(steps) > 10:
        raise Invalid("invalid_chain", "Цепочка: от 1 до 10 шагов.", {"steps": ["от 1 до 10 шагов"]})
    out, last = [], 0
    for i, st in enumerate(steps):
        days = st.get("days")
        amount = st.get("amount") or 0
        if not isinstance(days, int) or isinstance(days, bool) or days < 1 or days > 3650:
            raise Invalid("invalid_chain", f"Шаг {i + 1}: дни без покупки от 1 до 3650.",
                          {f"steps.{i}.days": ["целое число от 1 до 3650"]})
        if days <= last:
            raise Invalid("invalid_chain", f"Шаг {i + 1}: дни должны расти от шага к шагу.",
                          {f"steps.{i}.days": ["больше, чем у предыдущего шага"]})
        valid = st.get("valid_days")
        if amount and (not isinstance(valid, int) or valid < 1):
            raise Invalid("invalid_chain", f"Шаг {i + 1}: для подарка укажите срок действия.",
                          {f"steps.{i}.valid_days": ["обязательно при подарке"]})
        if not isinstance(amount, int) or amount < 0:
            raise Invalid("invalid_chain", f"Шаг {i + 1}: сумма подарка неотрицательная.",
                          {f"steps.{i}.amount": ["не меньше 0"]})
        out.append({"days": days, "amount": amount, "valid_days": valid if amount else None,
                    "delay_days": int(st.get("delay_days") or 0), "text": st.get("text") or None})
        last = days
    return out


def save_chain(session: Session, tenant_id: str, data: dict, now: datetime,
               chain_id: str | None = None, by: Actor | None = None) -> WinbackChain:
    """Create or change a win-back chain (commits; `by`: the person, audited with it)."""
    steps = check_steps(data.get("steps"))
    audience = check_audience(session, tenant_id, data.get("audience") or {})
    if chain_id is None:
        chain = WinbackChain(tenant_id=tenant_id, since=now, created_at=now)
        session.add(chain)
    else:
        chain = get_chain(session, tenant_id, chain_id)
        if data.get("enabled", True) and not chain.enabled:
            chain.since = now
    chain.name = data.get("name") or "Реанимация"
    chain.steps, chain.audience = steps, audience
    chain.enabled = bool(data.get("enabled", True))
    if by is not None:
        session.flush()
        record(session, tenant_id, by, "chain.update" if chain_id else "chain.create", "chain", chain.id,
               {"name": chain.name, "enabled": chain.enabled, "audience": chain.audience, "steps": chain.steps})
    session.commit()
    return chain


def delete_chain(session: Session, tenant_id: str, chain_id: str, by: Actor) -> None:
    """Delete a win-back chain, audited, in one committed transaction."""
    with unit_of_work(session):
        chain = get_chain(session, tenant_id, chain_id)
        record(session, tenant_id, by, "chain.delete", "chain", chain.id, {"name": chain.name})
        session.delete(chain)


def get_chain(session: Session, tenant_id: str, chain_id: str) -> WinbackChain:
    chain = session.get(WinbackChain, chain_id)
    if chain is None or chain.tenant_id != tenant_id:
        raise NotFound("chain_not_found", "Цепочка не найдена.")
    return chain


def due_steps(session: Session, tenant_id: str, program: Program, chain: WinbackChain,
              at: datetime) -> int:
    tz = program.timezone
    first = local_date(window_start(chain.since, at), tz)
    today = local_date(at, tz)
    audience = conditions(session, tenant_id, chain.audience or {}, at, tz)
    claimed = 0
    for k, step in enumerate(chain.steps):
        n = step["days"]
        # Reached n days on a local day in [first, today]: last purchase on a day in
        # [first - n, today - n].
        lo = local_day_start(first - timedelta(days=n), tz)
        hi = local_day_start(today - timedelta(days=n - 1), tz)
        anchor = func.coalesce(Customer.last_purchase_at, Customer.created_at)
        prefix = f"{chain.id}:{k}:"
        rows = session.execute(select(Customer.id, Customer.last_purchase_at, Customer.created_at).where(
            *audience,
            or_(and_(Customer.last_purchase_at >= lo, Customer.last_purchase_at < hi),
                and_(Customer.last_purchase_at.is_(None), Customer.created_at >= lo, Customer.created_at < hi)),
            ~exists().where(MechanicEvent.tenant_id == tenant_id, MechanicEvent.mechanic == "winback",
                            MechanicEvent.customer_id == Customer.id,
                            MechanicEvent.occurrence.like(prefix + "%"), MechanicEvent.moment > anchor)))
        out = []
        for cid, last, created in rows:
            day = local_date(last or created, tz)
            due_at = max(local_day_start(day + timedelta(days=n), tz), chain.since)
            ctx = {"text": step["text"]} if step.get("text") else {}
            out.append({"customer_id": cid, "occurrence": f"{prefix}{day.isoformat()}", "rule_id": chain.id,
                        "amount": step["amount"], "valid_days": step["valid_days"],
                        "delay_days": step["delay_days"], "moment": min(due_at, at),
                        "context": {**ctx, "step": k + 1, "days": n}})
        claimed += claim(session, tenant_id, "winback", out, at)
    return claimed


def run_chains(session: Session, tenant_id: str, program: Program, at: datetime) -> int:
    chains = session.scalars(select(WinbackChain).where(WinbackChain.tenant_id == tenant_id,
                                                        WinbackChain.enabled.is_(True))
                             .order_by(WinbackChain.created_at, WinbackChain.id)).all()
    return sum(due_steps(session, tenant_id, program, chain, at) for chain in chains)
