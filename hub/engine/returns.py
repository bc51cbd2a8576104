"""What a return gives back: earned bonuses taken back, spent bonuses restored, money."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


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
class ReturnQuote:
    quantities: dict[str, Decimal]
    amount: int                  # gross amount of the returned goods
    amount_returned: int         # money back to the customer
    bonus_spent_restored: int
    bonus_earned_reversed: int


def _share(total: int, part: Decimal, whole: Decimal) -> int:
    return int(total * part // whole) if whole else 0


def compute_return(lines: list[ReturnLine], returned_before: dict[str, Decimal],
                   request: dict[str, Decimal] | None) -> ReturnQuote:
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
    return ReturnQuote(quantities=dict(request), **totals)
