"""What both МойСклад paths (Loyalty API and JSON API webhooks) share: the receipt source,
connection settings, money at the edge, finding our customer for a МойСклад counterparty,
and the idempotency body that makes a sale seen by both paths count once."""
from __future__ import annotations

from typing import TYPE_CHECKING

import logging
import re
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.money import kopecks_json
from connectors.receipts import operation_body, spread_return
from hub.errors import DomainError, NotFound
from hub.extensions import unit_of_work
from hub.moments import parse_moment
from hub.customers.operations import find_customers, get_customer
from hub.programs.operations import get_program
from moysklad.models import CounterpartyLink

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection
    from hub.customers.models import Customer

log = logging.getLogger("kopilka.moysklad")

KIND = "moysklad"
# The receipt source of every МойСклад sale and return, whichever path brought it.
# One value for both paths is what makes a sale seen by the Loyalty API and by a webhook
# count once: МойСклад document ids are UUIDs unique across accounts, and receipts are
# keyed by (tenant, source, external id), so the connection need not be part of the key
# (it would not fit the 30-character source column either).
SOURCE = "moysklad"

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Connection settings (Connection.settings) this adapter reads, with their defaults.
DEFAULTS = {
    "confirm_new_customers": False,   # a new customer needs a code sent to the phone
    "verify_spending": False,         # spending bonuses needs a code sent to the customer
    "code_ttl_seconds": 600,          # how long a code is valid
    "code_repeat_seconds": 60,        # a new code for the same person not before this
    "loyalty_api": False,             # set by register-loyalty: the Loyalty API is the primary path
    "json_api_base": "https://api.moysklad.ru/api/remap/1.2",
    "vendor_api_base": "https://apps-api.moysklad.ru/api/vendor/1.0",
}


def setting(conn: Connection, name: str):
    value = (conn.settings or {}).get(name, DEFAULTS.get(name))
    if isinstance(DEFAULTS.get(name), bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on", "да")
        return bool(value)
    if isinstance(DEFAULTS.get(name), int):
        try:
            return int(value)
        except (TypeError, ValueError):
            return DEFAULTS[name]
    return value


# --- money and numbers at the edge -------------------------------------------------------

money = kopecks_json    # kopecks as a JSON number of roubles (hub.money)


def number(value: Decimal):
    """A quantity or percent as a JSON number."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def entity_id(meta: dict | None) -> str | None:
    """The id of a МойСклад meta: its `id`, or the last segment of its `href`."""
    if not meta:
        return None
    if meta.get("id"):
        return str(meta["id"]).strip() or None
    href = (meta.get("href") or "").split("?", 1)[0].rstrip("/")
    return href.rsplit("/", 1)[-1] or None


def parse_ms_moment(session: Session, tenant_id: str, text: str | None, now: datetime,
                    field: str = "moment") -> datetime:
    """МойСклад moments ("2016-04-18 15:06:00[.000]") are the tenant's local time."""
    return parse_moment(text, get_program(session, tenant_id).timezone, now, field)


def payment_method(cash: int, card: int) -> str | None:
    if cash and card:
        return "mixed"
    if card:
        return "card"
    if cash:
        return "cash"
    return None


# --- customers ------------------------------------------------------------------------------

def _customer(session: Session, tenant_id: str, customer_id: str) -> Customer | None:
    try:
        return get_customer(session, tenant_id, customer_id)
    except NotFound:
        return None


def resolve_agent(session: Session, conn: Connection, *, ms_id: str | None = None,
                  card: str | None = None, phone: str | None = None) -> Customer | None:
    """Our customer for a МойСклад counterparty: by a remembered link of its id, by our own
    id (search rows give МойСклад our UUID), by discount card, then by phone."""
    if ms_id:
        linked = session.scalar(select(CounterpartyLink.customer_id).where(
            CounterpartyLink.tenant_id == conn.tenant_id,
            CounterpartyLink.connection_id == conn.id, CounterpartyLink.ms_id == ms_id))
        if linked and (found := _customer(session, conn.tenant_id, linked)) is not None:
            return found
        if UUID_RE.match(ms_id) and (found := _customer(session, conn.tenant_id, ms_id)) is not None:
            return found
    if card:
        found = find_customers(session, conn.tenant_id, card=str(card).strip())
        if found:
            return found[0]
    if phone:
        try:
            found = find_customers(session, conn.tenant_id, phone=phone)
        except DomainError:     # not a phone number we can read: not a way to find anyone
            found = []
        if found:
            return found[0]
    return None


def ms_link_of(session: Session, conn: Connection, customer_id: str) -> tuple[str | None, str | None]:
    """(МойСклад's id, the name as the till registered it) of our customer, if linked."""
    row = session.execute(select(CounterpartyLink.ms_id, CounterpartyLink.name).where(
        CounterpartyLink.tenant_id == conn.tenant_id, CounterpartyLink.connection_id == conn.id,
        CounterpartyLink.customer_id == customer_id).order_by(CounterpartyLink.created_at).limit(1)).first()
    return (row[0], row[1]) if row else (None, None)


def link_counterparty(session: Session, conn: Connection, ms_id: str | None, customer_id: str,
                      name: str | None = None) -> None:
    """Remember МойСклад's id of our customer (first link wins) and the name the till
    registered it with (search answers it as it was); commits."""
    if not ms_id or len(ms_id) > 64 or ms_id == customer_id:
        return
    exists = session.scalar(select(CounterpartyLink.id).where(
        CounterpartyLink.connection_id == conn.id, CounterpartyLink.ms_id == ms_id))
    if exists:
        session.rollback()
        return
    try:
        with unit_of_work(session):
            session.add(CounterpartyLink(tenant_id=conn.tenant_id, connection_id=conn.id,
                                         ms_id=ms_id, customer_id=customer_id, name=name))
    except IntegrityError:      # a concurrent call linked it first (rolled back)
        pass


# --- idempotency bodies shared by both paths ------------------------------------------------

def sale_body(document_id: str, customer_id: str | None, lines) -> dict:
    """A МойСклад sale's idempotency body, (assortment, quantity) lines, alike on both paths."""
    return operation_body("moysklad_retaildemand", document_id, lines, customer=customer_id)


def return_body(return_id: str, demand_id: str, lines) -> dict:
    return operation_body("moysklad_retailsalesreturn", return_id, lines, demand=demand_id)


def line_ids(assortments: list[str]) -> list[str]:
    """Receipt line ids from assortment ids: the first line of a product is its id, a
    repeated one (a line the till split, or scanned twice) gets "#2", "#3"…"""
    seen: dict[str, int] = {}
    out = []
    for a in assortments:
        seen[a] = seen.get(a, 0) + 1
        out.append(a if seen[a] == 1 else f"{a}#{seen[a]}")
    return out


def return_quantities(sale_lines: list[dict], returned: dict, requested: list[tuple[str, Decimal]]
                      ) -> dict[str, Decimal]:
    """Returned quantities of assortments spread over the sale's lines of those products
    (the lines carry the assortment as their product): connectors.receipts.spread_return."""
    return spread_return(sale_lines, returned, [(None, assortment, qty) for assortment, qty in requested])
