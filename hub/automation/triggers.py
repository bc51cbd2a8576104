"""Gift triggers (registration, first purchase, birthday, relatives' birthdays), expiry
warnings and activation notices: each selects its due occurrences set-based and claims them.

Occurrences (the idempotency key, with the mechanic and the customer):
  registration, first_purchase   the rule id (once per customer and rule)
  birthday                       rule id : year of the birthday
  relative_birthday              rule id : relative's birth date : name : year
  expiry_warning                 the local burn date
  activation                     the local activation date
Only occurrences due after the rule was switched on count (`since`), and at most
CATCH_UP back, so switching a trigger on never floods the whole base.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, case, exists, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from hub.automation.grants import claim, last_valid_day, window_start
from hub.automation.segments import mmdd
from hub.automation.settings import since_of
from hub.engine.expiry import local_date, local_day_start
from hub.engine.program import Program
from hub.ledger.models import Account, Lot
from hub.customers.models import Customer
from hub.receipts.models import Receipt
from hub.automation.models import MechanicEvent


def _not_claimed(tenant_id: str, mechanic: str, occurrence) -> object:
    return ~exists().where(MechanicEvent.tenant_id == tenant_id, MechanicEvent.mechanic == mechanic,
                           MechanicEvent.customer_id == Customer.id, MechanicEvent.occurrence == occurrence)


def _rule_filters(rule: dict) -> list:
    out = []
    if rule.get("levels"):
        out.append(Customer.level_code.in_(rule["levels"]))
    if rule.get("sources"):
        out.append(Customer.source.in_(rule["sources"]))
    return out


def _gift_row(rule: dict, customer_id: str, occurrence: str, **extra) -> dict:
    return {"customer_id": customer_id, "occurrence": occurrence[:200], "rule_id": rule["id"],
            "amount": rule["amount"], "valid_days": rule["valid_days"],
            "delay_days": rule.get("delay_days") or 0, **extra}


def registration(session: Session, tenant_id: str, program: Program, rule: dict, at: datetime) -> int:
    start = window_start(since_of(rule), at)
    ids = session.scalars(select(Customer.id).where(
        Customer.tenant_id == tenant_id, Customer.created_at >= start, Customer.created_at <= at,
        *_rule_filters(rule), _not_claimed(tenant_id, "registration", rule["id"])))
    return claim(session, tenant_id, "registration", [_gift_row(rule, cid, rule["id"]) for cid in ids], at)


def first_purchase(session: Session, tenant_id: str, program: Program, rule: dict, at: datetime) -> int:
    """The customer's first receipt (by its moment), learnt by the hub after `since`."""
    start = window_start(since_of(rule), at)
    earlier = aliased(Receipt)
    rows = session.execute(
        select(Receipt.customer_id, Receipt.id).join(Customer, Customer.id == Receipt.customer_id)
        .where(Receipt.tenant_id == tenant_id, Receipt.customer_id.is_not(None),
               Receipt.created_at >= start, Receipt.created_at <= at, *_rule_filters(rule),
               ~exists().where(earlier.customer_id == Receipt.customer_id,
                               or_(earlier.moment < Receipt.moment,
                                   and_(earlier.moment == Receipt.moment, earlier.id < Receipt.id))),
               _not_claimed(tenant_id, "first_purchase", rule["id"])))
    return claim(session, tenant_id, "first_purchase",
                 [_gift_row(rule, cid, rule["id"], receipt_id=rid) for cid, rid in rows], at)


def _birthdays_due(rule: dict, at: datetime, tz: str) -> dict[int, date]:
    """month*100+day of birthdays whose gift day (N days before) fell in the window -> that
    birthday's date. 29 Feb birthdays are celebrated on 28 Feb in common years."""
    first = local_date(window_start(since_of(rule), at), tz)
    today = local_date(at, tz)
    due: dict[int, date] = {}
    day = first
    while day <= today:
        birthday = day + timedelta(days=rule.get("days_before") or 0)
        due[birthday.month * 100 + birthday.day] = birthday
        if birthday.month == 2 and birthday.day == 28 and not _leap(birthday.year):
            due[229] = birthday
        day += timedelta(days=1)
    return due


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def birthday(session: Session, tenant_id: str, program: Program, rule: dict, at: datetime) -> int:
    due = _birthdays_due(rule, at, program.timezone)
    key = mmdd(Customer.birth_date)
    occurrence = case({k: f"{rule['id']}:{d.year}" for k, d in due.items()}, value=key)
    rows = session.execute(select(Customer.id, key).where(
        Customer.tenant_id == tenant_id, Customer.birth_date.is_not(None), key.in_(sorted(due)),
        *_rule_filters(rule), _not_claimed(tenant_id, "birthday", occurrence)))
    return claim(session, tenant_id, "birthday",
                 [_gift_row(rule, cid, f"{rule['id']}:{due[int(k)].year}") for cid, k in rows], at)


_RELATIVES_SQL = {
    "postgresql": """
        SELECT c.id, r.value->>'birth_date', coalesce(r.value->>'name', '')
        FROM customers c, json_array_elements(c.relatives) AS r(value)
        WHERE c.tenant_id = :tenant AND json_typeof(c.relatives) = 'array'
          AND c.relatives::text <> '[]' AND substr(r.value->>'birth_date', 6, 5) IN :days""",
    "sqlite": """
        SELECT c.id, json_extract(r.value, '$.birth_date'), coalesce(json_extract(r.value, '$.name'), '')
        FROM customers c, json_each(c.relatives) AS r
        WHERE c.tenant_id = :tenant AND json_type(c.relatives) = 'array'
          AND substr(json_extract(r.value, '$.birth_date'), 6, 5) IN :days""",
}


def relative_birthday(session: Session, tenant_id: str, program: Program, rule: dict, at: datetime) -> int:
    due = _birthdays_due(rule, at, program.timezone)
    days = tuple(sorted(f"{k // 100:02d}-{k % 100:02d}" for k in due))
    stmt = text(_RELATIVES_SQL[session.get_bind().dialect.name]).bindparams(
        bindparam("days", expanding=True))
    rows = session.execute(stmt, {"tenant": tenant_id, "days": list(days)}).all()
    if rule.get("levels") or rule.get("sources"):
        allowed = set(session.scalars(select(Customer.id).where(
            Customer.id.in_({r[0] for r in rows}), *_rule_filters(rule))))
        rows = [r for r in rows if r[0] in allowed]
    out = []
    for cid, born, name in rows:
        birthday = due[int(born[5:7]) * 100 + int(born[8:10])]
        out.append(_gift_row(rule, cid, f"{rule['id']}:{born}:{name}:{birthday.year}",
                             context={"relative": name}))
    return claim(session, tenant_id, "relative_birthday", out, at)


GIFT_TRIGGERS = {"registration": registration, "first_purchase": first_purchase,
                 "birthday": birthday, "relative_birthday": relative_birthday}


def expiry_warnings(session: Session, tenant_id: str, program: Program, part: dict, at: datetime) -> int:
    """One message per customer and burn date, `days_before` days ahead (two days of catch-up
    while the bonuses have not burnt yet): amount and last day."""
    tz = program.timezone
    n = part.get("days_before") or 7
    today = local_date(at, tz)
    lo = max(at, local_day_start(today + timedelta(days=n - 2), tz))
    since = since_of(part)
    if since is not None:
        lo = max(lo, local_day_start(local_date(since, tz) + timedelta(days=n), tz))
    hi = local_day_start(today + timedelta(days=n + 1), tz)
    rows = session.execute(
        select(Account.customer_id, Lot.expires_at, func.sum(Lot.remaining))
        .join(Account, Account.id == Lot.account_id)
        .where(Lot.tenant_id == tenant_id, Lot.remaining > 0, Lot.expires_at >= lo, Lot.expires_at < hi)
        .group_by(Account.customer_id, Lot.expires_at))
    per: dict[tuple[str, date], int] = defaultdict(int)
    for cid, expires_at, amount in rows:
        per[(cid, last_valid_day(expires_at, tz))] += int(amount)
    return claim(session, tenant_id, "expiry_warning", [
        {"customer_id": cid, "occurrence": day.isoformat(),
         "context": {"bonuses_kopecks": amount, "date": day.strftime("%d.%m.%Y")}}
        for (cid, day), amount in sorted(per.items())], at)


def activations(session: Session, tenant_id: str, program: Program, part: dict, at: datetime) -> int:
    """Bonuses accrued with an activation delay that became spendable since the last days."""
    tz = program.timezone
    lo = at - timedelta(days=2)
    since = since_of(part)
    if since is not None:
        lo = max(lo, since)
    rows = session.execute(
        select(Account.customer_id, Lot.active_from, Lot.created_at, Lot.remaining)
        .join(Account, Account.id == Lot.account_id)
        .where(Lot.tenant_id == tenant_id, Lot.remaining > 0, Lot.active_from > lo,
               Lot.active_from <= at, or_(Lot.expires_at.is_(None), Lot.expires_at > at)))
    per: dict[tuple[str, date], int] = defaultdict(int)
    for cid, active_from, created_at, amount in rows:
        if active_from - created_at > timedelta(minutes=30):     # a real activation delay
            per[(cid, local_date(active_from, tz))] += int(amount)
    return claim(session, tenant_id, "activation", [
        {"customer_id": cid, "occurrence": day.isoformat(), "context": {"bonuses_kopecks": amount}}
        for (cid, day), amount in sorted(per.items())], at)
