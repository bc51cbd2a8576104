"""Messages that business operations write in their own transaction.

`on_sale` is meant to be called by hub.services.receipts at the end of a committed sale
(inside the same transaction, after the ledger postings): one service message with the
bonuses earned and spent and the balance. Gifts, birthdays, first purchase, level changes
and win-back steps are queued by hub.automation through `hub.notify.enqueue`.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from hub.clock import utcnow
from hub.models.notify import OutboxMessage
from hub.notify.outbox import enqueue


def on_sale(session: Session, tenant_id: str, payload: dict) -> OutboxMessage | None:
    """The "sale" message for a committed sale's answer (`payload` of commit_sale)."""
    from hub.ledger import account_view
    customer = payload.get("customer") or {}
    customer_id = customer.get("id")
    if not customer_id:
        return None
    totals = payload.get("totals") or {}
    earned = int(totals.get("bonus_earned") or 0)
    spent = int(totals.get("bonus_spent") or 0)
    if not earned and not spent:
        return None
    session.flush()
    balance = account_view(session, tenant_id, customer_id, utcnow()).available
    return enqueue(session, tenant_id=tenant_id, customer_id=customer_id, topic="sale",
                   context={"bonuses_kopecks": earned, "spent_kopecks": spent,
                            "balance_kopecks": balance},
                   dedupe_key=f"sale:{payload.get('id') or payload.get('external_id')}")
