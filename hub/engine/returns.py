"""What a return gives back: earned bonuses taken back, spent bonuses restored, money.

Promotions whose discount depends on other goods of the receipt (N+M, a gift product) are
"sets": returning the goods that earned the discount while keeping the discounted ones would
leave the customer with a free item. As Russian retail does it (the discount of a set belongs
to the set — 1С and МойСклад refund "by the receipt's prices" only for a whole set), the refund
of the returned goods is reduced by the discount the kept goods no longer deserve:

    withheld(kept) = max(0, what the kept goods carry of the discount − what they deserve)

where "deserve" recomputes the promotion on the kept goods (N+M: the free units of the kept
units, in the proportion the sale gave; a gift: all of it while the kept goods still meet the
condition, else nothing). It is a function of what is kept, so each return withholds the
difference to the earlier returns, and returning the rest of the set later gives it back.
What is withheld comes off the money first, then off the bonuses the return restores.

The ledger then applies the quote (hub.ledger.postings): spent bonuses go back to the lots
they came from; the earned bonuses reversed come first from what is left of the sale's own
lot (its burnt part is not taken back), then from the customer's other lots not burnt when
the hub processes the return — active lots and lots still pending activation alike,
soonest-expiring first — and only the rest becomes a debt lot that later accruals pay.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping, Sequence

from hub.engine.receipt import Position
from hub.engine.promotions import Promotion, _floor, _free_units


class ReturnTooLarge(Exception):
    def __init__(self, position_id: str, sold: Decimal, asked: Decimal):
        super().__init__(f"position {position_id}: sold {sold}, returning {asked} in all")
        self.position_id = position_id
        self.sold = sold
        self.asked = asked


@dataclass(frozen=True)
class ReturnLine:
    """A sold position as the sale recorded it."""
    id: str
    quantity: Decimal
    amount: int
    amount_to_pay: int
    bonus_spent: int
    bonus_earned: int


@dataclass(frozen=True)
class PromoSet:
    """A set promotion as the sale recorded it (hub.promotions.operations.record_promotions)."""
    id: str
    name: str
    reward: str                              # "free_items" | "gift_product"
    counted: tuple[str, ...]                 # lines that earned it
    discounts: Mapping[str, int]             # line id -> kopecks it took off
    buy: int = 0
    free: int = 0
    min_amount: int = 0
    min_quantity: Decimal = Decimal(0)


@dataclass(frozen=True)
class ReturnQuote:
    quantities: dict[str, Decimal]
    amount: int                  # gross amount of the returned goods
    amount_returned: int         # money back to the customer
    bonus_spent_restored: int
    bonus_earned_reversed: int
    promo_withheld: int = 0      # set discounts the kept goods no longer deserve (+) or
                                 # given back with the rest of the set (-), this return
    withheld: tuple[tuple[str, str, int], ...] = ()     # (promotion id, name, kopecks)
    lost: tuple[str, ...] = ()   # set promotions nothing of whose discount stays after it


def _share(total: int, part: Decimal, whole: Decimal) -> int:
    return int(total * part // whole) if whole else 0


def _kept_positions(ids: Sequence[str], by_id: Mapping[str, "ReturnLine"],
                    kept: Mapping[str, Decimal]) -> list[Position]:
    out = []
    for pid in ids:
        line = by_id.get(pid)
        if line is None or line.quantity <= 0:
            continue
        q = kept.get(pid, line.quantity)
        if q > 0:
            out.append(Position(id=pid, amount=_share(line.amount, q, line.quantity), quantity=q))
    return out


def _free_value(s: PromoSet, positions: list[Position]) -> int:
    promo = Promotion(id=s.id, name=s.name, reward="free_items", buy=s.buy, free=s.free)
    free = _free_units(promo, positions, list(range(len(positions))))
    return sum(_floor(Decimal(positions[i].amount) * k / positions[i].quantity) for i, k in free.items())


def set_benefit(s: PromoSet, by_id: Mapping[str, "ReturnLine"],
                kept: Mapping[str, Decimal]) -> tuple[int, int]:
    """(what the kept goods carry of the set's discount, what they deserve of it)."""
    carry = 0
    for pid, d in s.discounts.items():
        line = by_id.get(pid)
        if line is not None:
            q = kept.get(pid, line.quantity)
            carry += d - _share(d, line.quantity - q, line.quantity)
    if s.reward == "free_items":
        given = sum(s.discounts.values())
        full = _free_value(s, _kept_positions(s.counted, by_id, {}))
        now = _free_value(s, _kept_positions(s.counted, by_id, kept))
        deserved = int(Decimal(now) * given // full) if full else 0
        return carry, min(carry, deserved)
    positions = _kept_positions(s.counted, by_id, kept)
    amount = sum(p.amount for p in positions)
    units = sum((p.quantity for p in positions), Decimal(0))
    holds = bool(positions) and amount >= s.min_amount and units >= s.min_quantity
    return carry, carry if holds else 0


def _withheld(s: PromoSet, by_id: Mapping[str, "ReturnLine"], kept: Mapping[str, Decimal]) -> int:
    carry, deserved = set_benefit(s, by_id, kept)
    return max(0, carry - deserved)


def compute_return(lines: list[ReturnLine], returned_before: dict[str, Decimal],
                   request: dict[str, Decimal] | None,
                   sets: Sequence[PromoSet] = ()) -> ReturnQuote:
    """Shares of each sold line for the quantities returned now.

    Each share is the difference of cumulative floors (what all returns so far owe minus
    what the earlier returns already took), so returning everything in any number of
    steps gives back exactly what the sale recorded, to the kopeck.
    """
    by_id = {line.id: line for line in lines}
    if request is None:
        request = {line.id: line.quantity - returned_before.get(line.id, Decimal(0))
                   for line in lines}
        request = {k: v for k, v in request.items() if v > 0}
    totals = dict(amount=0, amount_returned=0, bonus_spent_restored=0, bonus_earned_reversed=0)
    for pid, qty in request.items():
        line = by_id[pid]
        before = returned_before.get(pid, Decimal(0))
        after = before + qty
        if after > line.quantity:
            raise ReturnTooLarge(pid, line.quantity, after)
        for key, total in (("amount", line.amount), ("amount_returned", line.amount_to_pay),
                           ("bonus_spent_restored", line.bonus_spent),
                           ("bonus_earned_reversed", line.bonus_earned)):
            totals[key] += (_share(total, after, line.quantity)
                            - _share(total, before, line.quantity))
    if not sets:
        return ReturnQuote(quantities=dict(request), **totals)
    kept_before = {ln.id: ln.quantity - returned_before.get(ln.id, Decimal(0)) for ln in lines}
    kept_after = {k: v - request.get(k, Decimal(0)) for k, v in kept_before.items()}
    withheld, lost = [], []
    for s in sets:
        delta = _withheld(s, by_id, kept_after) - _withheld(s, by_id, kept_before)
        if delta:
            withheld.append((s.id, s.name, delta))
        carry, deserved = set_benefit(s, by_id, kept_after)
        if deserved <= 0 or carry <= 0:
            lost.append(s.id)
    total = sum(d for _, _, d in withheld)
    money = min(total, totals["amount_returned"]) if total > 0 else total
    bonuses = min(total - money, totals["bonus_spent_restored"]) if total > money else 0
    totals["amount_returned"] -= money     # not covered by the money: off the bonuses restored
    totals["bonus_spent_restored"] -= bonuses
    return ReturnQuote(quantities=dict(request), **totals, promo_withheld=money + bonuses,
                       withheld=tuple(withheld), lost=tuple(lost))
