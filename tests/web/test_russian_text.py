"""Russian wherever a person reads: a decimal comma, plurals that agree, the shop's name quoted
after a noun, the ledger's codes and statuses as Russian words (one table in hub.text)."""
from __future__ import annotations

import re
from datetime import date

import pytest

from hub.clock import frozen
from tests.web.conftest import text
from tests.web.test_cabinet import NOW, _sale


def test_decimal_comma_percent_and_bonus_plurals():
    from hub.text import bonuses_text, decimal_text, percent_text
    assert percent_text(50, 1) == "50,0\u00a0%" and percent_text("12.5") == "12,5\u00a0%"
    assert decimal_text("150.50") == "150,5" and decimal_text(3) == "3" and decimal_text(-1.5) == "−1,5"
    assert [bonuses_text(k) for k in (100, 200, 500, 1100, 2100, 2200, 15050, 0)] == [
        "1 бонус", "2 бонуса", "5 бонусов", "11 бонусов", "21 бонус", "22 бонуса", "150,50 бонуса", "0 бонусов"]


def test_message_templates_quote_the_shop_and_agree_with_the_amount():
    from hub.notify.templates import DEFAULTS, render
    ctx = {"name": "Анна", "shop": "Кофейня", "bonuses_kopecks": 100, "balance_kopecks": 15050,
           "spent_kopecks": 0, "date": date(2026, 12, 31)}
    assert render(DEFAULTS["registration"], ctx) == \
        "Анна, добро пожаловать в программу лояльности магазина «Кофейня»! Ваш баланс: 150,50 бонуса."
    assert render(DEFAULTS["winback"], ctx) == "Анна, мы скучаем! Дарим 1 бонус до 31.12.2026. Ждём вас в магазине «Кофейня»."
    assert render(DEFAULTS["sale"], {**ctx, "bonuses_kopecks": 2200}) == \
        "Начислено 22 бонуса, списано 0. Баланс: 150,50. Кофейня"
    assert render(DEFAULTS["expiry_warning"], ctx) == \
        "Анна, 31.12.2026 сгорят ваши бонусы: 1. Успейте потратить! Кофейня"
    # An owner's own text is agreed too.
    assert render("Дарим {bonuses} бонусов!", {"bonuses_kopecks": 2100}) == "Дарим 21 бонус!"
    for topic, template in DEFAULTS.items():
        # The shop's name never follows a preposition directly (it cannot be declined).
        assert " в {shop}" not in template and " для {shop}" not in template, topic
        assert "лояльности {shop}" not in template, topic


@pytest.mark.parametrize("kopecks, expected", [
    (100, "1 бонус сгорит после 06.03.2026: потратьте его до конца этого дня."),
    (2500, "25 бонусов сгорят после 06.03.2026: потратьте их до конца этого дня."),
    (150, "1,50 бонуса сгорят после 06.03.2026: потратьте их до конца этого дня."),
])
def test_the_bots_expiry_answer_agrees(session, customer_of, shop, kopecks, expected, monkeypatch):
    from datetime import datetime, timezone

    from hub.notify import bots
    customer = customer_of(shop["a"])
    monkeypatch.setattr(bots, "nearest_expiry", lambda *a: (kopecks, datetime(2026, 3, 6, 21, 0, tzinfo=timezone.utc)))
    assert bots.expiry_text(session, shop["a"], customer) == expected


def test_every_ledger_code_has_a_russian_name():
    from hub.ledger.models import LOT_KINDS, POSTING_KINDS
    from hub.text import EVENT_STATUS_NAMES, LOT_KIND_NAMES, MAILING_STATUS_NAMES, POSTING_KIND_NAMES
    assert set(LOT_KINDS) <= set(LOT_KIND_NAMES) and set(POSTING_KINDS) <= set(POSTING_KIND_NAMES)
    assert MAILING_STATUS_NAMES["sent"] == "запущена"     # its messages are queued, not yet delivered
    assert set(EVENT_STATUS_NAMES) == {"received", "retry", "done", "failed"}   # InboundEvent.status
    for name in [*LOT_KIND_NAMES.values(), *POSTING_KIND_NAMES.values(), *EVENT_STATUS_NAMES.values()]:
        assert re.search("[а-яё]", name), name


def test_the_client_card_names_lot_kinds_in_russian(client, session, shop, as_role, customer_of):
    mine = customer_of(shop["a"])
    with frozen(NOW):
        _sale(session, shop["a"], mine, 100000)
        session.commit()
        as_role("readonly")
        page = text(client.get(f"/cabinet/clients/{mine.id}"))
    assert "за покупку" in page and "purchase" not in page
    assert "1 чек" in page and "чек(ов)" not in page


def test_every_moysklad_schema_message_reaches_the_till_in_russian():
    """МойСклад's Loyalty API schemas keep marshmallow's fields; their English defaults are
    translated at the edge (moysklad.loyalty.schemas._RU): none may be left over."""
    import inspect

    from marshmallow import Schema

    import moysklad.loyalty.schemas as ms
    left = set()
    for _, cls in inspect.getmembers(ms, inspect.isclass):
        if not (issubclass(cls, Schema) and cls.__module__ == ms.__name__):
            continue
        schema = cls()
        for field in schema.fields.values():
            for inner in (field, getattr(field, "inner", None)):
                for message in (inner.error_messages.values() if inner is not None else ()):
                    if not re.search("[а-яё]", str(message), re.I) and message not in ms._RU:
                        left.add(message)
    assert not left, left
