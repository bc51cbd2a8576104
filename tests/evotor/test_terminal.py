"""The terminal app's API: the whole story at an Evotor terminal, holds that lapse, group
rules from synced products, and bad input everywhere (4xx, Russian, nothing written)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

import evotor.terminal as terminal_module
import hub.receipts.holds as holds_module
from hub.ledger import account_view, check_ledger
from hub.moments import utcnow
from hub.customers.bonuses import adjust_bonuses
from hub.customers.operations import register_customer
from evotor.models import EvotorProduct
from tests.codes import last_code
from tests.evotor.conftest import assert_error, counts, set_settings

PHONE = "+79161234567"
P1, P2 = "a0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000002"


def positions(discount_p1=0):
    return [{"uuid": P1, "product_id": "prod-coffee", "name": "Капучино", "price": 300, "quantity": 2,
             "discount": discount_p1},
            {"uuid": P2, "productUuid": "prod-cake", "product_name": "Эклер", "price": "100.00", "quantity": 1}]


def _balance(term) -> float:
    return term.ok("/customers/find", {"phone": PHONE})["customer"]["balance"]


def _sum_map(answer: dict) -> Decimal:
    return sum((Decimal(str(v)) for v in answer["positionUuidToDiscountMap"].values()), Decimal(0))


def test_the_terminal_story(session, linked):
    term = linked
    # Registration confirms the phone with a code sent by SMS.
    r = term.post("/customers", {"phone": "8 916 123-45-67", "first_name": "Анна"})
    assert assert_error(r, 422)["error"]["code"] == "code_required"
    sent = term.ok("/customers/code", {"phone": "8 916 123-45-67"})
    assert sent["sent"] is True and "code" not in sent
    code = last_code(session, term.tenant_id)
    assert_error(term.post("/customers", {"phone": PHONE, "code": "000000" if code != "000000" else "111111"}), 422)
    created = term.ok("/customers", {"phone": PHONE, "first_name": "Анна", "code": code}, 201)
    customer_id = created["customer"]["id"]
    assert created["customer"]["balance"] == 0
    assert_error(term.post("/customers", {"phone": PHONE, "code": code}), 409)

    # 1. Earning: 2 x 300 + 100 = 700 → 70 bonuses, nothing held.
    q1 = term.ok("/receipts/quote", {"receipt_uuid": "R-1", "customer": {"phone": PHONE}, "positions": positions()})
    assert q1["discount"] == 0 and q1["positionUuidToDiscountMap"] == {}
    assert q1["bonus"]["earned"] == 70 and q1["extra"]["kopilka"]["customer_id"] == customer_id
    assert q1["extra"]["kopilka"]["hold_id"] is None and q1["extra"]["kopilka"]["receipt_uuid"] == "R-1"
    assert "Будет начислено бонусов: 70,00" in q1["print"]["summary"]
    c1 = term.ok("/receipts/commit", {"receipt_uuid": "R-1", "extra": q1["extra"]})
    assert c1["bonus"]["earned"] == 70 and c1["customer"]["balance"] == 70
    assert "Начислено бонусов: 70,00" in c1["print"]["summary"]
    assert term.ok("/receipts/commit", {"receipt_uuid": "R-1", "extra": q1["extra"]})["repeated"] is True
    assert _balance(term) == 70

    # 2. Spending 50: the receipt-level discount, its spread adds up exactly, the bonuses held.
    q2 = term.ok("/receipts/quote", {"receipt_uuid": "R-2", "customer": {"phone": PHONE},
                                     "positions": positions(), "spend_bonuses": 50})
    assert q2["discount"] == 50 and _sum_map(q2) == Decimal(50)
    assert set(q2["positionUuidToDiscountMap"]) == {P1, P2}
    assert q2["extra"]["kopilka"]["hold_id"] and q2["extra"]["kopilka"]["bonus_spent"] == 50
    assert "Списано бонусов: 50,00" in q2["print"]["summary"]
    found = term.ok("/customers/find", {"phone": PHONE})["customer"]
    assert found["balance"] == 20 and found["held"] == 50
    # The cashier edits the receipt: a second quote replaces the hold, never adds to it.
    q2b = term.ok("/receipts/quote", {"receipt_uuid": "R-2", "customer": {"phone": PHONE},
                                      "positions": positions(), "spend_bonuses": 40})
    assert q2b["discount"] == 40 and term.ok("/customers/find", {"phone": PHONE})["customer"]["held"] == 40

    # 3. Cleared: the hold is released, the balance intact; a repeat changes nothing.
    rel = term.ok("/receipts/release", {"receipt_uuid": "R-2"})
    assert rel["released"] == 40 and rel["status"] == "released"
    assert term.ok("/receipts/release", {"receipt_uuid": "R-2"})["released"] == 0
    found = term.ok("/customers/find", {"phone": PHONE})["customer"]
    assert found["balance"] == 70 and found["held"] == 0

    # 4. Spending the maximum (all 70: under 50 % of 700), committed once.
    q3 = term.ok("/receipts/quote", {"receipt_uuid": "R-3", "customer": {"card": None, "phone": PHONE},
                                     "positions": positions(), "spend_bonuses": "max"})
    assert q3["discount"] == 70 and _sum_map(q3) == Decimal(70)
    c3 = term.ok("/receipts/commit", {"receipt_uuid": "R-3", "extra": q3["extra"]})
    # The part paid with bonuses earns nothing: 10 % of 630 = 63.
    assert c3["bonus"] == {"spent": 70, "earned": 63} and c3["customer"]["balance"] == 63
    assert term.ok("/receipts/commit", {"receipt_uuid": "R-3"})["repeated"] is True
    assert_error(term.post("/receipts/quote", {"receipt_uuid": "R-3", "customer": {"phone": PHONE},
                                               "positions": positions()}), 409)
    assert _balance(term) == 63

    # 5. Payback of the éclair (100 of 700): 10 spent come back, its 9 earned are taken back.
    pb = term.ok("/receipts/payback", {"payback_uuid": "PB-1", "base_receipt_uuid": "R-3",
                                       "positions": [{"product_id": "prod-cake", "quantity": 1}]})
    assert pb["bonus_spent_restored"] == 10 and pb["bonus_earned_reversed"] == 9
    assert pb["customer"]["balance"] == 64 and pb["amount_returned"] == 90
    again = term.ok("/receipts/payback", {"payback_uuid": "PB-1", "base_receipt_uuid": "R-3",
                                          "positions": [{"product_id": "prod-cake", "quantity": 1}]})
    assert again["repeated"] is True and _balance(term) == 64
    assert_error(term.post("/receipts/payback", {"payback_uuid": "PB-2", "base_receipt_uuid": "R-3",
                                                 "positions": [{"uuid": P2, "quantity": 1}]}), 422)
    assert check_ledger(session, linked.tenant_id) == []


def test_a_hold_that_lapses_frees_the_bonuses(session, linked, monkeypatch):
    now = utcnow()
    c = register_customer(session, linked.tenant_id, {"phone": PHONE}, source="test", moment=now)
    adjust_bonuses(session, linked.tenant_id, c.id, amount=10000, kind="manual", reason="старт",
                   valid_days=None, moment=now - timedelta(hours=1), idempotency_key=None, source="test", body={})
    q = linked.ok("/receipts/quote", {"receipt_uuid": "H-1", "customer": {"id": c.id},
                                      "positions": positions(), "spend_bonuses": 100})
    assert q["discount"] == 100
    other = linked.ok("/receipts/quote", {"receipt_uuid": "H-2", "customer": {"id": c.id},
                                          "positions": positions(), "spend_bonuses": 100})
    assert other["discount"] == 0            # all of it is held by H-1
    later = now + timedelta(minutes=16)
    monkeypatch.setattr(holds_module, "utcnow", lambda: later)
    monkeypatch.setattr(terminal_module, "utcnow", lambda: later)
    again = linked.ok("/receipts/quote", {"receipt_uuid": "H-2", "customer": {"id": c.id},
                                          "positions": positions(), "spend_bonuses": 100})
    assert again["discount"] == 100
    view = account_view(session, linked.tenant_id, c.id, later)
    assert view.held == 10000 and view.available == 0
    session.rollback()
    assert check_ledger(session, linked.tenant_id) == []


def test_the_hold_ttl_is_a_connection_setting(session, linked):
    set_settings(session, linked.connection_id, hold_ttl_seconds=60)
    now = utcnow()
    c = register_customer(session, linked.tenant_id, {"phone": PHONE}, source="test", moment=now)
    adjust_bonuses(session, linked.tenant_id, c.id, amount=5000, kind="manual", reason="старт",
                   valid_days=None, moment=now - timedelta(hours=1), idempotency_key=None, source="test", body={})
    q = linked.ok("/receipts/quote", {"receipt_uuid": "T-1", "customer": {"id": c.id},
                                      "positions": positions(), "spend_bonuses": 10})
    held_until = q["bonus"]["held_until"]
    from datetime import datetime
    assert datetime.fromisoformat(held_until) - now < timedelta(seconds=90)


def test_group_rules_use_the_synced_product_groups(session, linked):
    from hub.programs.operations import put_program
    from tests.evotor.conftest import PROGRAM, STORE
    program = {**PROGRAM, "rules": [{"name": "без бонусов на алкоголь", "when": {"groups": ["Алкоголь"]},
                                     "then": {"no_accrual": True}}]}
    put_program(session, linked.tenant_id, program)
    session.add(EvotorProduct(tenant_id=linked.tenant_id, connection_id=linked.connection_id, store_uuid=STORE,
                              product_id="prod-wine", name="Вино", groups=["grp-1", "Алкоголь"]))
    session.commit()
    register_customer(session, linked.tenant_id, {"phone": PHONE}, source="test", moment=utcnow())
    q = linked.ok("/receipts/quote", {"receipt_uuid": "G-1", "customer": {"phone": PHONE}, "positions": [
        {"uuid": "w", "product_id": "prod-wine", "name": "Вино", "price": 1000, "quantity": 1},
        {"uuid": "b", "product_id": "prod-bread", "name": "Хлеб", "price": 100, "quantity": 1}]})
    earned = {p["uuid"]: p["bonus_earned"] for p in q["positions"]}
    assert earned == {"w": 0, "b": 10}


def test_an_anonymous_receipt_and_the_app_own_discounts(session, linked):
    q = linked.ok("/receipts/quote", {"receipt_uuid": "A-1", "positions": positions(discount_p1=60)})
    assert q["customer"] is None and q["extra"] is None and q["discount"] == 0
    assert q["totals"]["amount"] == 640
    # Issue 17, item 5: no card, no promise — nothing earned, no bonus or card lines to print.
    assert q["bonus"]["earned"] == 0, q
    assert not any(w in str(q) for w in ("Начислено бонусов", "Баланс бонусов", "Уровень карты", "До уровня")), q
    c = linked.ok("/receipts/commit", {"receipt_uuid": "A-1", "positions": positions(discount_p1=60)})
    assert c["bonus"]["earned"] == 0 and c["customer"] is None
    assert not any(w in str(c) for w in ("Начислено бонусов", "Баланс бонусов", "Уровень карты", "До уровня")), c
    assert_error(linked.post("/receipts/quote", {"receipt_uuid": "A-2", "positions": positions(),
                                                 "spend_bonuses": 10}), 422)


def test_wrong_or_missing_user_token_is_401_and_nothing_written(session, linked):
    before = counts(session)
    for token in (None, "wrong", "x" * 300):
        for path in ("/customers/find", "/customers/code", "/customers", "/receipts/quote",
                     "/receipts/commit", "/receipts/release", "/receipts/payback"):
            assert_error(linked.post(path, {"phone": PHONE}, token=token), 401)
    assert counts(session) == before


BAD = [
    ("/customers/find", {}),
    ("/customers/find", {"phone": "12"}),
    ("/customers/find", {"customer": "x"}),
    ("/customers/code", {"phone": None}),
    ("/customers/code", {"phone": "абв"}),
    ("/customers", {"phone": PHONE, "birth_date": "31.12.1990", "code": "1"}),
    ("/customers", {"phone": PHONE, "gender": "x"}),
    ("/receipts/quote", {"positions": positions()}),
    ("/receipts/quote", {"receipt_uuid": "B", "positions": []}),
    ("/receipts/quote", {"receipt_uuid": "B", "positions": [{"uuid": "1", "price": "abc", "quantity": 1}]}),
    ("/receipts/quote", {"receipt_uuid": "B", "positions": [{"uuid": "1", "price": 10, "quantity": 0}]}),
    ("/receipts/quote", {"receipt_uuid": "B", "positions": [{"uuid": "1", "price": 10.001, "quantity": 1}]}),
    ("/receipts/quote", {"receipt_uuid": "B", "positions": [{"uuid": "1", "price": -1, "quantity": 1}]}),
    ("/receipts/quote", {"receipt_uuid": "B", "positions": [{"uuid": "1", "price": 10, "quantity": 1},
                                                            {"uuid": "1", "price": 10, "quantity": 1}]}),
    ("/receipts/quote", {"receipt_uuid": "B", "positions": [{"uuid": "1", "price": 10, "quantity": 1,
                                                             "discount": 11}]}),
    ("/receipts/quote", {"receipt_uuid": "B", "positions": positions(), "spend_bonuses": "много"}),
    ("/receipts/quote", {"receipt_uuid": "B", "positions": positions(), "customer": {"phone": "+79990000000"}}),
    ("/receipts/quote", {"receipt_uuid": "B", "positions": positions(), "payment_method": "barter"}),
    ("/receipts/quote", {"receipt_uuid": ["B"], "positions": positions()}),
    ("/receipts/commit", {"receipt_uuid": "nope"}),
    ("/receipts/commit", {}),
    ("/receipts/release", {}),
    ("/receipts/payback", {"payback_uuid": "P"}),
    ("/receipts/payback", {"payback_uuid": "P", "base_receipt_uuid": "nope"}),
    ("/receipts/payback", {"payback_uuid": "P", "base_receipt_uuid": "R", "positions": [{"quantity": 1}]}),
    ("/receipts/payback", {"payback_uuid": "P", "base_receipt_uuid": "R", "positions": "all"}),
]


@pytest.mark.parametrize("path,body", BAD)
def test_bad_input_is_4xx_with_a_russian_message_and_nothing_written(session, linked, path, body):
    before = counts(session)
    r = linked.post(path, body)
    assert 400 <= r.status_code < 500, r.get_data(as_text=True)
    assert_error(r, r.status_code)
    assert counts(session) == before


@pytest.mark.parametrize("raw", ["not json", "[]", "null", "{\"a\": "])
def test_a_body_that_is_not_an_object_is_400(session, linked, raw):
    before = counts(session)
    for path in ("/customers/find", "/receipts/quote", "/receipts/commit"):
        assert_error(linked.post(path, None, raw=raw), 400)
    assert counts(session) == before


def test_without_an_sms_channel_the_till_is_told_the_code_was_not_sent(session, linked):
    from hub.notify import registry
    registry.configure(session, linked.tenant_id, "console", enabled=False)
    session.commit()
    sent = linked.ok("/customers/code", {"phone": "8 916 123-45-68"})
    assert sent["sent"] is False and sent["message"] == "SMS-канал не настроен: код не отправлен"
    assert "code" not in sent
