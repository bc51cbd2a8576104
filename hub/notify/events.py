"""Messages that business operations write in their own transaction.

`on_sale` is called by hub.receipts.operations._commit at the end of a committed sale (inside
the sale's transaction, after the receipt row and the ledger postings), so every surface that
commits through `commit_sale` (API, Evotor, МойСклад, 1С) gets the same messages. Everything
runs in a SAVEPOINT: any messaging error is logged, rolled back to the savepoint, and the
sale goes on. Dedupe keys come from the receipt id, so a replayed sale (idempotent replay
never reaches `_commit`) or a second call queues nothing new:

  sale:<receipt id>            the bonuses earned and spent and the balance (service message);
                               only when bonuses moved
  first_purchase:<receipt id>  the customer's first purchase, when the tenant switched
                               `first_purchase_message` on in the notify settings; it carries
                               the same figures and replaces the "sale" message for that receipt
                               (one SMS, not two). Skipped when an automation gift rule for the
                               first purchase applies: hub.automation then sends its own "gift"
                               message (dedupe `auto:<event id>`), and this sale gets "sale".
  level_change:<receipt id>    the sale moved the customer to another level (service message)
  review:<receipt id>          a review request with a link to
                               {KOPILKA_PUBLIC_URL}/my/<tenant id>/review/<receipt id>, when the
                               tenant switched `review_requests` on; advertising (needs consent,
                               waits for the end of quiet hours)

Returns send no message: no topic has a text that fits a return.
Gifts, birthdays, win-back steps, expiry warnings and activation are queued by hub.automation.
"""
from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.clock import utcnow
from hub.config import Config
from hub.customers.models import Customer
from hub.receipts.models import Receipt
from hub.notify.models import OutboxMessage
from hub.notify.outbox import PENDING_KEY, enqueue
from hub.notify.rules import get_settings
from hub.ledger import account_view
from hub.programs.operations import get_program
from hub.notify.registry import enabled_channels
from hub.automation.settings import load

log = logging.getLogger("kopilka.notify")


def review_link(tenant_id: str, receipt_id: str) -> str:
    return f"{Config().PUBLIC_URL.rstrip('/')}/my/{tenant_id}/review/{receipt_id}"


def _automation_first_purchase_gift(session: Session, tenant_id: str, customer: Customer) -> bool:
    """An enabled first-purchase gift rule of hub.automation that covers this customer."""
    for rule in load(session, tenant_id).get("gifts") or []:
        if rule.get("event") != "first_purchase" or not rule.get("enabled"):
            continue
        if rule.get("levels") and customer.level_code not in rule["levels"]:
            continue
        if rule.get("sources") and customer.source not in rule["sources"]:
            continue
        return True
    return False


def _is_first_purchase(session: Session, customer: Customer) -> bool:
    """No purchase before this one: the count (already including this sale) is 1 and the hub
    knows no other receipt of the customer (a fully returned earlier sale lowers the count)."""
    if customer.purchase_count != 1:
        return False
    return session.scalar(select(func.count()).select_from(Receipt)
                          .where(Receipt.customer_id == customer.id)) == 1


def _queue(session: Session, tenant_id: str, payload: dict) -> list[OutboxMessage]:
    customer_data = payload.get("customer") or {}
    customer_id, receipt_id = customer_data.get("id"), payload.get("id")
    if not customer_id or not receipt_id:
        return []
    customer = session.get(Customer, customer_id)
    if customer is None or customer.tenant_id != tenant_id:
        return []
    settings = get_settings(session, tenant_id)
    totals = payload.get("totals") or {}
    earned = int(totals.get("bonus_earned") or 0)
    spent = int(totals.get("bonus_spent") or 0)
    session.flush()
    balance = account_view(session, tenant_id, customer_id, utcnow()).available
    money = {"bonuses_kopecks": earned, "spent_kopecks": spent, "balance_kopecks": balance}
    out: list[OutboxMessage | None] = []

    first = None
    if settings.get("first_purchase_message") and _is_first_purchase(session, customer) \
            and not _automation_first_purchase_gift(session, tenant_id, customer):
        first = enqueue(session, tenant_id=tenant_id, customer_id=customer_id, topic="first_purchase",
                        context=money, dedupe_key=f"first_purchase:{receipt_id}")
        out.append(first)
    if first is None and (earned or spent):
        out.append(enqueue(session, tenant_id=tenant_id, customer_id=customer_id, topic="sale",
                           context=money, dedupe_key=f"sale:{receipt_id}"))

    before = (customer_data.get("level") or {}).get("code")
    after = (customer_data.get("level_after") or {}).get("code")
    if before and after and before != after:
        names = {lv.code: lv.name for lv in get_program(session, tenant_id).levels}
        out.append(enqueue(session, tenant_id=tenant_id, customer_id=customer_id, topic="level_change",
                           context={"level": names.get(after, after), "level_code": after,
                                    "previous_level": names.get(before, before), **money},
                           dedupe_key=f"level_change:{receipt_id}"))

    if settings.get("review_requests"):
        out.append(enqueue(session, tenant_id=tenant_id, customer_id=customer_id, topic="review_request",
                           context={"link": review_link(tenant_id, receipt_id), "receipt_id": receipt_id},
                           dedupe_key=f"review:{receipt_id}", advertising=True))
    return [m for m in out if m is not None]


def on_sale(session: Session, tenant_id: str, payload: dict) -> list[OutboxMessage]:
    """Queue the messages of a committed sale (`payload`: the answer of commit_sale, with
    its receipt id) in the sale's transaction. Never raises: a messaging error is logged,
    the savepoint rolled back, and the sale proceeds with no message."""
    if not enabled_channels(session, tenant_id):
        return []     # a tenant with no channel sends nothing: the till's path stays as cheap as before
    session.flush()   # the sale's own writes stay outside the savepoint
    pending = list(session.info.get(PENDING_KEY) or [])
    try:
        with session.begin_nested():
            messages = _queue(session, tenant_id, payload)
    except Exception:  # a sale never fails because of a message
        log.exception("sale messages for receipt %s of tenant %s not queued",
                      payload.get("id"), tenant_id)
        session.info[PENDING_KEY] = pending
        for key in ("notify_channels", "notify_templates", "notify_settings"):
            session.info.pop(key, None)
        return []
    # A savepoint rolled back inside enqueue (a duplicate on PostgreSQL) clears the session's
    # list of messages to deliver after the commit: put back what was there and ours.
    ids = pending + [m.id for m in messages if m.status == "queued" and m.id not in pending]
    if ids:
        session.info[PENDING_KEY] = ids
    return messages
