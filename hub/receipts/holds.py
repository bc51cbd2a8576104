"""Quotes that hold bonuses at a till until the receipt is closed or cleared."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import engine
from hub.engine.text import rub
from hub.errors import Conflict, Invalid
from hub.ledger import (
    InsufficientBonuses, account_view, active_holds, lock_account, place_hold, release_expired,
    release_hold,
)
from hub.receipts.models import Receipt
from hub.moments import utcnow
from hub.customers.operations import resolve_customer
from hub.programs.operations import get_program
from hub.receipts.guards import require_customer_for_spend
from hub.promotions.operations import promotion_context
from hub.receipts.operations import SaleRequest, _state, quote_payload
from hub.extensions import unit_of_work

HOLD_TTL = timedelta(minutes=15)


def quote_and_hold(session: Session, tenant_id: str, source: str, req: SaleRequest,
                   ttl: timedelta = HOLD_TTL) -> dict:
    """Calculate the open receipt `req.external_id`; the bonuses it spends are held.

    A new quote for the same receipt replaces the previous hold, so a cashier who edits
    the receipt never holds twice. Promotions (and the presented promo codes) are applied as
    the commit applies them (hub.receipts.operations._commit): after the account lock, the
    codes' rows locked in code order, so the quote and its commit agree and the two lock the
    same rows in the same order.
    """
    program = get_program(session, tenant_id)
    customer = resolve_customer(session, tenant_id, req.customer)
    require_customer_for_spend(customer, req.spend, req.spend_max)
    if customer is None:
        promo = promotion_context(session, tenant_id, None, req.moment, req.promo_codes)
        quote = engine.calculate(program, req.as_engine(), _state(None), promo=promo)
        session.rollback()
        return {**quote_payload(quote, None), "hold": None}
    now = utcnow()
    with unit_of_work(session):
        account = lock_account(session, tenant_id, customer.id)
        # Checked under the lock: a commit of this receipt racing this quote has finished by
        # now, and a closed receipt must not get a hold nobody will ever turn into a spend.
        if session.scalar(select(Receipt.id).where(
                Receipt.tenant_id == tenant_id, Receipt.source == source,
                Receipt.external_id == req.external_id)) is not None:
            raise Conflict("receipt_closed", "Чек уже закрыт и проведён в программе лояльности.")
        session.refresh(customer)
        release_expired(session, account, now)
        for old in active_holds(session, account, source=source, reference=req.external_id):
            release_hold(session, account, old, now)
        view = account_view(session, tenant_id, customer.id, now)   # spendable: what the ledger holds now
        promo = promotion_context(session, tenant_id, customer, req.moment, req.promo_codes,
                                  lock=True)
        quote = engine.calculate(program, req.as_engine(), _state(customer, view), promo=promo)
        answer = quote_payload(quote, customer)
        answer["hold"] = None
        if quote.bonus_spent:
            try:
                hold = place_hold(session, account, quote.bonus_spent, now, expires_at=now + ttl,
                                  source=source, reference=req.external_id)
            except InsufficientBonuses as exc:
                raise Invalid("insufficient_bonuses",
                              f"Недостаточно бонусов: доступно {rub(exc.available)}.") from exc
            session.flush()
            answer["hold"] = {"id": hold.id, "amount": hold.amount,
                              "expires_at": hold.expires_at.isoformat()}
    return answer


def release_receipt_hold(session: Session, tenant_id: str, source: str, reference: str,
                         customer_ref: dict | None) -> int:
    """The till cleared the receipt: give its held bonuses back. Returns kopecks released."""
    customer = resolve_customer(session, tenant_id, customer_ref)
    if customer is None:
        session.rollback()
        return 0
    with unit_of_work(session):
        account = lock_account(session, tenant_id, customer.id)
        now = utcnow()
        released = 0
        for hold in active_holds(session, account, source=source, reference=reference):
            release_hold(session, account, hold, now)
            released += hold.amount
    return released
