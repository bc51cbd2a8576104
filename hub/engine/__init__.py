"""The calculation core: program settings x receipt x account state -> quote.

Pure functions over frozen dataclasses. Nothing here imports Flask or SQLAlchemy,
does I/O or reads the clock; money is always integer kopecks.
"""
from hub.engine.allocation import allocate
from hub.engine.program import (
    Condition, Effect, Level, Program, Rule, Scheme, Step,
)
from hub.engine.receipt import AccountState, Position, Receipt
from hub.engine.promotions import (
    AppliedPromotion, LinePromotion, PromoConditions, PromoContext, Promotion,
)
from hub.engine.quote import PositionQuote, Quote, calculate, SpendNotAllowed, with_balance_after
from hub.engine.returns import PromoSet, ReturnLine, ReturnQuote, ReturnTooLarge, compute_return
from hub.engine.expiry import accrual_window, expiry_from, local_day_start, purchase_burn_date

__all__ = [
    "allocate", "Condition", "Effect", "Level", "Program", "Rule", "Scheme", "Step",
    "AccountState", "Position", "Receipt", "PositionQuote", "Quote", "calculate", "with_balance_after",
    "SpendNotAllowed", "PromoSet", "ReturnLine", "ReturnQuote", "ReturnTooLarge", "compute_return",
    "accrual_window", "expiry_from", "local_day_start", "purchase_burn_date",
    "AppliedPromotion", "LinePromotion", "PromoConditions", "PromoContext", "Promotion",
]
