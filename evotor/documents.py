"""Reconciliation: Evotor's fiscal documents (SELL, PAYBACK) through the inbox.

The document webhook (user token) and the pull command (`kopilka evotor sync`) both store
each document in the inbox (dedupe key: connection + document id) and a job applies it:

* a SELL carrying our extra whose commit never arrived is committed from the document
  (positions and discounts as fiscalised; the quote's hold becomes the spend);
* a SELL with a customer but without our extra (the app was off) accrues, if the
  connection's setting `accrue_without_app` is on;
* a PAYBACK becomes a return of its base document (`base_document_id`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import logging

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from connectors.inbox import (
    PermanentError, is_pending, process_after_acknowledging, store_event,
)
from connectors.registry import connection_by_id
from hub.errors import Conflict, DomainError, Invalid, NotFound
from hub.extensions import db
from hub.moments import parse_moment, utcnow
from hub.customers.operations import find_customers, get_customer
from hub.programs.operations import get_program
from hub.receipts.operations import find_receipt
from hub.unavailable import database_unavailable
from evotor.common import (
    BAD_USER_TOKEN, INCORRECT, KIND, MISSING, PREFIX, SOURCE, SYNTAX, BadValue, EvotorError,
    cloud_error, first, money, setting, user_connection,
)
from evotor.mapping import (
    document_of_receipt_event, document_of_v1, document_positions, is_v1_document, our_extra, payback_line,
)
from evotor.models import EvotorReceipt
from evotor.terminal import commit_positions, promo_codes, return_items

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection, InboundEvent
    from hub.customers.models import Customer

log = logging.getLogger("kopilka.evotor.documents")

bp = Blueprint("evotor_documents", __name__, url_prefix=PREFIX)

@bp.errorhandler(413)
def _too_large(exc):  # the body limit (hub/web/limits.py), in Evotor's format
    return cloud_error(EvotorError(413, INCORRECT, exc.description, reason="too large"))

TYPES = ("SELL", "PAYBACK")
MAX_DOCUMENTS = 500


class SaleNotYetApplied(Exception):
    """A PAYBACK whose base SELL is still waiting in the inbox (the event is retried)."""


def document_id(doc: dict) -> str | None:
    value = first(doc, "id", "uuid")
    return str(value).strip()[:100] if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def document_type(doc: dict) -> str | None:
    value = first(doc, "type")
    return value if isinstance(value, str) else None


def check_documents(payload) -> list[dict]:
    """One document or an array; every one must have an id and a type."""
    docs = payload if isinstance(payload, list) else [payload] if isinstance(payload, dict) else None
    if docs is None or not all(isinstance(d, dict) for d in docs):
        raise EvotorError(400, SYNTAX, "Ожидается документ или массив документов (JSON).")
    if len(docs) > MAX_DOCUMENTS:
        raise EvotorError(400, INCORRECT, f"Не больше {MAX_DOCUMENTS} документов за раз.")
    for i, doc in enumerate(docs):
        if not document_id(doc):
            raise EvotorError(400, MISSING, f"Документ {i + 1}: не указан id.", "id", "missing")
        if not document_type(doc):
            raise EvotorError(400, MISSING, f"Документ {i + 1}: не указан type.", "type", "missing")
    return docs


def ingest(session, conn: Connection, docs: list[dict], store_uuid: str | None = None) -> tuple[int, list]:
    """Store the SELL and PAYBACK documents in the inbox; (how many relevant, new events)."""
    tenant_id, conn_id = conn.tenant_id, conn.id
    wanted = [d for d in docs if document_type(d) in TYPES]
    session.rollback()
    fresh = []
    for doc in wanted:
        body = dict(doc)
        if store_uuid and not first(body, "store_id", "storeUuid", "store_uuid"):
            body["store_id"] = store_uuid
        event, created = store_event(session, tenant_id=tenant_id, connection_id=conn_id, source=KIND,
                                     kind="document", dedupe_key=f"{conn_id}:{document_id(doc)}", body=body)
        if created:
            fresh.append(event)
    return len(wanted), fresh


def _receive(store_uuid: str | None, translate=None):
    session = db.session
    try:
        conn = user_connection(session)
        user = (request.headers.get("X-Evotor-User-Id") or "").strip()
        if conn is None or (user and user != conn.external_account):
            raise EvotorError(401, BAD_USER_TOKEN, "Неверный токен пользователя Эвотор.", "Authorization")
        if store_uuid is not None and (not store_uuid.strip() or len(store_uuid) > 100):
            raise EvotorError(400, INCORRECT, "Неверный идентификатор магазина.", "storeUuid")
        payload = request.get_json(silent=True, force=True)
        if translate is not None:
            try:
                payload = translate(payload)
            except BadValue as exc:
                raise EvotorError(400, INCORRECT, exc.message, exc.field) from exc
        docs = [document_of_v1(d) if is_v1_document(d) else d for d in check_documents(payload)]
        accepted, fresh = ingest(session, conn, docs, store_uuid)
    except EvotorError as err:
        session.rollback()
        return cloud_error(err)
    except Exception as exc:  # nothing acknowledged: Evotor sends it again
        if database_unavailable(exc):
            raise   # the app answers 503 with Retry-After in this surface's format
        log.exception("Evotor documents could not be stored")
        session.rollback()
        return cloud_error(EvotorError(500, 0, "Документы не сохранены, повторите.", reason="internal"))
    return process_after_acknowledging(jsonify({"accepted": accepted, "new": len(fresh)}),
                                       session, fresh)


@bp.route("/api/v1/inventories/stores/<store_uuid>/documents", methods=["PUT", "POST"])
def documents_of_store(store_uuid: str):
    return _receive(store_uuid)


@bp.post("/api/v2/receipts")
def receipt_event():
    """The receipt webhook v2 (ReceiptCreated), read as a document."""
    return _receive(None, translate=document_of_receipt_event)


@bp.post("/api/v2/documents")
@bp.post("/api/v1/documents")
def documents():
    return _receive(None)


# --- applying a document ------------------------------------------------------------------------

def _connection(session, event: InboundEvent) -> Connection:
    conn = connection_by_id(session, KIND, event.connection_id or "")
    if conn is None or conn.tenant_id != event.tenant_id:
        raise PermanentError("подключение Эвотор удалено")
    return conn


def _moment(session, conn: Connection, doc: dict, body: dict):
    value = first(doc, "close_date", "closeDate", "dateTime", "created_at") or first(body, "close_date")
    now = utcnow()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        from datetime import datetime, timezone
        return min(datetime.fromtimestamp(value / 1000, timezone.utc), now)
    if isinstance(value, str) and len(value) >= 5 and value[-5] in "+-" and value[-3] != ":":
        value = value[:-2] + ":" + value[-2:]          # "+0300" → "+03:00"
    try:
        return parse_moment(value if isinstance(value, str) else None,
                            get_program(session, conn.tenant_id).timezone, now, "close_date")
    except Invalid as exc:
        raise PermanentError(exc.message) from exc


def _payment(body: dict) -> str | None:
    kinds = set()
    for p in body.get("payments") or []:
        if isinstance(p, dict):
            kinds.add("cash" if p.get("type") == "CASH" else "card")
    return "mixed" if len(kinds) > 1 else (kinds.pop() if kinds else None)


def _customer_of(session, conn: Connection, doc: dict, body: dict) -> Customer | None:
    """The customer of a SELL without our extra: the buyer's phone of the fiscal receipt or
    a card another app left in the extras."""
    phone = first(body, "client_phone", "clientPhone", "customer_phone") or first(doc, "client_phone")
    card = None
    extras = doc.get("extras") or body.get("extras")
    if isinstance(extras, dict):
        for value in [extras, *[v for v in extras.values() if isinstance(v, dict)]]:
            card = card or first(value, "card", "card_number", "cardNumber", "discountCard")
    try:
        if card and (found := find_customers(session, conn.tenant_id, card=str(card)[:64])):
            return found[0]
        if phone and (found := find_customers(session, conn.tenant_id, phone=str(phone))):
            return found[0]
    except DomainError:
        return None
    return None


def _apply_sell(session, conn: Connection, event: InboundEvent, doc: dict, body: dict) -> None:
    extra = our_extra(doc.get("extras")) or our_extra(body.get("extras"))
    receipt_uuid = str((extra or {}).get("receipt_uuid") or document_id(doc))[:100]
    if find_receipt(session, conn.tenant_id, receipt_uuid, SOURCE) is not None:
        log.info("SELL %s already committed (by the terminal or an earlier document)", receipt_uuid)
        session.rollback()
        return
    try:
        positions = document_positions(body)
    except BadValue as exc:
        raise PermanentError(f"документ {document_id(doc)}: {exc.message}") from exc
    store = first(doc, "store_id", "storeUuid", "store_uuid")
    cashier = first(doc, "close_user_id", "user_id", "employeeId", "userUuid")
    moment = _moment(session, conn, doc, body)
    quoted = None if extra else _quoted(session, conn, receipt_uuid)
    if extra or quoted:
        # Our sale: the extra on the receipt, or (a document that does not carry extras,
        # e.g. the v1 format) the terminal's last quote of this very receipt.
        customer_id = extra.get("customer_id") if extra else quoted.customer_id
        try:
            codes = promo_codes({}, extra)
        except BadValue as exc:
            raise PermanentError(f"документ {document_id(doc)}: {exc.message}") from exc
        anonymous_with_codes = customer_id is None and bool(codes)
        if not anonymous_with_codes and (
                not isinstance(customer_id, str) or not customer_exists(session, conn.tenant_id, customer_id)):
            raise PermanentError(f"документ {document_id(doc)}: клиент из extra не найден")
        ours = sum(p["ours"] for p in positions)
        try:
            wanted = money(extra.get("bonus_spent") or 0, "extra.bonus_spent") if extra else quoted.spend
        except BadValue:
            wanted = 0
        spend = min(wanted or 0, ours)          # at most what was fiscalised as our discount
    else:
        if not setting(conn, "accrue_without_app"):
            log.info("SELL %s without our extra: accrual from documents is off", receipt_uuid)
            session.rollback()
            return
        customer = _customer_of(session, conn, doc, body)
        if customer is None:
            session.rollback()
            return
        customer_id, spend, codes = customer.id, 0, ()
    session.rollback()
    try:
        commit_positions(session, conn, receipt_uuid, positions, customer_id, spend,
                         store=str(store)[:100] if store else None,
                         cashier=str(cashier)[:100] if cashier else None,
                         payment_method=_payment(body), moment=moment, promo_codes=codes)
    except (Invalid, Conflict) as exc:      # retrying cannot change the answer
        raise PermanentError(exc.message) from exc


def customer_exists(session, tenant_id: str, customer_id: str) -> bool:
    try:
        get_customer(session, tenant_id, customer_id[:36])
    except NotFound:
        return False
    return True


def _quoted(session, conn: Connection, receipt_uuid: str) -> EvotorReceipt | None:
    record = session.scalar(select(EvotorReceipt).where(EvotorReceipt.tenant_id == conn.tenant_id,
                                                        EvotorReceipt.connection_id == conn.id,
                                                        EvotorReceipt.receipt_uuid == receipt_uuid))
    return record if record is not None and record.customer_id and record.status == "quoted" else None


def _apply_payback(session, conn: Connection, event: InboundEvent, doc: dict, body: dict) -> None:
    base = first(body, "base_document_id", "baseDocumentId", "base_document_uuid") or \
        first(doc, "base_document_id", "baseDocumentId")
    if not isinstance(base, str) or not base.strip():
        log.info("PAYBACK %s without a base document: nothing to reverse", document_id(doc))
        session.rollback()
        return
    base = base.strip()[:100]
    if find_receipt(session, conn.tenant_id, base, SOURCE) is None:
        waiting = is_pending(session, KIND, f"{conn.id}:{base}")
        session.rollback()
        if waiting:
            raise SaleNotYetApplied(f"продажа {base} ещё не учтена")
        log.info("PAYBACK %s: sale %s was not in the program", document_id(doc), base)
        return
    items = []
    for i, p in enumerate(first(body, "positions", "items") or []):
        if not isinstance(p, dict):
            continue
        try:
            items.append(payback_line(p, f"body.positions[{i}]"))
        except BadValue as exc:
            raise PermanentError(f"Возврат {document_id(doc)} по чеку {base} не проведён: {exc.message}") from exc
    try:
        return_items(session, conn, document_id(doc), base, items, _moment(session, conn, doc, body))
    except (Invalid, Conflict) as exc:      # retrying cannot change the answer
        raise PermanentError(f"Возврат {document_id(doc)} по чеку {base} не проведён: {exc.message}") from exc


def apply_document(session, event: InboundEvent) -> None:
    conn = _connection(session, event)
    doc = event.body
    body = doc.get("body") if isinstance(doc.get("body"), dict) else doc
    if document_type(doc) == "SELL":
        _apply_sell(session, conn, event, doc, body)
    elif document_type(doc) == "PAYBACK":
        _apply_payback(session, conn, event, doc, body)
