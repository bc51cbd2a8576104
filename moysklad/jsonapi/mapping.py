"""A JSON API 1.2 document (retaildemand / retailsalesreturn) in the core's terms.

Careful: JSON API amounts are KOPECKS (price 10000.0 is 100 roubles), unlike the Loyalty
API's roubles. A position's `discount` is a percent; the discount it gives is the till's own
(the hub did not compute it), so it becomes the position's `till_discount`.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from connectors.receipts import make_position
from hub import engine
from hub.receipts.operations import line_amount
from hub.money import MAX_KOPECKS, BadNumber, wire_decimal
from moysklad.common import entity_id, line_ids


class BadDocument(ValueError):
    """The document cannot be read as a sale; retrying will not change it."""


@dataclass(frozen=True)
class DocLine:
    id: str
    assortment: str
    price: int
    quantity: Decimal
    till_discount: int


def _dec(value, what: str) -> Decimal:
    try:
        return wire_decimal(value)
    except BadNumber as exc:
        raise BadDocument(f"{what}: не число ({value!r})") from exc


def kopecks(value) -> int:
    """A JSON API amount (kopecks as a float, which МойСклад may carry with a fraction after
    a percent discount) as an int, rounded half up; out of any receipt's range is a bad document."""
    number = _dec(value or 0, "сумма")
    if abs(number) > MAX_KOPECKS:
        raise BadDocument(f"сумма: слишком большая ({value!r})")
    return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def document_lines(doc: dict) -> list[DocLine]:
    rows = (doc.get("positions") or {}).get("rows")
    if not rows:
        raise BadDocument("в документе нет позиций")
    parsed = []
    for i, row in enumerate(rows):
        assortment = entity_id(((row.get("assortment") or {}).get("meta")) or {})
        if not assortment:
            raise BadDocument(f"позиция {i}: нет товара")
        qty = _dec(row.get("quantity"), f"позиция {i}: количество")
        price = kopecks(row.get("price"))
        percent = _dec(row.get("discount") or 0, f"позиция {i}: скидка")
        if qty <= 0 or price < 0 or not Decimal(0) <= percent <= 100:
            raise BadDocument(f"позиция {i}: недопустимые количество, цена или скидка")
        gross = line_amount(price, qty)
        net = int((gross * (100 - percent) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        parsed.append((assortment, price, qty, gross - net))
    ids = line_ids([p[0] for p in parsed])
    return [DocLine(lid, a, price, qty, disc) for lid, (a, price, qty, disc) in zip(ids, parsed)]


def engine_positions(lines: list[DocLine]) -> tuple[engine.Position, ...]:
    return tuple(make_position(id=ln.id, price=ln.price, quantity=ln.quantity, product=ln.assortment,
                               till_discount=ln.till_discount) for ln in lines)


def agent_of(doc: dict) -> dict:
    """{ms_id, phone, card} of the expanded counterparty."""
    agent = doc.get("agent") or {}
    return {"ms_id": agent.get("id") or entity_id(agent.get("meta")),
            "phone": agent.get("phone"), "card": agent.get("discountCardNumber")}


def store_of(doc: dict) -> str | None:
    store = entity_id((doc.get("retailStore") or {}).get("meta"))
    return store[:100] if store else None


def demand_of(doc: dict) -> str | None:
    return entity_id((doc.get("demand") or {}).get("meta"))
