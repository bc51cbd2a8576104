"""Claim, then carry out: how every mechanic grants bonuses and queues its message once.

1. A mechanic selects its due occurrences set-based and *claims* them: one row per
   (tenant, mechanic, customer, occurrence) in mechanic_events, inserted with
   ON CONFLICT DO NOTHING — the unique key is what makes a trigger idempotent.
2. `process` carries out the claimed rows in batches: the customer's account is locked
   (hub.ledger.lock_account, accounts in id order), the gift accrued as its own lot with its
   own validity (or a referral reward taken back), the message queued through the outbox in
   the same transaction, and the row marked done with the posting it wrote.

A crash between the two steps leaves claimed rows that the next run finishes; two runs at
once skip each other's rows (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite serialises writers).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterable

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from hub.engine.expiry import end_of_validity, expiry_from, local_date, local_day_start
from hub.engine.program import Program
from hub.ledger import accrue, lock_account, reverse_accrual
from hub.ledger.models import Account, Lot
from hub.customers.models import Customer
from hub.automation.models import MechanicEvent
from hub.orm import new_id
from hub.notify.outbox import enqueue_many

# mechanic -> (message topic, advertising?, posting reason)
MECHANICS: dict[str, tuple[str, bool, str]] = {
    "registration": ("gift", False, "Подарок за регистрацию"),
    "first_purchase": ("gift", False, "Подарок за первую покупку"),
    "birthday": ("birthday", True, "Подарок на день рождения"),
    "relative_birthday": ("relative_birthday", True, "Подарок на день рождения близкого"),
    "winback": ("winback", True, "Реанимация: подарок"),
    "referral_registration": ("gift", False, "Подарок за регистрацию по приглашению"),
    "referral_reward": ("referral_bonus", False, "Бонусы за покупку приглашённого друга"),
    "referral_reversal": ("", False, "Возврат покупки приглашённого друга"),
    "expiry_warning": ("expiry_warning", False, ""),
    "activation": ("activation", False, ""),
    "mailing": ("gift", True, "Рассылка: подарок"),
}
CATCH_UP = timedelta(days=7)      # occurrences missed while no sweep ran are still honoured
BATCH = 500

Progress = Callable[[str], None]


def window_start(since: datetime | None, at: datetime) -> datetime:
    return max(since, at - CATCH_UP) if since else at - CATCH_UP


def _insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(MechanicEvent)


def claim(session: Session, tenant_id: str, mechanic: str, rows: Iterable[dict], at: datetime) -> int:
    """Insert the occurrences not claimed before; returns how many are new."""
    rows = list(rows)
    new = 0
    for i in range(0, len(rows), BATCH):
        chunk = [{"id": new_id(), "tenant_id": tenant_id, "mechanic": mechanic, "status": "claimed",
                  "amount": 0, "delay_days": 0, "context": {}, "moment": at, "created_at": at, **r}
                 for r in rows[i:i + BATCH]]
        stmt = _insert(session).values(chunk).on_conflict_do_nothing(
            index_elements=["tenant_id", "mechanic", "customer_id", "occurrence"]).returning(MechanicEvent.id)
        new += len(session.execute(stmt).all())
    return new


def validity(program: Program, level_code: str | None, at: datetime, valid_days: int | None,
             delay_days: int) -> tuple[datetime, datetime | None]:
    """A gift's window: spendable from the start of the local day `delay_days` later (or at
    once), valid `valid_days` counted from then; without its own validity, the program's."""
    tz = program.timezone
    active_from = local_day_start(local_date(at, tz) + timedelta(days=delay_days), tz) if delay_days else at
    if valid_days:
        return active_from, end_of_validity(active_from, valid_days, tz)
    level = next((lv for lv in program.levels if lv.code == level_code), program.levels[0])
    return active_from, expiry_from(program, level, active_from)


def last_valid_day(expires_at: datetime | None, tz: str):
    return None if expires_at is None else local_date(expires_at - timedelta(microseconds=1), tz)


def _ledger(session: Session, program: Program, ev, customer: Customer, at: datetime,
            locked: dict) -> dict:
    """The occurrence's ledger part (a gift lot, a referral reward or its take-back); returns
    the event's new column values and the message context."""
    _, _, reason = MECHANICS.get(ev.mechanic, ("gift", False, ""))
    meta = {"mechanic": ev.mechanic, "event_id": ev.id, "rule_id": ev.rule_id}
    # Every row carries the same keys, so the batch is marked done in one executemany.
    values: dict = {"id": ev.id, "status": "done", "done_at": at, "posting_id": None,
                    "active_from": None, "expires_at": None, "message_key": None}
    context = {"name": customer.first_name or "", **(ev.context or {})}
    if customer.blocked_at is not None and ev.mechanic != "referral_reversal":
        # A blocked client earns nothing and hears no offers; a take-back still happens.
        values["status"] = "skipped"
        return {"values": values, "context": context, "account": None, "skip": True}
    if not ev.amount:
        return {"values": values, "context": context, "account": None}
    account = locked.get(customer.id) or lock_account(session, ev.tenant_id, customer.id)
    if ev.mechanic == "referral_reversal":
        posting = reverse_accrual(session, account, ev.amount, at, receipt_id=ev.receipt_id,
                                  reason=reason, meta=meta)
        values["posting_id"] = posting.id if posting is not None else None
    else:
        active_from, expires_at = validity(program, customer.level_code, at, ev.valid_days, ev.delay_days)
        referral = ev.mechanic == "referral_reward"
        posting = accrue(session, account, ev.amount, at, active_from=active_from, expires_at=expires_at,
                         kind="accrual" if referral else "gift",
                         lot_kind="referral" if referral else "gift",
                         receipt_id=ev.receipt_id if referral else None, reason=reason, meta=meta)
        values.update(posting_id=posting.id, active_from=active_from, expires_at=expires_at)
        context.setdefault("bonuses_kopecks", ev.amount)
        day = last_valid_day(expires_at, program.timezone)
        if day is not None:
            context.setdefault("date", day.strftime("%d.%m.%Y"))
    return {"values": values, "context": context, "account": account}


def _available(session: Session, tenant_id: str, customer_ids: list[str], at: datetime) -> dict[str, int]:
    """Spendable bonuses of several customers in one statement (for messages)."""
    if not customer_ids:
        return {}
    rows = session.execute(
        select(Account.customer_id, func.coalesce(func.sum(Lot.remaining), 0))
        .join(Lot, Lot.account_id == Account.id)
        .where(Account.tenant_id == tenant_id, Account.customer_id.in_(customer_ids), Lot.remaining != 0,
               or_(Lot.remaining < 0, and_(Lot.active_from <= at,
                                          or_(Lot.expires_at.is_(None), Lot.expires_at > at))))
        .group_by(Account.customer_id))
    return {cid: int(v) for cid, v in rows}


def process(session: Session, tenant_id: str, program: Program, at: datetime,
            progress: Progress | None = None, batch: int = BATCH) -> int:
    """Carry out every claimed occurrence of the tenant; commits per batch.

    Per batch: the claimed rows are locked (SKIP LOCKED), the accounts they credit locked in
    one statement in customer order (the order every multi-account writer uses; a missing
    account is made by lock_account); then the ledger work of every row, flushed together;
    then one message per row, written to the outbox with one set-based insert (enqueue_many);
    then the rows marked done in one statement.
    """
    cols = (MechanicEvent.id, MechanicEvent.tenant_id, MechanicEvent.mechanic, MechanicEvent.rule_id,
            MechanicEvent.customer_id, MechanicEvent.amount, MechanicEvent.valid_days,
            MechanicEvent.delay_days, MechanicEvent.receipt_id, MechanicEvent.context)
    done = 0
    while True:
        events = session.execute(
            select(*cols).where(MechanicEvent.tenant_id == tenant_id, MechanicEvent.status == "claimed")
            .order_by(MechanicEvent.customer_id, MechanicEvent.created_at, MechanicEvent.id)
            .limit(batch).with_for_update(skip_locked=True)).all()
        if not events:
            return done
        ids = {e.customer_id for e in events}
        customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))}
        granting = sorted({e.customer_id for e in events if e.amount})
        locked = {a.customer_id: a for a in session.scalars(
            select(Account).where(Account.tenant_id == tenant_id, Account.customer_id.in_(granting))
            .order_by(Account.customer_id).with_for_update()
            .execution_options(populate_existing=True))} if granting else {}
        results, seen = [], set()
        with session.no_autoflush:
            for ev in events:
                if ev.amount and ev.customer_id in seen:
                    session.flush()       # a second movement of one account sees the first
                seen.add(ev.customer_id)
                results.append(_ledger(session, program, ev, customers[ev.customer_id], at, locked))
        session.flush()
        balances = _available(session, tenant_id, sorted({ev.customer_id for ev, r in zip(events, results)
                                                          if r["account"] is None}), at)
        messages = []
        for ev, r in zip(events, results):
            topic, advertising, _ = MECHANICS.get(ev.mechanic, ("gift", False, ""))
            if not topic or r.get("skip"):
                continue
            context = r["context"]
            if "balance_kopecks" not in context:
                account = r["account"]
                context["balance_kopecks"] = account.balance if account is not None else \
                    balances.get(ev.customer_id, 0)
            r["values"]["message_key"] = key = f"auto:{ev.id}"
            messages.append({"customer_id": ev.customer_id, "topic": topic, "context": context,
                             "dedupe_key": key, "advertising": advertising or bool(context.get("advertising"))})
        enqueue_many(session, tenant_id, messages)
        session.execute(update(MechanicEvent), [r["values"] for r in results])
        session.commit()
        done += len(events)
        if progress:
            progress(f"  выполнено {done}")
