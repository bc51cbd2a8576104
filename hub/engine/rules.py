"""Modifiers: rules that change accrual and spending by group, time, payment, store, cashier."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from hub.engine.program import Condition, Level, Program
from hub.engine.receipt import Position, Receipt


@dataclass(frozen=True)
class Terms:
    """What the program allows for one position once all matching rules are applied."""
    accrual_percent: Decimal | None      # None: the level's scheme
    accrual_multiplier: Decimal
    no_accrual: bool
    max_spend_percent: Decimal
    no_spend: bool
    no_discount: bool


def _matches(cond: Condition, position: Position, receipt: Receipt, level: Level,
             local: datetime) -> bool:
    groups = set(position.groups)
    if (cond.groups or cond.products) and not (
            groups.intersection(cond.groups) or (position.product is not None and position.product in cond.products)):
        return False
    if cond.exclude_groups and groups.intersection(cond.exclude_groups):
        return False
    if cond.weekdays and local.isoweekday() not in cond.weekdays:
        return False
    if cond.time_from is not None or cond.time_to is not None:
        now = local.time().replace(tzinfo=None)
        start, end = cond.time_from, cond.time_to
        if start is not None and end is not None and start > end:   # wraps midnight
            if not (now >= start or now < end):
                return False
        else:
            if start is not None and now < start:
                return False
            if end is not None and now >= end:
                return False
    if cond.payment_methods and receipt.payment_method not in cond.payment_methods:
        return False
    if cond.stores and receipt.store not in cond.stores:
        return False
    if cond.cashiers and receipt.cashier not in cond.cashiers:
        return False
    if cond.levels and level.code not in cond.levels:
        return False
    return True


def position_terms(program: Program, level: Level, receipt: Receipt, position: Position) -> Terms:
    """Apply the program's rules in order; later rules override earlier ones."""
    local = receipt.moment.astimezone(ZoneInfo(program.timezone))
    accrual_percent = None
    multiplier = Decimal(1)
    no_accrual = False
    spend_percent = level.max_spend_percent
    no_spend = False
    no_discount = False
    for rule in program.rules:
        if not _matches(rule.when, position, receipt, level, local):
            continue
        eff = rule.then
        if eff.accrual_percent is not None:
            accrual_percent = eff.accrual_percent
        if eff.accrual_multiplier is not None:
            multiplier *= eff.accrual_multiplier
        if eff.max_spend_percent is not None:
            spend_percent = eff.max_spend_percent
        no_accrual = no_accrual or eff.no_accrual
        no_spend = no_spend or eff.no_spend
        no_discount = no_discount or eff.no_discount
    if position.till_discount > 0:
        no_accrual = no_accrual or not program.accrue_on_discounted
        no_spend = no_spend or not program.spend_on_discounted
    return Terms(accrual_percent, multiplier, no_accrual, spend_percent, no_spend, no_discount)
