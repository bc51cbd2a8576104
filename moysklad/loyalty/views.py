"""Loyalty API 1.0: the hub as МойСклад's loyalty system.

Base URL registered with МойСклад: <public url>/moysklad/loyalty/<connection id>; every call
carries the connection's inbound token in `Lognex-Discount-API-Auth-Token`.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import date
from functools import wraps

from flask import Blueprint, jsonify, request

from connectors.registry import connection_by_token
from hub.unavailable import database_unavailable
from hub.errors import Conflict, DomainError
from hub.extensions import db
from hub.moments import utcnow
from hub.phones import normalize_phone
from hub.certificates import operations as certificates
from hub.customers.operations import find_customers, register_customer, summarize
from hub.receipts.guards import TillDiscount, require_customer_for_spend
from hub.receipts.operations import (
    ReturnRequest, SaleRequest, calculate_receipt, commit_sale, find_receipt, line_amount,
    pay_unrecorded_sale, refund_unrecorded_sale, return_sale, settle_sale_spend,
)
from moysklad import verification
from moysklad.common import (
    KIND, SOURCE, link_counterparty, money, ms_link_of, parse_ms_moment, payment_method,
    resolve_agent, return_body, return_quantities, sale_body, setting,
)
from moysklad.loyalty import schemas as s
from moysklad.loyalty.errors import (
    AUTH, CONFIRMATION_REQUIRED, CONFLICT, COUNTERPARTY_NOT_FOUND, GIFT_CARD, INTERNAL,
    SALE_NOT_FOUND, VALIDATION, VERIFICATION_REQUIRED, MsError, error_response, from_domain,
)
from moysklad.loyalty.mapping import (
    applied_discount, engine_positions, gift_card, lines_of, render_positions,
)

log = logging.getLogger("kopilka.moysklad.loyalty")

TOKEN_HEADER = "Lognex-Discount-API-Auth-Token"

bp = Blueprint("moysklad_loyalty", __name__, url_prefix="/moysklad/loyalty/<connection_id>")

@bp.errorhandler(413)
def _too_large(exc):  # the body limit (hub/web/limits.py), in МойСклад's format
    return error_response(MsError(413, VALIDATION, exc.description, title="Слишком большой запрос"))


def _authenticate(session, connection_id: str):
    token = (request.headers.get(TOKEN_HEADER) or "").strip()
    conn = connection_by_token(session, KIND, token) if token else None
    if conn is None or conn.id != connection_id:
        raise MsError(401, AUTH, f"Неверный или отсутствующий токен {TOKEN_HEADER}.", TOKEN_HEADER)
    return conn


def loyalty_call(fn):
    """Authenticate, run, and answer every failure in МойСклад's error format; whatever a
    failed call began is rolled back (core services commit only complete operations)."""
    @wraps(fn)
    def wrapper(connection_id: str):
        session = db.session
        try:
            conn = _authenticate(session, connection_id)
            return fn(session, conn)
        except MsError as err:
            session.rollback()
            return error_response(err)
        except DomainError as exc:
            session.rollback()
            return error_response(from_domain(exc))
        except Exception as exc:  # the till gets an answer it can show, never a page
            if database_unavailable(exc):
                raise   # the app answers 503 with Retry-After in this surface's format
            log.exception("loyalty call %s failed", request.path)
            session.rollback()
            return error_response(MsError(500, INTERNAL, "Внутренняя ошибка программы лояльности; "
                                                          "операция не проведена."))
    return wrapper


def _json() -> dict | None:
    data = request.get_json(silent=True, force=True)
    return data if isinstance(data, dict) else None


def _created():
    return "", 201


# --- customers ------------------------------------------------------------------------------

def _display_name(c) -> str:
    name = " ".join(x for x in (c.last_name, c.first_name, c.middle_name) if x)
    return name or c.phone


def _row(session, conn, c) -> dict:
    ms_id, registered = ms_link_of(session, conn, c.id)
    row = {"id": c.id, "msId": ms_id, "name": registered or _display_name(c),
           "discountCardNumber": c.card_number, "phone": c.phone, "email": c.email,
           "legalFirstName": c.first_name, "legalMiddleName": c.middle_name,
           "legalLastName": c.last_name,
           "birthDate": f"{c.birth_date.isoformat()} 00:00:00" if c.birth_date else None,
           "sex": {"male": "MALE", "female": "FEMALE"}.get(c.gender or "")}
    return {k: v for k, v in row.items() if v is not None}


def _profile(data: dict, phone: str) -> dict:
    first, middle, last = data.get("legalFirstName"), data.get("legalMiddleName"), data.get("legalLastName")
    if not (first or middle or last) and data.get("name"):
        words = data["name"].split()
        if len(words) == 1:
            first = words[0]
        elif words:
            last, first, middle = words[0], words[1], " ".join(words[2:]) or None
    cut = lambda v, n: v[:n] if v else None
    return {"phone": phone, "card_number": cut(data.get("discountCardNumber"), 64),
            "first_name": cut(first, 100), "middle_name": cut(middle, 100), "last_name": cut(last, 100),
            "email": cut(data.get("email"), 200),
            "gender": {"MALE": "male", "FEMALE": "female"}.get(data.get("sex") or ""),
            "birth_date": date.fromisoformat(data["birthDate"][:10]) if data.get("birthDate") else None}


def _phone_required(value: str | None) -> str:
    if not value:
        raise MsError(400, VALIDATION, "Для участия в программе нужен телефон покупателя.", "phone")
    return normalize_phone(value)


def _customer_not_found(parameter: str = "agent") -> MsError:
    return MsError(404, COUNTERPARTY_NOT_FOUND, "Покупатель не участвует в программе лояльности.",
                   parameter)


@bp.post("/counterparty")
@loyalty_call
def create_counterparty(session, conn):
    body = _json()
    data = s.load(s.CounterpartyCreateSchema(), body)
    now = utcnow()
    phone = _phone_required(data.get("phone"))
    ms_id = data["meta"]["id"]
    existing = find_customers(session, conn.tenant_id, phone=phone)
    name = (data.get("name") or "").strip()[:255] or None     # as the till registered it
    if existing:                       # a repeated create, or a customer known from elsewhere
        link_counterparty(session, conn, ms_id, existing[0].id, name)
        return _created()
    code = None
    if setting(conn, "confirm_new_customers"):
        if data.get("statusCheck") == "CHECKED":
            code = verification.verified(session, conn, verification.COUNTERPARTY, phone, now)
        if code is None:
            raise MsError(412, CONFIRMATION_REQUIRED,
                          "Подтвердите телефон покупателя кодом из SMS, затем повторите регистрацию.",
                          "phone", title="Требуется подтверждение покупателя")
    customer = register_customer(session, conn.tenant_id, _profile(data, phone), source=SOURCE, moment=now)
    link_counterparty(session, conn, ms_id, customer.id, name)
    if code is not None:
        verification.consume(session, code, customer.id, now)
    log.info("moysklad connection %s: customer %s registered at a till", conn.id, customer.id)
    return _created()


@bp.get("/counterparty")
@loyalty_call
def search_counterparty(session, conn):
    query = s.load(s.CounterpartySearchSchema(), request.args.to_dict())
    text = query["search"].strip()
    found = []
    try:
        found += find_customers(session, conn.tenant_id, phone=text)
    except DomainError:                 # not a phone number: search by card only
        pass
    found += find_customers(session, conn.tenant_id, card=text)
    seen, rows = set(), []
    for c in found:
        if c.id not in seen:
            seen.add(c.id)
            rows.append(_row(session, conn, c))
    session.rollback()
    return jsonify({"rows": rows[:20]})


@bp.post("/counterparty/detail")
@loyalty_call
def counterparty_detail(session, conn):
    data = s.load(s.CounterpartyDetailSchema(), _json())
    customer = resolve_agent(session, conn, ms_id=data["meta"]["id"],
                             card=data.get("discountCardNumber"), phone=data.get("phone"))
    if customer is None:
        raise _customer_not_found("meta.id")
    summary = summarize(session, conn.tenant_id, customer, utcnow())
    session.rollback()
    return jsonify({"bonusProgram": {"agentBonusBalance": money(summary.balance.available)}})


def _code_answer(code: str, repeat: int, phone: str, problem: str | None = None) -> dict:
    """The Loyalty API's answer to /verify: `verificationCode` is required — the till
    compares it with what the customer says — while the code itself went to the customer's
    phone; when it did not (no SMS channel), `messageForCashier` says so instead, and no code
    is kept, so none confirms. `messageForCashier` is at most 140 characters."""
    message = problem or (f"Код отправлен на номер {verification.mask_phone(phone)}. "
                          "Попросите покупателя назвать код.")
    return {"verificationCode": code, "timeForRepeat": repeat, "messageForCashier": message[:140]}


@bp.post("/counterparty/verify")
@loyalty_call
def counterparty_verify(session, conn):
    data = s.load(s.CounterpartyVerifySchema(), _json())
    phone = _phone_required(data.get("phone"))
    code, repeat, problem = verification.issue(session, conn, verification.COUNTERPARTY, phone, phone, utcnow())
    return jsonify(_code_answer(code, repeat, phone, problem))


# --- sales ------------------------------------------------------------------------------------

def _agent_customer(session, conn, agent: dict | None, required: bool):
    """The customer of a sale's agent; None for a sale without one (if allowed)."""
    if not agent or not (agent.get("ms_id") or agent.get("discountCardNumber") or agent.get("phone")):
        if required:
            raise MsError(400, VALIDATION, "Некорректные данные запроса: agent.meta — обязательное поле.",
                          "agent.meta")
        return None
    customer = resolve_agent(session, conn, ms_id=agent.get("ms_id"),
                             card=agent.get("discountCardNumber"), phone=agent.get("phone"))
    if customer is None:
        raise _customer_not_found()
    return customer


@bp.post("/retaildemand/recalc")
@loyalty_call
def recalc(session, conn):
    body = _json()
    data = s.load(s.RecalcSchema(), body)
    customer = _agent_customer(session, conn, data["agent"], required=True)
    lines = lines_of(data["positions"], body["positions"])
    bonus = data.get("bonusProgram") or {}
    kind = bonus.get("transactionType") or "EARNING"
    preferred = data.get("preferredBonusToSpend")
    if preferred is None:
        preferred = bonus.get("preferredBonusToSpend")
    spend, spend_max = None, False
    if kind == "SPENDING":
        spend_max = preferred is None           # no preference: the most the program allows
        spend = preferred or None
    # Read before calculate_receipt, whose rollback would make the connection load again.
    verify_spending = setting(conn, "verify_spending")
    req = SaleRequest(external_id="moysklad-recalc", moment=utcnow(), positions=engine_positions(lines),
                      customer={"id": customer.id}, store=data["retailStore"]["meta"]["id"],
                      spend=spend, spend_max=spend_max)
    quote = calculate_receipt(session, conn.tenant_id, req)
    totals, who = quote["totals"], quote["customer"]
    return jsonify({
        "agent": body["agent"],
        "positions": render_positions(lines, quote),
        "bonusProgram": {
            "transactionType": kind,
            "agentBonusBalance": money(who["balance"]),
            "bonusValueToSpend": money(totals["bonus_spent"]),
            "bonusValueToEarn": money(totals["bonus_earned"]),
            "agentBonusBalanceAfter": money(who["balance_after"]),
            "paidByBonusPoints": money(totals["bonus_spent"]),
            "receiptExtraInfo": quote["messages"]["receipt"],
        },
        "needVerification": bool(verify_spending and totals["bonus_spent"] > 0),
    })


@bp.post("/retaildemand/verify")
@loyalty_call
def demand_verify(session, conn):
    data = s.load(s.DemandVerifySchema(), _json())
    customer = resolve_agent(session, conn, ms_id=data["counterpartyId"].strip(), phone=data.get("phone"))
    if customer is None:
        raise _customer_not_found("counterpartyId")
    code, repeat, problem = verification.issue(session, conn, verification.SPENDING, customer.id,
                                               customer.phone, utcnow())
    return jsonify(_code_answer(code, repeat, customer.phone, problem))


@bp.post("/retaildemand")
@loyalty_call
def retaildemand(session, conn):
    body = _json()
    data = s.load(s.RetailDemandSchema(), body)
    document_id = data["meta"]["id"]
    now = utcnow()
    moment = parse_ms_moment(session, conn.tenant_id, data.get("moment"), now)
    lines = lines_of(data["positions"], body["positions"])
    spend = (data.get("bonusProgram") or {}).get("bonusValueToSpend") or 0
    agent = data.get("agent")
    cards = _gift_cards(data.get("giftCards"))
    customer = _agent_customer(session, conn, agent, required=False)
    if customer is None:
        require_customer_for_spend(None, spend)
        log.info("moysklad connection %s: sale %s without a customer, nothing to record",
                 conn.id, document_id)
        session.rollback()
        # Paid with certificates all the same: they are redeemed (once per card and sale).
        if cards:
            with _gift_card_errors(cards):
                pay_unrecorded_sale(session, conn.tenant_id, SOURCE, document_id,
                                    [(name, amount) for _, name, _, amount in cards], moment)
        return _created()
    req = SaleRequest(
        external_id=document_id, moment=moment, positions=engine_positions(lines),
        customer={"id": customer.id}, store=data["retailStore"]["meta"]["id"],
        payment_method=payment_method(data.get("cashSum") or 0, data.get("noCashSum") or 0),
        spend=spend or None, certificates=tuple((name, amount) for _, name, _, amount in cards))
    key = sale_body(document_id, customer.id, [(ln.assortment, ln.quantity) for ln in lines])

    applied, tolerance = applied_discount(lines)

    def accept(quote: dict) -> None:
        """A confirming code is used up in the same transaction as the sale (the till's
        prices are checked by the core: hub.receipts.guards.check_till_discount)."""
        if spend and setting(conn, "verify_spending"):
            code = verification.verified(session, conn, verification.SPENDING, customer.id, now,
                                         reference=document_id)
            if code is None:
                raise MsError(412, VERIFICATION_REQUIRED,
                              "Списание бонусов не подтверждено кодом покупателя.",
                              "bonusProgram.bonusValueToSpend")
            verification.mark_consumed(session, code, document_id, now)

    # The certificates pay in the sale's own transaction (commit_sale): both are written or
    # neither; a sale first seen by webhook, which knows nothing of them, takes them now, once.
    with _gift_card_errors(cards):
        answer, created = commit_sale(session, conn.tenant_id, SOURCE, req, key, accept=accept,
                                      till_discount=TillDiscount(applied, tolerance))
    if not created and answer["totals"]["bonus_spent"] != spend:
        # The sale came first by the JSON API webhook, which cannot know the bonuses spent:
        # the till's call is the authority and settles it, once (the core refuses a sale
        # its till already settled: that is a real conflict).
        try:
            settle_sale_spend(session, conn.tenant_id, SOURCE, req, key, accept=accept,
                              till_discount=TillDiscount(applied, tolerance))
        except Conflict as exc:
            raise MsError(409, CONFLICT, "Продажа уже учтена с другим списанием бонусов.",
                          "meta.id") from exc
    if created:
        link_counterparty(session, conn, agent.get("ms_id"), customer.id)
    return _created()


@bp.post("/retailsalesreturn")
@loyalty_call
def retailsalesreturn(session, conn):
    body = _json()
    data = s.load(s.RetailSalesReturnSchema(), body)
    return_id = data["meta"]["id"]
    now = utcnow()
    moment = parse_ms_moment(session, conn.tenant_id, data.get("moment"), now)
    demand_id = ((data.get("demand") or {}).get("meta") or {}).get("id")
    positions = [(p["assortment"]["meta"]["id"], p["quantity"]) for p in data.get("positions") or []]
    receipt = find_receipt(session, conn.tenant_id, demand_id, SOURCE) if demand_id else None
    if receipt is None:
        agent = data.get("agent") or {}
        member = resolve_agent(session, conn, ms_id=agent.get("ms_id"),
                               card=agent.get("discountCardNumber"), phone=agent.get("phone"))
        if demand_id and member is not None:
            raise MsError(404, SALE_NOT_FOUND, "Продажа для возврата не найдена в программе лояльности.",
                          "demand.meta.id")
        # A return of a sale the program never saw (anonymous, or without a link to the
        # sale): there are no bonuses to reverse, only certificates it was paid with.
        log.info("moysklad connection %s: return %s of an unknown sale, nothing to reverse",
                 conn.id, return_id)
        session.rollback()
        if demand_id:
            value = None if not data.get("positions") else sum(
                line_amount(p["price"], p["quantity"]) for p in data["positions"] if p.get("price"))
            refund_unrecorded_sale(session, conn.tenant_id, SOURCE, demand_id, return_id, value, moment)
        return _created()
    quantities = (return_quantities(receipt.lines, receipt.returned or {}, positions)
                  if positions else None)
    session.rollback()
    req = ReturnRequest(external_id=return_id, moment=moment, quantities=quantities)
    # The core refunds the certificates the sale was paid with first, once per return (the
    # same return by webhook and by this call is one).
    return_sale(session, conn.tenant_id, SOURCE, demand_id, req, return_body(return_id, demand_id, positions))
    return _created()


# --- gift certificates ------------------------------------------------------------------------

@bp.get("/giftcard")
@loyalty_call
def giftcard(session, conn):
    query = s.load(s.GiftCardQuerySchema(), request.args.to_dict())
    cert = certificates.find(session, conn.tenant_id, query["name"])
    if cert is None:
        # The docs mark `id` (the certificate's GUID) required in every 200 answer and
        # describe no "not found" body; an unknown number has no id to give, so it is an
        # error in the documented error format ("any status but 200/201/204 is an error"),
        # which the till shows the cashier, rather than a 200 missing a required field.
        session.rollback()
        raise MsError(404, GIFT_CARD, f"Подарочный сертификат {query['name'][:64]} не найден.",
                      "name", title="Сертификат не найден")
    answer = gift_card(query["name"], certificates.view(cert, utcnow()))
    session.rollback()
    return jsonify(answer)


def _gift_cards(raw: list[dict] | None) -> list[tuple[int, str, str, int]]:
    """The sale's certificate payments: (index, number, id, kopecks); zero sums are skipped."""
    out, seen = [], set()
    for i, card in enumerate(raw or []):
        name = (card.get("name") or "").strip()
        if not name:
            raise MsError(400, VALIDATION, f"Некорректные данные запроса: giftCards[{i}].name — "
                          "обязательное поле.", f"giftCards[{i}].name")
        ident = (card.get("id") or "").strip() or name
        if ident in seen:
            raise MsError(400, VALIDATION, f"Некорректные данные запроса: giftCards[{i}].id — "
                          "сертификат указан дважды.", f"giftCards[{i}].id")
        seen.add(ident)
        if card["paymentSum"] > 0:
            out.append((i, name, ident, card["paymentSum"]))
    return out


def _gift_card_error(exc: DomainError, index: int, number: str) -> MsError:
    if isinstance(exc, Conflict):
        return MsError(409, CONFLICT, exc.message, f"giftCards[{index}].paymentSum")
    parameter = "paymentSum" if exc.code == "certificate_insufficient" else "name"
    return MsError(412, GIFT_CARD, f"Подарочный сертификат {number}: {exc.message}",
                   f"giftCards[{index}].{parameter}", title="Оплата сертификатом невозможна")


@contextmanager
def _gift_card_errors(cards):
    """A certificate that cannot pay, in МойСклад's format and naming its giftCards entry."""
    try:
        yield
    except DomainError as exc:
        number = getattr(exc, "certificate", None)
        if number is None:
            raise
        index, name = next(((i, n) for i, n, _, _ in cards
                            if certificates.normalize_number(n) == number), (0, number))
        raise _gift_card_error(exc, index, name) from exc
