"""Loyalty API positions <-> the core's receipt lines and quote (pure functions).

Prices on this wire are roubles; everything here is kopecks already (the schemas convert).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from connectors.receipts import discount_percent, make_position, priced_parts
from hub import engine
from hub.receipts.operations import line_amount
from moysklad.common import line_ids, money, number


@dataclass(frozen=True)
class Line:
    id: str                       # the receipt line id (assortment id, "#2" for a repeat)
    assortment: str
    price: int                    # kopecks per unit
    quantity: Decimal
    raw: dict                     # the position as the till sent it (echoed back)
    discounted_price: int | None = None
    discount_percent: Decimal | None = None

    @property
    def gross(self) -> int:
        return line_amount(self.price, self.quantity)


def lines_of(loaded: list[dict], raw: list[dict]) -> list[Line]:
    assortments = [p["assortment"]["meta"]["id"] for p in loaded]
    return [Line(id=lid, assortment=a, price=p["price"] if p.get("price") is not None else 0,
                 quantity=p["quantity"], raw=r if isinstance(r, dict) else {},
                 discounted_price=p.get("discountedPrice"), discount_percent=p.get("discountPercent"))
            for lid, a, p, r in zip(line_ids(assortments), assortments, loaded, raw)]


def engine_positions(lines: list[Line]) -> tuple[engine.Position, ...]:
    return tuple(make_position(id=ln.id, price=ln.price, quantity=ln.quantity, product=ln.assortment)
                 for ln in lines)


def render_positions(lines: list[Line], quote: dict) -> list[dict]:
    """Every position with the discount the till must apply: `discountedPrice` is a
    whole-kopeck unit price, so a line whose amount does not divide by its quantity is
    split in two (3 x 10.01 with 15.01 off → 2 x 5.01 + 1 x 5.00), its serial numbers
    split to match. The parts' discounts add up to the quote's discount exactly for
    whole quantities; a weighed line keeps one rounded unit price."""
    by_id = {p["id"]: p for p in quote["positions"]}
    out = []
    for ln in lines:
        to_pay = by_id[ln.id]["amount_to_pay"]
        serials = ln.raw.get("sn") or []
        start = 0
        for part in priced_parts(to_pay, ln.quantity):
            gross = line_amount(ln.price, part.quantity)
            item = {k: v for k, v in ln.raw.items() if k not in ("discountPercent", "discountedPrice")}
            item.update(quantity=number(part.quantity), price=money(ln.price),
                        discountPercent=number(discount_percent(gross, gross - part.amount)),
                        discountedPrice=money(part.unit_price))
            if serials:
                count = int(part.quantity)
                item["sn"] = serials[start:start + count]
                start += count
            out.append(item)
    return out


def applied_discount(lines: list[Line]) -> tuple[int, int]:
    """(kopecks the till took off the receipt, rounding tolerance in kopecks).

    The till sends the discounted unit price (or only the percent); a weighed line's unit
    price is rounded, so its line sum may be off by a few kopecks: that is the tolerance.
    """
    applied = tolerance = 0
    for ln in lines:
        gross = ln.gross
        if ln.discounted_price is not None:
            net = line_amount(ln.discounted_price, ln.quantity)
        elif ln.discount_percent is not None:
            net = int((gross * (100 - ln.discount_percent) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        else:
            net = gross
        applied += gross - net
        if ln.quantity != ln.quantity.to_integral_value():
            tolerance += math.ceil(ln.quantity / 2) + 1
    return applied, tolerance


# --- gift certificates ------------------------------------------------------------------------

def gift_card(name: str, cert: dict) -> dict:
    """GET /giftcard's answer for the number the till asked (`name`), from the certificate's
    view (hub.certificates.operations.view; an unknown number is a 404 in the view).

    Status: sold and untouched → CAN_BE_USED; partly spent → PARTIALLY_REDEEMED; spent →
    REDEEMED; past its date → EXPIRED; not sold yet or blocked → INVALID.
    `expireDate` is "YYYY-MM-DD HH:MM:SS" in UTC (the first moment it no longer pays);
    `currentBalance` and `initialBalance` are integers in kopecks, as the docs say (no
    rouble conversion here)."""
    status, balance, nominal = cert["status"], cert["balance"], cert["nominal"]
    if status == "active":
        if balance <= 0:
            ms_status = "REDEEMED"
        elif balance >= nominal:
            ms_status = "CAN_BE_USED"
        else:
            ms_status = "PARTIALLY_REDEEMED"
    elif status == "expired":
        ms_status = "EXPIRED"
    else:                                   # issued (not sold) or blocked
        ms_status = "INVALID"
    answer = {"name": name, "id": cert["id"], "status": ms_status}
    if cert.get("expires_at"):
        moment = datetime.fromisoformat(cert["expires_at"]).astimezone(timezone.utc)
        answer["expireDate"] = moment.strftime("%Y-%m-%d %H:%M:%S")
    if ms_status != "INVALID":
        answer["currentBalance"] = max(0, balance) if ms_status != "EXPIRED" else 0
    answer["initialBalance"] = nominal
    return answer
