"""Evotor's receipts and documents into the core's terms, and the core's quote back.

Positions are kept between calls in one plain form (kopecks, quantity as a string):
{"id": position uuid, "product", "name", "price", "quantity", "till_discount", "groups"}.
Evotor's documents went through several versions, so old and new field names are read.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.receipts import make_position, operation_body
from hub import engine
from hub.engine.text import rub
from evotor.common import BadValue, first, money, quantity, rub_json, text
from evotor.models import EvotorProduct

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection

EXTRA_KEY = "kopilka"     # our block in the receipt's extra
MAX_POSITIONS = 1000


# --- positions -------------------------------------------------------------------------------

def _groups(value, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(g, (str, int)) and not isinstance(g, bool)
                                              for g in value):
        raise BadValue(field, f"Поле {field}: нужен список групп товара.")
    return [str(g)[:100] for g in value if str(g).strip()]


def _discount_amount(value, field: str) -> int:
    """A discount given as a number of roubles or as an object with its sum."""
    if value is None or value == "":
        return 0
    if isinstance(value, dict):
        amount = first(value, "discount_sum", "discountSum", "discount_amount", "discountAmount",
                       "amount", "sum", "value")
        return money(amount, field) if amount is not None else 0
    return money(value, field)


def terminal_positions(raw, field: str = "positions") -> list[dict]:
    """The open receipt's positions as the terminal app sends them."""
    if not isinstance(raw, list) or not raw:
        raise BadValue(field, "Чек без позиций: нужен непустой список positions.")
    if len(raw) > MAX_POSITIONS:
        raise BadValue(field, f"В чеке больше {MAX_POSITIONS} позиций.")
    out, seen = [], set()
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise BadValue(where, f"Позиция {i + 1}: нужен объект.")
        uuid = text(first(item, "uuid", "positionUuid", "id"), f"{where}.uuid", required=True)
        if uuid in seen:
            raise BadValue(f"{where}.uuid", f"Позиция {uuid} повторяется в чеке.")
        seen.add(uuid)
        price = money(first(item, "price"), f"{where}.price")
        qty = quantity(first(item, "quantity"), f"{where}.quantity")
        full = make_position(id=uuid, price=price, quantity=qty).amount
        discount = _discount_amount(first(item, "discount", "discountSum", "position_discount",
                                          "positionDiscount"), f"{where}.discount")
        with_discount = first(item, "priceWithDiscountPosition", "price_with_discount", "result_price")
        if not discount and with_discount is not None:
            discount = max(0, full - make_position(id=uuid, price=money(with_discount, f"{where}.priceWithDiscountPosition"),
                                                   quantity=qty).amount)
        if discount > full:
            raise BadValue(f"{where}.discount", f"Позиция {uuid}: скидка больше суммы позиции.")
        groups = _groups(first(item, "groups", "product_groups", "productGroups"), f"{where}.groups")
        group = first(item, "group_id", "groupUuid", "parentUuid", "parent_id")
        if group is not None:
            groups.append(str(group)[:100])
        out.append({"id": uuid,
                    "product": text(first(item, "product_id", "productUuid", "product_uuid", "productId",
                                          "productCode"), f"{where}.product_id"),
                    "name": text(first(item, "name", "product_name", "productName"), f"{where}.name", limit=300),
                    "price": price, "quantity": str(qty), "till_discount": discount, "groups": groups})
    return out


def document_positions(body: dict) -> list[dict]:
    """A fiscalised document's positions: the till's own discount and ours (spread over the
    positions as doc_distributed_discount) apart."""
    raw = first(body, "positions", "items")
    if not isinstance(raw, list) or not raw:
        raise BadValue("body.positions", "В документе нет позиций.")
    out = []
    for i, item in enumerate(raw):
        where = f"body.positions[{i}]"
        if not isinstance(item, dict):
            raise BadValue(where, f"Позиция {i + 1}: нужен объект.")
        uuid = text(first(item, "uuid", "id"), f"{where}.uuid", required=True)
        price = money(first(item, "price"), f"{where}.price")
        qty = quantity(first(item, "quantity"), f"{where}.quantity")
        full = make_position(id=uuid, price=price, quantity=qty).amount
        ours = _discount_amount(first(item, "doc_distributed_discount", "docDistributedDiscount"),
                                f"{where}.doc_distributed_discount")
        own = _discount_amount(first(item, "position_discount", "positionDiscount"),
                               f"{where}.position_discount")
        result_sum = first(item, "result_sum", "resultSum")
        if not own and result_sum is not None:
            own = max(0, full - money(result_sum, f"{where}.result_sum") - ours)
        out.append({"id": uuid,
                    "product": text(first(item, "product_id", "productUuid", "product_uuid", "productId"),
                                    f"{where}.product_id"),
                    "name": text(first(item, "product_name", "name", "productName"), f"{where}.name", limit=300),
                    "price": price, "quantity": str(qty), "till_discount": min(own, full),
                    "groups": _groups(first(item, "groups", "product_groups"), f"{where}.groups"),
                    "ours": ours})
    return out


def with_known_groups(session: Session, conn: Connection, positions: list[dict],
                      store_uuid: str | None) -> list[dict]:
    """Positions without groups get those of their product, as the last sync saw them."""
    wanted = {p["product"] for p in positions if p.get("product") and not p.get("groups")}
    if not wanted:
        return positions
    rows = session.execute(select(EvotorProduct.product_id, EvotorProduct.store_uuid, EvotorProduct.groups)
                           .where(EvotorProduct.tenant_id == conn.tenant_id,
                                  EvotorProduct.connection_id == conn.id,
                                  EvotorProduct.product_id.in_(wanted))).all()
    found: dict[str, list] = {}
    for product_id, store, groups in rows:
        if store == store_uuid or product_id not in found:
            found[product_id] = list(groups or [])
    return [{**p, "groups": found.get(p["product"], [])} if p.get("product") and not p.get("groups") else p
            for p in positions]


def engine_positions(positions: list[dict]) -> tuple[engine.Position, ...]:
    return tuple(make_position(id=p["id"], price=p["price"], quantity=Decimal(p["quantity"]),
                               groups=tuple(p.get("groups") or ()), product=p.get("product"),
                               name=p.get("name"), till_discount=p.get("till_discount") or 0)
                 for p in positions)


def sale_key(receipt_uuid: str, customer_id: str | None, positions: list[dict]) -> dict:
    """An Evotor sale's idempotency body, alike from the terminal's commit and the document."""
    return operation_body("evotor_receipt", receipt_uuid,
                          [(p["id"], p["quantity"]) for p in positions], customer=customer_id)


def payback_line(item: dict, where: str) -> tuple[str | None, str | None, Decimal, str | None, int | None]:
    """A returned position as connectors.receipts.spread_return reads it: (the sale's
    position uuid, product, quantity, name, unit price in kopecks). The terminal matches a
    return to its sale by uuid, then product, then name and price: a till may write the
    product on the sale and not on the return (a free-price line), or the other way round."""
    line = text(first(item, "base_position_uuid", "basePositionUuid", "uuid"), f"{where}.uuid")
    product = text(first(item, "product_id", "productUuid", "product_uuid", "productId"), f"{where}.product_id")
    name = text(first(item, "product_name", "name", "productName"), f"{where}.name", limit=300)
    price = first(item, "price")
    return (line, product, quantity(first(item, "quantity"), f"{where}.quantity"), name,
            None if price is None or price == "" else money(price, f"{where}.price"))


def payback_key(payback_uuid: str, base_uuid: str, items: list[tuple]) -> dict:
    """A payback's idempotency body: by product (or line) and quantity, as before names and
    prices were read, so a repeat of an earlier payback still replays its answer."""
    return operation_body("evotor_payback", payback_uuid,
                          [(item[1] or item[0] or (item[3] if len(item) > 3 else None) or "?", item[2])
                           for item in items],
                          base=base_uuid)


# --- our extra on the receipt ------------------------------------------------------------------

def our_extra(extras) -> dict | None:
    """Our block in a receipt's extras: {"kopilka": {...}} at the top, or under the app's
    uuid ({"<app uuid>": {"kopilka": {...}}}); a JSON string is read too."""
    import json
    if isinstance(extras, str):
        try:
            extras = json.loads(extras)
        except ValueError:
            return None
    if not isinstance(extras, dict):
        return None
    if isinstance(extras.get(EXTRA_KEY), dict):
        return extras[EXTRA_KEY]
    for value in extras.values():
        if isinstance(value, str):
            inner = our_extra(value)
            if inner:
                return inner
        if isinstance(value, dict) and isinstance(value.get(EXTRA_KEY), dict):
            return value[EXTRA_KEY]
    return None


# --- the answer to the terminal --------------------------------------------------------------

def customer_view(summary) -> dict:
    c = summary.customer
    name = " ".join(x for x in (c.last_name, c.first_name, c.middle_name) if x) or None
    return {"id": c.id, "phone": c.phone, "card": c.card_number, "name": name,
            "balance": rub_json(summary.balance.available), "held": rub_json(summary.balance.held),
            "pending": rub_json(summary.balance.pending),
            "level": {"code": summary.level.code, "name": summary.level.name},
            "next_level": None if summary.next_level is None else
            {"code": summary.next_level.code, "name": summary.next_level.name},
            "to_next_level": None if summary.to_next_level is None else rub_json(summary.to_next_level)}


def promotions_view(quote: dict) -> list[dict]:
    """Which promotions applied and what each gave (roubles), as the terminal shows them."""
    return [{"id": p["id"], "name": p["name"], "discount": rub_json(p["discount"]),
             "bonus": rub_json(p["bonus"])} for p in quote.get("promotions") or []]


def promotion_lines(quote: dict) -> list[str]:
    lines = []
    for p in quote.get("promotions") or []:
        gave = [f"скидка {rub(p['discount'])} руб."] if p["discount"] else []
        if p["bonus"]:
            gave.append(f"+{rub(p['bonus'])} бонусов")
        lines.append(f"Акция «{p['name']}»" + (f": {', '.join(gave)}" if gave else ""))
    return lines + list(quote.get("offers") or [])


def print_lines(quote: dict, *, committed: bool = False) -> list[str]:
    """Lines for the receipt (printExtra): promotions and what is one step away, then earned,
    spent, balance, level, to the next level."""
    totals, customer = quote["totals"], quote.get("customer")
    lines = promotion_lines(quote)
    if not customer:
        return lines
    if totals["bonus_spent"]:
        lines.append(f"Списано бонусов: {rub(totals['bonus_spent'])}")
    if totals["bonus_earned"]:
        lines.append(f"{'Начислено' if committed else 'Будет начислено'} бонусов: {rub(totals['bonus_earned'])}")
    lines.append(f"Баланс бонусов: {rub(customer['balance_after'])}")
    level = customer.get("level") or {}
    if level.get("name"):
        lines.append(f"Уровень карты: {level['name']}")
    nxt, to_next = customer.get("next_level"), customer.get("to_next_level")
    if nxt and to_next:
        lines.append(f"До уровня «{nxt['name']}»: {rub(to_next)} руб.")
    return lines


def render_quote(quote: dict, receipt_uuid: str, hold: dict | None,
                 promo_codes: tuple[str, ...] = ()) -> dict:
    """The quote as the terminal applies it (ReceiptDiscountEvent): one discount for the
    receipt (level discount, promotions and bonuses), its spread over the positions (adds up
    exactly), the extra and the lines. The extra carries the promo codes, so the commit (the
    app's or the fiscal document's) applies the same promotions."""
    totals = quote["totals"]
    discount_map = {p["id"]: rub_json(p["discount"]) for p in quote["positions"] if p["discount"]}
    customer = quote.get("customer")
    extra = None
    if customer or promo_codes:
        extra = {EXTRA_KEY: {"v": 1, "receipt_uuid": receipt_uuid,
                             "customer_id": customer["id"] if customer else None,
                             "hold_id": hold["id"] if hold else None,
                             "bonus_spent": rub_json(totals["bonus_spent"])}}
        if promo_codes:
            extra[EXTRA_KEY]["promo_codes"] = list(promo_codes)
    return {
        "receipt_uuid": receipt_uuid,
        "discount": rub_json(totals["discount"]),
        "positionUuidToDiscountMap": discount_map,
        "extra": extra,
        "bonus": {"spent": rub_json(totals["bonus_spent"]), "earned": rub_json(totals["bonus_earned"]),
                  "max_spendable": rub_json(totals["max_spendable"]),
                  "held_until": hold["expires_at"] if hold else None},
        "totals": {"amount": rub_json(totals["amount"]), "discount": rub_json(totals["discount"]),
                   "level_discount": rub_json(totals["level_discount"]),
                   "promo_discount": rub_json(totals.get("promo_discount", 0)),
                   "amount_to_pay": rub_json(totals["amount_to_pay"])},
        "positions": [{"uuid": p["id"], "amount": rub_json(p["amount"]), "discount": rub_json(p["discount"]),
                       "promo_discount": rub_json(p.get("promo_discount", 0)),
                       "promotions": [{"id": x["id"], "name": x["name"], "discount": rub_json(x["discount"]),
                                       "bonus": rub_json(x["bonus"])} for x in p.get("promotions") or []],
                       "bonus_spent": rub_json(p["bonus_spent"]), "bonus_earned": rub_json(p["bonus_earned"]),
                       "amount_to_pay": rub_json(p["amount_to_pay"])} for p in quote["positions"]],
        "promotions": promotions_view(quote),
        "offers": list(quote.get("offers") or []),
        "customer": None if not customer else {
            "id": customer["id"], "balance": rub_json(customer["balance"]),
            "balance_after": rub_json(customer["balance_after"]), "level": customer["level"],
            "next_level": customer.get("next_level"),
            "to_next_level": None if customer.get("to_next_level") is None else rub_json(customer["to_next_level"])},
        "print": {"summary": print_lines(quote)},
        "message": (quote.get("messages") or {}).get("cashier") or "",
    }


def document_of_receipt_event(event) -> dict:
    """Evotor's receipt webhook v2 (`{"type": "ReceiptCreated", "data": {…}}`, camelCase) as a
    V2 document, so both reach the hub by the same path.

    Its items carry one `discount` each, the till's and ours together (inference: the format
    does not split them). With our extra on the receipt the discount is taken as ours (the
    app's receipt-level discount spread over the items); without it, as the till's own.
    """
    data = event.get("data") if isinstance(event, dict) else None
    if not isinstance(data, dict):
        raise BadValue("data", "Ожидается {\"type\": \"ReceiptCreated\", \"data\": {…}}.")
    items = data.get("items")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BadValue("data.items", "В чеке нет позиций (data.items).")
    ours = our_extra(data.get("extras")) is not None
    positions = []
    for item in items:
        discount = item.get("discount") or 0
        positions.append({
            "uuid": item.get("id"), "product_id": first(item, "productId", "product_id", "id"),
            "product_name": item.get("name"), "quantity": item.get("quantity"),
            "price": item.get("price"), "sum": item.get("sumPrice"),
            "doc_distributed_discount": discount if ours else 0,
            "position_discount": None if ours else discount})
    return {"type": data.get("type"), "id": data.get("id"), "store_id": data.get("storeId"),
            "device_id": data.get("deviceId"), "close_user_id": data.get("employeeId"),
            "close_date": data.get("dateTime"), "extras": data.get("extras"),
            "body": {"positions": positions, "sum": data.get("totalAmount"),
                     "client_phone": first(data, "clientPhone", "client_phone")}}



# --- documents of the v1 webhook format ------------------------------------------------------

def is_v1_document(doc) -> bool:
    """The older document format: operations as a `transactions` list (Evotor's pos-docs)."""
    return isinstance(doc, dict) and isinstance(doc.get("transactions"), list)


def _v1_number(value):
    """A v1 amount or quantity as it came, without the sign (PAYBACK lines are negative)."""
    if isinstance(value, str) and value.strip().startswith("-"):
        return value.strip()[1:]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return -value
    return value


def document_of_v1(doc: dict) -> dict:
    """A v1 document as a v2 one, so both reconcile through the same code.

    REGISTER_POSITION starts a line (`price`, `quantity`, `commodityUuid`, `commodityName`);
    DISCOUNT_POSITION after it is the till's own discount of that line (`discountSum`),
    DISCOUNT_DOCUMENT_POSITION the share of the receipt-level discount — ours when our app
    gave one (`discountPositionSum`); PAYMENT rows are the payments; the PAYBACK's base
    document is `baseDocumentUUID` (on DOCUMENT_OPEN / DOCUMENT_CLOSE); the buyer's phone is
    `clientPhone`. A line without its own `uuid` (the docs' examples) gets its product's id,
    "#2", "#3"… for repeats, so a return matches the sale's lines by product.
    """
    positions: list[dict] = []
    payments: list[dict] = []
    base = phone = None
    for t in doc.get("transactions") or []:
        if not isinstance(t, dict):
            continue
        kind = t.get("type")
        base = base or first(t, "baseDocumentUUID", "baseDocumentUuid", "base_document_id")
        phone = phone or first(t, "clientPhone")
        if kind == "REGISTER_POSITION":
            positions.append({"uuid": first(t, "uuid", "positionUuid"),
                              "product_id": first(t, "commodityUuid", "productUuid"),
                              "product_name": first(t, "commodityName", "name"),
                              "quantity": _v1_number(t.get("quantity")), "price": _v1_number(t.get("price")),
                              "position_discount": 0, "doc_distributed_discount": 0})
        elif kind == "DISCOUNT_POSITION" and positions:
            positions[-1]["position_discount"] = _v1_number(first(t, "discountSum")) or 0
        elif kind == "DISCOUNT_DOCUMENT_POSITION" and positions:
            positions[-1]["doc_distributed_discount"] = _v1_number(first(t, "discountPositionSum")) or 0
        elif kind == "PAYMENT" and t.get("sum") not in (None, 0, "0"):
            payments.append({"type": t.get("paymentType"), "sum": t.get("sum")})
    seen: dict[str, int] = {}
    for i, p in enumerate(positions):
        if not p["uuid"]:
            key = str(p["product_id"] or f"line-{i + 1}")
            seen[key] = seen.get(key, 0) + 1
            p["uuid"] = key if seen[key] == 1 else f"{key}#{seen[key]}"
    body = {"positions": positions, "payments": payments, "client_phone": phone}
    if base:
        body["base_document_id"] = base
    return {"type": doc.get("type"), "id": first(doc, "uuid", "id"), "number": doc.get("number"),
            "close_date": first(doc, "closeDate", "close_date"),
            "device_id": first(doc, "deviceUuid", "device_id"),
            "store_id": first(doc, "storeUuid", "store_id"),
            "close_user_id": first(doc, "closeUserUuid", "close_user_id"),
            "extras": doc.get("extras"), "body": body}
