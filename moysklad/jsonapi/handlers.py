"""Inbox handlers: apply a stored webhook event by fetching its document from the JSON API.

A sale is committed with the same source and external id (the document id) and the same
idempotency body as the Loyalty API path builds, so a sale seen by both paths counts once.
When the connection's primary path is the Loyalty API (setting `loyalty_api`, set by
`kopilka moysklad register-loyalty`), an event waits one retry interval before it is
applied, so the till's own call — which knows the bonuses spent — comes first.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import logging

from connectors.http import OutboundError
from connectors.inbox import PermanentError
from connectors.registry import get_connection
from hub.errors import Conflict, Invalid, NotFound
from hub.moments import utcnow
from hub.receipts.operations import ReturnRequest, SaleRequest, commit_sale, find_receipt, return_sale
from moysklad.common import (
    KIND, SOURCE, link_counterparty, parse_ms_moment, payment_method, resolve_agent, return_body,
    return_quantities, sale_body, setting,
)
from moysklad.jsonapi.client import NotConfigured, fetch_document
from moysklad.jsonapi.mapping import (
    BadDocument, agent_of, demand_of, document_lines, engine_positions, kopecks, store_of,
)

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection, InboundEvent

log = logging.getLogger("kopilka.moysklad.webhooks")


class Deferred(Exception):
    """Not yet: the Loyalty API path gets the first chance (the event is retried)."""


class SaleNotYetApplied(Exception):
    """A member's return arrived before its sale was applied (the event is retried)."""


def _connection(session, event: InboundEvent) -> Connection:
    try:
        conn = get_connection(session, event.tenant_id, event.connection_id or "")
    except NotFound as exc:
        raise PermanentError("подключение МойСклад удалено") from exc
    if conn.kind != KIND or conn.status != "active":
        raise PermanentError("подключение МойСклад отключено")
    return conn


def _fetch(conn: Connection, entity_type: str, entity_id: str) -> dict:
    try:
        doc = fetch_document(conn, entity_type, entity_id)
    except (NotConfigured, ValueError) as exc:
        raise PermanentError(str(exc)) from exc
    except OutboundError as exc:
        if exc.status == 404:
            raise PermanentError(f"документ {entity_type}/{entity_id} не найден в МойСклад") from exc
        raise
    if doc.get("accountId") and doc["accountId"] != conn.external_account:
        raise PermanentError("документ другого аккаунта МойСклад")
    return doc


def _moment(session, conn: Connection, doc: dict):
    try:
        return parse_ms_moment(session, conn.tenant_id, doc.get("moment"), utcnow())
    except (Invalid, Conflict) as exc:      # retrying cannot change the answer
        raise PermanentError(exc.message) from exc


def apply_retaildemand(session, event: InboundEvent) -> None:
    conn = _connection(session, event)
    document_id = event.body["id"]
    if find_receipt(session, conn.tenant_id, document_id, SOURCE) is not None:
        log.info("retaildemand %s already applied (Loyalty API or an earlier event)", document_id)
        return
    if setting(conn, "loyalty_api") and event.attempts == 0:
        raise Deferred("ожидание продажи через Loyalty API")
    doc = _fetch(conn, "retaildemand", document_id)
    agent = agent_of(doc)
    customer = resolve_agent(session, conn, ms_id=agent["ms_id"], card=agent["card"], phone=agent["phone"])
    if customer is None:
        # Not a member (or МойСклад's default retail customer): nothing to record.
        log.info("retaildemand %s: counterparty %s is not in the program, skipped",
                 document_id, agent["ms_id"])
        session.rollback()
        return
    try:
        lines = document_lines(doc)
    except BadDocument as exc:
        raise PermanentError(f"retaildemand {document_id}: {exc}") from exc
    req = SaleRequest(
        external_id=document_id, moment=_moment(session, conn, doc), positions=engine_positions(lines),
        customer={"id": customer.id}, store=store_of(doc),
        payment_method=payment_method(kopecks(doc.get("cashSum")),
                                      kopecks(doc.get("noCashSum")) + kopecks(doc.get("qrSum"))),
        spend_settled=False)        # the document does not say which bonuses were spent
    key = sale_body(document_id, customer.id, [(ln.assortment, ln.quantity) for ln in lines])
    try:
        _, created = commit_sale(session, conn.tenant_id, SOURCE, req, key)
    except (Invalid, Conflict) as exc:      # retrying cannot change the answer
        raise PermanentError(exc.message) from exc
    if created:
        link_counterparty(session, conn, agent["ms_id"], customer.id)


def apply_retailsalesreturn(session, event: InboundEvent) -> None:
    conn = _connection(session, event)
    return_id = event.body["id"]
    if setting(conn, "loyalty_api") and event.attempts == 0:
        raise Deferred("ожидание возврата через Loyalty API")
    doc = _fetch(conn, "retailsalesreturn", return_id)
    demand_id = demand_of(doc)
    if not demand_id:
        log.info("retailsalesreturn %s is not linked to a sale, nothing to reverse", return_id)
        return
    receipt = find_receipt(session, conn.tenant_id, demand_id, SOURCE)
    if receipt is None:
        agent = agent_of(doc)
        if resolve_agent(session, conn, ms_id=agent["ms_id"], card=agent["card"], phone=agent["phone"]):
            raise SaleNotYetApplied(f"продажа {demand_id} ещё не учтена")
        log.info("retailsalesreturn %s: sale %s was not in the program, skipped", return_id, demand_id)
        session.rollback()
        return
    try:
        positions = [(ln.assortment, ln.quantity) for ln in document_lines(doc)]
    except BadDocument as exc:
        # Never read an unreadable return as "everything left": that would reverse the sale.
        raise PermanentError(f"retailsalesreturn {return_id}: {exc}") from exc
    quantities = (return_quantities(receipt.lines, receipt.returned or {}, positions)
                  if positions else None)
    req = ReturnRequest(external_id=return_id, moment=_moment(session, conn, doc), quantities=quantities)
    session.rollback()
    try:
        return_sale(session, conn.tenant_id, SOURCE, demand_id, req,
                    return_body(return_id, demand_id, positions))
    except (Invalid, Conflict) as exc:      # retrying cannot change the answer
        raise PermanentError(exc.message) from exc

