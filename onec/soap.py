"""SOAP for 1С extensions: the static WSDL (onec/wsdl.py) at
`/onec/<connection id>/ws/loyalty?wsdl`, and its operations on SOAP 1.1 and 1.2.

Requests are parsed by lxml with entities, DTDs and network access off, validated against
the WSDL's schema, and turned into hub service calls: Calculate = quote with a hold,
Confirm = commit (idempotent by the receipt's GUID; the hold becomes the spend once),
Cancel = release, Refund = a return of the sale, FindCustomer, RegisterCustomer,
GetBalance. Errors are SOAP faults with Russian messages.
"""
from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import Blueprint, Response, request
from lxml import etree

from hub.money import BadNumber, MoneyError, parse_rub, wire_decimal
from connectors.receipts import make_position, operation_body, roubles
from hub.unavailable import database_unavailable
from hub.errors import DomainError
from hub.extensions import db
from hub.moments import utcnow
from hub.phones import normalize_phone
from hub.customers.cards import find_card_holder
from hub.catalog.operations import with_groups
from hub.customers.operations import register_customer, summarize
from hub.receipts.holds import quote_and_hold, release_receipt_hold
from hub.receipts.operations import ReturnRequest, SaleRequest, commit_sale, return_sale
from onec.common import PREFIX, SOURCE, authenticated, setting
from onec.wsdl import NS, OPERATIONS, SCHEMA, wsdl

log = logging.getLogger("kopilka.onec.soap")

bp = Blueprint("onec_soap", __name__, url_prefix=PREFIX)

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
MAX_BODY = 2 * 1024 * 1024

_parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                          huge_tree=False, remove_comments=True)
_schema = None


def schema() -> etree.XMLSchema:
    global _schema  # noqa: PLW0603 - the WSDL schema is parsed once per process
    if _schema is None:
        _schema = etree.XMLSchema(etree.fromstring(SCHEMA.encode(), _parser))
    return _schema


class Fault(Exception):
    def __init__(self, message: str, client: bool = True):
        super().__init__(message)
        self.message, self.client = message, client


# --- XML in and out -------------------------------------------------------------------------

def _local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _text(el, name: str) -> str | None:
    child = el.find(f"{{{NS}}}{name}")
    if child is None or child.text is None:
        return None
    return child.text.strip() or None


def _dec(el, name: str) -> Decimal | None:
    value = _text(el, name)
    if value is None:
        return None
    try:
        return wire_decimal(value)
    except (BadNumber, InvalidOperation):
        raise Fault(f"Поле {name}: «{value}» — не число.") from None


def _kop(value: Decimal | None) -> int:
    """Roubles of a SOAP field as kopecks through hub.money.parse_rub (its limit and words)."""
    if value is None:
        return 0
    try:
        return parse_rub(value, allow_negative=True)
    except MoneyError as exc:
        raise Fault(f"Суммы: {exc.message}") from None


def _rub(kopecks: int) -> str:
    return str(roubles(kopecks))


def _element(parent, name: str, value) -> None:
    el = etree.SubElement(parent, f"{{{NS}}}{name}")
    if isinstance(value, bool):
        el.text = "true" if value else "false"
    elif value is not None:
        el.text = str(value)
    else:
        el.text = ""


def envelope(version: str, op: str, fill) -> bytes:
    env = etree.Element(f"{{{version}}}Envelope", nsmap={"soap": version, "m": NS})
    body = etree.SubElement(env, f"{{{version}}}Body")
    wrapper = etree.SubElement(body, f"{{{NS}}}{op}Response")
    ret = etree.SubElement(wrapper, f"{{{NS}}}return")
    fill(ret)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def fault(version: str, message: str, client: bool) -> Response:
    env = etree.Element(f"{{{version}}}Envelope", nsmap={"soap": version})
    body = etree.SubElement(env, f"{{{version}}}Body")
    f = etree.SubElement(body, f"{{{version}}}Fault")
    if version == SOAP11:
        etree.SubElement(f, "faultcode").text = "soap:Client" if client else "soap:Server"
        etree.SubElement(f, "faultstring").text = message
        ctype = "text/xml; charset=utf-8"
    else:
        code = etree.SubElement(f, f"{{{version}}}Code")
        etree.SubElement(code, f"{{{version}}}Value").text = "soap:Sender" if client else "soap:Receiver"
        reason = etree.SubElement(f, f"{{{version}}}Reason")
        text = etree.SubElement(reason, f"{{{version}}}Text")
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "ru")
        text.text = message
        ctype = "application/soap+xml; charset=utf-8"
    # SOAP 1.1 (WS-I Basic Profile R1126): every fault is HTTP 500; SOAP 1.2 (part 2, 7.5.1):
    # a Sender fault is 400, a Receiver fault 500.
    status = 400 if client and version == SOAP12 else 500
    return Response(etree.tostring(env, xml_declaration=True, encoding="UTF-8"), status=status, content_type=ctype)


# --- operations -----------------------------------------------------------------------------

def _customer_ref(session, conn, el, *, required: bool = False) -> dict | None:
    card, phone = _text(el, "card"), _text(el, "phone")
    if not card and not phone:
        if required:
            raise Fault("Укажите карту (card) или телефон (phone) клиента.")
        return None
    customer, _ = find_card_holder(session, conn.tenant_id, code=card, phone=phone)
    if customer is None:
        raise Fault(f"Клиент {'с картой ' + card if card else 'с телефоном ' + phone} не найден.")
    return {"id": customer.id}


def _receipt(session, conn, el) -> tuple[SaleRequest, list[dict]]:
    receipt = el.find(f"{{{NS}}}receipt")
    receipt_id = _text(receipt, "receiptId")
    if not receipt_id or len(receipt_id) > 100:
        raise Fault("Укажите идентификатор чека receiptId (не длиннее 100 символов).")
    lines, seen = [], set()
    for i, pos in enumerate(receipt.findall(f"{{{NS}}}position")):
        pid = _text(pos, "id") or str(i + 1)
        if pid in seen:
            raise Fault(f"Позиция {pid} повторяется в чеке.")
        seen.add(pid)
        price, qty = _kop(_dec(pos, "price")), _dec(pos, "quantity")
        if price < 0 or qty is None or qty <= 0 or qty > 10 ** 6:
            raise Fault(f"Позиция {pid}: цена не меньше нуля, количество больше нуля.")
        if qty != qty.quantize(Decimal("0.001")):
            raise Fault(f"Позиция {pid}: количество — не больше трёх знаков после запятой.")
        discount = _kop(_dec(pos, "discount"))
        full = make_position(id=pid, price=price, quantity=qty).amount
        if discount < 0 or discount > full:
            raise Fault(f"Позиция {pid}: скидка больше суммы позиции.")
        lines.append({"id": pid, "product": (_text(pos, "product") or "")[:100] or None,
                      "name": (_text(pos, "name") or "")[:300] or None, "price": price,
                      "quantity": str(qty), "till_discount": discount,
                      "groups": [g.text.strip()[:100] for g in pos.findall(f"{{{NS}}}group") if g.text and g.text.strip()]})
    lines = with_groups(session, conn.tenant_id, lines)
    spend = _kop(_dec(receipt, "spendBonuses"))
    if spend < 0:
        raise Fault("spendBonuses не может быть отрицательным.")
    ref = _customer_ref(session, conn, receipt)
    positions = tuple(make_position(id=p["id"], price=p["price"], quantity=Decimal(p["quantity"]),
                                    groups=tuple(p["groups"]), product=p["product"], name=p["name"],
                                    till_discount=p["till_discount"]) for p in lines)
    req = SaleRequest(external_id=receipt_id, moment=utcnow(), positions=positions, customer=ref,
                      store=(_text(receipt, "store") or "")[:100] or None,
                      cashier=(_text(receipt, "cashier") or "")[:100] or None, spend=spend or None)
    return req, lines


def _fill_quote(ret, receipt_id: str, quote: dict, repeated: bool = False) -> None:
    t, c = quote["totals"], quote.get("customer") or {}
    for name, value in (("receiptId", receipt_id), ("amount", _rub(t["amount"])), ("discount", _rub(t["discount"])),
                        ("levelDiscount", _rub(t["level_discount"])), ("bonusSpent", _rub(t["bonus_spent"])),
                        ("maxSpendable", _rub(t["max_spendable"])), ("bonusEarned", _rub(t["bonus_earned"])),
                        ("amountToPay", _rub(t["amount_to_pay"])), ("balance", _rub(c.get("balance") or 0)),
                        ("balanceAfter", _rub(c.get("balance_after") or 0)), ("customerId", c.get("id") or ""),
                        ("repeated", repeated), ("message", (quote.get("messages") or {}).get("cashier") or "")):
        _element(ret, name, value)
    for p in quote["positions"]:
        el = etree.SubElement(ret, f"{{{NS}}}position")
        for name, value in (("id", p["id"]), ("amount", _rub(p["amount"])), ("discount", _rub(p["discount"])),
                            ("bonusSpent", _rub(p["bonus_spent"])), ("bonusEarned", _rub(p["bonus_earned"])),
                            ("amountToPay", _rub(p["amount_to_pay"]))):
            _element(el, name, value)


def op_calculate(session, conn, el):
    from datetime import timedelta
    req, _ = _receipt(session, conn, el)
    quote = quote_and_hold(session, conn.tenant_id, SOURCE, req,
                           ttl=timedelta(seconds=max(30, setting(conn, "lock_ttl_seconds"))))
    return lambda ret: _fill_quote(ret, req.external_id, quote)


def op_confirm(session, conn, el):
    req, lines = _receipt(session, conn, el)
    body = operation_body("onec_soap_sale", req.external_id, [(p["id"], p["quantity"]) for p in lines],
                          customer=(req.customer or {}).get("id"), spend=req.spend or 0)
    answer, created = commit_sale(session, conn.tenant_id, SOURCE, req, body, hold_reference=req.external_id)
    session.rollback()
    return lambda ret: _fill_quote(ret, req.external_id, answer, repeated=not created)


def op_cancel(session, conn, el):
    receipt_id = _text(el, "receiptId")
    if not receipt_id:
        raise Fault("Укажите идентификатор чека receiptId.")
    ref = _customer_ref(session, conn, el, required=True)
    released = release_receipt_hold(session, conn.tenant_id, SOURCE, receipt_id, ref)

    def fill(ret):
        _element(ret, "receiptId", receipt_id)
        _element(ret, "released", _rub(released))
    return fill


def op_refund(session, conn, el):
    refund_id, receipt_id = _text(el, "refundId"), _text(el, "receiptId")
    if not refund_id or not receipt_id:
        raise Fault("Укажите refundId и receiptId.")
    quantities = {}
    for line in el.findall(f"{{{NS}}}line"):
        qty = _dec(line, "quantity")
        if qty is None or qty <= 0:
            raise Fault("Количество возврата должно быть больше нуля.")
        quantities[_text(line, "id") or ""] = quantities.get(_text(line, "id") or "", Decimal(0)) + qty
    req = ReturnRequest(external_id=refund_id, moment=utcnow(), quantities=quantities or None)
    body = operation_body("onec_soap_refund", refund_id, list(quantities.items()), base=receipt_id)
    answer, created = return_sale(session, conn.tenant_id, SOURCE, receipt_id, req, body)
    session.rollback()

    def fill(ret):
        for name, value in (("refundId", refund_id), ("receiptId", receipt_id),
                            ("amountReturned", _rub(answer["amount_returned"])),
                            ("bonusRestored", _rub(answer["bonus_spent_restored"])),
                            ("bonusReversed", _rub(answer["bonus_earned_reversed"])),
                            ("balance", _rub((answer.get("customer") or {}).get("balance") or 0)),
                            ("repeated", not created)):
            _element(ret, name, value)
    return fill


def _fill_customer(session, conn, customer):
    data = {"found": False, "customerId": "", "phone": "", "card": "", "name": "", "email": "",
            "balance": "0.00", "pending": "0.00", "level": ""}
    if customer is not None:
        s = summarize(session, conn.tenant_id, customer, utcnow())
        data.update(found=True, customerId=customer.id, phone=customer.phone, card=customer.card_number or "",
                    name=" ".join(x for x in (customer.last_name, customer.first_name, customer.middle_name) if x),
                    email=customer.email or "", balance=_rub(max(s.balance.available, 0)),
                    pending=_rub(s.balance.pending), level=s.level.name)
    session.rollback()
    return lambda ret: [_element(ret, k, v) for k, v in data.items()]


def op_find(session, conn, el):
    card, phone = _text(el, "card"), _text(el, "phone")
    if not card and not phone:
        raise Fault("Укажите карту (card) или телефон (phone) клиента.")
    customer, _ = find_card_holder(session, conn.tenant_id, code=card, phone=phone)
    return _fill_customer(session, conn, customer)


def op_register(session, conn, el):
    birth = _text(el, "birthDate")
    try:
        birth_date = date.fromisoformat(birth[:10]) if birth else None
    except ValueError:
        raise Fault(f"Поле birthDate: «{birth[:40]}» — не дата ГГГГ-ММ-ДД.") from None
    data = {"phone": normalize_phone(_text(el, "phone") or ""), "card_number": (_text(el, "card") or "")[:64] or None,
            "last_name": (_text(el, "lastName") or "")[:100] or None,
            "first_name": (_text(el, "firstName") or "")[:100] or None,
            "middle_name": (_text(el, "middleName") or "")[:100] or None,
            "email": (_text(el, "email") or "")[:200] or None,
            "birth_date": birth_date}
    customer = register_customer(session, conn.tenant_id, data, source=SOURCE, moment=utcnow())
    return _fill_customer(session, conn, customer)


HANDLERS = {"Calculate": op_calculate, "Confirm": op_confirm, "Cancel": op_cancel, "Refund": op_refund,
            "FindCustomer": op_find, "RegisterCustomer": op_register, "GetBalance": op_find}
assert set(HANDLERS) == set(OPERATIONS)  # noqa: S101 - an invariant of the code itself, not input validation


@bp.route("/<connection_id>/ws/loyalty", methods=["GET", "POST"])
@bp.route("/<connection_id>/ws/loyalty.1cws", methods=["GET", "POST"])
def service(connection_id: str):
    session = db.session
    conn = authenticated(session, connection_id)
    if conn is None:
        session.rollback()
        response = Response("Неверный логин или пароль.", status=401, content_type="text/plain; charset=utf-8")
        response.headers["WWW-Authenticate"] = 'Basic realm="1C web service", charset="UTF-8"'
        return response
    if request.method == "GET":
        session.rollback()
        if "wsdl" not in {k.lower() for k in request.args}:
            return Response("Добавьте ?wsdl к адресу, чтобы получить описание сервиса.", status=400,
                            content_type="text/plain; charset=utf-8")
        return Response(wsdl(request.base_url), content_type="text/xml; charset=utf-8")
    ctype = (request.content_type or "").lower()
    version = SOAP12 if "soap+xml" in ctype else SOAP11
    raw = request.get_data(cache=False)[:MAX_BODY + 1]
    try:
        if len(raw) > MAX_BODY:
            raise Fault("Слишком большой запрос.")
        try:
            doc = etree.fromstring(raw, _parser)
        except etree.XMLSyntaxError as exc:
            where = f" (строка {exc.lineno}, позиция {exc.offset})" if exc.lineno else ""
            raise Fault(f"Запрос — не XML или XML повреждён{where}.") from None
        if _local(doc.tag) != "Envelope" or etree.QName(doc).namespace not in (SOAP11, SOAP12):
            raise Fault("Ожидается конверт SOAP 1.1 или 1.2.")
        version = etree.QName(doc).namespace
        body = doc.find(f"{{{version}}}Body")
        ops = [c for c in (body if body is not None else []) if isinstance(c.tag, str)]
        if len(ops) != 1 or etree.QName(ops[0]).namespace != NS or _local(ops[0].tag) not in HANDLERS:
            raise Fault("Неизвестная операция: ожидается одна из " + ", ".join(OPERATIONS) + ".")
        op_el = ops[0]
        if not schema().validate(op_el):
            error = schema().error_log.last_error
            where = f": элемент {error.path}" if error is not None and error.path else ""
            raise Fault(f"Запрос не соответствует схеме сервиса{where} (пропущен, лишний или неверного "
                        f"типа элемент).")
        op = _local(op_el.tag)
        fill = HANDLERS[op](session, conn, op_el)
        content = envelope(version, op, fill)
        ctype = "text/xml; charset=utf-8" if version == SOAP11 else "application/soap+xml; charset=utf-8"
        return Response(content, content_type=ctype)
    except Fault as exc:
        session.rollback()
        return fault(version, exc.message, exc.client)
    except DomainError as exc:
        session.rollback()
        return fault(version, exc.message, True)
    except Exception as exc:
        if database_unavailable(exc):
            raise   # the app answers 503 with Retry-After in this surface's format
        log.exception("1С SOAP call failed")
        session.rollback()
        return fault(version, "Внутренняя ошибка сервиса лояльности: операция не выполнена.", False)
