"""1С's «Сервер лояльности» protocol, with the hub as the source (specs/onec.md §1).

An unmodified 1С cash desk (Розница 2/3, УНФ, 1С:РМК) whose loyalty-server address is
`<hub>/onec/<connection id>/hs/loyaltyservice` calls these resources with HTTP Basic auth
(the login and password stored with the connection). Answers follow 1С's own provider
(СерверЛояльностиПоставщикДанных): every key present, `Error`/`ErrorMessage`/`Version` in
object answers, bare arrays for getcardtypes and getcontrolleddiscountslist, the exact
Russian texts of write-off and unlock, business errors as 200 with `Error: true`.

Card lock = a hold of the card's spendable bonuses (hub.customers.cards.lock_balance) that
lapses after the connection's `lock_ttl_seconds`; write-off commits the receipt last
calculated with the card, spending the bonuses written off, and the hold becomes that spend
once (commit_sale with hold_reference); the calculation is consumed by that write-off, so a
later write-off without a new calculation is refused instead of booking it again. The receipt pulled later by OData claims the
write-off (onec/odata.py) instead of being applied again.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import json
import logging
import re
import secrets
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal, ROUND_HALF_UP

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.money import BadNumber
from connectors.receipts import discount_percent, kopecks, make_position, operation_body
from hub.unavailable import database_unavailable
from hub.errors import DomainError
from hub.extensions import db
from hub.customers.queries import tenant_customer
from hub.orm import new_id
from hub.moments import parse_moment, utcnow
from hub.engine.text import rub
from hub.customers.cards import card_holder_and_lock, find_card_holder, is_locked, lock_balance
from hub.catalog.operations import with_groups
from hub.customers.operations import register_customer, summarize, update_customer
from hub.receipts.holds import release_receipt_hold
from hub.programs.operations import get_program
from hub.receipts.operations import SaleRequest, calculate_receipt, commit_sale
from onec.common import (
    CURRENCY, EMPTY_DATE, PREFIX, SOURCE, VERSION, authenticated, json_body, json_date,
    raw_query, ru_date, ru_number, rub_json, setting, stable_uuid,
)
from onec.models import OnecCard, OnecWriteoff
from onec.store import save_card
from hub.certificates.operations import status_of
from hub.promotions.operations import promotion_context
from hub.promotions.operations import get_code
from hub.certificates.queries import latest_posting
from hub.promotions.queries import promotion_name
from hub.certificates import operations as certificates

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.customers.models import Customer

log = logging.getLogger("kopilka.onec.loyalty")

bp = Blueprint("onec_loyalty", __name__, url_prefix=PREFIX)

WRITTEN_OFF = "Бонусы успешно списаны"
NO_COUNT = "Количество баллов не указано"
CARD_NOT_FOUND = "Карта клиента не найдена"
UNLOCKED = "Бонусы разблокированы"
NOT_CALCULATED = ("Бонусы не списаны: по этой карте нет рассчитанного чека (calculatediscounts) после "
                  "прошлого списания. Повторите расчёт скидок и оплату бонусами.")
GIFT_NOT_FOUND = "Подарочный сертификат не найден"
MAX_GOODS = 1000


class BusinessError(Exception):
    """Answered as 200 with {"Error": true, "ErrorMessage": …} (or the resource's text)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- answers -------------------------------------------------------------------------------

def as_json(data, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status,
                    content_type="application/json; charset=utf-8")


def as_text(text: str, status: int = 200) -> Response:
    return Response(text, status=status, content_type="text/plain; charset=utf-8")


def base(**fields) -> dict:
    return {"Error": False, "ErrorMessage": "", "Version": VERSION, **fields}


def bonus_answer(**fields) -> dict:
    return base(BonusCount=0, BonusRate=1, BonusCurrency=CURRENCY, PaymentPercent=0, **fields)


def clientbonuses_answer() -> dict:
    return bonus_answer(CardRef="", Barcode="", MagneticCode="", EndDate=EMPTY_DATE, ClientNotFound=True)


def issuecard_answer() -> dict:
    return bonus_answer(ExistingCard=True, CardRef="", CardID="", Client="", PhoneNumber="",
                        Email="", DateOfBirth=EMPTY_DATE, ElseClient=False)


def turnover_answer() -> dict:
    return base(CardRef="", SellCount=0, Barcode="", MagneticCode="", ClientNotFound=True)


def error_answer(template: dict, message: str) -> dict:
    return {**template, "Error": True, "ErrorMessage": message}


# --- cards ---------------------------------------------------------------------------------

def reference(conn, customer_id: str) -> str:
    return f"1c:{conn.id}:{customer_id}"


def lock_ttl(conn) -> timedelta:
    return timedelta(seconds=max(30, setting(conn, "lock_ttl_seconds")))


def card_row(session, conn, customer_id: str) -> OnecCard:
    row = session.scalar(select(OnecCard).where(OnecCard.connection_id == conn.id,
                                                OnecCard.customer_id == customer_id))
    if row is None:
        row = OnecCard(tenant_id=conn.tenant_id, connection_id=conn.id, customer_id=customer_id,
                       positions=[], status="idle")
        session.add(row)
        try:
            session.flush()
        except IntegrityError:       # a concurrent first call for the same card
            session.rollback()
            row = session.scalar(select(OnecCard).where(OnecCard.connection_id == conn.id,
                                                        OnecCard.customer_id == customer_id))
    return row


def max_spend_percent(session, conn, customer: Customer):
    program = get_program(session, conn.tenant_id)
    level = program.level_for(customer.total_purchases)
    value = Decimal(level.max_spend_percent or 0)
    return int(value) if value == value.to_integral_value() else float(value)


def card_numbers(customer: Customer) -> dict:
    return {"Barcode": customer.card_number or "", "MagneticCode": customer.card_number or ""}


def lookup(session, conn, params: dict) -> tuple[Customer | None, str]:
    return find_card_holder(session, conn.tenant_id, code=params.get("ClientCardID") or None,
                            phone=params.get("Phone") or None, email=params.get("Email") or None)


def spendable(session, conn, customer: Customer) -> int:
    return max(summarize(session, conn.tenant_id, customer, utcnow()).balance.available, 0)


def lock(session, conn, customer: Customer) -> int | None:
    """Lock the card; kopecks held, or None when it was locked already."""
    return lock_balance(session, conn.tenant_id, customer.id, source=SOURCE,
                        reference=reference(conn, customer.id), ttl=lock_ttl(conn))


def locked(session, conn, customer_id: str) -> bool:
    return is_locked(session, conn.tenant_id, customer_id, SOURCE, reference(conn, customer_id))


def card_description(session, conn, customer: Customer, search_type: str,
                     blocked: bool | None = None) -> dict:
    """A card as findclientcard (and LoyaltyCardDescription) describe it; `blocked` when the
    caller knows already whether the card is locked."""
    summary = summarize(session, conn.tenant_id, customer, utcnow())
    if blocked is None:
        blocked = locked(session, conn, customer.id)
    name = " ".join(x for x in (customer.last_name, customer.first_name, customer.middle_name) if x)
    return {"ClientName": name or customer.phone, "IsPerson": True,
            "DateOfBirth": json_date_or_empty(customer.birth_date), "Phone": customer.phone,
            "Email": customer.email or "", **card_numbers(customer),
            "CardGUID": customer.id, "ClientGUID": customer.id, "IsBlocked": blocked,
            "BonusData": {"PaymentPercent": max_spend_percent(session, conn, customer),
                          "BonusCount": 0 if blocked else rub_json(max(summary.balance.available, 0)),
                          "BonusRate": 1, "BonusCurrency": CURRENCY},
            "SellCount": rub_json(customer.total_purchases), "SearchType": search_type, "Valid": True}


def json_date_or_empty(day) -> str:
    return f"{day.isoformat()}T00:00:00" if day else EMPTY_DATE


# --- the resources -------------------------------------------------------------------------

def ping(session, conn, params):
    return as_text("ok")


def useautomaticdiscounts(session, conn, params):
    return as_json(base(UseAutomaticDiscounts=True))


def getclientbonuses(session, conn, params):
    answer = clientbonuses_answer()
    customer, _ = lookup(session, conn, params)
    if customer is None:
        session.rollback()
        return as_json(answer)
    answer["ClientNotFound"] = False
    answer["PaymentPercent"] = max_spend_percent(session, conn, customer)
    answer.update(CardRef=customer.id, **card_numbers(customer))
    if not locked(session, conn, customer.id):
        amount = spendable(session, conn, customer)
        if amount > 0:
            held = lock(session, conn, customer)
            amount = held or 0
        answer["BonusCount"] = rub_json(amount)
    session.rollback()
    return as_json(answer)


def findclientcard(session, conn, params):
    answer = base(LoyaltyCardsList=[])
    customer, how = None, ""
    for key in ("CardGUID", "ClientGUID"):
        value = params.get(key) or ""
        if value and len(value) <= 36:
            found = tenant_customer(session, conn.tenant_id, value)
            if found is not None:
                customer, how = found, ("КодКарты" if key == "CardGUID" else "Клиент")
                break
    if customer is None:
        customer, how = lookup(session, conn, params)
    if customer is None:
        session.rollback()
        return as_json(answer)
    card = card_description(session, conn, customer, how)
    if params.get("BlockBonuses") == "1" and card["BonusData"]["BonusCount"] and not card["IsBlocked"]:
        held = lock(session, conn, customer)
        card["BonusData"]["BonusCount"] = rub_json(held or 0)
    answer["LoyaltyCardsList"].append(card)
    session.rollback()
    return as_json(answer)


def salesturnover(session, conn, params):
    answer = turnover_answer()
    customer, _ = lookup(session, conn, params)
    if customer is not None:
        answer.update(ClientNotFound=False, CardRef=customer.id, SellCount=rub_json(customer.total_purchases),
                      **card_numbers(customer))
    session.rollback()
    return as_json(answer)


def getcardtypes(session, conn, params):
    type_id = stable_uuid("card-type", conn.tenant_id)
    return as_json([{"CardTypeID": type_id, "CardTypeDescription": "Карта Копилки", "IsPerson": True,
                     "GenerateNumer": True, "Идентификатор": type_id, "Наименование": "Карта Копилки",
                     "ЭтоИменнаяКарта": True, "ГенерироватьНомер": True}])


def getcontrolleddiscountslist(session, conn, params):
    return as_json([])      # the hub has no discounts a cashier switches on by hand


def salesrestrictionsinfo(session, conn, params):
    return as_json(base(AllowControl=False, RestrictionsList=[]))


def unlockclientbonuses(session, conn, params):
    customer, _ = lookup(session, conn, params)
    if customer is None:
        session.rollback()
        return as_text(CARD_NOT_FOUND)
    customer_id = customer.id
    release_receipt_hold(session, conn.tenant_id, SOURCE, reference(conn, customer_id), {"id": customer_id})
    return as_text(UNLOCKED)


def writeoffclientbonuses(session, conn, params):
    customer, _ = lookup(session, conn, params)
    if customer is None:
        session.rollback()
        return as_text(CARD_NOT_FOUND)
    try:
        count = ru_number(params.get("BonusesCount"))
    except BadNumber:
        count = None
    if not count or count <= 0:
        session.rollback()
        return as_text(NO_COUNT)
    try:
        amount = kopecks(count)
    except ValueError:
        session.rollback()
        return as_text("Бонусы не списаны: количество баллов — с точностью до копейки.")
    return as_text(write_off(session, conn, customer, amount))


class _Consumed(Exception):
    """The calculation a write-off was about to book was booked by another one meanwhile."""


def write_off(session, conn, customer: Customer, amount: int) -> str:
    """Commit the receipt last calculated with the card, spending `amount` (once).

    The calculated receipt is consumed by the write-off that books it: a later write-off
    without a new `calculatediscounts` is refused, never a second sale of the old receipt
    (which would accrue for it again). Only the same write-off repeated before the card is
    locked again (the cash desk retrying a lost answer) is answered as done."""
    customer_id = customer.id
    card = card_row(session, conn, customer_id)
    if card.status == "written_off" and card.last_writeoff_id and not card.positions:
        last = session.get(OnecWriteoff, card.last_writeoff_id)
        if last is not None and last.amount == amount and not locked(session, conn, customer_id):
            session.rollback()
            return WRITTEN_OFF          # the same write-off again: already done
    if not card.positions:
        session.rollback()
        return NOT_CALCULATED
    positions, store, calculated_at = list(card.positions), card.store, card.calculated_at
    card_id = card.id
    session.rollback()
    writeoff_id = new_id()
    receipt_id = f"1c-wo-{writeoff_id}"
    req = SaleRequest(external_id=receipt_id, moment=utcnow(), positions=engine_positions(positions),
                      customer={"id": customer_id}, store=store, spend=amount)

    def consume(answer: dict) -> None:
        # Under the account lock of commit_sale and in its transaction: two write-offs of the
        # card are serialized here, and the calculation is emptied together with the sale.
        row = session.scalar(select(OnecCard).where(OnecCard.id == card_id)
                             .execution_options(populate_existing=True).with_for_update())
        if row is None or row.positions != positions or row.calculated_at != calculated_at:
            raise _Consumed()
        session.add(OnecWriteoff(id=writeoff_id, tenant_id=conn.tenant_id, connection_id=conn.id,
                                 customer_id=customer_id, amount=amount, receipt_external_id=receipt_id))
        row.positions, row.store = [], None
        row.status, row.last_writeoff_id, row.updated_at = "written_off", writeoff_id, utcnow()

    try:
        commit_sale(session, conn.tenant_id, SOURCE, req,
                    operation_body("onec_writeoff", receipt_id,
                                   [(p["id"], p["quantity"]) for p in positions], customer=customer_id),
                    hold_reference=reference(conn, customer_id), accept=consume)
    except _Consumed:
        session.rollback()
        return NOT_CALCULATED
    except DomainError as exc:
        session.rollback()
        return f"Бонусы не списаны: {exc.message}"
    session.rollback()
    return WRITTEN_OFF


_NAME_PARTS = ("last_name", "first_name", "middle_name")


def issueclientcard(session, conn, params):
    answer = issuecard_answer()
    code = (params.get("ClientCardID") or "").strip()[:64]
    phone = (params.get("Phone") or "").strip()
    email = (params.get("Email") or "").strip()[:200]
    try:
        birth = ru_date(params.get("DateOfBirth"))
    except ValueError:
        session.rollback()
        return as_json(error_answer(answer, f"Неверная дата рождения «{params.get('DateOfBirth')}»."))
    if not code and (params.get("GenerateNumber") or "").lower() in ("1", "true", "да", "истина"):
        code = "2" + "".join(secrets.choice("0123456789") for _ in range(12))
    if code:
        holder, _ = find_card_holder(session, conn.tenant_id, code=code)
        if holder is not None:
            return as_json(fill_card(session, conn, answer, holder, existing=True))
    if not phone:
        session.rollback()
        return as_json(error_answer(answer, "Для выпуска карты нужен телефон клиента."))
    holder, _ = find_card_holder(session, conn.tenant_id, phone=phone)
    now = utcnow()
    if holder is not None:
        if holder.card_number and code and holder.card_number != code:
            answer = fill_card(session, conn, answer, holder, existing=True)
            answer["ElseClient"] = True
            return as_json(answer)
        if code and not holder.card_number:
            holder = update_customer(session, conn.tenant_id, holder.id, {"card_number": code},
                                     source=SOURCE, moment=now)
        return as_json(fill_card(session, conn, answer, holder, existing=False))
    if not code:
        session.rollback()
        return as_json(error_answer(answer, "Не указан номер карты (ClientCardID)."))
    parts = (params.get("Client") or "").split()
    data = {"phone": phone, "card_number": code, "email": email or None,
            "birth_date": birth.date() if birth else None}
    for key, value in zip(_NAME_PARTS, parts[:2] + [" ".join(parts[2:])] if len(parts) > 2 else parts):
        data[key] = value[:100] or None
    customer = register_customer(session, conn.tenant_id, data, source=SOURCE, moment=now)
    return as_json(fill_card(session, conn, answer, customer, existing=False))


def fill_card(session, conn, answer: dict, customer: Customer, *, existing: bool) -> dict:
    name = " ".join(x for x in (customer.last_name, customer.first_name, customer.middle_name) if x)
    answer.update(ExistingCard=existing, CardRef=customer.id, CardID=customer.card_number or "",
                  Client=name, PhoneNumber=customer.phone, Email=customer.email or "",
                  DateOfBirth=json_date_or_empty(customer.birth_date),
                  PaymentPercent=max_spend_percent(session, conn, customer))
    session.rollback()
    return answer


# --- gift cards and promo codes -------------------------------------------------------------
#
# Certificates have no hold: getgiftcardinfo only reads, writeoffgiftcard (sent after the
# fiscal receipt is printed) is the one state change (hub.certificates.operations.redeem, or
# refund for a negative amount = a return), unlockgiftcard is a no-op success. Promo codes
# are not reserved by a quote either (only a committed sale redeems one), so unlockpromocode
# is a no-op success too. 1С's writeoff carries no receipt or operation id: an id is used
# when the request has one (ReceiptID / OperationID / ReceiptUID), otherwise a repeat of the
# same amount on the same certificate from this connection within GIFT_REPLAY_SECONDS is
# answered as already done (the cash desk retries a write-off whose answer it lost).

GIFT_WRITTEN_OFF = "Подарочный сертификат успешно списан на указанную сумму"
GIFT_UNLOCKED = "Подарочный сертификат разблокирован"
PROMO_UNLOCKED = "Промокод разблокирован"
GIFT_REPLAY_SECONDS = 120
_GIFT_STATES = {"issued": "Подарочный сертификат не активирован: его ещё не продали.",
                "blocked": "Подарочный сертификат заблокирован.",
                "expired": "Срок действия подарочного сертификата истёк."}


def giftcard_answer() -> dict:
    return base(GiftCard={"GiftCardName": "", "GiftCardRef": ""}, GiftCardNumber="", GiftCardValue=0,
                GiftCardBalance=0, Blocked=False)


def _gift_number(params: dict) -> str:
    return (params.get("GiftCardNumber") or "").strip()


def _certificate(session, conn, params: dict):
    number = _gift_number(params)
    return certificates.find(session, conn.tenant_id, number) if number else None


def getgiftcardinfo(session, conn, params):
    answer = giftcard_answer()
    if not _gift_number(params):
        session.rollback()
        return as_json(error_answer(answer, "Не указан номер подарочного сертификата (GiftCardNumber)."))
    cert = _certificate(session, conn, params)
    if cert is None:
        session.rollback()
        return as_json(error_answer(answer, GIFT_NOT_FOUND))
    status = status_of(cert, utcnow())
    answer.update(GiftCard={"GiftCardName": f"Подарочный сертификат {rub_json(cert.nominal)} ₽",
                            "GiftCardRef": cert.id},
                  GiftCardNumber=cert.number, GiftCardValue=rub_json(cert.nominal),
                  GiftCardBalance=rub_json(cert.balance if status == "active" else 0),
                  Blocked=status == "blocked")
    session.rollback()
    if status != "active":
        return as_json(error_answer(answer, _GIFT_STATES.get(status, GIFT_NOT_FOUND)))
    return as_json(answer)


def checkgiftcard(session, conn, params):
    """Before a certificate is sold: GiftCardUsed tells the cash desk it was sold already."""
    answer = base(GiftCardUsed=False)
    if not _gift_number(params):
        session.rollback()
        return as_json(error_answer(answer, "Не указан номер подарочного сертификата (GiftCardNumber)."))
    cert = _certificate(session, conn, params)
    session.rollback()
    if cert is None:
        return as_json(error_answer(answer, GIFT_NOT_FOUND))
    answer["GiftCardUsed"] = cert.status != "issued"
    return as_json(answer)


def _operation_id(params: dict) -> str | None:
    for key in ("ReceiptID", "OperationID", "ReceiptUID", "ReceiptGUID"):
        value = (params.get(key) or "").strip()
        if value:
            return value[:100]
    return None


def _recent_gift_posting(session, conn, cert, kind: str, amount: int):
    """This connection's latest `kind` posting of the certificate, when it is a repeat."""
    last = latest_posting(session, cert.id, kind, f"1c:{conn.id}:")
    if last is None or abs(last.amount) != amount:
        return None
    moment = last.moment if last.moment.tzinfo else last.moment.replace(tzinfo=utcnow().tzinfo)
    return last if utcnow() - moment <= timedelta(seconds=GIFT_REPLAY_SECONDS) else None


def writeoffgiftcard(session, conn, params):
    cert = _certificate(session, conn, params)
    if cert is None:
        session.rollback()
        return as_text(GIFT_NOT_FOUND)
    try:
        value = ru_number(params.get("GiftCardWriteOffAmount"))
    except BadNumber:
        value = None
    if not value:
        session.rollback()
        return as_text("Сумма списания с подарочного сертификата не указана.")
    try:
        amount = kopecks(abs(value))
    except ValueError:
        session.rollback()
        return as_text("Сертификат не списан: сумма — с точностью до копейки.")
    number, now = cert.number, utcnow()
    op = _operation_id(params)
    try:
        if value > 0:
            if op is None and _recent_gift_posting(session, conn, cert, "redeem", amount) is not None:
                session.rollback()
                return as_text(GIFT_WRITTEN_OFF)
            certificates.redeem(session, conn.tenant_id, number, amount, f"1c:{conn.id}:{op or new_id()}",
                                now, now)
        else:          # a return paid back to the certificate: against this connection's redemptions
            if op is None and _recent_gift_posting(session, conn, cert, "restore", amount) is not None:
                session.rollback()
                return as_text(GIFT_WRITTEN_OFF)
            target = None
            for r in reversed(certificates.redemptions(session, conn.tenant_id, f"1c:{conn.id}:")):
                if r["number"] == number and r["amount"] - sum(r["restored"].values()) >= amount:
                    target = r["reference"]
                    break
            if target is None:
                session.rollback()
                return as_text("Сертификат не пополнен: списания с него на такую сумму через эту кассу не найдено.")
            certificates.refund(session, conn.tenant_id, number, amount, f"1c:{conn.id}:r:{op or new_id()}",
                                target, now, now)
    except DomainError as exc:
        session.rollback()
        return as_text(f"Сертификат не списан: {exc.message}")
    return as_text(GIFT_WRITTEN_OFF)


def unlockgiftcard(session, conn, params):
    session.rollback()
    return as_text(GIFT_UNLOCKED)      # nothing is held on a certificate before the write-off


def promocodeinfo(session, conn, params):
    answer = base(PromocodeIsAvalible=False, PromocodeStatus="Промокод не найден",
                  PromocodeDiscountDescription="", PromocodeDiscount=_ref(None))
    code = (params.get("Promocode") or "").strip()
    if not code:
        session.rollback()
        return as_json(error_answer(answer, "Не указан промокод (Promocode)."))
    if len(code) > 64:
        session.rollback()
        return as_json(error_answer(answer, "Промокод слишком длинный."))
    try:
        row = get_code(session, conn.tenant_id, code)
    except DomainError:
        session.rollback()
        return as_json(answer)
    name = promotion_name(session, row.promotion_id)
    answer.update(PromocodeDiscount={"Ref": row.promotion_id, "Name": name}, PromocodeDiscountDescription=name)
    customer, _ = lookup(session, conn, params) if (params.get("ClientCardID") or params.get("Phone")) else (None, "")
    try:
        promotion_context(session, conn.tenant_id, customer, utcnow(), (code,))
    except DomainError as exc:
        first = next(iter((exc.details.get("promo_codes") or {}).values()), None)
        answer["PromocodeStatus"] = first[0] if first else exc.message
        session.rollback()
        return as_json(answer)
    answer.update(PromocodeIsAvalible=True, PromocodeStatus="Действует")
    session.rollback()
    return as_json(answer)


def unlockpromocode(session, conn, params):
    session.rollback()
    return as_text(PROMO_UNLOCKED)     # a code is redeemed only by a committed sale: nothing held


# --- calculatediscounts ------------------------------------------------------------------------

REQUIRED = ("ObjectTime", "LoyaltyCardsList", "Goods", "RetailStore")


def _ref(value) -> dict:
    if isinstance(value, dict):
        return {"Ref": str(value.get("Ref") or ""), "Name": str(value.get("Name") or "")}
    return {"Ref": "", "Name": ""}


def _num(line: dict, key: str, where: str, *, default=None) -> Decimal:
    try:
        value = ru_number(line.get(key))
    except BadNumber:
        raise BusinessError(f"{where}: «{line.get(key)}» в поле {key} — не число.") from None
    if value is None:
        if default is None:
            raise BusinessError(f"{where}: не указано поле {key}.")
        return Decimal(default)
    return value


def _money(line: dict, key: str, where: str, default=None) -> int:
    value = _num(line, key, where, default=default)
    if value < 0:
        raise BusinessError(f"{where}: {key} не может быть отрицательным.")
    if abs(value) > 10 ** 11:
        raise BusinessError(f"{where}: слишком большое значение {key}.")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def read_goods(goods) -> list[dict]:
    if not isinstance(goods, list):
        raise BusinessError("Параметр Goods должен быть массивом строк товаров.")
    if len(goods) > MAX_GOODS:
        raise BusinessError(f"В чеке больше {MAX_GOODS} строк.")
    out, seen = [], set()
    for i, line in enumerate(goods):
        where = f"Строка {i + 1}"
        if not isinstance(line, dict):
            raise BusinessError(f"{where}: ожидается объект.")
        uid = str(line.get("LineUID") or "").strip()[:100]
        key = uid if uid and uid not in seen else f"#{i + 1}"
        seen.add(key)
        price = _money(line, "Price", where)
        qty = _num(line, "PackagesCount", where, default=0) or _num(line, "Count", where, default=0)
        if qty <= 0 or qty > 10 ** 6:
            raise BusinessError(f"{where}: количество должно быть больше нуля.")
        qty = qty.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        manual = _money(line, "AmountOfManualDiscount", where, default=0)
        full = make_position(id=key, price=price, quantity=qty).amount
        amount = _money(line, "Amount", where, default=Decimal(max(full - manual, 0)) / 100)
        if amount > full + 100:
            raise BusinessError(f"{where}: сумма строки больше цены × количество.")
        item = _ref(line.get("Item"))
        out.append({"id": key, "product": item["Ref"] or None, "name": item["Name"][:300] or None,
                    "price": price, "quantity": str(qty), "till_discount": max(full - amount, 0),
                    "amount": amount, "full": full, "manual": manual, "groups": [],
                    "echo": {"LineUID": line.get("LineUID") if line.get("LineUID") is not None else "",
                             "Item": line.get("Item") if isinstance(line.get("Item"), dict) else item,
                             "Variant": line.get("Variant") if isinstance(line.get("Variant"), dict) else _ref(None),
                             "Package": line.get("Package") if isinstance(line.get("Package"), dict) else _ref(None),
                             "Count": line.get("Count") if line.get("Count") is not None else float(qty),
                             "PackagesCount": line.get("PackagesCount") if line.get("PackagesCount") is not None else float(qty),
                             "Price": line.get("Price"), "VATRate": str(line.get("VATRate") or ""),
                             "GiftSale": bool(line.get("GiftSale")),
                             "AmountOfManualDiscount": line.get("AmountOfManualDiscount") or 0,
                             "PercentOfManualDiscount": line.get("PercentOfManualDiscount") or 0}})
    if not out:
        raise BusinessError("В чеке нет товаров (Goods).")
    return out


def engine_positions(positions: list[dict]) -> tuple:
    return tuple(replace(make_position(id=p["id"], price=p["price"], quantity=Decimal(p["quantity"]),
                                       groups=tuple(p.get("groups") or ()), product=p.get("product"),
                                       name=p.get("name"), till_discount=p.get("till_discount") or 0),
                         amount=p["amount"]) for p in positions)


_VAT = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:%|/)")


def vat_amount(rate: str, amount: int) -> int:
    m = _VAT.search(rate or "")
    if not m:
        return 0
    pct = Decimal(m.group(1).replace(",", "."))
    return int((Decimal(amount) * pct / (100 + pct)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def calculatediscounts(session, conn, params):
    try:
        data = json_body()
    except (ValueError, UnicodeDecodeError) as exc:
        return as_json(error_answer(base(), f"Ошибка преобразования тела запроса по причине: {body_error(exc)}"))
    if not isinstance(data, dict):
        return as_json(error_answer(base(), "Тело запроса должно быть JSON-объектом с параметрами расчёта."))
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        return as_json(error_answer(base(), "\n".join(f"Во входящих параметрах не обнаружен параметр {k}"
                                                      for k in missing)))
    try:
        lines = read_goods(data.get("Goods"))
    except BusinessError as exc:
        return as_json(error_answer(base(), exc.message))
    cards = data.get("LoyaltyCardsList") or []
    code = str(cards[0]).strip()[:64] if isinstance(cards, list) and cards and cards[0] is not None else ""
    customer, was_locked = (card_holder_and_lock(session, conn.tenant_id, code, source=SOURCE,
                                                 reference_prefix=reference(conn, ""))
                            if code else (None, False))
    store = _ref(data.get("RetailStore"))["Ref"][:100] or None
    lines = with_groups(session, conn.tenant_id, lines)
    program = get_program(session, conn.tenant_id)
    now = utcnow()
    try:
        moment = parse_moment(str(data.get("ObjectTime") or "") or None, program.timezone, now, "ObjectTime")
    except DomainError:
        moment = now
    customer_id = customer.id if customer else None
    promo = read_promocodes(session, conn, data.get("PromocodesList"), customer, moment)
    req = SaleRequest(external_id="1c-calc", moment=moment, positions=engine_positions(lines),
                      customer={"id": customer_id} if customer_id else None, store=store,
                      promo_codes=tuple(c for c, problem in promo if problem is None))
    quote = calculate_receipt(session, conn.tenant_id, req)
    answer = render_calculation(session, conn, data, lines, quote, program, promo)
    is_locked_now = False
    if customer_id is not None:
        block = str(data.get("BlockBonuses") or "0") == "1"
        is_locked_now = was_locked
        if block and not is_locked_now:
            customer = tenant_customer(session, conn.tenant_id, customer_id)
            if spendable(session, conn, customer) > 0:
                is_locked_now = lock(session, conn, customer) is not None
        if is_locked_now or block:
            # what a write-off of this card will commit (only a locked card pays with bonuses)
            remember(session, conn, customer_id, lines, store)
        if is_locked_now and answer["BonusesToAccrue"]:
            answer["Messages"].append({"AfterSale": False, "MessageText": accrual_assumption(quote)})
    if data.get("GetLoyaltyCardData") is True:
        # УНФ reads the card's data from here when the cash desk has only its number
        answer["LoyaltyCardDescription"] = {"CardNotFound": customer_id is None, "LoyaltyCard": (
            card_description(session, conn, tenant_customer(session, conn.tenant_id, customer_id), "КодКарты",
                             is_locked_now)
            if customer_id else None)}
    session.rollback()
    return as_json(answer)


def accrual_assumption(quote: dict) -> str:
    """What BonusesToAccrue assumes, for the cashier: the calculation comes before the payment,
    so it counts no bonus payment; a payment with bonuses lowers the accrual, and the write-off
    (whose answer is a fixed text in 1С's protocol, with no field for it) books the real one."""
    earned = (quote.get("totals") or {}).get("bonus_earned") or 0
    return (f"Бонусы к начислению ({rub(earned)}) рассчитаны без оплаты бонусами. При оплате "
            "бонусами начислится меньше: начисление пересчитывается при списании бонусов.")


def body_error(exc: Exception) -> str:
    """Why the body is not JSON, in Russian (the cashier sees it as ErrorMessage)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"тело запроса — не JSON (строка {exc.lineno}, позиция {exc.colno})."
    description = getattr(exc, "description", None)       # hub.web.limits.JSONTooDeep
    if isinstance(description, str):
        return description
    text = str(exc)
    return text if re.search("[а-яА-Я]", text) else "тело запроса — не JSON."


def remember(session, conn, customer_id: str, lines: list[dict], store: str | None) -> None:
    card = card_row(session, conn, customer_id)
    positions = [{k: p[k] for k in ("id", "product", "name", "price", "quantity", "till_discount",
                                    "amount", "groups")} for p in lines]
    if card.positions == positions and card.store == store and card.status == "idle":
        session.rollback()
        return
    save_card(session, card, positions, store)


MAX_PROMOCODES = 20


def read_promocodes(session, conn, codes, customer, moment) -> list[tuple[str, str | None]]:
    """PromocodesList (strings or {Promocode, PromocodeDiscountUID, PromocodeUID}) → [(code,
    why it cannot be used or None)]; each code checked on its own, so one bad code does not
    stop the others or the calculation."""
    out: list[tuple[str, str | None]] = []
    for item in (codes if isinstance(codes, list) else [])[:MAX_PROMOCODES]:
        code = str((item.get("Promocode") if isinstance(item, dict) else item) or "").strip()[:64]
        if not code:
            continue
        try:
            promotion_context(session, conn.tenant_id, customer, moment, (code,))
            out.append((code, None))
        except DomainError as exc:
            problems = exc.details.get("promo_codes") or {}
            first = next(iter(problems.values()), None)
            out.append((code, first[0] if first else exc.message))
    return out


def render_calculation(session, conn, data: dict, lines: list[dict], quote: dict, program,
                       promo: list | None = None) -> dict:
    by_id = {p["id"]: p for p in quote["positions"]}
    goods, discounts, accruals = [], [], []
    level = (quote.get("customer") or {}).get("level") or {}
    discount_ref = {"Ref": stable_uuid("discount", conn.tenant_id, level.get("code") or "none"),
                    "Name": f"Скидка уровня «{level.get('name')}»" if level.get("name") else "Скидка программы лояльности"}
    bonus_ref = {"Ref": stable_uuid("accrual", conn.tenant_id), "Name": "Начисление бонусов"}
    program_ref = {"Ref": stable_uuid("program", conn.tenant_id), "Name": "Копилка"}
    accrual_date = quote.get("bonus_earned_active_from")
    expires = quote.get("bonus_earned_expires_at")
    for n, line in enumerate(lines, 1):
        q = by_id.get(line["id"], {"discount": 0, "bonus_spent": 0, "bonus_earned": 0})
        ours = q["discount"] - q.get("bonus_spent", 0)
        amount = line["amount"] - ours
        automatic = line["full"] - line["manual"] - amount
        echo = line["echo"]
        goods.append({"LineUID": echo["LineUID"], "Item": echo["Item"], "Variant": echo["Variant"],
                      "Package": echo["Package"], "Count": echo["Count"], "PackagesCount": echo["PackagesCount"],
                      "Price": echo["Price"], "GiftSale": echo["GiftSale"], "VATRate": echo["VATRate"],
                      "Amount": rub_json(amount), "TotalAmount": rub_json(amount),
                      "VATAmount": rub_json(vat_amount(echo["VATRate"], amount)),
                      "AmountOfAutomaticDiscount": rub_json(max(automatic, 0)),
                      "PercentOfAutomaticDiscount": float(discount_percent(line["full"], max(automatic, 0))),
                      "AmountOfManualDiscount": echo["AmountOfManualDiscount"],
                      "PercentOfManualDiscount": echo["PercentOfManualDiscount"]})
        if ours:
            discounts.append({"KeyRelation": n, "Discount": discount_ref,
                              "DiscountValue": float(discount_percent(line["amount"], ours)),
                              "Amount": rub_json(ours), "MinimalPriceRestriction": False, "Comment": "",
                              "LineUID": echo["LineUID"]})
        if q.get("bonus_earned"):
            accruals.append({"KeyRelation": n, "Discount": bonus_ref, "BonusProgramm": program_ref,
                             "BonusCount": rub_json(q["bonus_earned"]),
                             "AccuralDate": local_date(accrual_date, program) or json_date(None),
                             "WriteOffDate": local_date(expires, program) or EMPTY_DATE})
    messages = []
    msgs = quote.get("messages") or {}
    if msgs.get("cashier"):
        messages.append({"AfterSale": False, "MessageText": msgs["cashier"]})
    if msgs.get("receipt"):
        messages.append({"AfterSale": True, "MessageText": msgs["receipt"]})
    promos = []
    applied = {p["id"]: p for p in quote.get("promotions") or []}
    uids = {}
    codes = data.get("PromocodesList")
    for item in codes if isinstance(codes, list) else []:
        if isinstance(item, dict):
            uids.setdefault(str(item.get("Promocode") or "").strip()[:64], str(item.get("PromocodeUID") or ""))
    for code, problem in promo or []:
        discount, active = _ref(None), False
        if problem is None:
            row = get_code(session, conn.tenant_id, code)
            hit = applied.get(row.promotion_id)
            active = hit is not None
            discount = {"Ref": row.promotion_id, "Name": hit["name"] if hit else ""}
            if not active:
                problem = "Условия акции промокода в этом чеке не выполнены."
        promos.append({"Promocode": code, "ErrorDescription": problem or "", "DiscountActive": active,
                       "PromocodeActivation": False, "PromocodeDiscount": discount,
                       "DiscountCondition": _ref(None), "PromocodeUID": uids.get(code, "")})
    return base(Goods=goods, DiscountsList=discounts, Messages=messages, BonusesToAccrue=accruals,
                Gifts=[], PromocodesList=promos, CurrentDiscounts=[])


def local_date(iso: str | None, program) -> str | None:
    if not iso:
        return None
    from datetime import datetime
    from zoneinfo import ZoneInfo
    return json_date(datetime.fromisoformat(iso).astimezone(ZoneInfo(program.timezone)))


# --- dispatch ----------------------------------------------------------------------------------

RESOURCES = {
    "ping": (ping, ("GET", "POST")),
    "useautomaticdiscounts": (useautomaticdiscounts, ("GET",)),
    "getclientbonuses": (getclientbonuses, ("GET",)),
    "findclientcard": (findclientcard, ("GET",)),
    "writeoffclientbonuses": (writeoffclientbonuses, ("POST",)),
    "unlockclientbonuses": (unlockclientbonuses, ("POST",)),
    "issueclientcard": (issueclientcard, ("POST",)),
    "getcardtypes": (getcardtypes, ("GET",)),
    "salesturnover": (salesturnover, ("GET",)),
    "getcontrolleddiscountslist": (getcontrolleddiscountslist, ("GET",)),
    "calculatediscounts": (calculatediscounts, ("GET", "POST")),
    "salesrestrictionsinfo": (salesrestrictionsinfo, ("GET",)),
    "getgiftcardinfo": (getgiftcardinfo, ("GET",)),
    "checkgiftcard": (checkgiftcard, ("GET",)),
    "writeoffgiftcard": (writeoffgiftcard, ("POST",)),
    "unlockgiftcard": (unlockgiftcard, ("POST",)),
    "promocodeinfo": (promocodeinfo, ("GET",)),
    "unlockpromocode": (unlockpromocode, ("POST",)),
}


def unauthorized() -> Response:
    response = as_text("Неверный логин или пароль сервера лояльности.", 401)
    response.headers["WWW-Authenticate"] = 'Basic realm="1C loyalty server", charset="UTF-8"'
    return response


@bp.route("/<connection_id>/hs/loyaltyservice", defaults={"resource": ""}, methods=["GET", "POST"])
@bp.route("/<connection_id>/hs/loyaltyservice/<path:resource>", methods=["GET", "POST"])
def loyaltyservice(connection_id: str, resource: str):
    session = db.session
    try:
        conn = authenticated(session, connection_id)
        if conn is None:
            session.rollback()
            return unauthorized()
        name = resource.strip("/").lower()
        entry = RESOURCES.get(name)
        if entry is None:
            session.rollback()
            return as_text(f"Ресурс «{name}» сервера лояльности не поддерживается.", 404)
        fn, methods = entry
        if request.method not in methods:
            session.rollback()
            return as_text(f"Метод {request.method} не поддерживается ресурсом {name}.", 405)
        return fn(session, conn, raw_query())
    except DomainError as exc:
        session.rollback()
        return as_json(error_answer(base(), exc.message))
    except Exception as exc:  # like 1С's own provider: 500 with plain text
        if database_unavailable(exc):
            raise   # the app answers 503 with Retry-After in this surface's format
        log.exception("1С loyalty call %s failed", request.path)
        session.rollback()
        return as_text("Ошибка сервера лояльности Копилка: операция не выполнена, повторите позже.", 500)
