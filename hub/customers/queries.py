"""Reads of customers by what a till sends, for the adapters (they never query the table)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from hub.customers.models import Customer


def tenant_customer(session: Session, tenant_id: str, customer_id: str) -> Customer | None:
    """The tenant's customer with this id; None for another tenant's id or an unknown one (a
    till may send any string where the hub's card reference belongs)."""
    found = session.get(Customer, customer_id)
    return found if found is not None and found.tenant_id == tenant_id else None
