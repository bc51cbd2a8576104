"""One guard per rule a POS receipt must pass, for every adapter and path.

Adapters pass data (who the customer is, what the till applied); the commit paths of
hub.receipts.operations call these guards, so the API, МойСклад, Evotor and 1С refuse the same
receipts with the same message.
"""
from __future__ import annotations

from dataclasses import dataclass

from hub.engine.text import rub
from hub.errors import Invalid


@dataclass(frozen=True)
class TillDiscount:
    """What a till took off the receipt itself (kopecks), and the rounding its price format
    allows (a weighed line's unit price is rounded by the till)."""
    applied: int
    tolerance: int = 0


def require_customer_for_spend(customer, spend: int | None, spend_max: bool = False) -> None:
    """A customer is required to spend bonuses; a blocked customer earns and spends nothing.

    Every quote and sale (calculate, quote-and-hold, commit) of every till — the API,
    МойСклад, Evotor, 1С, the cashier's workplace — calls this with the customer it resolved,
    so the block is refused in one place with one message. Returns stay possible."""
    if customer is None and (spend or spend_max):
        raise Invalid("customer_required", "Списать бонусы можно только по карте клиента.")
    if customer is not None and getattr(customer, "blocked_at", None) is not None:
        raise Invalid("customer_blocked", "Клиент заблокирован: бонусы не начисляются и не списываются.",
                      {"customer": ["Клиент заблокирован."]})


def check_till_discount(totals: dict, till: TillDiscount | None, spend: int | None) -> None:
    """The till's discount may not exceed what the program allows, and bonuses spent must be
    reflected in the till's prices. `totals` is the strict quote's (kopecks)."""
    if till is None:
        return
    if till.applied > totals["discount"] + till.tolerance:
        raise Invalid("discount_not_allowed",
                      f"Скидка в чеке {rub(till.applied)} ₽ больше разрешённой программой "
                      f"({rub(totals['discount'])} ₽).",
                      {"positions": [f"Скидка не больше {rub(totals['discount'])} ₽."]})
    if spend and till.applied + till.tolerance < spend:
        raise Invalid("discount_not_allowed",
                      f"Списание {rub(spend)} бонусов не отражено в ценах позиций "
                      f"(скидка в чеке {rub(till.applied)} ₽).",
                      {"positions": [f"скидка не меньше {rub(spend)}"]})
