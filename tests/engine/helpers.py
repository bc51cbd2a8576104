"""Builders for engine tests: programs, receipts and moments in roubles-as-kopecks."""
from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from hub.engine import (
    AccountState, Condition, Effect, Level, Position, Program, Receipt, Rule, Scheme, Step,
)

MSK = ZoneInfo("Europe/Moscow")
UTC = ZoneInfo("UTC")


def rub(roubles: float | int | str) -> int:
    """Roubles -> kopecks, exactly (rub('29.99') == 2999)."""
    return int(Decimal(str(roubles)) * 100)


def pct(value) -> Decimal:
    return Decimal(str(value))


def msk(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=MSK)


def day(y: int, m: int, d: int) -> datetime:
    """The start of a local day in Moscow."""
    return datetime(y, m, d, tzinfo=MSK)


# 2025-03-03 is a Monday.
MONDAY_NOON = msk(2025, 3, 3, 12, 0)


def percent(p) -> Scheme:
    return Scheme("percent", percent=pct(p))


def per_amount(every_roubles, bonuses) -> Scheme:
    return Scheme("per_amount", every=rub(every_roubles), bonuses=rub(bonuses))


def progressive(*steps) -> Scheme:
    """progressive((0, 3), (1000, 10)): from 0 roubles 3%, from 1000 roubles 10%."""
    return Scheme("progressive", steps=tuple(Step(rub(f), pct(p)) for f, p in steps))


def level(code: str = "base", name: str = "Стандарт", threshold=0, *,
          accrual: Scheme | None = None, discount: Scheme | None = None,
          max_spend=0, lifetime: int | None = None) -> Level:
    return Level(code=code, name=name, threshold=rub(threshold), accrual=accrual,
                 discount=discount, max_spend_percent=pct(max_spend),
                 bonus_lifetime_days=lifetime)


def program(*levels: Level, **kwargs) -> Program:
    kwargs.setdefault("bonus_lifetime_days", 365)
    return Program(levels=levels or (level(accrual=percent(5), max_spend=30),), **kwargs)


def rule(name: str = "", *, then: Effect, **when) -> Rule:
    when = {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in when.items()}
    return Rule(name=name, when=Condition(**when), then=then)


def pos(pid: str, roubles, groups=(), till_discount=0) -> Position:
    return Position(id=pid, amount=rub(roubles), groups=tuple(groups),
                    till_discount=rub(till_discount))


def receipt(*positions: Position, moment: datetime = MONDAY_NOON, **kwargs) -> Receipt:
    return Receipt(positions=positions, moment=moment, **kwargs)


def account(available=0, total_purchases=0, pending=0, debt=0, last_purchase_at=None) -> AccountState:
    return AccountState(available=rub(available), pending=rub(pending), debt=rub(debt),
                        total_purchases=rub(total_purchases), last_purchase_at=last_purchase_at)


__all__ = [
    "MSK", "UTC", "MONDAY_NOON", "rub", "pct", "msk", "day", "percent", "per_amount", "progressive",
    "level", "program", "rule", "pos", "receipt", "account", "Effect", "time",
]
