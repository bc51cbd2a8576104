"""Per-mechanic results (seed 003's "Механики и акции"): conversion, revenue, cost, profit.

For the occurrences carried out in the period: a customer converted when they bought between
the occurrence and the end of its gift's validity (30 days for a message without a gift);
revenue is what those purchases paid; cost is the gift bonuses spent plus what the messages
cost (the provider's price when known, else the expected one); profit = revenue - cost.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.notify.models import OutboxMessage
from hub.ledger.models import Lot, LotDraw, Posting
from hub.receipts.models import Receipt
from hub.automation.models import MechanicEvent

MESSAGE_WINDOW = timedelta(days=30)


def mechanic_stats(session: Session, tenant_id: str, since: datetime, until: datetime) -> list[dict]:
    events = session.execute(
        select(MechanicEvent.mechanic, MechanicEvent.customer_id, MechanicEvent.amount, MechanicEvent.done_at,
               MechanicEvent.expires_at, MechanicEvent.posting_id, MechanicEvent.message_key)
        .where(MechanicEvent.tenant_id == tenant_id, MechanicEvent.status == "done",
               MechanicEvent.done_at >= since, MechanicEvent.done_at < until)).all()
    out: dict[str, dict] = {}
    for mech, cid, amount, done_at, expires_at, posting_id, message_key in events:
        row = out.setdefault(mech, {"mechanic": mech, "events": 0, "customers": set(), "granted": 0, "spent": 0,
                                    "converted": 0, "revenue": 0, "message_cost": 0})
        row["events"] += 1
        row["customers"].add(cid)
        if mech != "referral_reversal":
            row["granted"] += amount or 0
        end = expires_at or done_at + MESSAGE_WINDOW
        paid, n = session.execute(select(func.coalesce(func.sum(Receipt.amount_to_pay), 0), func.count())
                                  .where(Receipt.tenant_id == tenant_id, Receipt.customer_id == cid,
                                         Receipt.moment >= done_at, Receipt.moment < end)).one()
        if n:
            row["converted"] += 1
            row["revenue"] += int(paid)
        if posting_id:
            spent = session.scalar(
                select(func.coalesce(-func.sum(LotDraw.amount), 0))
                .join(Lot, Lot.id == LotDraw.lot_id).join(Posting, Posting.id == LotDraw.posting_id)
                .where(Lot.posting_id == posting_id, Posting.kind == "spend"))
            row["spent"] += int(spent or 0)
        if message_key:
            row["message_cost"] += _message_cost(session, tenant_id, message_key)
    result = []
    for row in out.values():
        row["customers"] = len(row["customers"])
        row["conversion"] = round(row["converted"] * 100 / row["events"], 2) if row["events"] else 0.0
        row["cost"] = row["spent"] + row["message_cost"]
        row["profit"] = row["revenue"] - row["cost"]
        result.append(row)
    return sorted(result, key=lambda r: r["mechanic"])


def _message_cost(session: Session, tenant_id: str, key: str) -> int:
    row = session.execute(select(OutboxMessage.cost, OutboxMessage.expected_cost)
                          .where(OutboxMessage.tenant_id == tenant_id, OutboxMessage.dedupe_key == key)).first()
    if row is None:
        return 0
    return int(row[0] if row[0] is not None else (row[1] or 0))


__all__ = ["mechanic_stats"]
