"""The terminal app's API: what the Android app on an Evotor terminal calls through Evotor's
cloud proxy (contract in evotor/README.md).

Auth: `Authorization: Bearer <user token>` (issued by /user/create or /user/verify); the
proxy adds X-Evotor-User-Id, X-Evotor-Store-Uuid and X-Evotor-Device-UUID. Errors are the
hub's format {"error": {"code", "message", "details"}} with a Russian message the app can
show the cashier as it is.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import logging
from datetime import date, timedelta
from functools import wraps

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from connectors import verification as codes
from connectors.receipts import returns_the_rest, spread_return
from hub.engine.text import rub
from hub.errors import Conflict, DomainError, Invalid, NotFound
from hub.extensions import db
from hub.moments import utcnow
from hub.phones import normalize_phone
from hub.customers.operations import find_customers, register_customer, resolve_customer, summarize
from hub.receipts.holds import quote_and_hold, release_receipt_hold
from hub.receipts.operations import ReturnRequest, SaleRequest, commit_sale, get_receipt, return_sale
from hub.unavailable import database_unavailable
from evotor.common import (
    PREFIX, terminal_error as error_response, SOURCE, BadValue, first, money, rub_json, setting, subscription_stopped, text,
    user_connection,
)
from evotor.mapping import (
    EXTRA_KEY, customer_view, engine_positions, our_extra, payback_key, payback_line, print_lines, promotions_view,
    render_quote, sale_key, terminal_positions, with_known_groups,
)
from evotor.models import EvotorDevice, EvotorReceipt
from evotor.store import mark_committed, mark_released, receipt_record, save_quote
from hub.certificates import operations as certificates

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection

log = logging.getLogger("kopilka.evotor.terminal")

bp = Blueprint("evotor_terminal", __name__, url_prefix=f"{PREFIX}/app/v1")

REGISTRATION = "registration"


class TerminalError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}


class Till:
    """Who is calling: the Evotor user's connection, its store and terminal."""

    def __init__(self, conn: Connection, store: str | None, device: str | None):
        self.conn, self.store, self.device = conn, store, device

    @property
    def tenant_id(self) -> str:
        return self.conn.tenant_id


def _header(name: str) -> str | None:
    value = (request.headers.get(name) or "").strip()
    if len(value) > 100:
        raise TerminalError(400, "bad_header", f"Заголовок {name} слишком длинный.")
    return value or None


def _till(session) -> Till:
    conn = user_connection(session)
    if conn is None:
        raise TerminalError(401, "unauthorized", "Приложение не авторизовано в Копилке: неверный токен "
                            "пользователя или приложение удалено. Переустановите приложение в Эвотор.")
    user = _header("X-Evotor-User-Id")
    if user and user != conn.external_account:
        raise TerminalError(401, "unauthorized", "Токен выдан другому пользователю Эвотор.")
    if subscription_stopped(conn):
        raise TerminalError(402, "subscription_terminated",
                            "Подписка на приложение Копилка прекращена: бонусы не начисляются и не "
                            "списываются. Продлите подписку в личном кабинете Эвотор.")
    store, device = _header("X-Evotor-Store-Uuid"), _header("X-Evotor-Device-UUID")
    if device and not store:
        store = session.scalar(select(EvotorDevice.store_uuid).where(
            EvotorDevice.tenant_id == conn.tenant_id, EvotorDevice.connection_id == conn.id,
            EvotorDevice.device_uuid == device))
    return Till(conn, store, device)


def terminal_call(fn):
    @wraps(fn)
    def wrapper():
        session = db.session
        try:
            till = _till(session)
            body = request.get_json(silent=True, force=True)
            if not isinstance(body, dict):
                raise TerminalError(400, "bad_request", "Тело запроса должно быть JSON-объектом.")
            return fn(session, till, body)
        except TerminalError as err:
            session.rollback()
            return error_response(err.status, err.code, err.message, err.details)
        except BadValue as err:
            session.rollback()
            return error_response(422, "validation_error", err.message, {err.field: [err.message]})
        except DomainError as exc:
            session.rollback()
            return error_response(exc.status, exc.code, exc.message, exc.details)
        except Exception as exc:  # the cashier gets a message, the app falls back
            if database_unavailable(exc):
                raise   # the app answers 503 with Retry-After in this surface's format
            log.exception("terminal call %s failed", request.path)
            session.rollback()
            return error_response(500, "internal_error",
                                  "Ошибка программы лояльности: продайте без бонусов и повторите позже.")
    return wrapper


# --- customers ---------------------------------------------------------------------------------

def _customer_ref(body: dict, *, required: bool = False) -> dict | None:
    ref = body.get("customer")
    if ref is None:
        ref = {k: body[k] for k in ("phone", "card", "customer_id") if body.get(k)}
        if "customer_id" in ref:
            ref["id"] = ref.pop("customer_id")
    if not ref:
        if required:
            raise BadValue("customer", "Укажите клиента: телефон (phone) или номер карты (card).")
        return None
    if not isinstance(ref, dict):
        raise BadValue("customer", "Поле customer: нужен объект {phone | card | id}.")
    out = {}
    for key in ("phone", "card", "id"):
        value = text(ref.get(key), f"customer.{key}", limit=64)
        if value:
            out[key] = value
    if not out:
        raise BadValue("customer", "Укажите клиента: телефон (phone) или номер карты (card).")
    if "phone" in out:
        out["phone"] = normalize_phone(out["phone"])
    return out


def _summary(session, till: Till, customer) -> dict:
    view = customer_view(summarize(session, till.tenant_id, customer, utcnow()))
    session.rollback()
    return view


@bp.post("/customers/find")
@terminal_call
def find_customer(session, till: Till, body: dict):
    ref = _customer_ref(body, required=True)
    customer = resolve_customer(session, till.tenant_id, ref)
    return jsonify({"customer": _summary(session, till, customer)})


def _policy(conn: Connection) -> codes.CodePolicy:
    return codes.CodePolicy(ttl_seconds=setting(conn, "code_ttl_seconds"),
                            repeat_seconds=setting(conn, "code_repeat_seconds"),
                            trust_issued=False)


@bp.post("/customers/code")
@terminal_call
def send_code(session, till: Till, body: dict):
    """A confirmation code to the phone of a customer about to be registered."""
    phone = normalize_phone(text(body.get("phone"), "phone", required=True, limit=32))
    if find_customers(session, till.tenant_id, phone=phone):
        raise Conflict("customer_exists", f"Клиент с телефоном {phone} уже зарегистрирован.")
    code, repeat, problem = codes.issue(session, till.conn, REGISTRATION, phone, phone,
                                        utcnow(), _policy(till.conn))
    answer = {"sent": problem is None, "phone": codes.mask_phone(phone), "repeat_after": repeat,
              "message": problem or f"Код подтверждения отправлен на {codes.mask_phone(phone)}."}
    if problem is None and setting(till.conn, "return_code_to_pos"):
        answer["code"] = code
    return jsonify(answer)


def _profile(body: dict, phone: str) -> dict:
    birth = text(body.get("birth_date"), "birth_date", limit=10)
    try:
        birth_date = date.fromisoformat(birth) if birth else None
    except ValueError:
        raise BadValue("birth_date", "Дата рождения — в виде ГГГГ-ММ-ДД.") from None
    gender = body.get("gender")
    if gender not in (None, "", "male", "female"):
        raise BadValue("gender", "Пол: male или female.")
    consents = body.get("consents") or {}
    if not isinstance(consents, dict):
        raise BadValue("consents", "Поле consents: нужен объект, например {\"sms\": true}.")
    return {"phone": phone, "card_number": text(first(body, "card", "card_number"), "card", limit=64),
            "first_name": text(body.get("first_name"), "first_name"),
            "last_name": text(body.get("last_name"), "last_name"),
            "middle_name": text(body.get("middle_name"), "middle_name"),
            "email": text(body.get("email"), "email", limit=200), "gender": gender or None,
            "birth_date": birth_date, "consents": {k: bool(v) for k, v in consents.items()}}


@bp.post("/customers")
@terminal_call
def create_customer(session, till: Till, body: dict):
    phone = normalize_phone(text(body.get("phone"), "phone", required=True, limit=32))
    data = _profile(body, phone)
    if find_customers(session, till.tenant_id, phone=phone):
        raise Conflict("customer_exists", f"Клиент с телефоном {phone} уже зарегистрирован.")
    now = utcnow()
    row = None
    if setting(till.conn, "confirm_new_customers"):
        code = text(body.get("code"), "code", limit=12)
        policy = _policy(till.conn)
        if code:
            row = codes.check(session, till.conn, REGISTRATION, phone, code, now, policy)
            if row is None:
                raise Invalid("code_invalid", "Неверный или просроченный код подтверждения.",
                              {"code": ["wrong or expired"]})
        else:
            row = codes.verified(session, till.conn, REGISTRATION, phone, now,
                                 policy, reference=phone)
            if row is None:
                raise Invalid("code_required", "Нужно подтвердить телефон: запросите код "
                              "(/customers/code) и передайте его в поле code.", {"code": ["required"]})
    customer = register_customer(session, till.tenant_id, data, source=SOURCE, moment=now)
    if row is not None:
        codes.consume(session, row, phone, now)
    return jsonify({"customer": _summary(session, till, customer)}), 201


# --- receipts ----------------------------------------------------------------------------------

def _receipt_uuid(body: dict, *names: str) -> str:
    names = names or ("receipt_uuid", "receiptUuid", "uuid")
    return text(first(body, *names), names[0], required=True)


def _record(session, till: Till, receipt_uuid: str) -> EvotorReceipt | None:
    return receipt_record(session, till.tenant_id, receipt_uuid)


def _spend(body: dict) -> tuple[int | None, bool]:
    value = first(body, "spend_bonuses", "spendBonuses", "bonuses_to_spend")
    if value is None or value == 0:
        return None, False
    if value == "max":
        return None, True
    return money(value, "spend_bonuses") or None, False


MAX_PROMO_CODES = 20


def promo_codes(body: dict, extra: dict | None = None) -> tuple[str, ...]:
    """The promo codes (coupons) the cashier entered: `promo_codes` (a list, or one string),
    else those the quote wrote into our extra on the receipt."""
    value = first(body, "promo_codes", "promoCodes", "promo_code", "promoCode")
    field = "promo_codes"
    if value is None and extra:
        value, field = extra.get("promo_codes"), "extra.kopilka.promo_codes"
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise BadValue(field, "Поле promo_codes: нужен список промокодов.")
    if len(value) > MAX_PROMO_CODES:
        raise BadValue(field, f"Не больше {MAX_PROMO_CODES} промокодов в чеке.")
    codes = [text(v, f"{field}[{i}]", limit=40) for i, v in enumerate(value)]
    return tuple(dict.fromkeys(c for c in codes if c))


def _payment(body: dict) -> str | None:
    value = first(body, "payment_method", "paymentMethod")
    if value is None:
        return None
    mapping = {"cash": "cash", "CASH": "cash", "card": "card", "ELECTRON": "card", "CARD": "card",
               "mixed": "mixed"}
    if value not in mapping:
        raise BadValue("payment_method", "Способ оплаты: cash, card (ELECTRON) или mixed.")
    return mapping[value]


# --- gift certificates ------------------------------------------------------------------------

MAX_CERTIFICATES = 10


def _certificate_view(cert: dict) -> dict:
    return {"number": cert["number"], "status": cert["status"], "balance": rub_json(cert["balance"]),
            "nominal": rub_json(cert["nominal"]), "expires_at": cert["expires_at"]}


@bp.post("/certificates/check")
@terminal_call
def check_certificate(session, till: Till, body: dict):
    """The balance of a certificate the cashier scanned or typed."""
    number = text(first(body, "number", "certificate"), "number", required=True, limit=60)
    cert = certificates.find(session, till.tenant_id, number)
    if cert is None:
        raise NotFound("certificate_not_found", f"Сертификат {number} не найден.")
    raw = certificates.view(cert, utcnow())
    session.rollback()
    answer, status = _certificate_view(raw), raw["status"]
    message = {"active": f"На сертификате {rub(raw['balance'])} ₽.",
               "issued": "Сертификат не активирован: его ещё не продали.",
               "blocked": "Сертификат заблокирован.", "expired": "Срок действия сертификата истёк."}[status]
    return jsonify({"certificate": answer, "message": message})


def certificate_payments(body: dict, extra: dict | None = None) -> list[tuple[str, int]]:
    """`certificates`: [{"number", "amount"}] (roubles) paid with gift certificates, else those
    the quote wrote into our extra."""
    value = first(body, "certificates", "gift_certificates", "giftCertificates")
    field = "certificates"
    if value is None and extra:
        value, field = extra.get("certificates"), "extra.kopilka.certificates"
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_CERTIFICATES:
        raise BadValue(field, f"Поле certificates: нужен список, не больше {MAX_CERTIFICATES} сертификатов.")
    out: dict[str, int] = {}
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise BadValue(f"{field}[{i}]", f"Сертификат {i + 1}: нужен объект с number и amount.")
        number = text(first(item, "number"), f"{field}[{i}].number", required=True, limit=60)
        amount = money(first(item, "amount", "sum"), f"{field}[{i}].amount")
        if not amount:
            raise BadValue(f"{field}[{i}].amount", f"Сертификат {number}: сумма оплаты должна быть больше 0.")
        if number in out:
            raise BadValue(f"{field}[{i}].number", f"Сертификат {number} указан дважды.")
        out[number] = amount
    return list(out.items())


def _check_payments(session, tenant_id: str, payments: list[tuple[str, int]], to_pay: int) -> list[dict]:
    """Each certificate can pay its part now, and together they pay at most the receipt."""
    total = sum(a for _, a in payments)
    if total > to_pay:
        raise Invalid("certificates_exceed_receipt",
                      f"Сертификатами можно оплатить не больше {rub(to_pay)} ₽ по чеку, "
                      f"а указано {rub(total)} ₽.", {"certificates": [f"не больше {rub(to_pay)}"]})
    now = utcnow()
    out = []
    for number, amount in payments:
        cert = certificates.find(session, tenant_id, number)
        if cert is None:
            raise NotFound("certificate_not_found", f"Сертификат {number} не найден.")
        view = certificates.view(cert, now)
        if view["status"] != "active":
            raise Invalid(f"certificate_{view['status']}", f"Сертификат {number}: " + {
                "issued": "не активирован, его ещё не продали.", "blocked": "заблокирован.",
                "expired": "срок действия истёк."}[view["status"]], {"certificates": {number: [view["status"]]}})
        if amount > view["balance"]:
            raise Invalid("certificate_insufficient",
                          f"На сертификате {number} {rub(view['balance'])} ₽, оплатить {rub(amount)} ₽ нельзя.",
                          {"certificates": {number: [f"не больше {rub(view['balance'])}"]}})
        out.append({"number": view["number"], "amount": rub_json(amount),
                    "balance_after": rub_json(view["balance"] - amount)})
    return out


@bp.post("/receipts/quote")
@terminal_call
def quote(session, till: Till, body: dict):
    """ReceiptDiscountEvent: the discount for an open receipt; bonuses to spend are held."""
    receipt_uuid = _receipt_uuid(body)
    positions = with_known_groups(session, till.conn, terminal_positions(body.get("positions")), till.store)
    ref = _customer_ref(body)
    spend, spend_max = _spend(body)
    codes_in = promo_codes(body)
    payments = certificate_payments(body)
    employee = text(first(body, "employee_uuid", "employeeUuid", "employee_id"), "employee_uuid")
    record = _record(session, till, receipt_uuid)
    if record is not None and record.status == "committed":
        raise Conflict("receipt_closed", "Чек уже закрыт и проведён в программе лояльности.")
    customer = resolve_customer(session, till.tenant_id, ref) if ref else None
    now = utcnow()
    req = SaleRequest(external_id=receipt_uuid, moment=now, positions=engine_positions(positions),
                      customer={"id": customer.id} if customer else None, store=till.store,
                      cashier=employee, payment_method=_payment(body), spend=spend, spend_max=spend_max,
                      promo_codes=codes_in)
    if record is not None and record.customer_id and (customer is None or customer.id != record.customer_id):
        # The cashier removed or changed the card: what the earlier quote held goes back.
        release_receipt_hold(session, till.tenant_id, SOURCE, receipt_uuid, {"id": record.customer_id})
    answer = quote_and_hold(session, till.tenant_id, SOURCE, req,
                            ttl=timedelta(seconds=setting(till.conn, "hold_ttl_seconds")))
    paid = _check_payments(session, till.tenant_id, payments, answer["totals"]["amount_to_pay"]) \
        if payments else []
    hold = answer.get("hold")
    _save_record(session, till, receipt_uuid, customer.id if customer else None, positions,
                 hold["amount"] if hold else 0, hold["id"] if hold else None, employee)
    rendered = render_quote(answer, receipt_uuid, hold, codes_in)
    if paid:
        # What the certificates pay is a payment, not a discount: the app adds it as a
        # payment of the receipt; the commit redeems it once with the sale.
        rendered["certificates"] = paid
        rendered["to_pay_after_certificates"] = rub_json(
            answer["totals"]["amount_to_pay"] - sum(a for _, a in payments))
        extra = rendered.get("extra") or {EXTRA_KEY: {"v": 1, "receipt_uuid": receipt_uuid,
                                                      "customer_id": None}}
        extra[EXTRA_KEY]["certificates"] = [{"number": n, "amount": rub_json(a)} for n, a in payments]
        rendered["extra"] = extra
    return jsonify(rendered)


def _save_record(session, till: Till, receipt_uuid: str, customer_id, positions, spend, hold_id,
                 employee) -> None:
    save_quote(session, till.tenant_id, till.conn.id, receipt_uuid, customer_id=customer_id,
               positions=positions, spend=spend, hold_id=hold_id, store_uuid=till.store,
               device_uuid=till.device, employee=employee)


@bp.post("/receipts/commit")
@terminal_call
def commit(session, till: Till, body: dict):
    """RECEIPT_CLOSED: the sale is recorded; the quote's hold turns into the spend once."""
    receipt_uuid = _receipt_uuid(body)
    record = _record(session, till, receipt_uuid)
    extra = our_extra(body.get("extra")) or {}
    if body.get("positions") is not None:
        positions = with_known_groups(session, till.conn, terminal_positions(body["positions"]), till.store)
    elif record is not None:
        positions = record.positions
    else:
        raise NotFound("receipt_not_found", "Чек не найден: сначала запросите расчёт (quote) "
                       "или передайте позиции закрытого чека.")
    ref = _customer_ref(body)
    customer_id = None
    if ref:
        customer_id = resolve_customer(session, till.tenant_id, ref).id
    elif extra.get("customer_id"):
        customer_id = text(extra["customer_id"], "extra.kopilka.customer_id", limit=36)
    elif record is not None:
        customer_id = record.customer_id
    if first(body, "bonus_spent") is not None:
        spend = money(body["bonus_spent"], "bonus_spent")
    elif extra.get("bonus_spent") is not None:
        spend = money(extra["bonus_spent"], "extra.kopilka.bonus_spent")
    else:
        spend = record.spend if record is not None else 0
    employee = text(first(body, "employee_uuid", "employeeUuid"), "employee_uuid") or \
        (record.employee if record is not None else None)
    answer = commit_positions(session, till.conn, receipt_uuid, positions, customer_id, spend,
                              store=till.store or (record.store_uuid if record else None),
                              cashier=employee, payment_method=_payment(body),
                              promo_codes=promo_codes(body, extra),
                              certificates=certificate_payments(body, extra))
    return jsonify(answer)


def commit_positions(session, conn: Connection, receipt_uuid: str, positions: list[dict],
                     customer_id: str | None, spend: int, *, store: str | None, cashier: str | None,
                     payment_method: str | None, moment=None,
                     promo_codes: tuple[str, ...] = (),
                     certificates: list[tuple[str, int]] = ()) -> dict:
    """The sale committed once, whichever path (terminal or document) comes first; the promo
    codes of its quote make the commit apply the same promotions. Gift certificates paying
    for it go with the sale to commit_sale, which redeems them in the sale's own transaction
    (both are written or neither), once."""
    req = SaleRequest(external_id=receipt_uuid, moment=moment or utcnow(),
                      positions=engine_positions(positions),
                      customer={"id": customer_id} if customer_id else None, store=store,
                      cashier=cashier, payment_method=payment_method, spend=spend or None,
                      promo_codes=tuple(promo_codes), certificates=tuple(certificates))

    def check_certificates(payload: dict) -> None:
        # Refused in the terminal's own words (which certificate, why) before anything is written.
        if certificates:
            _check_payments(session, conn.tenant_id, list(certificates), payload["totals"]["amount_to_pay"])

    answer, created = commit_sale(session, conn.tenant_id, SOURCE, req,
                                  sale_key(receipt_uuid, customer_id, positions),
                                  hold_reference=receipt_uuid, accept=check_certificates)
    paid = (answer.get("certificates") or []) if created else []
    if not created and answer["totals"]["bonus_spent"] != (spend or 0):
        # The other path (terminal or document) came first with another spending: say so
        # rather than replay an answer that does not match this sale.
        raise Conflict("sale_spend_differs",
                       f"Чек {receipt_uuid} уже учтён со списанием "
                       f"{rub_json(answer['totals']['bonus_spent'])} бонусов, а не {rub_json(spend or 0)}.")
    mark_committed(session, conn.tenant_id, receipt_uuid)
    result = {"receipt_uuid": receipt_uuid, "committed": True, "repeated": not created,
            "bonus": {"spent": rub_json(answer["totals"]["bonus_spent"]),
                      "earned": rub_json(answer["totals"]["bonus_earned"])},
            "discount": rub_json(answer["totals"]["discount"]),
            "promotions": promotions_view(answer),
            "customer": None if not answer.get("customer") else {
                "id": answer["customer"]["id"], "balance": rub_json(answer["customer"]["balance_after"]),
                "level": answer["customer"].get("level_after") or answer["customer"]["level"]},
            "print": {"summary": print_lines(answer, committed=True)},
            "message": (answer.get("messages") or {}).get("cashier") or ""}
    if paid:
        result["certificates"] = [{"number": c["number"], "redeemed": rub_json(c["amount"]),
                                   "balance": rub_json(c["balance"])} for c in paid]
        result["print"]["summary"] += [f"Оплачено сертификатом {c['number']}: {rub(c['amount'])}, "
                                       f"остаток {rub(c['balance'])}" for c in paid]
    return result


@bp.post("/receipts/release")
@terminal_call
def release(session, till: Till, body: dict):
    """CLEARED: the receipt was dropped; what its quote held goes back."""
    receipt_uuid = _receipt_uuid(body)
    record = _record(session, till, receipt_uuid)
    if record is None or not record.customer_id:
        session.rollback()
        return jsonify({"receipt_uuid": receipt_uuid, "released": 0, "status": "unknown" if record is None
                        else record.status})
    if record.status == "committed":
        session.rollback()
        return jsonify({"receipt_uuid": receipt_uuid, "released": 0, "status": "committed"})
    customer_id = record.customer_id
    released = release_receipt_hold(session, till.tenant_id, SOURCE, receipt_uuid, {"id": customer_id})
    status = mark_released(session, till.tenant_id, receipt_uuid)
    return jsonify({"receipt_uuid": receipt_uuid, "released": rub_json(released), "status": status})


def payback_items(raw, field: str = "positions") -> list[tuple]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadValue(field, "Поле positions: нужен список возвращаемых позиций.")
    items = []
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise BadValue(where, f"Позиция {i + 1}: нужен объект.")
        line, product, qty, name, price = payback_line(item, where)
        if not line and not product and not (name and price is not None):
            raise BadValue(where, f"Позиция {i + 1}: укажите uuid позиции продажи, product_id "
                           "или название и цену.")
        items.append((line, product, qty, name, price))
    return items


def return_items(session, conn: Connection, payback_uuid: str, base_uuid: str,
                 items: list, moment=None) -> tuple[dict, dict]:
    """A return of (part of) the sale `base_uuid`, once per payback: (rendered, core answer)."""
    receipt = get_receipt(session, conn.tenant_id, base_uuid, SOURCE)
    # A payback of as many units for as much money as the sale has left is the whole rest,
    # even where a line matches nothing of the sale: everything is reversed, not nothing.
    whole = not items or returns_the_rest(receipt.lines, receipt.returned or {}, items)
    quantities = None if whole else spread_return(receipt.lines, receipt.returned or {}, items)
    session.rollback()
    req = ReturnRequest(external_id=payback_uuid, moment=moment or utcnow(), quantities=quantities)
    answer, created = return_sale(session, conn.tenant_id, SOURCE, base_uuid, req,
                                  payback_key(payback_uuid, base_uuid, items))
    # The core gave the money back to the certificates the sale was paid with first (once per
    # payback: a repeat replays the first answer).
    restored = answer.get("certificates") or []
    customer = answer.get("customer")
    rendered = {"payback_uuid": payback_uuid, "base_receipt_uuid": base_uuid, "repeated": not created,
                "amount_returned": rub_json(answer["amount_returned"]),
                "bonus_spent_restored": rub_json(answer["bonus_spent_restored"]),
                "bonus_earned_reversed": rub_json(answer["bonus_earned_reversed"]),
                "customer": None if not customer else {"id": customer["id"], "balance": rub_json(customer["balance"]),
                                                       "level": customer["level"]}}
    if answer.get("promo_withheld"):
        rendered["promo_withheld"] = rub_json(answer["promo_withheld"])
        rendered["message"] = answer.get("message") or ""
    if restored:
        rendered["certificates"] = [{"number": c["number"], "restored": rub_json(c["amount"]),
                                     "balance": rub_json(c["balance"])} for c in restored]
        rendered["to_cash"] = rub_json(answer["amount_returned"] - sum(c["amount"] for c in restored))
    return rendered, answer


@bp.post("/receipts/payback")
@terminal_call
def payback(session, till: Till, body: dict):
    """A return by the original receipt: bonuses earned are taken back, spent ones restored."""
    payback_uuid = _receipt_uuid(body, "payback_uuid", "paybackUuid", "uuid")
    base_uuid = _receipt_uuid(body, "base_receipt_uuid", "baseReceiptUuid", "base_document_id")
    items = payback_items(body.get("positions"))
    answer, raw = return_items(session, till.conn, payback_uuid, base_uuid, items)
    lines = [f"Возвращено на сертификат {c['number']}: {rub(round(c['restored'] * 100))}"
             for c in answer.get("certificates") or []]
    if raw.get("customer"):
        if raw["bonus_spent_restored"]:
            lines.append(f"Возвращено бонусов: {rub(raw['bonus_spent_restored'])}")
        if raw["bonus_earned_reversed"]:
            lines.append(f"Отменено начисленных бонусов: {rub(raw['bonus_earned_reversed'])}")
        lines.append(f"Баланс бонусов: {rub(raw['customer']['balance'])}")
    answer["print"] = {"summary": lines}
    return jsonify(answer)
