"""The seeds' programs as partners send them (JSON in roubles) -> Program -> the seeds' figures.

The JSON goes through the API's ProgramSchema (validation, roubles -> kopecks) and
hub.programs.operations.program_from_settings, exactly as a PUT /api/v1/program does.
"""
from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from hub.engine import calculate
from hub.programs.operations import DEFAULT_SETTINGS, program_from_settings

from tests.engine.helpers import account, day, msk, pos, receipt, rub

ProgramSchema = pytest.importorskip("api.schemas.program").ProgramSchema


def load(data: dict):
    return program_from_settings(ProgramSchema().load(data))


API_EXAMPLE = {
    "type": "bonus",
    "timezone": "Europe/Moscow",
    "levels": [
        {"code": "base", "name": "Стандарт", "threshold": 0,
         "accrual": {"scheme": "progressive", "steps": [{"from": 0, "percent": 3},
                                                        {"from": 1000, "percent": 10}]},
         "discount": None, "max_spend_percent": 20},
        {"code": "gold", "name": "Золотая", "threshold": 10000,
         "accrual": {"scheme": "percent", "percent": 5},
         "discount": {"scheme": "percent", "percent": 5}, "max_spend_percent": 50},
    ],
    "bonus_lifetime_days": 365,
    "expiry_mode": "since_accrual",
    "expiry_dates": [],
    "activation_delay_days": 0,
    "rounding": "kopeck",
}


def test_api_example_builds_the_engine_program():
    prog = load(API_EXAMPLE)
    base, gold = prog.levels
    assert base.threshold == 0 and gold.threshold == rub(10000)
    assert [(s.from_amount, s.percent) for s in base.accrual.steps] == [
        (0, Decimal(3)), (rub(1000), Decimal(10))]
    assert base.max_spend_percent == Decimal(20)
    assert gold.discount.percent == Decimal(5)


def test_api_example_figures():
    prog = load(API_EXAMPLE)
    assert calculate(prog, receipt(pos("1", "999.99")), account()).bonus_earned == rub("29.99")
    assert calculate(prog, receipt(pos("1", 1000)), account()).bonus_earned == rub(100)
    gold = calculate(prog, receipt(pos("1", 1000)), account(total_purchases=10000))
    assert (gold.level.code, gold.bonus_earned) == ("gold", rub(50))
    # a bonus program: the gold level's discount does not apply
    assert gold.level_discount == 0


def test_per_amount_from_json():
    prog = load({"type": "bonus", "levels": [
        {"code": "base", "name": "Стандарт", "threshold": 0,
         "accrual": {"scheme": "per_amount", "every": 1000, "bonuses": 50}}]})
    assert calculate(prog, receipt(pos("1", 2999)), account()).bonus_earned == rub(100)


def test_seed_case_1_from_json():
    prog = load({
        "type": "bonus", "timezone": "Europe/Moscow",
        "levels": [
            {"code": "l1", "name": "Первый", "threshold": 0,
             "accrual": {"scheme": "percent", "percent": 3}, "max_spend_percent": 30,
             "bonus_lifetime_days": 120},
            {"code": "l2", "name": "Второй", "threshold": 10000,
             "accrual": {"scheme": "percent", "percent": 5}, "max_spend_percent": 30,
             "bonus_lifetime_days": 180},
        ],
        "expiry_mode": "since_last_purchase", "activation_delay_days": 1,
    })
    q = calculate(prog, receipt(pos("1", 1000), moment=msk(2025, 3, 3, 18)), account())
    assert (q.bonus_earned, q.earned_active_from, q.earned_expires_at) == (
        rub(30), day(2025, 3, 4), day(2025, 7, 2))
    q = calculate(prog, receipt(pos("1", 1000), moment=msk(2025, 3, 3, 18)),
                  account(total_purchases=10000))
    assert (q.bonus_earned, q.earned_expires_at) == (rub(50), day(2025, 8, 31))


def test_salon_rules_from_json():
    prog = load({
        "type": "bonus",
        "levels": [{"code": "base", "name": "Стандарт", "threshold": 0,
                    "accrual": {"scheme": "percent", "percent": 3}, "max_spend_percent": 0}],
        "rules": [
            {"name": "услуги", "when": {"groups": ["services"]},
             "then": {"accrual_percent": 10, "max_spend_percent": 50}},
            {"name": "утро", "when": {"time_from": "09:00", "time_to": "12:00"},
             "then": {"accrual_multiplier": 2}},
            {"name": "ночь", "when": {"time_from": "22:00", "time_to": "02:00", "weekdays": [6, 7]},
             "then": {"no_accrual": True}},
        ],
        "accrue_on_discounted": False,
    })
    assert prog.rules[1].when.time_from == time(9) and prog.rules[1].when.time_to == time(12)
    assert prog.accrue_on_discounted is False and prog.accrue_on_bonus_payment is False
    r = receipt(pos("s", 1000, ["services"]), pos("g", 500, ["goods"]),
                pos("d", 100, ["goods"], till_discount=20), spend_max=True,
                moment=msk(2025, 3, 3, 10))
    q = calculate(prog, r, account(available=10000))
    assert [p.bonus_spent for p in q.positions] == [rub(500), 0, 0]
    assert [p.bonus_earned for p in q.positions] == [rub(100), rub(30), 0]   # doubled morning
    night = calculate(prog, receipt(pos("g", 500, ["goods"]), moment=msk(2025, 3, 8, 23)), account())
    assert night.bonus_earned == 0


def test_fixed_dates_from_json():
    prog = load({"type": "bonus", "expiry_mode": "fixed_dates", "expiry_dates": ["12-31", "06-30"],
                 "levels": [{"code": "base", "name": "Стандарт", "threshold": 0,
                             "accrual": {"scheme": "percent", "percent": 5}}]})
    assert prog.expiry_dates == ((12, 31), (6, 30))
    q = calculate(prog, receipt(pos("1", 1000), moment=msk(2025, 7, 1)), account())
    assert q.earned_expires_at == day(2025, 12, 31)


def test_discount_program_from_json():
    prog = load({"type": "discount", "levels": [
        {"code": "base", "name": "Скидка", "threshold": 0,
         "discount": {"scheme": "progressive", "steps": [{"from": 0, "percent": 5},
                                                         {"from": 1000, "percent": 10}]}}]})
    assert calculate(prog, receipt(pos("1", 999)), account()).level_discount == rub("49.95")
    assert calculate(prog, receipt(pos("1", 1000)), account()).level_discount == rub(100)


def test_default_settings_build():
    prog = program_from_settings(DEFAULT_SETTINGS)
    q = calculate(prog, receipt(pos("1", 1000), spend_max=True), account(available=1000))
    assert (q.bonus_spent, q.bonus_earned) == (rub(300), rub(35))
