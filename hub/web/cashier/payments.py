"""The cashier's workplace beyond bonuses: promo codes on the sale, gift certificates (check the
balance, sell, pay part or all of a purchase, money back to them on a return), and the
customer's code that confirms a spending when the program asks for it (the program setting
`verify_spending`).

The sale and its certificate payment are one transaction: the sale request carries the
payment and hub.receipts.operations.commit_sale redeems it (the commit's `accept` hook only
refuses, in the workplace's words, a payment that cannot go through); a return refunds it in
hub.receipts.operations.return_sale. A replayed sale or return posts nothing. A confirmation
code is checked (and used up) before the sale, after a quote has shown the sale can go
through, so a wrong code writes nothing but its try."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from flask import abort, g, render_template, request
from sqlalchemy.exc import IntegrityError

from hub.clock import utcnow
from hub.errors import Conflict, DomainError, Invalid
from hub.extensions import db
from hub.customers.models import Customer
from hub.certificates import operations as certificates
from hub.promotions.operations import normalize_code
from hub.web.cashier.blueprint import ROLES, _op_key, _shift, bp
from hub.web.ui.auth import actor, require_roles
from hub.web.ui.formatting import parse_rub, rub
from hub.codes import operations as codes
from connectors.verification import mask_phone
from hub.receipts.operations import calculate_receipt
from hub.programs.operations import load_settings
from hub.promotions.operations import get_code, get_promotion

SPEND_PURPOSE = "spending"
MAX_CODE = 40
CERT_STATUS = {"issued": "не продан", "active": "действует", "blocked": "заблокирован",
               "expired": "срок истёк"}
CERT_REFUSED = {"issued": "Сертификат не активирован: его ещё не продали.",
                "blocked": "Сертификат заблокирован.", "expired": "Срок действия сертификата истёк."}


# --- what the sale form carries besides bonuses ------------------------------------------------

def promo_codes(form, errors: dict) -> tuple[str, ...]:
    raw = (form.get("promo_code") or "").strip()
    if not raw:
        return ()
    if len(raw) > MAX_CODE or not normalize_code(raw):
        errors["promo_code"] = ["Промокод — буквы и цифры, до 40 знаков."]
        return ()
    return (normalize_code(raw),)


def cert_payment(form, errors: dict) -> dict | None:
    """{"number", "amount" (kopecks, None: as much as the certificate and the receipt allow)}."""
    number = certificates.normalize_number(form.get("cert_number") or "")
    raw = (form.get("cert_amount") or "").strip()
    if not number:
        if raw:
            errors["cert_number"] = ["Укажите номер сертификата."]
        return None
    if len(number) > MAX_CODE:
        errors["cert_number"] = ["Номер сертификата — до 40 букв и цифр."]
        return None
    try:
        amount = parse_rub(raw) or None
    except ValueError:
        errors["cert_amount"] = ["Сумма оплаты сертификатом в рублях, например 500."]
        return None
    return {"number": number, "amount": amount}


def spending_needs_code(session, tenant_id: str) -> bool:
    return bool(load_settings(session, tenant_id)[0].get("verify_spending"))


# --- the quote -----------------------------------------------------------------------------------

def calculate(session, tenant_id: str, req) -> tuple[dict, str | None]:
    """The quote; a promo code that cannot be used is left out and its reason returned, so the
    cashier sees the receipt without it and why."""
    try:
        return calculate_receipt(session, tenant_id, req), None
    except Invalid as exc:
        if exc.code != "promo_code_invalid" or not req.promo_codes:
            raise
        return calculate_receipt(session, tenant_id, replace(req, promo_codes=())), exc.message


def promo_status(session, tenant_id: str, codes: tuple[str, ...], answer: dict) -> str | None:
    """What the cashier is told about the code the quote was given."""
    if not codes:
        return None
    try:
        row = get_code(session, tenant_id, codes[0])
        promotion = get_promotion(session, tenant_id, row.promotion_id)
    except DomainError as exc:
        session.rollback()
        return f"Промокод {codes[0]}: {exc.message}"
    session.rollback()
    applied = [p for p in answer.get("promotions") or [] if p["id"] == promotion["id"]]
    if applied:
        p = applied[0]
        gift = [f"скидка {rub(p['discount'])}"] if p["discount"] else []
        gift += [f"бонусы +{rub(p['bonus']).replace('₽', 'Б')}"] if p["bonus"] else []
        return f"Промокод {codes[0]} применён: «{promotion['name']}»" + (f" — {', '.join(gift)}." if gift else ".")
    return f"Промокод {codes[0]} не применён: условия акции «{promotion['name']}» не выполнены."


def cert_plan(session, tenant_id: str, pay: dict, to_pay: int, now: datetime) -> dict:
    """How much the certificate pays of `to_pay` kopecks; Invalid with the reason it cannot."""
    cert = certificates.find(session, tenant_id, pay["number"])
    if cert is None:
        raise Invalid("certificate_not_found", f"Сертификат {pay['number']} не найден.")
    status = certificates.status_of(cert, now)
    if status != "active":
        raise Invalid(f"certificate_{status}", CERT_REFUSED[status])
    if cert.balance <= 0:
        raise Invalid("certificate_empty", "На сертификате не осталось денег.")
    if to_pay <= 0:
        raise Invalid("nothing_to_pay", "Оплачивать сертификатом нечего: к оплате 0 ₽.")
    amount = pay["amount"] or min(cert.balance, to_pay)
    if amount > cert.balance:
        raise Invalid("certificate_insufficient",
                      f"На сертификате {rub(cert.balance)}, списать {rub(amount)} нельзя.")
    if amount > to_pay:
        raise Invalid("certificate_exceeds_receipt",
                      f"Сертификатом можно оплатить не больше суммы к оплате: {rub(to_pay)}.")
    return {"number": cert.number, "amount": amount, "balance": cert.balance,
            "balance_after": cert.balance - amount, "rest": to_pay - amount}


# --- the commit ----------------------------------------------------------------------------------

def acceptor(session, tenant_id: str, req, pay: dict | None, needs_code: bool, confirmed: bool):
    """The commit's `accept` hook: refuses a spending that needs the customer's code and was not
    confirmed, and a certificate payment that cannot go through (commit_sale redeems it)."""
    def accept(payload: dict) -> None:
        if needs_code and not confirmed and payload["totals"]["bonus_spent"] > 0:
            raise Invalid("spend_code_required",
                          "Списание бонусов подтверждается кодом клиента: отправьте код и введите его.")
        if pay is None:
            return
        cert_plan(session, tenant_id, pay, payload["totals"]["amount_to_pay"], utcnow())
    return accept


def with_certificate(answer: dict) -> dict:
    """The sale's answer with `certificate` (number, amount, balance_after), the one payment the
    workplace takes, as its pages show it (sales before the one operation stored it so)."""
    if answer.get("certificate") or not answer.get("certificates"):
        return answer
    paid = answer["certificates"][0]
    return {**answer, "certificate": {"number": paid["number"], "amount": paid["amount"],
                                      "balance_after": paid["balance"]}}


def confirm_spending(session, tenant_id: str, customer_id: str, code: str) -> str | None:
    """None when the customer's code is right (it is used up), else the Russian reason."""
    code = (code or "").strip()
    if not code:
        return "Спросите у клиента код из сообщения и введите его (кнопка «Отправить код»)."
    if not code.isdigit() or len(code) > 12:
        return "Код — это цифры из сообщения клиенту."
    customer = session.get(Customer, customer_id)
    if not codes.confirm(session, tenant_id, customer.phone, SPEND_PURPOSE, code):
        return "Неверный или просроченный код. Отправьте клиенту новый."
    return None


# --- the certificates page -----------------------------------------------------------------------

def number_for(op_key: str) -> str:
    """A new certificate's number from the sell form's key: a double click sells one certificate;
    as unguessable as the form's random key."""
    digits = certificates.NUMBER_DIGITS
    return str(uuid.UUID(op_key).int % (9 * 10 ** (digits - 1)) + 10 ** (digits - 1))


def sell(session, tenant_id: str, number: str, nominal: int | None, valid_days: int | None,
         op_key: str, by=None) -> tuple[dict, bool]:
    """Sell (activate) a certificate: one issued in advance, or a new one with the nominal
    (`by`: the cashier, audited with the sale)."""
    now = utcnow()
    number = number or number_for(op_key)
    cert = certificates.find(session, tenant_id, number)
    if cert is None:
        if not nominal:
            raise Invalid("validation_error", "Сертификата с таким номером нет: укажите номинал, чтобы выпустить его.",
                          {"nominal": ["Укажите номинал."]})
        try:
            certificates.issue(session, tenant_id, {"nominal": nominal, "numbers": [number],
                                                    "valid_days": valid_days}, now)
        except (Conflict, IntegrityError):   # a double click issued it a moment ago
            session.rollback()
    elif nominal and cert.status == "issued" and cert.nominal != nominal:
        raise Invalid("validation_error", f"Сертификат выпущен заранее с номиналом {rub(cert.nominal)}.",
                      {"nominal": [f"Номинал {rub(cert.nominal)}."]})
    return certificates.activate(session, tenant_id, number, "WC-" + uuid.UUID(op_key).hex[:12].upper(), now, now,
                                 by=by)


def page(**extra):
    return render_template("cashier/certificates.html", **{
        "number": "", "cert": None, "error": None, "errors": {}, "sold": None, "v": {},
        "op_key": str(uuid.uuid4()), **extra})


# --- the routes of this module on the workplace's blueprint ------------------------------------

@bp.post("/spend/code")
@require_roles(*ROLES)
def spend_code():
    _shift()
    customer = db.session.get(Customer, (request.form.get("customer_id") or "").strip() or "-")
    if customer is None or customer.tenant_id != g.tenant_id:
        abort(404)
    phone = customer.phone
    try:
        problem = codes.issue(db.session, g.tenant_id, phone, SPEND_PURPOSE)  # staff: no per-IP limit
    except DomainError as exc:
        db.session.rollback()
        return render_template("cashier/_code_sent.html", error=exc.message), 422
    if problem:
        return render_template("cashier/_code_sent.html", error=problem), 422
    return render_template("cashier/_code_sent.html", phone=mask_phone(phone), error=None)


@bp.get("/certificates")
@require_roles(*ROLES)
def certificates_page():
    _shift()
    number = certificates.normalize_number(request.args.get("number") or "")[:MAX_CODE]
    if not number:
        return page()
    cert = certificates.find(db.session, g.tenant_id, number)
    answer = certificates.view(cert, utcnow()) if cert is not None else None
    db.session.rollback()
    if answer is None:
        return page(number=number, error=f"Сертификат {number} не найден."), 404
    return page(number=number, cert=answer, status=CERT_STATUS)


@bp.post("/certificates/sell")
@require_roles(*ROLES)
def certificates_sell():
    _shift()
    op_key = _op_key(request.form)
    f = request.form
    v = {k: (f.get(k) or "").strip() for k in ("number", "nominal", "valid_days")}
    errors: dict[str, list[str]] = {}
    number = certificates.normalize_number(v["number"])
    if v["number"] and not 4 <= len(number) <= MAX_CODE:
        errors["number"] = ["Номер — от 4 до 40 букв и цифр."]
    try:
        nominal = parse_rub(v["nominal"]) or None
    except ValueError:
        nominal = None
        errors["nominal"] = ["Номинал в рублях, например 3 000."]
    valid_days = None
    if v["valid_days"]:
        if not v["valid_days"].isdigit() or not 1 <= int(v["valid_days"]) <= 3650:
            errors["valid_days"] = ["Срок — целое число дней от 1 до 3650."]
        else:
            valid_days = int(v["valid_days"])
    if not number and not nominal and "nominal" not in errors:
        errors["nominal"] = ["Укажите номинал нового сертификата или номер выпущенного."]
    if not errors:
        try:
            sold, created = sell(db.session, g.tenant_id, number, nominal, valid_days, op_key, by=actor())
        except DomainError as exc:
            db.session.rollback()
            errors = {"_form": [exc.message]}
        else:
            return page(sold=sold, replay=not created, status=CERT_STATUS, number=sold["number"], cert=sold)
    db.session.rollback()
    return page(v=v, errors=errors, op_key=op_key), 422
