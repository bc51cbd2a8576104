"""Program settings as the engine sees them: frozen, already validated, in kopecks."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal

PROGRAM_TYPES = ("bonus", "discount", "bonus_discount")
EXPIRY_MODES = ("since_accrual", "since_last_purchase", "fixed_dates")
ROUNDINGS = ("kopeck", "rouble_down")
SCHEMES = ("percent", "per_amount", "progressive")


@dataclass(frozen=True)
class Step:
    from_amount: int          # kopecks: the step applies from this receipt amount up
    percent: Decimal


@dataclass(frozen=True)
class Scheme:
    """How much: a fixed percent, Y bonuses per full X roubles, or a percent by receipt amount."""
    kind: str
    percent: Decimal = Decimal(0)
    every: int = 0            # kopecks (per_amount)
    bonuses: int = 0          # kopecks (per_amount)
    steps: tuple[Step, ...] = ()

    def percent_for(self, receipt_amount: int) -> Decimal:
        """The percent of a percent or progressive scheme for a receipt of this amount."""
        if self.kind == "percent":
            return self.percent
        chosen = Decimal(0)
        for step in self.steps:  # steps are validated to be ascending
            if step.from_amount <= receipt_amount:
                chosen = step.percent
        return chosen


@dataclass(frozen=True)
class Level:
    code: str
    name: str
    threshold: int            # total purchases, kopecks, at which a card reaches the level
    accrual: Scheme | None = None
    discount: Scheme | None = None
    max_spend_percent: Decimal = Decimal(0)
    bonus_lifetime_days: int | None = None   # overrides the program's lifetime


@dataclass(frozen=True)
class Condition:
    """When a rule applies. An empty tuple or None means 'any'."""
    groups: tuple[str, ...] = ()
    # products (the till's product ids): a line matches when it is in one of `groups` or is one
    # of `products` — either list alone limits the rule to its lines
    products: tuple[str, ...] = ()
    exclude_groups: tuple[str, ...] = ()
    weekdays: tuple[int, ...] = ()            # ISO: 1 = Monday … 7 = Sunday
    time_from: time | None = None             # tenant-local, inclusive
    time_to: time | None = None               # tenant-local, exclusive
    payment_methods: tuple[str, ...] = ()
    stores: tuple[str, ...] = ()
    cashiers: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Effect:
    accrual_percent: Decimal | None = None    # replaces the level's accrual for the position
    accrual_multiplier: Decimal | None = None # e.g. 2 for double bonuses
    no_accrual: bool = False
    max_spend_percent: Decimal | None = None  # replaces the level's spending limit
    no_spend: bool = False
    no_discount: bool = False                 # excluded from the level discount
    max_discount_percent: Decimal | None = None  # promotions + level discount: at most this share


@dataclass(frozen=True)
class Rule:
    name: str
    when: Condition = field(default_factory=Condition)
    then: Effect = field(default_factory=Effect)


@dataclass(frozen=True)
class Program:
    type: str = "bonus"
    timezone: str = "Europe/Moscow"
    levels: tuple[Level, ...] = ()
    bonus_lifetime_days: int | None = None
    expiry_mode: str = "since_accrual"
    expiry_dates: tuple[tuple[int, int], ...] = ()   # (month, day)
    activation_delay_days: int = 0
    rounding: str = "kopeck"
    rules: tuple[Rule, ...] = ()
    accrue_on_discounted: bool = True     # False: no accrual on goods the till already discounted
    accrue_on_bonus_payment: bool = False # True: the part paid with bonuses earns bonuses too
    spend_on_discounted: bool = True      # False: goods the till discounted cannot be paid with bonuses

    @property
    def earns_bonuses(self) -> bool:
        return self.type in ("bonus", "bonus_discount")

    @property
    def gives_discount(self) -> bool:
        return self.type in ("discount", "bonus_discount")

    def level_for(self, total_purchases: int) -> Level:
        """The highest level whose threshold the total has reached (levels ascend)."""
        chosen = self.levels[0]
        for level in self.levels:
            if level.threshold <= total_purchases:
                chosen = level
        return chosen

    def next_level(self, level: Level) -> Level | None:
        codes = [lv.code for lv in self.levels]
        i = codes.index(level.code)
        return self.levels[i + 1] if i + 1 < len(self.levels) else None

    def lifetime_days(self, level: Level) -> int | None:
        if level.bonus_lifetime_days is not None:
            return level.bonus_lifetime_days
        return self.bonus_lifetime_days


DEFAULT_PROGRAM = Program(
    levels=(Level(code="base", name="Стандарт", threshold=0,
                  accrual=Scheme(kind="percent", percent=Decimal(5)),
                  max_spend_percent=Decimal(30)),),
    bonus_lifetime_days=365,
)
