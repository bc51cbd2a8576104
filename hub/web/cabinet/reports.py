"""The owner's dashboard figures: months in the tenant's time zone, a few grouped queries."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.automation.models import CustomerSegment
from hub.automation.segments import SEGMENTS
from hub.customers.models import Customer
from hub.receipts.models import Receipt, ReceiptReturn
from hub.web.ui.formatting import MONTHS_SHORT


def month_starts(now: datetime, tz: str, count: int) -> list[datetime]:
    """The UTC starts of the last `count` local months (oldest first) and of the next one."""
    local = now.astimezone(ZoneInfo(tz))
    y, m = local.year, local.month
    months = []
    for _ in range(count):
        months.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    months.reverse()
    ny, nm = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    months.append((ny, nm))
    return [datetime(y, m, 1, tzinfo=ZoneInfo(tz)).astimezone(timezone.utc) for y, m in months]


def dashboard(session: Session, tenant_id: str, now: datetime, tz: str, months: int = 6) -> dict:
    starts = month_starts(now, tz, months)
    rows = []
    for a, b in zip(starts, starts[1:]):
        anon = Receipt.customer_id.is_(None)
        sales = session.execute(
            select(anon, func.count(), func.coalesce(func.sum(Receipt.amount_to_pay), 0),
                   func.coalesce(func.sum(Receipt.amount - Receipt.amount_to_pay), 0),
                   func.coalesce(func.sum(Receipt.bonus_earned), 0),
                   func.coalesce(func.sum(Receipt.bonus_spent), 0))
            .where(Receipt.tenant_id == tenant_id, Receipt.moment >= a, Receipt.moment < b)
            .group_by(anon)).all()
        returned = dict(session.execute(
            select(anon, func.coalesce(func.sum(ReceiptReturn.amount_returned), 0))
            .join(Receipt, Receipt.id == ReceiptReturn.receipt_id)
            .where(ReceiptReturn.tenant_id == tenant_id, ReceiptReturn.moment >= a, ReceiptReturn.moment < b)
            .group_by(anon)).all())
        row = {"label": f"{MONTHS_SHORT[a.astimezone(ZoneInfo(tz)).month - 1]} {a.astimezone(ZoneInfo(tz)).year}",
               "members": dict(count=0, revenue=0, discount=0, earned=0, spent=0),
               "anonymous": dict(count=0, revenue=0, discount=0, earned=0, spent=0)}
        for is_anon, count, revenue, discount, earned, spent in sales:
            key = "anonymous" if is_anon else "members"
            row[key].update(count=int(count), revenue=int(revenue), discount=int(discount),
                            earned=int(earned), spent=int(spent))
        for is_anon, amount in returned.items():
            row["anonymous" if is_anon else "members"]["revenue"] -= int(amount)
        for key in ("members", "anonymous"):
            part = row[key]
            part["average"] = part["revenue"] // part["count"] if part["count"] else 0
        total = row["members"]["revenue"] + row["anonymous"]["revenue"]
        row["members_share"] = round(100 * row["members"]["revenue"] / total, 1) if total > 0 else None
        rows.append(row)
    customers = session.scalar(select(func.count()).select_from(Customer).where(Customer.tenant_id == tenant_id))
    new_this_month = session.scalar(select(func.count()).select_from(Customer).where(
        Customer.tenant_id == tenant_id, Customer.created_at >= starts[-2]))
    return {"months": rows, "customers": int(customers or 0), "new_this_month": int(new_this_month or 0),
            "segments": segments(session, tenant_id)}


def segments(session: Session, tenant_id: str) -> list[dict]:
    """The recency segments (hub/automation) with their counts and shares."""
    counts = dict(session.execute(select(CustomerSegment.segment, func.count())
                                  .where(CustomerSegment.tenant_id == tenant_id)
                                  .group_by(CustomerSegment.segment)).all())
    total = sum(counts.values())
    order = ("potential", "dozing", "core", "newcomers", "sleeping", "lost", "no_purchases")
    return [{"code": c, "name": SEGMENTS.get(c, c), "count": int(counts.get(c, 0)),
             "share": round(100 * counts.get(c, 0) / total, 2) if total else 0.0}
            for c in order if c in SEGMENTS]
