"""Rendering and the SMS arithmetic (pure functions)."""
from __future__ import annotations

from datetime import date

from hub.notify.templates import DEFAULTS, TOPICS, render, sms_size, unknown_placeholders


def test_every_topic_has_a_russian_default():
    assert set(DEFAULTS) == set(TOPICS)
    for text in DEFAULTS.values():
        assert any("а" <= ch <= "я" for ch in text.lower())
        assert not unknown_placeholders(text)


def test_render_money_dates_and_missing_values():
    text = render("{name}: +{bonuses}, баланс {balance}, до {date} {unknown}",
                  {"bonuses_kopecks": 15050, "balance_kopecks": 100000, "date": date(2026, 12, 31)})
    assert text == "Уважаемый клиент: +150,50, баланс 1000, до 31.12.2026 {unknown}"
    assert render("Привет, {name}! {level}", {"name": "Анна"}) == "Привет, Анна!"


def test_sms_parts_cyrillic_and_gsm():
    assert sms_size("я" * 70).parts == 1 and sms_size("я" * 71).parts == 2
    assert sms_size("я" * 134).parts == 2 and sms_size("я" * 135).parts == 3
    assert sms_size("a" * 160) == sms_size("a" * 160)
    assert sms_size("a" * 160).parts == 1 and sms_size("a" * 161).parts == 2
    assert sms_size("a" * 306).parts == 2 and sms_size("a" * 307).parts == 3
    assert sms_size("€" * 80).length == 160 and sms_size("€" * 80).encoding == "gsm7"
    assert sms_size("Код 1234").encoding == "ucs2"


def test_unknown_placeholders_are_reported():
    assert unknown_placeholders("{name} {bonus} {balance}") == ["bonus"]
