"""Mapping POS receipts into the core's receipt, and the core's quote back into what tills
apply: per-position discounts, whole-kopeck unit prices, discount percents."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from hub.money import wire_kopecks
from hub import engine
from hub.receipts.operations import line_amount


def make_position(*, id: str, price: int, quantity: Decimal, groups=(), product: str | None = None,
                  name: str | None = None, till_discount: int = 0,
                  certificate: bool = False) -> engine.Position:
    """A till's line (unit price in kopecks x quantity, minus the till's own discount);
    `certificate`: a gift certificate sold on the receipt (no bonuses, discounts or
    promotions on it, not a purchase for levels)."""
    return engine.Position(id=id, amount=line_amount(price, quantity) - till_discount,
                           quantity=quantity, price=price, product=product, name=name,
                           groups=tuple(groups or ()), till_discount=till_discount,
                           certificate=bool(certificate))


@dataclass(frozen=True)
class PricedPart:
    """A line as the till prints it: quantity x whole-kopeck unit price."""
    quantity: Decimal
    unit_price: int

    @property
    def amount(self) -> int:
        return line_amount(self.unit_price, self.quantity)


def priced_parts(amount_to_pay: int, quantity: Decimal) -> list[PricedPart]:
    """Split a discounted line so every part has a whole-kopeck unit price and the parts
    add up to `amount_to_pay` exactly.

    3 units for 1000 kopecks → 1 x 334 + 2 x 333. A fractional (weighed) quantity cannot be
    split into units: its unit price is rounded, and the line sum is the till's own rounding.
    """
    if quantity == quantity.to_integral_value() and quantity > 0:
        units = int(quantity)
        base, extra = divmod(amount_to_pay, units)
        parts = []
        if extra:
            parts.append(PricedPart(Decimal(extra), base + 1))
        if units - extra:
            parts.append(PricedPart(Decimal(units - extra), base))
        return parts
    unit = int((Decimal(amount_to_pay) / quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return [PricedPart(quantity, unit)]


def discount_percent(amount: int, discount: int) -> Decimal:
    """A line's discount as a percent with 2 decimals (МойСклад's discountPercent)."""
    if amount <= 0:
        return Decimal("0.00")
    return (Decimal(discount) * 100 / amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def discount_map(quote: dict) -> dict[str, int]:
    """Position id → kopecks of the receipt-level discount that falls on it."""
    return {p["id"]: p["discount"] for p in quote["positions"]}


def roubles(kopecks: int) -> Decimal:
    """Kopecks as a Decimal of roubles with 2 places, for wire formats that want roubles."""
    return (Decimal(kopecks) / 100).quantize(Decimal("0.01"))


def kopecks(value) -> int:
    """Roubles from a wire format (number or string) to kopecks; rejects sub-kopeck values
    and absurd magnitudes with a ValueError (hub.money.BadNumber)."""
    return wire_kopecks(value)


def quantities_by_key(lines) -> dict[str, str]:
    """{product or line key: total quantity} of (key, quantity) pairs — the same whatever
    way a till split or ordered its lines."""
    totals: dict[str, Decimal] = {}
    for key, quantity in lines:
        totals[key] = totals.get(key, Decimal(0)) + Decimal(quantity)
    return {k: str(v.normalize()) for k, v in sorted(totals.items())}


def operation_body(kind: str, ident: str, lines, **context) -> dict:
    """What identifies a POS sale or return for idempotency: the document, its context
    (customer, base sale) and the quantity per product. An adapter's two paths (till call and
    document webhook) build it alike, so the second to arrive replays the first answer."""
    return {kind: ident, **context, "positions": quantities_by_key(lines)}


def same_name(a: str | None, b: str | None) -> bool:
    """Two tills' spellings of one product name: case and runs of spaces do not count."""
    return bool(a and b) and " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def spread_return(sale_lines: list[dict], returned: dict, requested: list[tuple]) -> dict[str, Decimal]:
    """Quantities to return per line of a sale, from what a POS says comes back.

    Each requested item is (line id or None, product or None, quantity), optionally followed
    by (name or None, unit price in kopecks or None). An item naming a line of the sale goes
    to that line; otherwise it is spread over the sale's lines of its product, else (a till
    that wrote the product on one document and not on the other) over those of its name and
    price — first line first, never above what is left of a line. What does not fit stays
    on the last matching line (the core then reports the return as larger than the sale);
    an item matching nothing keeps its own id or product, which the core reports as unknown.
    """
    by_id = {ln["id"]: ln for ln in sale_lines}
    out: dict[str, Decimal] = {}

    def left(line: dict) -> Decimal:
        return (Decimal(line["quantity"]) - Decimal(returned.get(line["id"], "0"))
                - out.get(line["id"], Decimal(0)))

    for item in requested:
        line_id, product, qty = item[0], item[1], Decimal(item[2])
        name, price = (item[3], item[4]) if len(item) > 4 else (None, None)
        if line_id and line_id in by_id:
            out[line_id] = out.get(line_id, Decimal(0)) + qty
            continue
        lines = [ln for ln in sale_lines if product and ln.get("product") == product]
        if not lines and name and price is not None:
            lines = [ln for ln in sale_lines if ln.get("price") == price and same_name(ln.get("name"), name)]
        if not lines:
            key = line_id or product or "?"
            out[key] = out.get(key, Decimal(0)) + qty
            continue
        for ln in lines:
            take = min(qty, max(left(ln), Decimal(0)))
            if take > 0:
                out[ln["id"]] = out.get(ln["id"], Decimal(0)) + take
                qty -= take
        if qty > 0:
            out[lines[-1]["id"]] = out.get(lines[-1]["id"], Decimal(0)) + qty
    return {k: v for k, v in out.items() if v > 0}


def returns_the_rest(sale_lines: list[dict], returned: dict, requested: list[tuple]) -> bool:
    """Does a return of priced items (as for spread_return, with the unit price) give back
    everything of the sale not returned yet — as many units for as much money? Then it is the
    whole rest, however its lines are keyed (a till's return by its base receipt carries a
    subset of the sale's lines, so equal units and money leave no other reading)."""
    if not requested or any(len(item) < 5 or item[4] is None for item in requested):
        return False
    rest = [(ln, Decimal(ln["quantity"]) - Decimal(returned.get(ln["id"], "0"))) for ln in sale_lines]
    rest = [(ln, q) for ln, q in rest if q > 0]
    if any(ln.get("price") is None for ln, _ in rest):
        return False
    units = sum((Decimal(item[2]) for item in requested), Decimal(0))
    money = sum(line_amount(item[4], Decimal(item[2])) for item in requested)
    return bool(rest) and units == sum((q for _, q in rest), Decimal(0)) and \
        money == sum(line_amount(ln["price"], q) for ln, q in rest)
