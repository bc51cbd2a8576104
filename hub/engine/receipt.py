"""A receipt and the customer's account as inputs to a calculation."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Position:
    id: str
    amount: int                 # kopecks the till charges for the line before our discount
    quantity: Decimal = Decimal(1)
    price: int = 0              # kopecks per unit, as the till sent it
    product: str | None = None
    name: str | None = None
    groups: tuple[str, ...] = ()
    till_discount: int = 0      # kopecks the till itself already took off (a discounted good)
    certificate: bool = False   # a gift certificate sold: no bonuses, discounts or promotions,
                                # not a purchase for levels (Quote.purchase_amount)


@dataclass(frozen=True)
class Receipt:
    positions: tuple[Position, ...]
    moment: datetime            # timezone-aware
    store: str | None = None
    cashier: str | None = None
    payment_method: str | None = None
    spend: int | None = None    # bonuses (kopecks) the customer wants to spend
    spend_max: bool = False     # "max": as much as the program allows

    @property
    def amount(self) -> int:
        return sum(p.amount for p in self.positions)


@dataclass(frozen=True)
class AccountState:
    available: int = 0          # spendable now, kopecks (negative while in debt)
    pending: int = 0            # accrued, not yet active
    debt: int = 0               # owed after returns (positive); a new accrual pays it first,
                                # even one that is not active yet
    total_purchases: int = 0    # kopecks, net of returns; decides the level
    purchase_count: int = 0
    last_purchase_at: datetime | None = None   # since_last_purchase counts from the latest
    anonymous: bool = False     # no customer on the receipt: nobody to earn or spend bonuses,
                                # so the quote promises none and prints no card lines
