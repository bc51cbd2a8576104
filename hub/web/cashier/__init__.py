"""The cashier's workplace (/cashier) for shops whose till is not integrated: sign in, choose
the store and the cashier, find or register a client (phone confirmed by a code), type the
purchase, see the quote, commit (idempotent per form: a double click never makes two sales)
and return a purchase. Keyboard-first: F2 search, F4 amount, F8 quote, F9 commit; a card's QR
or barcode scanned by the camera where the browser can (static/scan.js) or by a scanner gun.
Promo codes, gift certificates and the customer's code confirming a spending: payments.py."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time as dtime, timedelta
from decimal import Decimal, InvalidOperation

from flask import (abort, g, redirect, render_template, request, session as web_session,
                   url_for)
from flask_login import current_user, logout_user
from sqlalchemy import select

from hub import engine
from hub.clock import utcnow
from hub.errors import DomainError
from hub.extensions import db
from hub.tenants.models import Cashier, Store
from hub.customers.models import Customer
from hub.receipts.models import Receipt
from hub.codes import operations as codes
from hub.web.cashier import payments
from hub.web.ui.auth import actor, require_roles, sign_in_view
from hub.web.cashier.blueprint import ROLES, SOURCE, _op_key, _shift, bp
from hub.web.ui.formatting import parse_rub, tenant_tz
from hub.customers.operations import register_customer
from hub.phones import normalize_phone
from hub.receipts.operations import line_amount
from hub.customers.operations import get_customer, summarize
from hub.receipts.operations import commit_sale, find_receipt
from hub.receipts.operations import SaleRequest
from hub.tenants.operations import list_points
from hub.receipts.operations import ReturnRequest, return_sale
from hub.customers.operations import search_customers

MAX_LINES = 50
CHOICES = 10                    # clients offered when the search finds several


@bp.errorhandler(404)
def _not_found(exc):
    if request.headers.get("HX-Request"):
        return render_template("ui/error_fragment.html", message="Не найдено."), 404
    return render_template("ui/error.html", title="Не найдено", message="Такой страницы нет.",
                           back=url_for("cashier.workplace")), 404


@bp.errorhandler(403)
def _forbidden(exc):
    return render_template("ui/error.html", title="Нет доступа", message="Рабочее место кассира недоступно вашей роли.",
                           back="/"), 403


@bp.route("/login", methods=["GET", "POST"])
def login():
    return sign_in_view(ROLES, "cashier/login.html", lambda: url_for("cashier.shift"))


@bp.post("/logout")
def logout():
    logout_user()
    web_session.clear()
    return redirect(url_for("cashier.login"))


@bp.route("/shift", methods=["GET", "POST"])
@require_roles(*ROLES)
def shift():
    errors = {}
    if request.method == "POST":
        # A store of the list, or a new code typed under it (remembered with the first sale).
        store = (request.form.get("store") or request.form.get("store_new") or "").strip()[:100]
        cashier = (request.form.get("cashier") or "").strip()[:100]
        if not store:
            errors["store"] = ["Выберите магазин или введите его код."]
        if not cashier:
            errors["cashier"] = ["Выберите кассира или введите его код."]
        if not errors:
            web_session["shift"] = {"store": store, "cashier": cashier}
            return redirect(url_for("cashier.workplace"))
    stores = list_points(db.session, g.tenant_id, Store)
    cashiers = list_points(db.session, g.tenant_id, Cashier)
    db.session.rollback()
    current = web_session.get("shift") or {}
    return render_template("cashier/shift.html", stores=stores, cashiers=cashiers, errors=errors,
                           current=current, default_cashier=current.get("cashier") or current_user.name), \
        (422 if errors else 200)


@bp.get("/")
@require_roles(*ROLES)
def workplace():
    shift_ = _shift()
    db.session.rollback()
    return render_template("cashier/workplace.html", shift=shift_, op_key=str(uuid.uuid4()))


# --- clients ---------------------------------------------------------------------------------

def _panel(customer: Customer, message: str | None = None):
    summary = summarize(db.session, g.tenant_id, customer, utcnow())
    db.session.rollback()
    return render_template("cashier/_client.html", c=customer, s=summary, message=message)


@bp.get("/find")
@require_roles(*ROLES)
def find():
    """The search box: the cabinet's search (hub.customers.operations.search_conditions) — a card,
    a phone, its last four digits or a name; one client opens, several are offered to choose."""
    _shift()
    if request.args.get("id"):         # a choice from the list below
        found = db.session.get(Customer, request.args["id"])
        if found is None or found.tenant_id != g.tenant_id:
            abort(404)
        return _panel(found)
    q = (request.args.get("q") or "").strip()
    if not q:
        return render_template("cashier/_not_found.html", q=q, phone="",
                               message="Введите телефон, последние 4 цифры телефона, номер карты или фамилию.")
    rows = search_customers(db.session, g.tenant_id, q, limit=CHOICES + 1)
    # An exact card or phone wins over the partial matches it also makes.
    exact = [c for c in rows if c.card_number == q]
    if not exact:
        try:
            phone = normalize_phone(q)
        except DomainError:
            phone = ""
        exact = [c for c in rows if phone and c.phone == phone]
    else:
        phone = ""
    if exact or len(rows) == 1:
        return _panel((exact or rows)[0])
    if rows:
        page = render_template("cashier/_choices.html", rows=rows[:CHOICES], more=len(rows) > CHOICES, q=q)
        db.session.rollback()
        return page
    db.session.rollback()
    return render_template("cashier/_not_found.html", q=q, phone=phone,
                           message="Клиент не найден." if phone or q.isdigit() else
                           "Не похоже на телефон или номер карты.")


def _reg_form(values: dict, errors: dict, step: str):
    return render_template("cashier/_register.html", v=values, errors=errors, step=step)


def _reg_values() -> dict:
    f = request.form
    return {"phone": (f.get("phone") or "").strip(), "first_name": (f.get("first_name") or "").strip()[:100],
            "personal_data": f.get("personal_data") == "on", "sms": f.get("sms") == "on",
            "code": (f.get("code") or "").strip()}


def _reg_check(v: dict) -> tuple[str | None, dict]:
    errors: dict[str, list[str]] = {}
    phone = None
    try:
        phone = normalize_phone(v["phone"])
    except DomainError as exc:
        errors["phone"] = [exc.message]
    if not v["personal_data"]:
        errors["personal_data"] = ["Без согласия на обработку персональных данных зарегистрировать нельзя."]
    if phone and db.session.scalar(select(Customer.id).where(Customer.tenant_id == g.tenant_id,
                                                             Customer.phone == phone)) is not None:
        errors["phone"] = [f"Клиент с телефоном {phone} уже зарегистрирован: найдите его поиском."]
    return phone, errors


@bp.post("/register/start")
@require_roles(*ROLES)
def register_start():
    _shift()
    return _reg_form({"phone": request.form.get("phone", ""), "first_name": "", "personal_data": False,
                      "sms": False, "code": ""}, {}, "details")


@bp.post("/register/code")
@require_roles(*ROLES)
def register_code():
    _shift()
    v = _reg_values()
    phone, errors = _reg_check(v)
    if not errors:
        try:
            # signed-in staff: no per-IP limit (a shop is one address)
            problem = codes.issue(db.session, g.tenant_id, phone, "register")
        except DomainError as exc:
            errors["code"] = [exc.message]
            return _reg_form(v, errors, "code"), 422
        if problem:             # no channel: the cashier reads that, not «Код отправлен»
            return _reg_form(v, {"phone": [problem]}, "details"), 422
        return _reg_form(v, {}, "code")
    db.session.rollback()
    return _reg_form(v, errors, "details"), 422


@bp.post("/register")
@require_roles(*ROLES)
def register():
    _shift()
    v = _reg_values()
    phone, errors = _reg_check(v)
    if errors:
        db.session.rollback()
        return _reg_form(v, errors, "details"), 422
    if not codes.confirm(db.session, g.tenant_id, phone, "register", v["code"]):
        return _reg_form(v, {"code": ["Неверный или просроченный код. Запросите новый."]}, "code"), 422
    try:
        customer = register_customer(
            db.session, g.tenant_id,
            {"phone": phone, "first_name": v["first_name"] or None,
             "consents": {"personal_data": True, "sms": v["sms"]}},
            source=SOURCE, moment=utcnow(), by=actor())
    except DomainError as exc:
        db.session.rollback()
        return _reg_form(v, {"phone": [exc.message]}, "details"), 422
    return _panel(customer, "Клиент зарегистрирован, телефон подтверждён.")


# --- the sale --------------------------------------------------------------------------------

def _positions(form) -> tuple[tuple[engine.Position, ...], dict, list[dict]]:
    """Positions from the lines typed (name, price, quantity) or from one amount."""
    errors: dict[str, list[str]] = {}
    lines = []
    for i in range(MAX_LINES):
        name = (form.get(f"line-{i}-name") or "").strip()
        price_raw = (form.get(f"line-{i}-price") or "").strip()
        qty_raw = (form.get(f"line-{i}-qty") or "").strip()
        if not (name or price_raw):
            continue
        lines.append({"i": i, "name": name[:200], "price": price_raw, "qty": qty_raw or "1"})
    positions = []
    if lines:
        for ln in lines:
            try:
                price = parse_rub(ln["price"])
                if not price:
                    raise ValueError
            except ValueError:
                errors[f"line-{ln['i']}-price"] = ["Цена в рублях, больше 0."]
                continue
            try:
                qty = Decimal(ln["qty"].replace(",", "."))
                if not qty.is_finite() or qty <= 0 or qty > 100000 or qty != qty.quantize(Decimal("0.001")):
                    raise InvalidOperation
            except InvalidOperation:
                errors[f"line-{ln['i']}-qty"] = ["Количество больше 0, до трёх знаков после запятой."]
                continue
            positions.append(engine.Position(id=str(len(positions) + 1), amount=line_amount(price, qty), quantity=qty,
                                             price=price, name=ln["name"] or f"Позиция {len(positions) + 1}"))
    else:
        try:
            amount = parse_rub(form.get("amount"))
            if not amount:
                raise ValueError
            positions.append(engine.Position(id="1", amount=amount, price=amount, name="Покупка"))
        except ValueError:
            errors["amount"] = ["Введите сумму покупки в рублях, например 1 250,50."]
    return tuple(positions), errors, lines


def _sale_request(form, op_key: str):
    shift_ = _shift()
    positions, errors, _ = _positions(form)
    promo_codes, pay = payments.promo_codes(form, errors), payments.cert_payment(form, errors)
    customer_id = (form.get("customer_id") or "").strip() or None
    spend, spend_max = None, form.get("spend_max") == "on"
    if customer_id:
        customer = db.session.get(Customer, customer_id)
        if customer is None or customer.tenant_id != g.tenant_id:
            abort(404)
        if not spend_max:
            try:
                spend = parse_rub(form.get("spend")) or None
            except ValueError:
                errors["spend"] = ["Сколько бонусов списать: число, например 100."]
    elif form.get("spend") or spend_max:
        spend_max = False
    payment = form.get("payment_method") if form.get("payment_method") in ("cash", "card") else None
    req = SaleRequest(external_id="W-" + uuid.UUID(op_key).hex[:12].upper(), moment=utcnow(), positions=positions,
                      customer={"id": customer_id} if customer_id else None, store=shift_["store"],
                      cashier=shift_["cashier"], payment_method=payment, spend=spend, spend_max=spend_max,
                      promo_codes=promo_codes,
                      certificates=((pay["number"], pay["amount"]),) if pay else ())
    return req, errors, pay


@bp.post("/quote")
@require_roles(*ROLES)
def quote():
    req, errors, pay = _sale_request(request.form, _op_key(request.form))
    if errors:
        db.session.rollback()
        return render_template("cashier/_quote.html", errors=errors, q=None), 422
    try:
        answer, extras = _quote(req, pay)
    except DomainError as exc:
        db.session.rollback()
        return render_template("cashier/_quote.html", errors={"_form": [exc.message]}, q=None), 422
    return render_template("cashier/_quote.html", errors={}, q=answer, **extras)


def _quote(req, pay: dict | None) -> tuple[dict, dict]:
    """The quote with what the workplace shows around it: the promo code's fate, the
    certificate's part, whether the spending needs the customer's code."""
    answer, promo_refused = payments.calculate(db.session, g.tenant_id, req)
    extras = {"promo": promo_refused or payments.promo_status(db.session, g.tenant_id, req.promo_codes, answer),
              "promo_refused": promo_refused is not None, "cert": None, "cert_error": None,
              "needs_code": bool(answer["customer"] and answer["totals"]["bonus_spent"] > 0
                                 and payments.spending_needs_code(db.session, g.tenant_id))}
    if pay is not None:
        try:
            extras["cert"] = payments.cert_plan(db.session, g.tenant_id, pay, answer["totals"]["amount_to_pay"], utcnow())
        except DomainError as exc:
            extras["cert_error"] = exc.message
    db.session.rollback()
    return answer, extras


@bp.post("/sale")
@require_roles(*ROLES)
def sale():
    op_key = _op_key(request.form)
    req, errors, pay = _sale_request(request.form, op_key)
    if errors:
        db.session.rollback()
        return render_template("cashier/_quote.html", errors=errors, q=None), 422
    body = {"positions": [(p.name, p.price, str(p.quantity), p.amount) for p in req.positions],
            "customer": req.customer, "spend": req.spend, "spend_max": req.spend_max,
            "payment": req.payment_method, "store": req.store, "cashier": req.cashier,
            "promo_codes": list(req.promo_codes), "certificate": pay}
    needs_code = bool(req.customer and (req.spend or req.spend_max)
                      and payments.spending_needs_code(db.session, g.tenant_id))
    confirmed = False
    if (pay is not None or needs_code or req.promo_codes) \
            and find_receipt(db.session, g.tenant_id, req.external_id, SOURCE) is None:
        # Refused before anything is used up: the quote, the promo code, the certificate, the code.
        try:
            answer, extras = _quote(req, pay)
        except DomainError as exc:
            db.session.rollback()
            return render_template("cashier/_quote.html", errors={"_form": [exc.message]}, q=None), 422
        refusal = {}
        if extras["promo_refused"]:
            refusal["_form"] = ["Продажа не проведена: промокод не подходит (причина ниже). Уберите или исправьте его."]
        if extras["cert_error"]:
            refusal.setdefault("_form", []).append("Продажа не проведена: сертификатом так оплатить нельзя (причина ниже).")
        if not refusal and extras["needs_code"]:
            reason = payments.confirm_spending(db.session, g.tenant_id, req.customer["id"],
                                               request.form.get("spend_code"))
            if reason and find_receipt(db.session, g.tenant_id, req.external_id, SOURCE) is None:
                refusal["spend_code"] = [reason]
            confirmed = True
        if refusal:
            db.session.rollback()
            return render_template("cashier/_quote.html", errors=refusal, q=answer, **extras), 422
    accept = payments.acceptor(db.session, g.tenant_id, req, pay, needs_code, confirmed)
    try:
        answer, created = commit_sale(db.session, g.tenant_id, SOURCE, req, body, accept=accept, by=actor())
        answer = payments.with_certificate(answer)
    except DomainError as exc:
        db.session.rollback()
        return render_template("cashier/_quote.html", errors={"_form": [exc.message]}, q=None), 422
    # The client's panel shows the balance after this sale (an out-of-band swap of #client),
    # not the one it was opened with.
    customer, summary = None, None
    if req.customer and req.customer.get("id"):
        customer = get_customer(db.session, g.tenant_id, req.customer["id"])
        summary = summarize(db.session, g.tenant_id, customer, utcnow())
    page = render_template("cashier/_sale_done.html", a=answer, replay=not created, op_key=str(uuid.uuid4()),
                           c=customer, s=summary)
    db.session.rollback()
    return page


# --- returns ---------------------------------------------------------------------------------

@bp.get("/returns")
@require_roles(*ROLES)
def returns():
    """A receipt to return, found by its number — or a list of this workplace's receipts found
    by the client's phone or card, or by the day of the purchase (ДД.ММ.ГГГГ)."""
    _shift()
    query = (request.args.get("number") or "").strip()[:100]
    number = query.upper()
    r, found, error = None, [], None
    if number:
        r = db.session.scalars(select(Receipt).where(Receipt.tenant_id == g.tenant_id, Receipt.source == SOURCE,
                                                     Receipt.external_id == number)).first()
        if r is None:
            found = _receipts_by(query)
            if not found:
                error = (f"Чеки по запросу «{query}» не найдены: введите номер чека, телефон или карту "
                         "клиента или дату покупки (возвращаются только чеки рабочего места кассира).")
    db.session.rollback()
    return render_template("cashier/returns.html", number=query, r=r, found=found, error=error,
                           op_key=str(uuid.uuid4()), left=_left(r) if r else {}), (404 if error else 200)


RETURN_SEARCH_LIMIT = 30


def _receipts_by(query: str) -> list[Receipt]:
    """This workplace's receipts of the day `query` names (local time), else of the clients
    its phone, card or name finds; newest first."""
    stmt = select(Receipt).where(Receipt.tenant_id == g.tenant_id, Receipt.source == SOURCE)
    day = _day(query)
    if day is not None:
        start = datetime.combine(day, dtime(0), tenant_tz())
        stmt = stmt.where(Receipt.moment >= start, Receipt.moment < start + timedelta(days=1))
    else:
        customers = [c.id for c in search_customers(db.session, g.tenant_id, query)]
        if not customers:
            return []
        stmt = stmt.where(Receipt.customer_id.in_(customers))
    return list(db.session.scalars(stmt.order_by(Receipt.moment.desc(), Receipt.id.desc())
                                   .limit(RETURN_SEARCH_LIMIT)))


def _day(query: str) -> date | None:
    """«05.12.2026» (as a Russian cashier writes it) or «2026-12-05»; None for anything else."""
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", query) or re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", query)
    if m is None:
        return None
    parts = [int(x) for x in m.groups()]
    try:
        return date(*(parts if len(m.group(1)) == 4 else parts[::-1]))
    except ValueError:
        return None


def _left(r: Receipt) -> dict:
    returned = r.returned or {}
    return {ln["id"]: Decimal(ln["quantity"]) - Decimal(returned.get(ln["id"], "0")) for ln in r.lines}


@bp.post("/returns/<receipt_id>")
@require_roles(*ROLES)
def return_post(receipt_id: str):
    _shift()
    r = db.session.get(Receipt, receipt_id)
    if r is None or r.tenant_id != g.tenant_id or r.source != SOURCE:
        abort(404)
    op_key = _op_key(request.form)
    quantities, errors = {}, {}
    for ln in r.lines:
        raw = (request.form.get(f"qty-{ln['id']}") or "0").strip().replace(",", ".")
        try:
            qty = Decimal(raw)
            if not qty.is_finite() or qty < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors[ln["id"]] = ["Количество — число не меньше 0."]
            continue
        if qty:
            quantities[ln["id"]] = qty
    if not quantities and not errors:
        errors["_form"] = ["Укажите, что возвращается."]
    answer = None
    if not errors:
        req = ReturnRequest(external_id="WR-" + uuid.UUID(op_key).hex[:12].upper(), moment=utcnow(),
                            quantities=quantities)
        try:
            answer, created = return_sale(db.session, g.tenant_id, SOURCE, r.external_id, req,
                                          {"receipt": r.external_id, "quantities": {k: str(v) for k, v in quantities.items()}},
                                          by=actor())
        except DomainError as exc:
            db.session.rollback()
            errors["_form"] = [exc.message]
    r = db.session.get(Receipt, receipt_id, populate_existing=True)
    left = _left(r)
    db.session.rollback()
    return render_template("cashier/returns.html", number=r.external_id, r=r, error=None, errors=errors, done=answer,
                           op_key=op_key if errors else str(uuid.uuid4()), left=left), (422 if errors else 200)

