"""The cashier's and the receipt's messages: Russian, with the figures."""
from __future__ import annotations

import re

import pytest

from hub.engine import calculate
from hub.engine.text import rub as fmt

from tests.engine.helpers import (
    account, day, level, msk, percent, pos, program, receipt, rub,
)

CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LEVELS = program(level("base", "Стандарт", 0, accrual=percent(3), max_spend=20),
                 level("gold", "Золотая", 10000, accrual=percent(5), max_spend=50))


@pytest.mark.parametrize("kopecks, text", [
    (0, "0,00"), (5, "0,05"), (1350, "13,50"), (100000, "1 000,00"),
    (123456789, "1 234 567,89"), (-4250, "-42,50"),
])
def test_money_rendering(kopecks, text):
    assert fmt(kopecks) == text


def test_cashier_message_for_a_bonus_sale():
    q = calculate(LEVELS, receipt(pos("1", 1000), spend=rub(150)),
                  account(available=1234, total_purchases=5000))
    m = q.cashier_message
    assert CYRILLIC.search(m)
    assert "Уровень «Стандарт»." in m
    assert "Доступно 1 234,00 бонусов, можно списать до 200,00." in m
    assert "Списано 150,00." in m
    assert "Будет начислено 25,50." in m                       # 3 % of 850


def test_cashier_message_when_the_request_is_cut():
    q = calculate(LEVELS, receipt(pos("1", 1000), spend=rub(300)), account(available=1234))
    assert "Запрошено к списанию 300,00, программа позволяет не больше 200,00." in q.cashier_message
    assert "Списано 200,00." in q.cashier_message


def test_cashier_message_with_pending_bonuses():
    prog = program(level(accrual=percent(5)), activation_delay_days=1)
    q = calculate(prog, receipt(pos("1", 1000), moment=msk(2025, 3, 3, 18)), account())
    assert q.earned_active_from == day(2025, 3, 4)
    assert "Будет начислено 50,00 (станут доступны с 04.03.2025)." in q.cashier_message


def test_receipt_lines():
    q = calculate(LEVELS, receipt(pos("1", 1000), spend=rub(150)),
                  account(available=1234, total_purchases=5000))
    lines = q.receipt_message.split("\n")
    assert lines == [
        "Списано бонусов: 150,00",
        "Начислено бонусов: 25,50",
        "Баланс бонусов: 1 109,50",                             # 1234 - 150 + 25.50
        "Уровень карты: Стандарт",
        "До уровня «Золотая»: 4 150,00 ₽",                     # 10000 - 5000 - 850
    ]


def test_top_level_has_no_next_level_line():
    q = calculate(LEVELS, receipt(pos("1", 100)), account(total_purchases=20000))
    assert "До уровня" not in q.receipt_message
    assert "Уровень карты: Золотая" in q.receipt_message


def test_discount_program_messages():
    prog = program(level("base", "Скидочная", 0, discount=percent(5)), type="discount")
    q = calculate(prog, receipt(pos("1", 1000)), account(available=500))
    assert q.cashier_message == "Уровень «Скидочная». Скидка по карте 50,00 ₽."
    assert q.receipt_message == "Скидка по карте: 50,00 ₽\nУровень карты: Скидочная"
    assert "бонус" not in q.cashier_message.lower()


def test_bonus_discount_messages_have_both():
    prog = program(level("gold", "Золотая", 0, accrual=percent(5), discount=percent(5),
                         max_spend=50), type="bonus_discount")
    q = calculate(prog, receipt(pos("1", 1000), spend_max=True), account(available=1000))
    assert "Скидка по карте 50,00 ₽." in q.cashier_message
    assert "Списано 475,00." in q.cashier_message
    assert q.receipt_message.startswith("Скидка по карте: 50,00 ₽\nСписано бонусов: 475,00\n")


def test_nothing_earned_nothing_spent():
    prog = program(level(accrual=None, max_spend=0))
    q = calculate(prog, receipt(pos("1", 1000)), account(available=0))
    assert q.cashier_message == "Уровень «Стандарт». Доступно 0,00 бонусов, можно списать до 0,00."
    assert "Начислено бонусов: 0,00" in q.receipt_message


def test_debt_is_shown_with_a_minus():
    q = calculate(LEVELS, receipt(pos("1", 100)), account(available=-50))
    assert "Доступно -50,00 бонусов" in q.cashier_message
    assert "Баланс бонусов: -47,00" in q.receipt_message
