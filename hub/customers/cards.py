"""Loyalty cards as a till sees them: find the card's holder by card code, phone or e-mail
(in that order), and lock a card's whole spendable balance for one till.

A lock is a hold of everything spendable under (source, reference): other tills see no
bonuses to spend, the lock lapses when the hold expires, unlocking releases it, and a sale
committed with `hold_reference=reference` turns it into the spend exactly once
(hub.receipts.operations.commit_sale). Used by the 1С loyalty-server protocol, whose cash
desks lock a card before paying with bonuses and write off after printing the receipt.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from hub.errors import DomainError
from hub.ledger import account_view, active_holds, lock_account, place_hold, release_expired
from hub.customers.models import Customer
from hub.moments import utcnow
from hub.customers.operations import find_customers
from hub.ledger.models import Account, Hold
from hub.extensions import unit_of_work


def find_card_holder(session: Session, tenant_id: str, *, code: str | None = None,
                     phone: str | None = None, email: str | None = None) -> tuple[Customer | None, str]:
    """(customer, how found: "КодКарты" | "Телефон" | "АдресЭП" | "")."""
    if code:
        found = find_customers(session, tenant_id, card=code[:64])
        if found:
            return found[0], "КодКарты"
    if phone:
        try:
            found = find_customers(session, tenant_id, phone=phone[:32])
        except DomainError:
            found = []
        if found:
            return found[0], "Телефон"
    if email and "@" in email:
        customer = session.scalars(select(Customer).where(
            Customer.tenant_id == tenant_id,
            func.lower(Customer.email) == email.strip().lower()[:200])
            .order_by(Customer.created_at)).first()
        if customer is not None:
            return customer, "АдресЭП"
    return None, ""


def is_locked(session: Session, tenant_id: str, customer_id: str, source: str, reference: str) -> bool:
    """Whether the lock (an active, unexpired hold under `reference`) is in place: one query."""
    return session.scalar(
        select(Hold.id).join(Account, Account.id == Hold.account_id)
        .where(Account.tenant_id == tenant_id, Account.customer_id == customer_id,
               Hold.tenant_id == tenant_id, Hold.source == source, Hold.reference == reference,
               Hold.status == "active", Hold.expires_at > utcnow()).limit(1)) is not None


def card_holder_and_lock(session: Session, tenant_id: str, code: str, *, source: str,
                         reference_prefix: str) -> tuple[Customer | None, bool]:
    """The holder of card `code` and whether their lock (an active, unexpired hold under
    `reference_prefix` + customer id) is in place — one query, for the till's hot path."""
    held = (select(Hold.id).join(Account, Account.id == Hold.account_id)
            .where(Account.tenant_id == tenant_id, Account.customer_id == Customer.id,
                   Hold.tenant_id == tenant_id, Hold.source == source,
                   Hold.reference == literal(reference_prefix) + Customer.id,
                   Hold.status == "active", Hold.expires_at > utcnow())
            .exists())
    row = session.execute(select(Customer, held).where(Customer.tenant_id == tenant_id,
                                                       Customer.card_number == code[:64])
                          .order_by(Customer.created_at).limit(1)).first()
    return (row[0], bool(row[1])) if row is not None else (None, False)


def lock_balance(session: Session, tenant_id: str, customer_id: str, *, source: str,
                 reference: str, ttl: timedelta) -> int | None:
    """Hold everything the customer can spend now under `reference`; kopecks held, or None
    when that lock is already in place. Commits."""
    with unit_of_work(session):
        account = lock_account(session, tenant_id, customer_id)
        now = utcnow()
        release_expired(session, account, now)
        if active_holds(session, account, source=source, reference=reference):
            session.rollback()
            return None
        view = account_view(session, tenant_id, customer_id, now)
        amount = max(view.available, 0)
        if amount:
            place_hold(session, account, amount, now, expires_at=now + ttl, source=source,
                       reference=reference)
    return amount
